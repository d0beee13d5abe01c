"""``checks.Check``, the one base of rules and parity checks: the explain text, the table line, the report info
and the finding it stamps."""

from __future__ import annotations

from driftguard.checks import Check
from driftguard.model import Origin, Value


class Example(Check):
    """A thing went wrong.

    **Anti-pattern** doing it. **Best practice** not doing it.
    """

    code = "DG950"
    name = "example.thing"
    severity = "warning"
    opt_in = True
    stage = "parity"


def test_explain_text_says_severity_opt_in_and_stage() -> None:
    assert Example.explain_text() == ("DG950 example.thing (default severity: warning, opt-in, parity stage)\n\n"
                                      "A thing went wrong.\n\n**Anti-pattern** doing it. **Best practice** not "
                                      "doing it.\n")


def test_describe_line_and_info() -> None:
    assert Example.describe_line() == f"DG950  {'example.thing':<40} warning  A thing went wrong."
    info = Example.info()
    assert (info.code, info.name, info.severity, info.summary, info.opt_in) == \
        ("DG950", "example.thing", "warning", "A thing went wrong.", True)
    assert info.doc.endswith("not doing it.")


def test_finding_is_stamped_with_the_code() -> None:
    v = Value(1, Origin("a.json", 2))
    f = Example.finding("k", "m", deployed=v)
    assert (f.rule, f.name, f.severity, f.deployed) == ("DG950", "example.thing", "warning", v)
    assert Example.finding("k", "m", severity="error").severity == "error"
