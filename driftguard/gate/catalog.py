"""Every finding code of this installation as one list: the rules (``rules.RULES``), the parity checks
(``parity.codes.CHECKS``) and the gate's own (``gate.policy.CHECKS``: DG601), all ``checks.Check``s. ``driftguard
explain`` prints from it and reports describe it (``rule_infos``: SARIF ``tool.driver.rules``). It lives here, above
both families, because the rules and the parity stage may not import each other."""

from __future__ import annotations

from driftguard.checks import Check
from driftguard.errors import UsageError
from driftguard.report import RuleInfo


def checks() -> dict[str, type[Check]]:
    """Code -> class for every rule and parity check, in code order. Raises ``registry.PluginLoadError`` for a
    broken plug-in."""
    from driftguard.gate.policy import CHECKS as GATE_CHECKS
    from driftguard.parity.codes import CHECKS
    from driftguard.rules import load_rules

    found: dict[str, type[Check]] = {**load_rules(), **dict(CHECKS.items()), **{c.code: c for c in GATE_CHECKS}}
    return dict(sorted(found.items()))


def explain(code: str) -> str:
    """What ``driftguard explain CODE`` prints: the header (code, name, default severity, opt-in or stage) and
    the docstring. ``code`` is a code (``DG101``) or the dotted name every report prints beside it
    (``drift.value``), in any case. UsageError for an unknown one."""
    every = checks()
    wanted = code.strip()
    cls = every.get(wanted.upper()) or next((c for c in every.values() if c.name == wanted.lower()), None)
    if cls is None:
        raise UsageError(f"unknown rule '{code}'; known rules: {', '.join(every)} (or their names, "
                         "as `driftguard explain` lists them)")
    return cls.explain_text()


def describe() -> str:
    """One line per code (``Check.describe_line``): what ``driftguard explain`` prints without a code."""
    return "\n".join(cls.describe_line() for cls in checks().values()) + "\n"


def rule_infos() -> tuple[RuleInfo, ...]:
    """Every code as reports describe it (code order)."""
    return tuple(cls.info() for cls in checks().values())
