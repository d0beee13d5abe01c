"""Workflow-command injection: input text that starts a line with ``::`` (``::add-mask::``, ``::stop-commands::``,
``::set-output``) must never reach the GitHub Actions runner as a command when a report is logged.

Generated: every command spelling x every line break (the runner splits on CR and LF; ``splitlines`` here also
splits on NEL and U+2028, a superset) x indentation, in keys and values of two kinds of artifact, through every
format of ``extract``, ``diff``, ``check`` and ``report`` and every failure report. The runner is simulated: a
line is a command when, trimmed, it starts with ``::`` (or the older ``##[``), and ``::stop-commands::TOKEN``
turns commands off until ``::TOKEN::``. Outside Actions no format but ``github`` may hold a command line at all
(escaping alone holds: YAML double-quotes such strings and never folds); inside (``GITHUB_ACTIONS=true``) every
format but ``github`` is wrapped in a stop-commands guard whose token the input cannot know, and ``github``'s
only commands are its own escaped annotations."""

from __future__ import annotations

import contextlib
import io
import itertools
import json
import re
from pathlib import Path

import pytest

from driftguard import cli
from driftguard.reporters.failed import render_error
from tests.dates import EXAMPLES_TODAY_ISO

COMMANDS = ["::add-mask::hunter2", "::stop-commands::pwned", "::set-output name=ok::true", "::error::forged",
            "::warning file=x::w", "##[add-mask]hunter2", "::pwned::"]
BREAKS = ["\n", "\r", "\r\n", "\x85", "\u2028"]
INDENTS = ["", "  ", "\t"]
PAYLOADS = [f"x{brk}{indent}{cmd}" for cmd, brk, indent in itertools.product(COMMANDS, BREAKS, INDENTS)]
OUR_ANNOTATIONS = re.compile(r"^::(error|warning|notice)( [^:]*)?::")


def commands_seen(output: str) -> list[str]:
    """The workflow commands the runner would act on in ``output``, in order (``stop-commands`` honoured)."""
    stopped: str | None = None
    seen = []
    for line in output.splitlines():
        text = line.strip()
        if stopped is not None:
            if text == f"::{stopped}::":
                stopped = None
            continue
        if text.startswith("::stop-commands::"):
            stopped = text[len("::stop-commands::"):]
            seen.append("::stop-commands::")
        elif text.startswith(("::", "##[")):
            seen.append(text)
    return seen


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A model whose training side holds every payload as a key and as a value, and whose Triton config holds
    them as parameters: everything drifts, so every report shows them."""
    root = tmp_path_factory.mktemp("inject")
    gen: dict[str, object] = {"do_sample": True, "top_p": 0.9}
    gen.update({f"{p}-{i}": p for i, p in enumerate(PAYLOADS)})
    (root / "generation_config.json").write_text(json.dumps(gen))
    params = "\n".join(f"parameters {{ key: {json.dumps(p + str(i))} value {{ string_value: {json.dumps(p)} }} }}"
                       for i, p in enumerate(PAYLOADS) if "\x85" not in p and "\u2028" not in p)
    (root / "config.pbtxt").write_text(f'name: "m"\nbackend: "python"\nmax_batch_size: 8\n{params}\n')
    (root / "request.json").write_text(json.dumps({"prompt": PAYLOADS[0], "top_p": 0.5, "stop": PAYLOADS}))
    (root / "driftguard.yaml").write_text(
        "version: 1\nmodels:\n  m:\n    training: [{path: generation_config.json}]\n"
        "    deployment: [{path: config.pbtxt}, {path: request.json, kind: vllm}]\n")
    return root


def run(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = cli.run(argv)
    return rc, out.getvalue(), err.getvalue()


def outputs(tree: Path) -> list[tuple[str, list[str]]]:
    """(format, argv) for every format of every command that prints input."""
    gen, triton = str(tree / "generation_config.json"), str(tree / "config.pbtxt")
    out = [(fmt, ["extract", gen, triton, "--format", fmt]) for fmt in ("text", "json", "yaml")]
    out += [(fmt, ["diff", gen, f"vllm:{tree / 'request.json'}", "--format", fmt]) for fmt in ("text", "json")]
    check = ["check", "--config", str(tree / "driftguard.yaml"), "--today", EXAMPLES_TODAY_ISO]
    formats = ("text", "json", "markdown", "sarif", "github", "junit")
    out += [(fmt, [*check, "--format", fmt]) for fmt in formats]
    out += [(fmt, ["report", str(tree / "report.json"), "--format", fmt]) for fmt in formats]
    return out


@pytest.fixture(scope="module")
def report_json(tree: Path) -> None:
    rc, _, err = run(["check", "--config", str(tree / "driftguard.yaml"), "--today", EXAMPLES_TODAY_ISO,
                      "--format", f"json={tree / 'report.json'}"])
    assert rc == 1, err


@pytest.mark.usefixtures("report_json")
def test_outside_actions_no_format_but_github_holds_a_command(tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    for fmt, argv in outputs(tree):
        rc, out, err = run(argv)
        assert rc in (0, 1), (argv, err)
        assert "hunter2" in out or "pwned" in out or "forged" in out, argv  # the payloads are shown
        seen = commands_seen(out)
        if fmt == "github":
            assert seen and all(OUR_ANNOTATIONS.match(c) for c in seen), [c for c in seen
                                                                         if not OUR_ANNOTATIONS.match(c)]
        else:
            assert seen == [], (argv, seen[:3])
        assert commands_seen(err) == []


@pytest.mark.usefixtures("report_json")
def test_inside_actions_every_format_but_github_is_guarded(tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    tokens = set()
    for fmt, argv in outputs(tree):
        _, out, _ = run(argv)
        seen = commands_seen(out)
        if fmt == "github":
            assert all(OUR_ANNOTATIONS.match(c) for c in seen)
            continue
        lines = out.splitlines()
        token = lines[0].removeprefix("::stop-commands::")
        assert re.fullmatch("[0-9a-f]{32}", token) and lines[-1] == f"::{token}::", (argv, lines[0], lines[-1])
        assert seen == ["::stop-commands::"], (argv, seen[:3])
        tokens.add(token)
    assert len(tokens) == len(outputs(tree)) - 2  # a fresh token every time


@pytest.mark.parametrize("fmt", ["text", "json", "yaml", "markdown", "sarif", "github", "junit"])
def test_failure_reports_hold_no_command_from_the_message(fmt: str) -> None:
    for payload in PAYLOADS:
        seen = commands_seen(render_error(fmt, 2, f"bad.json:3: {payload}"))
        assert all(OUR_ANNOTATIONS.match(c) for c in seen) and len(seen) == (fmt == "github"), (payload, seen)


def test_the_error_line_holds_no_command(tmp_path: Path) -> None:
    for payload in PAYLOADS[:: len(INDENTS)]:
        bad = tmp_path / "request.json"
        bad.write_text("{" + json.dumps(payload) + ": ")
        rc, out, err = run(["extract", f"vllm:{bad}"])
        assert rc == 2 and len(err.splitlines()) == 1 and commands_seen(out + err) == [], err
