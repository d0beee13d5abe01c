"""Golden inputs: load them, hash them, and record the reference's outputs beside them.

A golden set is an ``.npz`` of named arrays (axis 0 is the sample axis; every array has the same number of
samples) or a ``.jsonl`` of records (one JSON object a line: ``text`` or fields, optionally ``label`` or
``reference``). A folder holds several; each is compared on its own. ``digest`` is the SHA-256 of the file's
bytes. Arrays are read with ``allow_pickle=False``: an ``.npz`` never runs code.

``record`` stores the reference outputs as ``<stem>.reference.npz`` beside the inputs (readable with
``numpy.load``), with a ``__driftguard__`` entry holding, as JSON, the hashes of the inputs, of the reference
artifact and of the effective config it ran under. ``load_recording`` refuses a recording whose hashes no
longer match (re-record).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from driftguard.parity.errors import ParityError
from driftguard.readers import files

META = "__driftguard__"
RECORDING_SUFFIX = ".reference.npz"
RECORDING_VERSION = 1

Arrays = dict[str, "np.ndarray[Any, Any]"]


@dataclass(frozen=True)
class GoldenSet:
    """One golden file: named arrays (``.npz``) or records (``.jsonl``), with its content hash."""

    path: Path
    digest: str
    arrays: Arrays = field(default_factory=dict)
    records: tuple[dict[str, Any], ...] = ()

    @property
    def count(self) -> int:
        if self.records:
            return len(self.records)
        return int(next(iter(self.arrays.values())).shape[0]) if self.arrays else 0

    @property
    def recording(self) -> Path:
        """Where ``golden record`` stores the reference outputs for this set."""
        return self.path.with_name(self.path.name.rsplit(".", 1)[0] + RECORDING_SUFFIX)

    def batch(self, start: int, stop: int) -> Arrays | list[dict[str, Any]]:
        """Samples ``start:stop`` (arrays sliced on axis 0, or a list of records)."""
        if self.records:
            return list(self.records[start:stop])
        return {k: v[start:stop] for k, v in self.arrays.items()}


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return "sha256:" + h.hexdigest()


def artifact_digest(path: Path) -> str:
    """SHA-256 of a file, or of a folder's files (relative names and contents, sorted)."""
    if path.is_file():
        return sha256_file(path)
    if not path.is_dir():
        raise ParityError("artifact not found", str(path))
    h = hashlib.sha256()
    for p in sorted(q for q in path.rglob("*") if q.is_file()):
        h.update(p.relative_to(path).as_posix().encode() + b"\0" + sha256_file(p).encode() + b"\0")
    return "sha256:" + h.hexdigest()


def config_digest(config: Mapping[str, Any]) -> str:
    """SHA-256 of an effective config's values (sorted keys, JSON)."""
    text = json.dumps({k: config[k] for k in sorted(config)}, sort_keys=True, default=str, ensure_ascii=True)
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def load(path: Path) -> list[GoldenSet]:
    """The golden sets at ``path`` (a file, or a folder's ``*.npz``/``*.jsonl`` except recordings)."""
    if path.is_dir():
        found = sorted(p for p in path.iterdir() if p.is_file() and p.suffix in (".npz", ".jsonl")
                       and not p.name.endswith(RECORDING_SUFFIX))
        if not found:
            raise ParityError("no golden inputs (*.npz, *.jsonl) in the folder", str(path))
        return [load_file(p) for p in found]
    return [load_file(path)]


def load_file(path: Path) -> GoldenSet:
    if not path.is_file():
        raise ParityError("golden inputs not found", str(path))
    if path.suffix == ".npz":
        return GoldenSet(path, sha256_file(path), arrays=_load_npz(path))
    if path.suffix == ".jsonl":
        return GoldenSet(path, sha256_file(path), records=_load_jsonl(path))
    raise ParityError("golden inputs must be .npz (named arrays) or .jsonl (records)", str(path))


