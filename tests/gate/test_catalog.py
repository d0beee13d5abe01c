"""``gate.catalog``: the rules and the parity checks as one list, for ``explain`` and the reports."""

from __future__ import annotations

import pytest

from driftguard.errors import UsageError
from driftguard.gate import catalog
from driftguard.parity.codes import CHECKS
from driftguard.rules import RULES


def test_one_sorted_list_of_rules_and_parity_checks() -> None:
    codes = list(catalog.checks())
    assert codes == sorted([*RULES, *CHECKS, "DG601"]) and "DG101" in codes and "DG510" in codes
    assert [i.code for i in catalog.rule_infos()] == codes
    assert catalog.describe().splitlines()[-1].startswith("DG601  gate.untrusted-setting")


def test_explain_any_code_and_refuse_an_unknown_one() -> None:
    assert catalog.explain("dg101").startswith("DG101 drift.value (default severity: error)\n")
    assert catalog.explain("DG501").startswith("DG501 parity.beyond-tolerance (default severity: error, parity stage)")
    with pytest.raises(UsageError, match=r"unknown rule 'DG999'; known rules: DG101, .*DG510, DG601"):
        catalog.explain("DG999")


def test_explain_takes_the_dotted_names_reports_print() -> None:
    """Reports print ``DG102 drift.precision``; both halves find the rule (issue 23: the name was refused)."""
    assert catalog.explain("drift.precision") == catalog.explain("DG102")
    assert catalog.explain(" Parity.Nondeterminism ").startswith("DG505 parity.nondeterminism")
    with pytest.raises(UsageError, match=r"unknown rule 'drift\.nothing'"):
        catalog.explain("drift.nothing")


def test_the_list_is_plain_text_like_each_rule() -> None:
    """``driftguard explain`` without a code lists every rule and parity check with no reStructuredText markup
    (DG212's summary is written with ``max_batch_size > 0`` in its docstring)."""
    from driftguard import api

    listed = api.explain()
    assert "``" not in listed and "**" not in listed
    (dg212,) = [line for line in listed.splitlines() if line.startswith("DG212 ")]
    assert "`max_batch_size > 0` in the Triton config" in dg212
    assert sum(line.startswith("DG5") for line in listed.splitlines()) == len(list(CHECKS.items()))
