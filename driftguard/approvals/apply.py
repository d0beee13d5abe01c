"""Judging findings against approvals.

A finding is ``approved`` by an approval for the same model whose key matches (exactly, or as a glob with
``allow_wildcard``), whose ``rule`` (when set) matches, whose pinned values equal the finding's values
(``compare.values_equal``, so 0.85 written by a float32 engine is still 0.85) and which has not expired.
The same match past its ``expires`` gives ``expired`` (failing). Otherwise the finding stays ``unapproved``
(``info`` for info-severity findings). Every approval is then reported as ``used``, ``expired`` or ``stale``.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import date
from fnmatch import fnmatchcase

from driftguard import clock
from driftguard.approvals.schema import Approval
from driftguard.approvals.store import LoadedApproval
from driftguard.equality import values_equal
from driftguard.errors import did_you_mean
from driftguard.keys import spec_for
from driftguard.model import ApprovalState, Finding, Json, Judged, Severity, Status, Value
from driftguard.report import ApprovalRef


@dataclass(frozen=True)
class Outcome:
    """The findings judged (each with its status), and every approval in scope with its state."""

    findings: tuple[Judged, ...]
    approvals: tuple[ApprovalRef, ...]


def key_matches(approval: Approval, finding: Finding) -> bool:
    """Same model, same key (or glob), same rule when the approval names one."""
    if finding.model is not None and approval.model != finding.model:
        return False
    if approval.rule is not None and approval.rule != finding.rule:
        return False
    if approval.allow_wildcard:
        return fnmatchcase(finding.key, approval.key)
    return approval.key == finding.key


def _same(pinned: Json, actual: Value | None, key: str) -> bool:
    spec = spec_for(key)
    return values_equal(pinned, None if actual is None else actual.value,
                        unordered=bool(spec and spec.unordered))


def values_match(approval: Approval, finding: Finding) -> bool:
    """The finding's values are the ones the approval pinned (always true for an unpinned glob).

    A finding that judges one measured metric (parity DG501: ``Finding.measured``) pins a bound instead:
    ``training`` is the metric's bound, exactly; ``deployed`` the bound accepted, and the measurement must lie
    within it (a later, worse measurement is beyond the approval and fails again)."""
    if not approval.pins_values:
        return True
    metric = finding.measured
    if metric is not None and metric.bound is not None:
        accepted = approval.deployed
        return values_equal(approval.training, metric.bound) and \
            isinstance(accepted, (int, float)) and not isinstance(accepted, bool) and metric.within(float(accepted))
    return _same(approval.training, finding.training, finding.key) and \
        _same(approval.deployed, finding.deployed, finding.key)


def apply(findings: Sequence[Finding], approvals: Sequence[LoadedApproval], today: date | None = None, *,
          warn_expiring_days: int = 30, models: Collection[str] | None = None,
          known_models: Collection[str] | None = None, known_rules: Collection[str] | None = None,
          unknown_in_scope: Callable[[str], bool] | None = None) -> Outcome:
    """Set each finding's status; report each approval (of the ``models`` in scope) as used, expired or stale.

    ``known_models``/``known_rules``: the manifest's models and the installation's rule codes. An approval
    naming a model the manifest lacks or a rule that does not exist can never match: it is stale, and its note
    says why. One naming a model the manifest lacks is reported when ``unknown_in_scope(model)`` says so
    (default: when every known model is in ``models``), so a run split in parts reports it in one part."""
    today = today or clock.today()
    known = set(known_models) if known_models is not None else None
    everything = models is None or known is None or known <= set(models)
    in_scope = [a for a in approvals if models is None or a.approval.model in models
                or (known is not None and a.approval.model not in known
                    and (unknown_in_scope(a.approval.model) if unknown_in_scope is not None else everything))]
    used: set[str] = set()
    near: dict[str, str] = {}  # approval id -> why it matched the key but not the values
    for la in in_scope:
        a = la.approval
        if known is not None and a.model not in known:
            near[la.id] = f"names model '{a.model}', which {_models(known)}"
        elif known_rules is not None and a.rule is not None and a.rule not in known_rules:
            near[la.id] = f"names rule '{a.rule}', which does not exist (rules: `driftguard explain`)"
    out: list[Judged] = []
    for f in findings:
        valid: LoadedApproval | None = None
        expired: LoadedApproval | None = None
        for la in in_scope:
            a = la.approval
            if not key_matches(a, f):
                if a.rule is not None and a.rule != f.rule and key_matches(a.model_copy(update={"rule": f.rule}), f):
                    near.setdefault(la.id, f"names rule {a.rule}, but the finding on '{f.key}' is {f.rule}")
                continue
            if not values_match(a, f):
                near.setdefault(la.id, _mismatch(a, f))
                continue
            if a.expires >= today:
                valid = valid or la
            else:
                expired = expired or la
        if valid is not None:
            used.add(valid.id)
            out.append(Judged(f, Status.APPROVED, valid.id))
        elif expired is not None:
            out.append(Judged(f, Status.EXPIRED, expired.id))
        elif f.severity == Severity.INFO:
            out.append(Judged(f, Status.INFO))
        else:
            out.append(Judged(f, Status.UNAPPROVED))
    for la in in_scope:
        if la.id not in used and la.id not in near:
            near[la.id] = _no_finding(la.approval, findings)
    refs = []
    for la in in_scope:
        a = la.approval
        days = (a.expires - today).days
        if days < 0:
            state = ApprovalState.EXPIRED
        elif la.id in used:
            state = ApprovalState.USED
        else:
            state = ApprovalState.STALE
        refs.append(ApprovalRef(
            id=la.id, path=la.path, line=la.line, model=a.model, key=a.key, expires=a.expires.isoformat(),
            days=days, state=state, expiring=0 <= days <= warn_expiring_days, reason=a.reason,
            note=near.get(la.id) if state == ApprovalState.STALE else None,
        ))
    refs.sort(key=lambda r: r.id)
    return Outcome(tuple(out), tuple(refs))


def _models(known: Collection[str]) -> str:
    names = sorted(known)
    return "the manifest does not have (models: " + ", ".join(names) + ")" if names else \
        "the manifest does not have"


def _no_finding(a: Approval, findings: Sequence[Finding]) -> str:
    """Why an approval with a valid model and rule matched nothing: no finding has its key (the drift it
    approved is gone, or the key is misspelled: the closest key a finding of that model has is named)."""
    keys = [f.key for f in findings if f.model is None or f.model == a.model]
    return f"no finding of model '{a.model}' has key '{a.key}'" + did_you_mean(a.key, keys, cutoff=0.85)


def _mismatch(a: Approval, f: Finding) -> str:
    def show(v: Value | None) -> str:
        return "unset" if v is None else repr(v.value)

    return (f"pins training {a.training!r}, deployed {a.deployed!r}; found training {show(f.training)}, "
            f"deployed {show(f.deployed)}")