def _load_npz(path: Path) -> Arrays:
    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: np.asarray(z[k]) for k in z.files}
    except (OSError, ValueError, EOFError) as exc:  # not a zip, a truncated member, an object array
        raise ParityError(f"cannot read golden arrays: {_short(exc)}", str(path)) from None
    if not arrays:
        raise ParityError("no arrays in the golden file", str(path))
    counts = {k: (int(a.shape[0]) if a.ndim else None) for k, a in arrays.items()}
    if None in counts.values() or len(set(counts.values())) != 1:
        shown = ", ".join(f"{k}: {c if c is not None else 'scalar'}" for k, c in sorted(counts.items()))
        raise ParityError(f"every golden array needs the same number of samples on axis 0 ({shown})", str(path))
    if META in arrays:
        raise ParityError(f"'{META}' is reserved (this looks like a recording, not inputs)", str(path))
    return arrays


def _load_jsonl(path: Path) -> tuple[dict[str, Any], ...]:
    out = []
    with path.open(encoding="utf-8") as fh:
        for i, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ParityError(f"invalid JSON: {exc.msg} (column {exc.colno})", str(path), i) from None
            if not isinstance(rec, dict):
                raise ParityError("each line must be a JSON object (a record)", str(path), i)
            out.append(rec)
    if not out:
        raise ParityError("no records in the golden file", str(path))
    return tuple(out)


@dataclass(frozen=True)
class Provenance:
    """What a recording was made from: hashes of the inputs, the reference artifact and its effective config."""

    inputs: str
    artifact: str
    config: str
    runner: str

    def to_dict(self) -> dict[str, Any]:
        return {"version": RECORDING_VERSION, "inputs": self.inputs, "artifact": self.artifact,
                "config": self.config, "runner": self.runner}


def record(golden: GoldenSet, outputs: Mapping[str, np.ndarray[Any, Any]], provenance: Provenance) -> Path:
    """Write the reference outputs for ``golden`` beside it; returns the file written."""
    if META in outputs:
        raise ParityError(f"an output may not be named '{META}'", str(golden.path))
    target = golden.recording
    meta = np.array(json.dumps(provenance.to_dict(), sort_keys=True))
    # beside the golden file (confined with it): a stale recording or a symlink named like it is replaced
    with files.create_output(target, tree=target.parent, named=False, what="golden record") as fh:
        arrays: dict[str, Any] = {META: meta, **{k: np.asarray(v) for k, v in outputs.items()}}
        np.savez(fh, **arrays)
    return target


def load_recording(golden: GoldenSet, expected: Callable[[], Provenance]) -> Arrays | None:
    """The recorded reference outputs for ``golden``, or None when there is no recording. A recording made
    from other inputs, another artifact or another config is refused (ParityError: re-record). ``expected``
    gives the provenance it must carry, asked only when a recording exists: it hashes the reference artifact,
    a read of the whole model file."""
    target = golden.recording
    if not target.is_file():
        return None
    try:
        with np.load(target, allow_pickle=False) as z:
            arrays = {k: np.asarray(z[k]) for k in z.files}
        meta = json.loads(str(arrays.pop(META)))
    except (OSError, ValueError, KeyError, EOFError) as exc:
        raise ParityError(f"unreadable recording ({_short(exc)}); re-record with `driftguard golden record`",
                          str(target)) from None
    want = expected().to_dict()
    stale = [name for name in ("inputs", "artifact", "config", "runner") if meta.get(name) != want[name]]
    if meta.get("version") != RECORDING_VERSION:
        stale.insert(0, "version")
    if stale:
        raise ParityError(f"stale recording: the {', '.join(stale)} changed since it was recorded; "
                          "re-record with `driftguard golden record`", str(target))
    return arrays


def _short(exc: BaseException) -> str:
    return str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__


def concat(parts: Sequence[Mapping[str, np.ndarray[Any, Any]]]) -> Arrays:
    """Batched outputs joined on axis 0 (every batch must give the same names)."""
    if not parts:
        return {}
    names = list(parts[0])
    return {n: np.concatenate([np.asarray(p[n]) for p in parts], axis=0) for n in names}
