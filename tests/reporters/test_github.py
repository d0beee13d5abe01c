"""``--format github``: workflow commands on the offending lines, escaped exactly as GitHub's toolkit does, and
no value can end a command early or start one of its own."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import driftguard
from driftguard.model import Finding, Judged, Origin, Value
from driftguard.report import ApprovalRef, ModelResult, Report
from driftguard.reporters import render_check
from driftguard.reporters.github import command, escape_data, escape_property
from tests.dates import EXAMPLES_TODAY

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "summarizer"


def test_escaping_is_the_toolkits() -> None:
    # @actions/core command.ts: escapeData replaces % CR LF; escapeProperty also : and ,
    assert escape_data("50% a\r\nb: c, d") == "50%25 a%0D%0Ab: c, d"
    assert escape_property("50% a\r\nb: c, d") == "50%25 a%0D%0Ab%3A c%2C d"
    assert escape_data("%0A") == "%250A"  # an escape already in the text stays text
    assert command("error", "m", file="a,b.yaml", line=3, title="t: x") == \
        "::error file=a%2Cb.yaml,line=3,title=t%3A x::m"
    assert command("warning", "m", file=None, line=None, title="") == "::warning::m"


def test_summarizer_one_error_on_the_truncation_line() -> None:
    report = driftguard.check(EXAMPLE / "driftguard.yaml", today=EXAMPLES_TODAY)
    lines = render_check("github", report).splitlines()
    assert len(lines) == 1  # the approved top_p says nothing here
    (line,) = lines
    head, message = line.split("::")[1:]
    assert head == ("error file=examples/summarizer/deployment/sampling-params.yaml,line=8,"
                    "title=driftguard DG101 summarizer%3A preprocessing.max_length")
    assert message.split("%0A") == [
        "preprocessing.max_length: training 1024 != deployed 512",
        "status: UNAPPROVED",
        "training: 1024 (examples/summarizer/training/tokenizer_config.json:10)",
        "deployed: 512 (examples/summarizer/deployment/sampling-params.yaml:8 (request))",
        "to accept it: driftguard approve summarizer preprocessing.max_length --reason TEXT --expires YYYY-MM-DD",
    ]
    assert (ROOT / "examples/summarizer/deployment/sampling-params.yaml").read_text().splitlines()[7].startswith(
        "truncate_prompt_tokens: 512")


def test_expiring_and_stale_approvals_are_warnings_on_the_approval_file(tmp_path: Path) -> None:
    soon = driftguard.check(EXAMPLE / "driftguard.yaml", today=date(2027, 10, 21))
    warnings = [x for x in render_check("github", soon).splitlines() if x.startswith("::warning")]
    assert warnings == ["::warning file=examples/summarizer/approvals/summarizer-top-p.yaml,line=2,"
                        "title=driftguard approval summarizer-top-p expires soon::approval summarizer-top-p "
                        "(examples/summarizer/approvals/summarizer-top-p.yaml:2) expires 2027-10-31 (in 10 days)"]
    (tmp_path / ".git").mkdir()
    dst = tmp_path / "summarizer"
    shutil.copytree(EXAMPLE, dst)
    params = dst / "deployment" / "sampling-params.yaml"
    params.write_text(params.read_text().replace("top_p: 0.85", "top_p: 0.8"))
    stale = driftguard.check(dst / "driftguard.yaml", today=EXAMPLES_TODAY)
    out = render_check("github", stale).splitlines()
    assert [x.split(" ", 1)[0] for x in out] == ["::error", "::error", "::warning"]
    assert out[0].startswith("::error file=summarizer/deployment/sampling-params.yaml,line=4,")
    assert out[2].startswith("::warning file=summarizer/approvals/summarizer-top-p.yaml,line=2,"
                             "title=driftguard stale approval summarizer-top-p::stale approval summarizer-top-p")


def test_hostile_text_cannot_forge_a_command() -> None:
    evil = "top_p\n::add-mask::x\r,file=other:1%"
    deployed = Value("0.5\n::error file=x::forged", Origin("dir,with:colon/%0A.yaml", 3, source="request"))
    finding = Finding("DG101", "drift.value", evil, f"{evil}: differs", model="m,\n::x", deployed=deployed,
                      training=Value(0.9, Origin("t.json", 1)))
    warning = Finding("DG103", "drift.one-sided-key", "k", "k on one side", severity="warning", model="m",
                      deployed=Value(1, Origin("d.yaml", 2)))
    stale = ApprovalRef("a\n::b", "approvals/a.yaml", 1, "m", "k\n::c", "2027-01-01", 30, "stale")
    report = Report((ModelResult("m", (Judged(finding), Judged(warning))),), (stale,))
    lines = render_check("github", report).splitlines()
    assert len(lines) == 3
    assert all(line.startswith(("::error ", "::warning ")) for line in lines)
    error = lines[0]
    props = error.split("::")[1]
    assert props.startswith("error file=dir%2Cwith%3Acolon/%250A.yaml,line=3,title=")
    assert [p.split("=", 1)[0] for p in props.split(" ", 1)[1].split(",")] == ["file", "line", "title"]
    assert "\\n%3A%3Aadd-mask%3A%3Ax\\r%2Cfile=other%3A1%25" in props  # shown, not obeyed
    assert "::add-mask::x\\r,file=other:1%25: differs" in error.split("::", 2)[2]
    assert lines[1].startswith("::warning file=d.yaml,line=2,")  # an unapproved warning does not fail
    assert lines[2].startswith("::warning file=approvals/a.yaml,line=1,title=driftguard stale approval a\\n%3A%3Ab::")
