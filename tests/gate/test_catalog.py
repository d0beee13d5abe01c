"""``gate.catalog``: the rules and the parity checks as one list, for ``explain`` and the reports."""

from __future__ import annotations

import pytest

from driftguard.errors import UsageError
from driftguard.gate import catalog
from driftguard.parity.codes import CHECKS
from driftguard.rules import RULES


def test_one_sorted_list_of_rules_and_parity_checks() -> None:
    codes = list(catalog.checks())
    assert codes == sorted([*RULES, *CHECKS]) and "DG101" in codes and "DG510" in codes
    assert [i.code for i in catalog.rule_infos()] == codes
    assert catalog.describe().splitlines()[-1].startswith("DG510  parity.not-exercised")


def test_explain_any_code_and_refuse_an_unknown_one() -> None:
    assert catalog.explain("dg101").startswith("DG101 drift.value (default severity: error)\n")
    assert catalog.explain("DG501").startswith("DG501 parity.beyond-tolerance (default severity: error, parity stage)")
    with pytest.raises(UsageError, match=r"unknown rule 'DG999'; known rules: DG101, .*DG510"):
        catalog.explain("DG999")
