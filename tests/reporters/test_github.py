"""``--format github``: workflow commands on the offending lines, escaped exactly as GitHub's toolkit does, and
no value can end a command early or start one of its own."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest

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


# Which command each verdict gets, written out from the README's formats table and this reporter's contract
# (``::error`` for a finding that fails the gate, ``::warning`` for an unapproved warning that does not,
# ``::notice`` for info, nothing for an approved finding), one row per status and severity, strict or not.
# A finding fails the gate when it is unapproved or expired and an error, or a warning under --strict.
_LEVELS = [
    # status, severity, strict, command (None: the finding says nothing here)
    ("approved", "error", False, None),
    ("approved", "warning", True, None),
    ("approved", "info", False, None),
    ("unapproved", "error", False, "error"),
    ("unapproved", "warning", False, "warning"),
    ("unapproved", "warning", True, "error"),
    ("unapproved", "info", False, "notice"),
    ("expired", "error", False, "error"),
    ("expired", "warning", False, "warning"),
    ("expired", "warning", True, "error"),
    ("expired", "info", True, "notice"),
    ("info", "info", False, "notice"),
    ("info", "error", False, "notice"),
    ("info", "warning", True, "notice"),
]


def _one(status: str, severity: str, *, model: str = "m", strict: bool = False) -> list[str]:
    finding = Finding("DG101", "drift.value", "generation.top_p", "generation.top_p: training 0.9 != deployed 0.5",
                      severity=severity, model=model, training=Value(0.9, Origin("t.json", 4)),
                      deployed=Value(0.5, Origin("d.yaml", 7)))
    report = Report((ModelResult(model or "m", (Judged(finding, status),)),), (), strict=strict)
    return render_check("github", report).splitlines()


@pytest.mark.parametrize(("status", "severity", "strict", "expected"), _LEVELS)
def test_each_verdict_gets_its_command(status: str, severity: str, strict: bool, expected: str | None) -> None:
    lines = _one(status, severity, strict=strict)
    if expected is None:
        assert lines == []
    else:
        assert len(lines) == 1
        assert lines[0].startswith(f"::{expected} file=d.yaml,line=7,title=driftguard DG101 m%3A generation.top_p::")


@pytest.mark.parametrize(("status", "severity", "model", "hint"), [
    ("unapproved", "error", "m", True),
    ("unapproved", "warning", "m", True),
    ("unapproved", "error", "", False),  # no model to name in the command
    ("expired", "error", "m", False),  # an expired approval is renewed by editing it, not approved again
    ("info", "info", "m", False),
])
def test_only_an_unapproved_finding_of_a_model_says_how_to_approve_it(status: str, severity: str, model: str,
                                                                       hint: bool) -> None:
    (line,) = _one(status, severity, model=model)
    message = line.split("::", 2)[2].split("%0A")
    approve = "to accept it: driftguard approve m generation.top_p --reason TEXT --expires YYYY-MM-DD"
    assert (approve in message) is hint
    assert message[0] == "generation.top_p: training 0.9 != deployed 0.5"


# What each approval state says, from the module's contract and the README: stale, self-approved and
# uncommitted approvals are always warned about; any other is warned about only while expiring soon, except an
# expired one (its findings fail as expired).
_STATES = [
    ("stale", False, "driftguard stale approval a1"),
    ("stale", True, "driftguard stale approval a1"),
    ("self-approved", False, "driftguard approval a1 is self-approved"),
    ("uncommitted", False, "driftguard approval a1 ignored: not committed"),
    ("uncommitted", True, "driftguard approval a1 ignored: not committed"),
    ("used", False, None),
    ("used", True, "driftguard approval a1 expires soon"),
    ("expired", False, None),
    ("expired", True, None),
]


@pytest.mark.parametrize(("state", "expiring", "title"), _STATES)
def test_each_approval_state_gets_its_warning(state: str, expiring: bool, title: str | None) -> None:
    ref = ApprovalRef("a1", "approvals/a1.yaml", 3, "m", "generation.top_p", "2027-01-31", 10, state,
                      expiring=expiring)
    lines = render_check("github", Report((), (ref,))).splitlines()
    if title is None:
        assert lines == []
    else:
        (line,) = lines
        head, message = line.split("::")[1:]
        assert head == f"warning file=approvals/a1.yaml,line=3,title={escape_property(title)}"
        assert "approval a1 (approvals/a1.yaml:3)" in message
