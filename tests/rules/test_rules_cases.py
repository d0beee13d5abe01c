"""Every rule's pass/fail cases from ``tests/rules/cases/DGnnn.yaml``, and the documentation contract:
every registered rule has a code, a dotted name, a severity, a docstring with **Anti-pattern** and
**Best practice**, and a case file with at least one failing and one passing case.

Case file format::

    rule: DG101
    cases:
      - name: what the case shows
        training: {key: value, ...}          # one artifact (kind "test"), all values explicit, or
        deployed:                            # a list of artifacts:
          - kind: vllm
            path: serving/request.json
            serving: vllm-serve              # optional: the serving path it was resolved for
            values: {key: value}             # explicit values
            defaults: {key: value}           # documented defaults (explicit: false)
        compare: {tolerances: [{key: glob, abs: 0.1, rel: 0.0}], ignore: [glob]}   # optional
        options: {DG103: {...}}              # optional rule options
        expect: [key, {key: k, severity: warning, message: substring}]
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from driftguard import extractors
from driftguard.gate.sides import kind_traits, serving_path, tied
from driftguard.model import EffectiveConfig, How, Origin, Value
from driftguard.rules import RULES
from driftguard.rules.base import RuleContext, Side
from driftguard.rules.comparison import CompareOptions, Tolerance
from driftguard.rules.engine import run_rules

CASES = Path(__file__).resolve().parent / "cases"


def _artifacts(spec: Any, side: str) -> tuple[EffectiveConfig, ...]:
    if isinstance(spec, dict):  # shorthand: one artifact of explicit values
        spec = [{"kind": "test", "path": f"{side}/test.yaml", "values": spec}]
    out = []
    for item in spec:
        path = item["path"]
        values: dict[str, Value] = {}
        line = 0
        for explicit, group in ((True, item.get("values") or {}), (False, item.get("defaults") or {})):
            for key, value in group.items():
                line += 1
                how = How.EXPLICIT if explicit else How.DEFAULT
                values[key] = Value(value, Origin(path, line if explicit else None), how,
                                    note=None if explicit else "test default")
        out.append(EffectiveConfig(item["kind"], path, values, item.get("serving")))
    return tuple(out)


def side_from(spec: Any, name: str) -> Side:
    """A Side from a case's side spec; later artifacts win the merge (the test's simple precedence)."""
    artifacts = _artifacts(spec or {}, name)
    merged: dict[str, Value] = {}
    for artifact in artifacts:
        merged.update(artifact.values)
    # What the gate carries on a side it builds: what each kind declares (KindInfo: speaks, weights, io, ...).
    known = [a for a in artifacts if a.kind in extractors.EXTRACTORS]
    kinds = kind_traits(a.kind for a in known)
    # And the values only manifest order ranks, by the kinds' own merge ranks (DG204).
    return Side(name, artifacts, merged, serving_path(artifacts), kinds=kinds, tied=tied(known))


def context_from(case: dict[str, Any]) -> RuleContext:
    compare = case.get("compare") or {}
    options = CompareOptions(
        tolerances=tuple(Tolerance(t["key"], abs=t.get("abs", 0.0), rel=t.get("rel", 0.0))
                         for t in compare.get("tolerances", ())),
        ignore=tuple(compare.get("ignore", ())),
    )
    return RuleContext(model="case", training=side_from(case.get("training"), "training"),
                       deployed=side_from(case.get("deployed"), "deployment"), compare=options,
                       options=case.get("options") or {})


def _load(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict) and data.get("rule") == path.stem, f"{path.name}: 'rule' must be {path.stem}"
    assert data.get("cases"), f"{path.name}: no cases"
    return data


def _all_cases() -> list[Any]:
    params = []
    for path in sorted(CASES.glob("DG*.yaml")):
        data = _load(path)
        for i, case in enumerate(data["cases"]):
            params.append(pytest.param(data["rule"], case, id=f"{data['rule']}-{i}-{case.get('name', '')[:40]}"))
    return params


@pytest.mark.parametrize(("code", "case"), _all_cases())
def test_case(code: str, case: dict[str, Any]) -> None:
    findings = run_rules(context_from(case), select=[code], enable=[code])  # opt-in rules (DG401) too
    assert all(f.rule == code for f in findings)
    expected = [e if isinstance(e, dict) else {"key": e} for e in case["expect"]]
    got_keys = sorted(f.key for f in findings)
    assert got_keys == sorted(e["key"] for e in expected), [f.message for f in findings]
    for e in expected:
        matches = [f for f in findings if f.key == e["key"]]
        if "severity" in e:
            assert any(f.severity == e["severity"] for f in matches), [(f.key, f.severity) for f in matches]
        if "message" in e:
            assert any(e["message"] in f.message for f in matches), [f.message for f in matches]
    for f in findings:
        assert f.model == "case"
        assert f.origins(), f"{f.rule} {f.key}: a finding must point at the values it judged"


def test_every_case_file_names_a_registered_rule() -> None:
    for path in CASES.glob("*.yaml"):
        assert path.stem in RULES, f"{path.name} has no registered rule"


@pytest.mark.parametrize("code", sorted(RULES))
def test_rule_is_documented_and_has_cases(code: str) -> None:
    cls = RULES[code]
    assert cls.code == code
    assert re.fullmatch(r"DG\d{3}", code)
    assert re.fullmatch(r"[a-z]+(\.[a-z0-9-]+)+", cls.name), cls.name
    assert cls.severity in ("error", "warning", "info")
    doc = cls.__doc__ or ""
    assert "**Anti-pattern**" in doc and "**Best practice**" in doc, f"{code} docstring lacks a bad/good example"
    assert doc.index("**Anti-pattern**") < doc.index("**Best practice**")
    path = CASES / f"{code}.yaml"
    assert path.is_file(), f"{code} has no case file {path}"
    cases = _load(path)["cases"]
    assert any(c["expect"] for c in cases), f"{code}: no failing case"
    assert any(not c["expect"] for c in cases), f"{code}: no passing case"


def test_rule_names_are_unique() -> None:
    names = [cls.name for _, cls in RULES.items()]
    assert len(names) == len(set(names))
