"""``check --base REF`` judges the change, not the state: each finding of the working tree is *introduced*
(the change made it, or changed its values or its verdict) or *existing* (the same drift, with the same values
and the same verdict, was there at REF), and the findings of REF whose drift is gone are *resolved*.

Findings are matched by fingerprint (model, rule, key, repository path: not a line number, so moved lines do not
make a drift new) together with both values and the status: changing a value an approval pinned, or deleting
the approval, is a change the pull request made. Existing findings are reported and never fail the gate."""

from __future__ import annotations

import json
import os
from dataclasses import replace

from driftguard.model import Change, Judged, Value
from driftguard.report import BaseComparison, Report


def _identity(f: Judged) -> str:
    values = [None if v is None else v.value for v in (f.training, f.deployed)]
    return json.dumps([f.fingerprint, values, f.status], sort_keys=True, default=repr)


def judge_change(head: Report, base: Report, ref: str, commit: str, unchanged: int = 0) -> Report:
    """``head`` with every finding marked ``introduced`` or ``existing`` against ``base`` (the same check at
    ``commit``, which ``ref`` names), and the findings of ``base`` whose drift is gone as ``resolved``.
    ``unchanged``: models left out because the change touched nothing they read (``--changed-only``)."""
    before = {_identity(f) for f in base.findings}
    models = tuple(replace(m, findings=tuple(replace(f, change=Change.EXISTING if _identity(f) in before
                                                     else Change.INTRODUCED) for f in m.findings))
                   for m in head.models)
    now = {f.fingerprint for f in head.findings}
    resolved = tuple(_moved(f, base, head) for f in base.findings if f.fingerprint not in now)
    return replace(head, models=models, base=BaseComparison(ref, commit, resolved, unchanged))


def _moved(f: Judged, base: Report, head: Report) -> Judged:
    """A finding of the base check (read from a copy of REF's files) with its paths where the head report
    names files: the same repository path, relative to the folder the check ran in."""

    def path(p: str) -> str:
        full = os.path.join(head.root, base.repo_path(p))
        return os.path.relpath(full, head.cwd) if head.cwd else full

    def value(v: Value | None) -> Value | None:
        return None if v is None else replace(v, origin=replace(v.origin, path=path(v.origin.path)))

    related = tuple(replace(v, origin=replace(v.origin, path=path(v.origin.path))) for v in f.related)
    return replace(f, finding=replace(f.finding, training=value(f.training), deployed=value(f.deployed),
                                      related=related))

