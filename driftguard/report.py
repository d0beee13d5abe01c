"""The outcome of ``driftguard check``: findings per model, the approvals that were used, stale or about to
expire, and whether the gate passes. Reporters render it; deploy scripts call ``raise_for_drift()``.

This is a bottom-layer module (it imports only ``model`` and ``errors``) so that reporters, approvals and the
API can all speak it.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, replace
from typing import Any

from driftguard.errors import DriftDetected
from driftguard.model import FAILING_STATUSES, ApprovalState, Change, Json, Judged, Origin, Severity, Status

REPORT_VERSION = 1


@dataclass(frozen=True)
class ApprovalRef:
    """One approval as the report shows it.

    ``state`` (``ApprovalState``): ``used`` (approved at least one finding), ``expired`` (past ``expires``),
    ``stale`` (matched nothing), ``uncommitted`` (ignored: ``--require-committed-approvals`` and the file is not
    committed as it is, or ``--require-base-approvals`` and it is not on the base revision as it is; ``note`` says
    which), ``self-approved`` (``approval_policy.separate_approver``: last changed by whoever last changed a line
    the finding rests on, so it approves nothing; ``note`` says why). ``days``: days until expiry (negative once
    expired). ``expiring``: within the warning window.
    ``added_in``/``added_by``/``added_on``: the commit, author and date that last changed the file (git-aware runs).
    """

    id: str
    path: str
    line: int | None
    model: str
    key: str
    expires: str
    days: int
    state: ApprovalState
    expiring: bool = False
    reason: str = ""
    note: str | None = None
    added_in: str | None = None
    added_by: str | None = None
    added_on: str | None = None

    def __post_init__(self) -> None:
        if type(self.state) is not ApprovalState:  # a plain string becomes its member
            object.__setattr__(self, "state", ApprovalState(self.state))

    def location(self) -> str:
        return f"{self.path}:{self.line}" if self.line is not None else self.path

    def to_dict(self) -> dict[str, Json]:
        out: dict[str, Json] = {
            "id": self.id, "path": self.path, "line": self.line, "model": self.model, "key": self.key,
            "expires": self.expires, "days_left": self.days, "state": self.state.value, "expiring": self.expiring,
            "reason": self.reason,
        }
        if self.note:
            out["note"] = self.note
        for name in ("added_in", "added_by", "added_on"):
            if getattr(self, name) is not None:
                out[name] = getattr(self, name)
        return out


@dataclass(frozen=True)
class ArtifactRef:
    """An artifact of a side as the report names it."""

    kind: str
    path: str

    def to_dict(self) -> dict[str, Json]:
        return {"kind": self.kind, "path": self.path}


@dataclass(frozen=True)
class RuleInfo:
    """A rule as reports describe it (SARIF ``tool.driver.rules``): code, dotted name, default severity, the
    docstring's first line and the whole docstring (with its anti-pattern and best practice)."""

    code: str
    name: str
    severity: Severity
    summary: str
    doc: str
    opt_in: bool = False


@dataclass(frozen=True)
class ModelResult:
    """One model's findings and the artifacts each side was built from. ``rules``: the codes of the rules
    that ran on the model (a JUnit test case each)."""

    name: str
    findings: tuple[Judged, ...]
    training: tuple[ArtifactRef, ...] = ()
    deployment: tuple[ArtifactRef, ...] = ()
    strict: bool = False
    rules: tuple[str, ...] = ()

    def failing(self) -> list[Judged]:
        return [f for f in self.findings if fails(f, self.strict)]

    @property
    def ok(self) -> bool:
        """True when no finding of this model fails the gate (``Report.ok`` also weighs stale approvals)."""
        return not self.failing()

    def counts(self) -> dict[str, int]:
        out = {"findings": len(self.findings), "failing": len(self.failing())}
        for status in Status:
            out[status.value] = sum(1 for f in self.findings if f.status == status)
        return out

    def to_dict(self) -> dict[str, Json]:
        return {
            "name": self.name,
            "ok": self.ok,
            "training": [a.to_dict() for a in self.training],
            "deployment": [a.to_dict() for a in self.deployment],
            "summary": self.counts(),
            "findings": [f.to_dict() for f in self.findings],
        }


