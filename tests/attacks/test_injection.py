"""Hostile text in artifacts and approvals, end to end through the CLI: no escape sequence, newline or bidi
control reaches the terminal raw (one value is one line, no forged ``PASS`` or table row), no HTML, link,
image or autolink reaches the markdown job summary, JSON keeps every value exactly, and the verdict is the
one the drift deserves.

The attack rides in a Triton config's ``parameters`` (free-form keys and string values, both sides), an
approval's free-text ``reason``, pinned values that make an approval stale (its note quotes them), a model
name, and file names.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from driftguard import cli
from driftguard.reporters.escape import AUTOLINK_BREAK, CONTROLS
from tests.attacks.bounded import Run, run_cli
from tests.dates import iso

TODAY = iso()  # the run's pinned today, passed as --today; the approvals are dated from it
RAW_CONTROL = re.compile(f"[{CONTROLS}]")

CLEAR = "\x1b[2J\x1b[H"
#: A key: clears the screen, prints a forged verdict, then a newline that starts a forged table row.
KEY = f"evil{CLEAR} PASS: 1 model, 0 findings\n| forged | row |"
TRAINING = f"a\r{CLEAR}PASS: all clear\u202etxt.exe"  # \r returns to the line start; U+202E flips what follows
DEPLOYED = "b\n\u2066forged\u2069 row\x9b31m\x7f"  # newline, isolates, a C1 CSI, DEL
MODEL = f"summ{CLEAR}\u202earizer"
REASON = ("ok <img src=x onerror=alert(1)> [click](https://evil.example) </details><script>alert(1)</script> "
          "![x](https://evil/x.png) www.evil.example bob@evil.example **bold** `code` | cell"
          f"\n{CLEAR}PASS")
HTML_ATTACKS = ("<img", "<script", "</details><", "](", "![")


def _pbtxt_string(text: str) -> str:
    """``text`` as a protobuf text-format string literal (octal escapes for everything outside printable ASCII)."""
    out = []
    for byte in text.encode("utf-8"):
        ch = chr(byte)
        out.append(ch if 0x20 <= byte < 0x7F and ch not in '"\\' else f"\\{byte:03o}")
    return '"' + "".join(out) + '"'


def _triton(value: str) -> str:
    return "\n".join([
        'name: "m"', 'backend: "python"', "max_batch_size: 8",
        f"parameters {{ key: {_pbtxt_string(KEY)} value {{ string_value: {_pbtxt_string(value)} }} }}",
        f"parameters {{ key: \"temperature\" value {{ string_value: {_pbtxt_string(value)} }} }}", "",
    ])


def _approval(ident: str, key: str, training: str, deployed: str) -> dict[str, object]:
    return {"id": ident, "model": MODEL, "key": key, "training": training, "deployed": deployed,
            "reason": REASON, "approved_by": "alice", "approved_on": iso(-29), "expires": iso(334),
            "evidence": "https://evil.example/x"}


@pytest.fixture()
def manifest(tmp_path: Path) -> Path:
    """A model whose hostile key drifts unapproved and whose ``temperature`` drift is approved (with a hostile
    reason); a second approval pins other (hostile) values of ``temperature``, so it is stale and its note
    quotes them."""
    (tmp_path / "train.pbtxt").write_text(_triton(TRAINING), encoding="utf-8")
    (tmp_path / "deploy.pbtxt").write_text(_triton(DEPLOYED), encoding="utf-8")
    (tmp_path / "approvals").mkdir()
    approvals = {
        "temperature": _approval("temperature-ok", "triton.parameters.temperature", TRAINING, DEPLOYED),
        "stale": _approval("stale-one", "triton.parameters.temperature", TRAINING + "\x1b[0m", DEPLOYED),
    }
    for name, data in approvals.items():
        (tmp_path / "approvals" / f"{name}.yaml").write_text(yaml.safe_dump(data, allow_unicode=True),
                                                             encoding="utf-8")
    path = tmp_path / "driftguard.yaml"
    path.write_text(yaml.safe_dump({"version": 1, "models": {MODEL: {
        "training": [{"path": "train.pbtxt"}], "deployment": [{"path": "deploy.pbtxt"}]}}}, allow_unicode=True),
        encoding="utf-8")
    return path


def check(manifest: Path, fmt: str) -> Run:
    return run_cli(["check", "--config", str(manifest), "--today", TODAY, "--format", fmt])


def _no_raw_control(text: str) -> None:
    """Line breaks are the report's own; anything else of ``CONTROLS`` would be input reaching the terminal."""
    found = sorted({hex(ord(c)) for c in RAW_CONTROL.findall(text.replace("\n", ""))})
    assert not found, f"raw control characters {found} in:\n{text}"


