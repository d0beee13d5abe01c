"""``driftguard explain``: the library function and the command, run as a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from driftguard.errors import UsageError
from driftguard.gate.catalog import describe, explain
from driftguard.rules import RULES


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "driftguard", *args], capture_output=True, text=True,
                          timeout=60, env=env)


def test_explain_has_header_and_examples() -> None:
    text = explain("DG101")
    assert text.startswith("DG101 drift.value (default severity: error)\n")
    assert "**Anti-pattern**" in text and "**Best practice**" in text
    assert explain("dg302") == explain("DG302")


def test_explain_unknown_code() -> None:
    with pytest.raises(UsageError, match="known rules: DG101"):
        explain("DG999")


def test_describe_lists_every_rule_and_parity_check() -> None:
    from driftguard.gate.policy import CHECKS as GATE_CHECKS
    from driftguard.parity.codes import CHECKS

    lines = describe().splitlines()
    assert [line.split()[0] for line in lines] == sorted([*RULES, *CHECKS, *(c.code for c in GATE_CHECKS)])


def test_explain_a_parity_check_says_its_stage() -> None:
    assert explain("dg505").startswith("DG505 parity.nondeterminism (default severity: warning, parity stage)\n\n")


def test_cli_explain() -> None:
    proc = _cli("explain", "DG201")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("DG201 consistency.eos-token-id")
    assert "\nAnti-pattern\n------------\n" in proc.stdout and "vllm-project/vllm#4180" in proc.stdout
    assert "**" not in proc.stdout and "``" not in proc.stdout  # plain text, not reStructuredText
    assert proc.stderr == ""


def test_the_rule_list_shows_whole_titles() -> None:
    import inspect

    from driftguard.reporters.doc_text import plain

    proc = _cli("explain")
    for line in proc.stdout.splitlines():
        code = line.split()[0]
        cls = RULES.get(code)
        if cls is not None:
            title = " ".join(inspect.cleandoc(cls.__doc__ or "").split("\n\n", 1)[0].split())
            assert line.endswith(plain(title)), (code, line)  # as explain CODE shows it: no RST markup


def test_cli_explain_lists_rules_without_code() -> None:
    proc = _cli("explain")
    assert proc.returncode == 0, proc.stderr
    from driftguard.gate.policy import CHECKS as GATE_CHECKS
    from driftguard.parity.codes import CHECKS

    # the rules, then the parity stage's codes (documented alike; tests/parity/test_codes.py), then the gate's
    assert [line.split()[0] for line in proc.stdout.splitlines()] == (sorted(RULES) + sorted(CHECKS)
                                                                      + [c.code for c in GATE_CHECKS])


def test_cli_explain_unknown_code_is_exit_2_on_one_line() -> None:
    proc = _cli("explain", "DG999")
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert proc.stderr.startswith("driftguard: error: unknown rule 'DG999'")
    assert proc.stderr.count("\n") == 1
    assert "Traceback" not in proc.stderr


def test_cli_broken_rule_plugin_is_exit_3(tmp_path: Path) -> None:
    """A ``driftguard.rules`` entry point that does not load is a bug (exit 3), never silently skipped."""
    site = tmp_path / "site"
    info = site / "dg_broken_rules-0.1.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: dg-broken-rules\nVersion: 0.1\n", encoding="utf-8")
    (info / "entry_points.txt").write_text("[driftguard.rules]\nDG909 = dg_no_such_module:Rule\n", encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(site), os.environ.get("PYTHONPATH")]))}
    proc = _cli("explain", "DG101", env=env)
    assert proc.returncode == 3, proc.stderr
    assert "internal error" in proc.stderr and "DG909" in proc.stderr
