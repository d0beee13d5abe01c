"""Every parity code is documented like a rule (code, dotted name, severity, **Anti-pattern**, **Best
practice**) and has a case file under ``tests/parity/cases/`` with failing and passing cases.

Case file format::

    code: DG501
    cases:
      - name: what the case shows
        reference: {out.NAME: [[...]]}      # the reference's outputs (the training config of a callable runner
        candidate: {out.NAME: [[...]]}      #   that returns its config's out.* values), the candidate's
        function: NAME                      # or: both sides run tests/parity/userfns/fns.py:NAME on 6 inputs
        parity: {profile: int8, ...}        # optional: more of the manifest's parity section
        differing: [key, ...]               # optional: keys that differ between the sides
        expect: [key, ...]                  # keys of this code's findings
"""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any

import pytest
import yaml

from driftguard.manifest import Parity
from driftguard.parity import codes, stage
from driftguard.parity.model_parity import ModelParity
from driftguard.parity.request import ParityRequest
from tests.parity.conftest import USERFNS, np

CASES = Path(__file__).resolve().parent / "cases"


def _cases() -> list[tuple[str, dict[str, Any]]]:
    out = []
    for path in sorted(CASES.glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        assert data["code"] == path.stem
        out.extend((path.stem, case) for case in data["cases"])
    return out


@pytest.mark.parametrize(("code", "case"), _cases(), ids=lambda c: c if isinstance(c, str) else c["name"])
def test_case(code: str, case: dict[str, Any], tmp_path: Path) -> None:
    fns = USERFNS / "fns.py"
    np.savez(tmp_path / "golden.npz", x=np.arange(12, dtype=np.float64).reshape(6, 2))
    function = case.get("function", "outputs_from_config")
    spec = {"golden": "golden.npz", "reference": {"runner": "callable", "function": f"{fns}:{function}"},
            "candidate": {"runner": "callable", "function": f"{fns}:{function}"}, **(case.get("parity") or {})}
    if "function" not in case:  # outputs given as the sides' configs: one call for all samples
        spec["reference"]["batch_size"] = spec["candidate"]["batch_size"] = 64
        np.savez(tmp_path / "golden.npz", x=np.zeros((len(next(iter(case["reference"].values()))), 1)))
    model_parity = ModelParity("case", Parity.model_validate(spec), tmp_path, "driftguard.yaml",
                           dict(case.get("reference") or {}), dict(case.get("candidate") or {}),
                           tuple(case.get("differing") or ()), ParityRequest(attribution=False))
    found = sorted(f.key for f in stage.run(model_parity) if f.rule == code)
    assert found == sorted(case["expect"]), case["name"]


@pytest.mark.parametrize("code", sorted(codes.CHECKS))
def test_code_is_documented_and_case_tested(code: str) -> None:
    cls = codes.CHECKS[code]
    doc = inspect.cleandoc(cls.__doc__ or "")
    assert cls.code == code and "." in cls.name and cls.severity in ("error", "warning", "info")
    assert "**Anti-pattern**" in doc and "**Best practice**" in doc
    cases = yaml.safe_load((CASES / f"{code}.yaml").read_text(encoding="utf-8"))["cases"]
    assert any(c["expect"] for c in cases) and any(not c["expect"] for c in cases), code


def test_parity_codes_do_not_clash_with_rules() -> None:
    from driftguard.rules import RULES

    assert not set(codes.CHECKS) & set(RULES)


def test_each_code_has_the_name_and_default_severity_of_the_readme_table() -> None:
    """The README's "Parity findings" table, read as written: every code's dotted name and default severity (the
    severity decides whether a finding fails the gate), each reported by the parity stage."""
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    table = readme.split("### Parity findings", 1)[1].split("\n\n", 2)[1]
    rows = [[cell.strip(" `") for cell in line.strip("|").split("|")[:3]] for line in table.splitlines()[2:]]
    assert [code for code, _, _ in rows] == ["DG500", "DG501", "DG502", "DG503", "DG504", "DG505", "DG506", "DG510"]
    assert sorted(codes.CHECKS) == [code for code, _, _ in rows]
    for code, name, severity in rows:
        cls = codes.CHECKS[code]
        assert (cls.code, cls.name, str(cls.severity), cls.stage) == (code, name, severity, "parity"), code
        assert issubclass(cls, codes.ParityCheck)
