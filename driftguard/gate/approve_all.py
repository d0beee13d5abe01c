"""``driftguard baseline``: adopt the gate in a repository that drifts already. The check of the selected models
runs, and every finding that fails it now (unapproved, or past its approval's expiry) is approved in one
approvals file, ``<approvals>/baseline.yaml``, with one reason, approver and expiry; each entry is pinned to its
finding's values as ``driftguard approve`` pins one, so a later change of a baselined key is drift again. Run
again, it adds only what fails again (new drift) after the entries the file holds, which it keeps byte for
byte; with nothing failing it leaves the file alone."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from driftguard.approvals import write
from driftguard.errors import UsageError
from driftguard.gate import pipeline
from driftguard.gate.approve import allowed, checked_arguments
from driftguard.gate.request import CheckRequest, Selection, load_manifest
from driftguard.model import Judged

if TYPE_CHECKING:
    from driftguard.approvals import Approval
    from driftguard.manifest import Manifest

#: The file (``<approvals>/<name>.yaml``) ``driftguard baseline`` keeps unless told another.
DEFAULT_NAME = "baseline"
HEADER = """\
# driftguard baseline: the drift there was when the gate was adopted, approved in one file with one reason,
# approver and expiry. Each entry pins its values: a change of one is drift again. `driftguard baseline` run
# again adds new drift at the end; delete an entry once its drift is fixed (check lists it as stale).
"""
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True)
class Baseline:
    """What a run did: the file, the approvals it added (none: nothing failed, the file is as it was) and how
    many the file held before."""

    path: Path
    added: tuple[Approval, ...]
    held: int


def baseline(path_or_manifest: str | Path | Manifest, reason: str, expires: date, *, approved_by: str | None,
             today: date, model: str | None = None, name: str = DEFAULT_NAME, evidence: str | None = None,
             strict: bool = False) -> Baseline:
    """Approve, in ``<approvals>/<name>.yaml``, every finding that fails the check of ``model`` (default: every
    model) on ``today``; ``strict``: failing warnings too, as ``check --strict`` fails on them. A key with
    findings of several values gets one approval per finding, each naming its rule. UsageError, naming the
    field or option, for a wrong argument, an approver or expiry the manifest's policy refuses, or a file of
    that name holding one approval rather than a list."""
    checked_arguments(approved_by, expires, today)
    m = load_manifest(path_or_manifest)
    common: dict[str, object] = {"reason": reason, "approved_by": approved_by, "approved_on": today.isoformat(),
                                 "expires": expires.isoformat(), "evidence": evidence}
    # the arguments and the policy first: a bad name, reason or expiry is reported before the check runs
    probe = write.new_approval({**common, "id": name, "model": "-", "key": "-", "training": None, "deployed": None})
    target = write.target(m.base / m.approvals, m.base, m.path, probe)
    allowed(m, probe, target, today)
    held_text, held = _held(target, m)
    report = pipeline.run(CheckRequest(m, today, Selection.of(m, model), strict=strict))
    added = _approvals(report.failing, common, name, _ids(m))
    if added:
        write.extend(target, held_text, added, HEADER)
    return Baseline(target, tuple(added), held)


def _held(target: Path, m: Manifest) -> tuple[str | None, int]:
    """The baseline file's text and how many approvals it holds (None, 0: no such file yet)."""
    from driftguard.approvals import load_entries
    from driftguard.readers import files

    if not files.exists(target):
        return None, 0
    entries = load_entries(target, m.effective_limits())
    if entries[0].index is None:
        raise UsageError(f"{target} holds one approval, not a baseline's list: pass another --name")
    return files.read_text(target, m.effective_limits(), "approval file"), len(entries)


def _ids(m: Manifest) -> set[str]:
    """Every approval id of the approvals folder, ignoring case (ids are unique across it)."""
    from driftguard.approvals import load_dir

    return {a.id.casefold() for a in load_dir(m.base / m.approvals, root=m.base, limits=m.effective_limits())}


def _approvals(failing: list[Judged], common: dict[str, object], name: str, taken: set[str]) -> list[Approval]:
    """One approval per failing key and values; a key failing with several values gets one per finding,
    each with its rule, so that each pins its own values."""
    groups: dict[tuple[str, str], dict[str, Judged]] = {}
    for f in failing:
        groups.setdefault((f.model or "", f.key), {}).setdefault(_pin(f), f)
    out = []
    for (model, key), found in groups.items():
        by_rule = len(found) > 1
        for f in found.values():
            rule = f.rule if by_rule else None
            out.append(write.new_approval({**common, "id": _unique(_id(name, model, key, rule), taken),
                                           "model": model, "key": key, "rule": rule,
                                           "training": None if f.training is None else f.training.value,
                                           "deployed": None if f.deployed is None else f.deployed.value}))
    return out


def _pin(f: Judged) -> str:
    values = [None if v is None else v.value for v in (f.training, f.deployed)]
    return json.dumps(values, sort_keys=True, default=repr)


def _id(name: str, model: str, key: str, rule: str | None) -> str:
    """``<name>-<model>-<key>[-<rule>]``, with what an id may not hold (``.``, ``*``, brackets) as ``-``, cut
    at 120 characters so that ``_unique``'s ``-2``, ``-3``... still fit the schema's 128."""
    text = "-".join(p for p in (name, model, key.replace("*", "all"), (rule or "").lower()) if p)
    return _UNSAFE.sub("-", text.replace(".", "-"))[:120]


def _unique(aid: str, taken: set[str]) -> str:
    """``aid``, or ``aid-2``, ``aid-3``... when an approval of the folder has it already (ignoring case)."""
    n, out = 1, aid
    while out.casefold() in taken:
        n += 1
        out = f"{aid}-{n}"
    taken.add(out.casefold())
    return out
