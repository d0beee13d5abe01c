"""Running rules: pick the registered rules a check asks for, run each on a ``RuleContext``, stamp and sort
the findings. A rule that raises is a bug in the rule, never a pass: ``RuleCrashed`` (the CLI maps it to
exit 3). What ``driftguard explain`` prints, over rules and parity checks alike, is ``gate.catalog``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from fnmatch import fnmatchcase

from driftguard.errors import DriftguardError, UsageError, did_you_mean
from driftguard.model import Finding, Severity
from driftguard.rules import load_rules
from driftguard.rules.base import Rule, RuleContext

#: Severities a finding may carry; ``off`` in a severity override disables the rule (a selection, not a severity).
SEVERITIES = tuple(s.value for s in Severity)
OFF = "off"


class RuleCrashed(Exception):
    """A rule raised instead of returning findings: an internal error (exit 3), never a pass.

    Deliberately not a ``DriftguardError``: the user's input is not what is wrong.
    """

    def __init__(self, code: str, exc: BaseException) -> None:
        super().__init__(f"rule {code} crashed: {type(exc).__name__}: {exc}")
        self.code = code
        self.exc = exc

    def __reduce__(self) -> tuple[object, ...]:
        # Across processes (a parallel check) the original exception travels as its text.
        return (_crashed, (self.code, type(self.exc).__name__, str(self.exc)))


def _crashed(code: str, name: str, text: str) -> RuleCrashed:
    exc = RuleCrashed(code, RuntimeError(text))
    exc.args = (f"rule {code} crashed: {name}: {text}",)
    return exc


def _matching(pattern: str, codes: Sequence[str], what: str, others: Sequence[str] = ()) -> list[str]:
    """Codes a user pattern names: an exact code (any case) or a glob (``DG1*``). A pattern that names only
    ``others`` (the parity stage's codes, which a check configures in the same lists) names no rule; one that
    names nothing at all is a UsageError."""
    hits = pattern_hits(pattern, codes)
    if not hits and not pattern_hits(pattern, others):
        raise UsageError(f"unknown rule '{pattern}' in {what}; known rules: {', '.join((*codes, *others))}"
                         f"{did_you_mean(pattern.strip().upper(), (*codes, *others))}")
    return hits


def pattern_hits(pattern: str, codes: Sequence[str]) -> list[str]:
    """The codes an exact code (any case) or a glob (``DG1*``) names, as ``select``, ``enable`` and
    ``severity`` read them (the manifest checks its lists with it at load)."""
    pat = pattern.strip().upper()
    return [c for c in codes if fnmatchcase(c, pat)]


def _severities(overrides: Mapping[str, str] | None, codes: Sequence[str],
                others: Sequence[str] = ()) -> dict[str, str]:
    out: dict[str, str] = {}
    for pattern, severity in (overrides or {}).items():
        sev = str(severity).strip().lower()
        if sev not in (*SEVERITIES, OFF):
            raise UsageError(f"severity '{severity}' for '{pattern}' is not one of {', '.join((*SEVERITIES, OFF))}")
        for code in _matching(pattern, codes, "severity overrides", others):
            out[code] = sev
    return out


def selected_rules(select: Sequence[str] | None = None, severity_overrides: Mapping[str, str] | None = None,
                   enable: Sequence[str] = (), others: Sequence[str] = ()) -> list[tuple[type[Rule], Severity | None]]:
    """``[(rule class, severity override or None)]`` a check runs, in code order.

    Every registered rule that is not opt-in, plus the opt-in ones ``enable`` names; narrowed to ``select``
    when given (codes or globs); a severity override of ``off`` drops a rule. ``others``: the codes of the
    other checks the same lists configure (the parity stage's, ``configure_findings``); a pattern naming only
    those selects no rule. Unknown codes are a UsageError.
    """
    rules = load_rules()
    codes = sorted(rules)
    enabled = {c for p in enable for c in _matching(p, codes, "enabled rules")}
    chosen = [c for c in codes if not rules[c].opt_in or c in enabled]
    if select is not None:
        wanted = {c for p in select for c in _matching(p, codes, "selected rules", others)}
        chosen = [c for c in chosen if c in wanted]
    sev = _severities(severity_overrides, codes, others)
    return [(rules[c], Severity(sev[c]) if c in sev else None) for c in chosen if sev.get(c) != OFF]


def configure_findings(findings: Sequence[Finding], codes: Sequence[str], select: Sequence[str] | None = None,
                       severity_overrides: Mapping[str, str] | None = None) -> list[Finding]:
    """The findings of checks that are not rules (the parity stage's, whose codes are ``codes``) under the
    same ``select`` and ``severity`` lists as the rules: a code ``select`` leaves out, or whose severity is
    ``off``, is dropped; an override replaces the severity. Patterns are validated by ``selected_rules``."""
    wanted = None if select is None else {c for p in select for c in pattern_hits(p, codes)}
    sev = {c: str(s).strip().lower() for p, s in (severity_overrides or {}).items() for c in pattern_hits(p, codes)}
    return [f if f.rule not in sev else replace(f, severity=Severity(sev[f.rule]))
            for f in findings if (wanted is None or f.rule in wanted) and sev.get(f.rule) != OFF]


def _sort_key(f: Finding) -> tuple[str, str, str, str]:
    return (f.rule, f.key, f.message, f.severity)


def run_rules(ctx: RuleContext, select: Sequence[str] | None = None,
              severity_overrides: Mapping[str, str] | None = None, enable: Sequence[str] = (),
              others: Sequence[str] = ()) -> list[Finding]:
    """Run the rules a check asks for (see ``selected_rules``) on one model; findings sorted by code, key,
    message, each stamped with the model name and its (possibly overridden) severity.

    Raises ``RuleCrashed`` when a rule raises or yields something that is not a Finding.
    """
    out: list[Finding] = []
    for cls, override in selected_rules(select, severity_overrides, enable, others):
        code = cls.code or cls.__name__
        try:
            found = list(cls().check(ctx))
            for f in found:
                if not isinstance(f, Finding):
                    raise TypeError(f"check() yielded {type(f).__name__}, not Finding")
        except DriftguardError:
            raise  # bad input found while checking (an unreadable weights file, a missing extra): exit 2
        except Exception as exc:
            raise RuleCrashed(code, exc) from exc
        # A rule may choose a severity per finding (a milder case of its problem); an override replaces all.
        out.extend(replace(f, model=ctx.model or None, severity=override or f.severity) for f in found)
    out.sort(key=_sort_key)
    return out


def pairwise_codes() -> list[str]:
    """What ``driftguard diff`` runs on its two files: the rules of ``check``'s own default selection
    (``selected_rules``) that relate the two sides (``Rule.pairwise``), so the two never disagree about a pair."""
    return [cls.code for cls, _ in selected_rules() if cls.pairwise]