def test_json_keeps_every_hostile_value_exactly(manifest: Path) -> None:
    run = check(manifest, "json")
    assert run.rc == 1, run.stderr
    _no_raw_control(run.stdout)  # bidi and C1 are \u escapes, which load back to themselves
    data = json.loads(run.stdout)
    model = data["models"][0]
    assert model["name"] == MODEL
    found = {f["key"]: f for f in model["findings"]}
    assert set(found) == {f"triton.parameters.{KEY}", "triton.parameters.temperature"}
    for f in found.values():
        assert (f["training"], f["deployed"]) == (TRAINING, DEPLOYED)
    assert found["triton.parameters.temperature"]["status"] == "approved"
    assert found[f"triton.parameters.{KEY}"]["status"] == "unapproved"
    assert {a["id"]: a["reason"] for a in data["approvals"]} == {"temperature-ok": REASON, "stale-one": REASON}


def test_text_report_shows_every_value_on_its_own_row_and_the_true_verdict(manifest: Path) -> None:
    run = check(manifest, "text")
    assert run.rc == 1, run.stderr
    _no_raw_control(run.stdout)  # run_cli reads text: a raw \r would have become an extra line, checked below
    lines = run.stdout.splitlines()
    assert lines[0].startswith("== summ\\x1b[2J\\x1b[H\\u202earizer: 2 findings, 1 failing"), lines[0]
    assert lines[1].startswith("key ") and set(lines[2]) == {"-", " "}
    rows = lines[3:5]
    assert all(r.startswith("triton.parameters.") for r in rows), rows
    # the approve command names the model escaped, like every cell
    assert lines[5] == "to accept one: driftguard approve summ\\x1b[2J\\x1b[H\\u202earizer KEY --reason TEXT " \
                       "--expires YYYY-MM-DD"
    assert lines[6:8] == ["", "approvals:"]
    assert lines[8].startswith("  stale approval stale-one (")
    assert "pins training 'a\\r\\x1b[2J\\x1b[HPASS: all clear\\u202etxt.exe\\x1b[0m'" in lines[8]  # repr, as is
    assert lines[9:] == ["", "FAIL: 1 model, 2 findings (1 unapproved, 1 approved, 0 expired); 1 stale approval"]
    evil = next(r for r in rows if "evil" in r)
    assert "evil\\x1b[2J\\x1b[H PASS: 1 model, 0 findings\\n| forged | row |" in evil
    assert "a\\r\\x1b[2J\\x1b[HPASS: all clear\\u202etxt.exe" in evil
    assert "b … (2 lines, sha256 " in evil  # a multi-line value is one line: its first line, count and hash
    assert "UNAPPROVED" in evil
    assert "approved by temperature-ok" in next(r for r in rows if "temperature" in r)


def test_markdown_summary_has_no_markup_from_input(manifest: Path) -> None:
    run = check(manifest, "markdown")
    assert run.rc == 1, run.stderr
    md = run.stdout
    _no_raw_control(md)
    assert md.startswith("## driftguard check: FAIL\n")
    assert md.rstrip().endswith("**FAIL: 1 model, 2 findings (1 unapproved, 1 approved, 0 expired); "
                                "1 stale approval**")
    # Every tag is one the reporter writes itself.
    tags = set(re.findall(r"</?[A-Za-z]+", md))
    assert tags <= {"<code", "</code", "<wbr", "<details", "<summary", "</summary", "</details"}, tags
    assert md.count("</details>") == 1
    for needle in HTML_ATTACKS:
        assert needle not in md, needle
    assert not re.search(r"https?:/|www\.|@[a-z]", md, re.IGNORECASE), "live autolink"
    # Table rows: a header, a separator and one row per finding, each with its 7 cells.
    table = [line for line in md.splitlines() if line.startswith("|")]
    assert len(table) == 4
    assert all(len(re.split(r"(?<!\\)\|", line)) == 9 for line in table), table
    # The reason is there, as text.
    assert "&lt;img src=x onerror=alert\\(1\\)&gt;" in md
    assert f"https:{AUTOLINK_BREAK}//evil.example" in md