def fails(finding: Judged, strict: bool = False) -> bool:
    """True when a finding fails the gate: unapproved or expired, and an error (or a warning when strict);
    never a finding ``check --base`` found already there at the base revision (``change`` existing)."""
    if finding.status not in FAILING_STATUSES or finding.change == Change.EXISTING:
        return False
    return finding.severity == Severity.ERROR or (strict and finding.severity == Severity.WARNING)


@dataclass(frozen=True)
class BaseComparison:
    """What ``check --base REF`` compared against: the revision as given, the commit it named, the findings
    of that commit whose drift the change removed, and how many models ``--changed-only`` left out."""

    ref: str
    commit: str
    resolved: tuple[Judged, ...] = ()
    #: models not checked because the change touched nothing they read (``--changed-only``)
    unchanged: int = 0

    def to_dict(self, report: Report) -> dict[str, Json]:
        changes = [f.change for f in report.findings]
        return {"ref": self.ref, "commit": self.commit, "introduced": changes.count(Change.INTRODUCED),
                "existing": changes.count(Change.EXISTING), "resolved": [f.to_dict() for f in self.resolved],
                "unchanged_models": self.unchanged}


@dataclass(frozen=True)
class RunBinding:
    """What ties a report to the run that wrote it, so ``driftguard report`` can refuse reports that are not
    the shards of one run: the commit checked out (None outside a git work tree), the SHA-256 of the
    manifest's bytes (None for a manifest built in code), and every model the run chose before ``--shard``
    split them (each shard's models must be its share of exactly these)."""

    commit: str | None
    manifest_sha256: str | None
    models: tuple[str, ...]

    def to_dict(self) -> dict[str, Json]:
        return {"commit": self.commit, "manifest_sha256": self.manifest_sha256, "models": list(self.models)}


def primary_origin(finding: Judged) -> Origin | None:
    """Where a finding points: the deployed value (what a change to the deployment wrote), else the training
    value, else the first related value."""
    for v in (finding.deployed, finding.training, *finding.related):
        if v is not None:
            return v.origin
    return None


def fingerprint(model: str, rule: str, key: str, artifact: str) -> str:
    """A finding's stable identity: 32 hex digits of sha256 over (model, rule, key, artifact path relative to
    the repository). No line number and no value: the same drift keeps its fingerprint when lines move or a
    value changes, and a different key, rule, model or file is a different finding."""
    # JSON of the list: unambiguous (no field can forge a separator) and ASCII (any surrogate is escaped).
    text = json.dumps(["driftguard/v1", model, rule, key, artifact], ensure_ascii=True)
    return hashlib.sha256(text.encode("ascii")).hexdigest()[:32]


