"""``driftguard report``: JSON reports read back into a Report, and the reports of ``check --shard 1/N .. N/N``
merged into the one report an unsharded check gives (the models of every shard, the approvals of every shard).

A report file is input like any other: it is read within the reader limits (``readers.documents``: nesting
depth, values, file size) and validated against the published report schema (a malformed or foreign file is one
clear error); the report a failed run leaves (``reporters.failed``) is refused as that run's failure. Shards are
merged only when they are the complete set of one run: each of 1..N once, and bound to the same run
(``report.RunBinding``: the same commit, manifest digest and model set, each shard holding exactly its share of
the models), so a missing job, a failed one or a forged file can never make a merged report pass. ``commit``
(``report --commit SHA``) pins the commit every report must have been made on."""

from __future__ import annotations

import json
from dataclasses import replace
from importlib.resources import files
from pathlib import Path
from typing import Any

from driftguard.ci.shard import select
from driftguard.errors import DriftguardError, LimitError, UsageError
from driftguard.model import Change, Finding, How, Judged, Origin, Severity, Status, Value
from driftguard.readers import documents
from driftguard.readers.limits import DEFAULT, Limits
from driftguard.report import ApprovalRef, ArtifactRef, BaseComparison, ModelResult, Report, RunBinding

#: The key of the report a failed run leaves at its outputs (``reporters.failed.ERROR_KEY``).
FAILED_KEY = "driftguard_error"


def _schema() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(files("driftguard").joinpath("schemas", "report.json").read_text("utf-8"))
    return data


def _origin(d: dict[str, Any]) -> Origin:
    return Origin(d["path"], d.get("line"), d.get("pointer"), d.get("source"))


def _value(d: dict[str, Any], side: str) -> Value | None:
    origin = d.get(f"{side}_origin")
    if origin is None:
        return None
    explicit = d.get(f"{side}_explicit")
    # The JSON's ``<side>_how`` is not read back: a merged report states how as explicit or default, as it
    # always has (the notes and derivations it would need are not in the JSON either).
    return Value(d.get(side), _origin(origin), How.EXPLICIT if explicit is None or explicit else How.DEFAULT)


def finding_from_dict(d: dict[str, Any]) -> Judged:
    """A judged finding from its ``to_dict`` form (the notes of its values and its evidence are not read back)."""
    related = tuple(Value(r["value"], _origin(r["origin"]), How.EXPLICIT if r["explicit"] else How.DEFAULT)
                    for r in d.get("related", ()))
    seen = Finding(rule=d["rule"], name=d["name"], key=d["key"], message=d["message"],
                   severity=Severity(d["severity"]), training=_value(d, "training"), deployed=_value(d, "deployed"),
                   related=related, delta=d.get("delta"), model=d.get("model"))
    return Judged(seen, Status(d["status"]), d.get("approval"), d.get("fingerprint"),
                  None if d.get("change") is None else Change(d["change"]))


def report_from_dict(data: dict[str, Any], strict: bool | None = None) -> Report:
    """A Report from ``Report.to_dict()`` output (already validated)."""
    strict = data["strict"] if strict is None else strict
    models = tuple(ModelResult(
        name=m["name"], findings=tuple(finding_from_dict(f) for f in m["findings"]),
        training=tuple(ArtifactRef(a["kind"], a["path"]) for a in m["training"]),
        deployment=tuple(ArtifactRef(a["kind"], a["path"]) for a in m["deployment"]), strict=strict,
    ) for m in data["models"])
    approvals = tuple(ApprovalRef(id=a["id"], path=a["path"], line=a["line"], model=a["model"], key=a["key"],
                                  expires=a["expires"], days=a["days_left"], state=a["state"],
                                  expiring=a["expiring"], reason=a["reason"], note=a.get("note"),
                                  added_in=a.get("added_in"), added_by=a.get("added_by"), added_on=a.get("added_on"))
                      for a in data["approvals"])
    base = None
    if "base" in data:
        b = data["base"]
        base = BaseComparison(b["ref"], b["commit"], tuple(finding_from_dict(f) for f in b["resolved"]),
                              b["unchanged_models"])
    shard = None
    if "shard" in data:
        i, n = data["shard"].split("/")
        shard = (int(i), int(n))
    return Report(models, approvals, manifest=data["manifest"], today=data["today"], strict=strict,
                  fail_on_stale=bool(data.get("fail_on_stale", False)), base=base, shard=shard,
                  run=binding_of(data))


def binding_of(data: dict[str, Any]) -> RunBinding | None:
    """The ``run`` binding of a report dict, or None for a report written before reports carried one."""
    run = data.get("run")
    if run is None:
        return None
    return RunBinding(run["commit"], run["manifest_sha256"], tuple(run["models"]))


def load(path: str | Path, limits: Limits = DEFAULT) -> dict[str, Any]:
    """A JSON report file read within ``limits`` and validated against the published schema; UsageError
    naming the file otherwise (a LimitError past a limit), and for a failed run's report."""
    import jsonschema

    try:
        data, _ = documents.load_json(path, limits)  # through the readers: regular, bounded (deep JSON too)
    except LimitError:
        raise
    except DriftguardError as exc:
        raise UsageError(f"not a JSON report: {exc.message}", exc.path, exc.line, exc.column) from None
    if isinstance(data, dict) and isinstance(data.get(FAILED_KEY), dict):
        failed = data[FAILED_KEY]
        raise UsageError(f"the run that wrote this report failed (exit {failed.get('exit_code')}): "
                         f"{str(failed.get('message'))[:500]}", str(path))
    error = jsonschema.exceptions.best_match(
        jsonschema.Draft202012Validator(_schema()).iter_errors(data))
    if error is not None:
        where = "/".join(str(p) for p in error.absolute_path) or "(top)"
        raise UsageError(f"not a driftguard check report ({where}: {error.message[:200]})", str(path))
    result: dict[str, Any] = data
    return result