def test_markdown_renders_as_text_on_github(manifest: Path) -> None:
    """Through cmark-gfm itself, GitHub's renderer, when it is installed."""
    cmarkgfm = pytest.importorskip("cmarkgfm")
    md = check(manifest, "markdown").stdout
    html = cmarkgfm.github_flavored_markdown_to_html(md, options=cmarkgfm.cmark.Options.CMARK_OPT_UNSAFE)
    tags = set(re.findall(r"<(/?[a-z0-9]+)", html))
    assert not tags & {"a", "img", "script", "em", "del", "math"}, tags
    assert html.count("<strong>") == 2  # the reporter's own: "Approvals" and the verdict
    assert html.count("<tr>") == 3 and html.count("</details>") == 1


def test_extract_and_diff_text_keep_one_value_a_line(manifest: Path) -> None:
    folder = manifest.parent
    run = run_cli(["extract", str(folder / "train.pbtxt")])
    assert run.rc == 0, run.stderr
    _no_raw_control(run.stdout)
    evil = [line for line in run.stdout.splitlines() if "evil" in line]
    assert len(evil) == 1 and evil[0].startswith("triton.parameters.evil\\x1b[2J"), run.stdout
    run = run_cli(["diff", str(folder / "train.pbtxt"), str(folder / "deploy.pbtxt")])
    assert run.rc == 1, run.stderr
    _no_raw_control(run.stdout)
    lines = run.stdout.splitlines()
    assert [line.split()[0] for line in lines[4:-1]] == ["triton.parameters.evil\\x1b[2J\\x1b[H",
                                                          "triton.parameters.temperature"], lines
    assert lines[-1] == "2 differences"


@pytest.mark.parametrize("fmt", ["json", "yaml"])
def test_extract_data_formats_round_trip(manifest: Path, fmt: str) -> None:
    run = run_cli(["extract", "--format", fmt, str(manifest.parent / "train.pbtxt")])
    assert run.rc == 0, run.stderr
    _no_raw_control(run.stdout.replace("\t", ""))
    data = json.loads(run.stdout) if fmt == "json" else yaml.safe_load(run.stdout)
    assert data["values"][f"triton.parameters.{KEY}"]["value"] == TRAINING


def test_in_process_output_has_no_raw_control_at_all(manifest: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """capsys keeps ``\\r`` as it is (a subprocess read as text turns it into a newline)."""
    for fmt in ("text", "markdown"):
        assert cli.run(["check", "--config", str(manifest), "--today", TODAY, "--format", fmt]) == 1
        out = capsys.readouterr().out
        assert "\r" not in out
        _no_raw_control(out)


def test_error_line_escapes_file_names_and_quoted_content(tmp_path: Path) -> None:
    folder = tmp_path / f"dir{CLEAR}\nPASS\u202e"
    folder.mkdir()
    bad = folder / "config.pbtxt"
    bad.write_bytes(b'name: "m"\nbackend: "python\x1b[2J\n')  # unterminated string: the parser quotes the line
    run = run_cli(["extract", str(bad)])
    run.assert_input_error("config.pbtxt")
    _no_raw_control(run.stderr)
    assert "dir\\x1b[2J\\x1b[H\\nPASS\\u202e" in run.error_lines[0]
    run = run_cli(["check", "--config", str(folder / "missing.yaml")])
    run.assert_input_error("missing.yaml")
    _no_raw_control(run.stderr)


def test_refused_pickle_global_is_named_escaped(tmp_path: Path) -> None:
    """The refusal quotes the global the pickle asks for: its name is attacker text (any bytes in protocol 2+)."""
    import zipfile

    def short_unicode(text: str) -> bytes:
        raw = text.encode("utf-8")
        return b"\x8c" + bytes([len(raw)]) + raw

    sentinel = tmp_path / "ran"
    payload = (b"\x80\x02" + short_unicode(f"os{CLEAR}") + short_unicode("system\n\u202ePASS") + b"\x93"
               + short_unicode(f"touch {sentinel}") + b"\x85R.")
    ckpt = tmp_path / "model.pt"
    with zipfile.ZipFile(ckpt, "w") as archive:
        archive.writestr("archive/data.pkl", payload)
        archive.writestr("archive/version", "3\n")
    run = run_cli(["extract", str(ckpt)])
    run.assert_input_error("refused pickle global 'os\\x1b[2J\\x1b[H.system\\n\\u202ePASS'")
    _no_raw_control(run.stderr)
    assert not sentinel.exists()