@dataclass(frozen=True)
class Report:
    """Everything ``check`` found. ``ok`` is the gate: no failing finding, and no stale approval when the
    manifest (or ``strict``) says stale approvals fail.

    ``root`` is the repository root (absolute) and ``cwd`` the folder relative origin paths are relative to
    (where ``check`` ran), so ``repo_path`` names every file relative to the repository whatever folder the
    check ran in. ``rules`` describes every rule of the installation (for SARIF's rule table). ``base``: what
    ``check --base`` compared against (each finding's ``change`` says introduced or existing). ``shard``:
    ``(I, N)`` when the report covers only shard I of N of the manifest's models (``check --shard``). ``run``:
    what binds the report to its run (``RunBinding``), set by the gate."""

    models: tuple[ModelResult, ...]
    approvals: tuple[ApprovalRef, ...] = ()
    manifest: str = ""
    today: str = ""
    strict: bool = False
    fail_on_stale: bool = False
    root: str = ""
    cwd: str = ""
    rules: tuple[RuleInfo, ...] = ()
    base: BaseComparison | None = None
    shard: tuple[int, int] | None = None
    run: RunBinding | None = None

    def repo_path(self, path: str) -> str:
        """``path`` (an origin's, as the extractors wrote it) relative to the repository root, ``/``-separated;
        as written when the report has no root or the file lies outside it."""
        if not self.root:
            return path.replace(os.sep, "/")
        full = path if os.path.isabs(path) or not self.cwd else os.path.join(self.cwd, path)
        rel = os.path.relpath(os.path.normpath(full), self.root)
        if rel == os.pardir or rel.startswith(os.pardir + os.sep):
            return path.replace(os.sep, "/")
        return rel.replace(os.sep, "/")

    def fingerprint(self, finding: Judged) -> str:
        """``fingerprint`` of a finding: its model, rule, key and the repository path of the file it points at."""
        origin = primary_origin(finding)
        artifact = self.repo_path(origin.path) if origin is not None else ""
        return fingerprint(finding.model or "", finding.rule, finding.key, artifact)

    def with_fingerprints(self) -> Report:
        """This report with every finding's ``fingerprint`` stamped."""
        models = tuple(replace(m, findings=tuple(replace(f, fingerprint=self.fingerprint(f)) for f in m.findings))
                       for m in self.models)
        return replace(self, models=models)

    @property
    def findings(self) -> list[Judged]:
        """Every finding of every model, in model order."""
        return [f for m in self.models for f in m.findings]

    @property
    def failing(self) -> list[Judged]:
        return [f for m in self.models for f in m.failing()]

    @property
    def stale(self) -> list[ApprovalRef]:
        """Approvals that matched nothing."""
        return [a for a in self.approvals if a.state == ApprovalState.STALE]

    @property
    def expiring(self) -> list[ApprovalRef]:
        """Approvals still valid but expiring within the warning window."""
        return [a for a in self.approvals if a.expiring and a.state != ApprovalState.EXPIRED]

    @property
    def attention(self) -> list[ApprovalRef]:
        """Approvals a reader should look at: stale, expired, or expiring soon."""
        return [a for a in self.approvals if a.state != ApprovalState.USED
                or a.expiring]

    @property
    def expired(self) -> list[ApprovalRef]:
        return [a for a in self.approvals if a.state == ApprovalState.EXPIRED]

    def approval(self, approval_id: str | None) -> ApprovalRef | None:
        return next((a for a in self.approvals if a.id == approval_id), None)

    @property
    def ok(self) -> bool:
        if self.failing:
            return False
        return not ((self.fail_on_stale or self.strict) and self.stale)

    def summary(self) -> dict[str, int]:
        out = {"models": len(self.models), "findings": 0, "failing": 0, **{s.value: 0 for s in Status}}
        for m in self.models:
            for k, v in m.counts().items():
                out[k] += v
        out["stale_approvals"] = len(self.stale)
        out["expiring_approvals"] = len(self.expiring)
        return out

    def raise_for_drift(self) -> None:
        """Raise ``DriftDetected`` (listing the failing findings) unless the gate passes."""
        if self.ok:
            return
        failing = self.failing
        if failing:
            keys = ", ".join(sorted({f"{f.model}:{f.key}" if f.model else f.key for f in failing}))
            message = f"{len(failing)} unapproved difference{'s' if len(failing) != 1 else ''}: {keys}"
        else:
            message = f"{len(self.stale)} stale approval(s): {', '.join(a.id for a in self.stale)}"
        raise DriftDetected(message, list(failing))

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": REPORT_VERSION,
            "tool": "driftguard",
            "manifest": self.manifest,
            "today": self.today,
            "strict": self.strict,
            "ok": self.ok,
            "summary": self.summary(),
            "models": [m.to_dict() for m in self.models],
            "approvals": [a.to_dict() for a in self.approvals],
            **({"base": self.base.to_dict(self)} if self.base is not None else {}),
            **({"shard": f"{self.shard[0]}/{self.shard[1]}", "fail_on_stale": self.fail_on_stale}
               if self.shard is not None else {}),
            **({"run": self.run.to_dict()} if self.run is not None else {}),
        }

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False, sort_keys=False) + "\n"