def merge(reports: list[tuple[str, dict[str, Any]]], commit: str | None = None) -> Report:
    """One Report from ``[(path, report dict)]``: a single report of a whole run as it is, or the complete set
    of shards of one run merged (models by name, approvals by id). ``commit``: every report must be bound to it.
    UsageError naming the report otherwise."""
    if not reports:
        raise UsageError("no report given")
    if commit is not None:
        for path, data in reports:
            made_on = (data.get("run") or {}).get("commit")
            if made_on != commit:
                raise UsageError(f"made on commit {made_on or '(none recorded)'}, not {commit}: not this run's "
                                 "report", path)
    if len(reports) == 1 and "shard" not in reports[0][1]:
        path, data = reports[0]
        _check_models(path, data, None)
        return report_from_dict(data)
    first_path, first = reports[0]
    seen, count = _shards(reports)
    missing = [f"{i}/{count}" for i in range(1, count + 1) if i not in seen]
    if missing:
        raise UsageError(f"shards missing: {', '.join(missing)}; a merged report needs every shard of the run")
    for path, data in reports:
        if data.get("run") is None:
            raise UsageError("this report does not say which run made it (no run binding: written by an older "
                             "driftguard?); re-run the shards", path)
        if data["run"] != first["run"]:
            raise UsageError(f"not the same run as {first_path} (commit, manifest or models differ)", path)
        _check_models(path, data, (int(data["shard"].split("/")[0]), count))
    parts = [report_from_dict(d) for _, d in reports]
    models = sorted((m for p in parts for m in p.models), key=lambda m: m.name)
    approvals = sorted({a.id: a for p in parts for a in p.approvals}.values(), key=lambda a: a.id)
    bases = [p.base for p in parts]
    base = None
    if all(b is not None for b in bases) and len({(b.ref, b.commit) for b in bases if b is not None}) == 1:
        first_base = bases[0]
        assert first_base is not None
        base = BaseComparison(first_base.ref, first_base.commit,
                              tuple(f for b in bases if b is not None for f in b.resolved),
                              sum(b.unchanged for b in bases if b is not None))
    return Report(tuple(models), tuple(approvals), manifest=first["manifest"], today=first["today"],
                  strict=first["strict"], fail_on_stale=any(p.fail_on_stale for p in parts), base=base,
                  run=parts[0].run)


def _shards(reports: list[tuple[str, dict[str, Any]]]) -> tuple[dict[int, str], int]:
    """``({shard index: path}, N)`` of a set of shard reports; UsageError for a whole report among them, a
    different day, ``--strict`` or N, or a shard given twice."""
    first_path, first = reports[0]
    run = (first["manifest"], first["today"], first["strict"])
    seen: dict[int, str] = {}
    count = None
    for path, data in reports:
        if "shard" not in data:
            raise UsageError("only the reports of check --shard I/N can be merged; this one covers every model",
                             path)
        if (data["manifest"], data["today"], data["strict"]) != run:
            raise UsageError(f"not the same run as {first_path} (manifest, day or --strict differ)", path)
        i, n = (int(x) for x in data["shard"].split("/"))
        if count is not None and n != count:
            raise UsageError(f"shard {i}/{n} does not split like {first_path} ({count} shards)", path)
        if not 1 <= i <= n:
            raise UsageError(f"shard {i}/{n} is not a shard of {n}", path)
        count = n
        if i in seen:
            raise UsageError(f"shard {i}/{n} given twice (also {seen[i]})", path)
        seen[i] = path
    assert count is not None
    return seen, count


def _check_models(path: str, data: dict[str, Any], shard: tuple[int, int] | None) -> None:
    """A report holds exactly its share of the models its run chose (all of them unsharded, ``shard``'s
    otherwise), less the ones ``--changed-only`` left out and counted; UsageError otherwise."""
    binding = binding_of(data)
    if binding is None:
        return  # a whole report from before bindings: nothing to compare it with
    share = set(binding.models if shard is None else select(binding.models, shard))
    have = [m["name"] for m in data["models"]]
    foreign = sorted(set(have) - share)
    if foreign or len(have) != len(set(have)):
        raise UsageError(f"holds models its run did not give it ({', '.join(foreign[:5]) or 'a model twice'})",
                         path)
    left_out = len(share) - len(have)
    unchanged = data["base"]["unchanged_models"] if "base" in data else 0
    if left_out != unchanged:
        missing = sorted(share - set(have))
        raise UsageError(f"lacks models of its run: {', '.join(missing[:5])}"
                         f"{f' and {len(missing) - 5} more' if len(missing) > 5 else ''}", path)


def join(parts: list[Report], names: list[str], shard: tuple[int, int] | None = None) -> Report:
    """The reports of one check's models split across processes, as one report: models in ``names`` order,
    approvals (each model's are judged where the model is) by id."""
    first = parts[0]
    by_name = {m.name: m for p in parts for m in p.models}
    approvals = sorted({a.id: a for p in parts for a in p.approvals}.values(), key=lambda a: a.id)
    return replace(first, models=tuple(by_name[n] for n in names), approvals=tuple(approvals), shard=shard)
