"""Golden inputs: load them, hash them, and record the reference's outputs beside them.

A golden set is an ``.npz`` of named arrays (axis 0 is the sample axis; every array has the same number of
samples) or a ``.jsonl`` of records (one JSON object a line: ``text`` or fields, optionally ``label`` or
``reference``). A folder holds several; each is compared on its own. ``digest`` is the SHA-256 of the file's
bytes. Every file is opened through ``readers`` (regular, confined to the checked tree, within ``Limits``):
arrays by ``readers.npz`` (never unpickled, their declared sizes bounded by ``golden_bytes`` before numpy inflates
one), records by the bounded JSON reader, a folder artifact walked within ``folder_files``.

``record`` stores the reference outputs as ``<stem>.<model>.reference.npz`` beside the inputs (readable with
``numpy.load``), one per model of the manifest: the FP32, INT8 and FP16 variants that share one golden set each
have their own reference, and recording one never makes another's stale. It holds a ``__driftguard__`` entry
with, as JSON, the model's name, the hashes of the inputs, of the reference artifact and of the effective config
it ran under, and of the outputs themselves. ``load_recording`` refuses a
recording whose hashes no longer match (re-record), and one whose outputs are not the ones recorded (an edited
array would otherwise turn a failing parity into a pass). The digest is in the file: whoever can rewrite the
file can rewrite it, so where the change is not trusted (a pull request), ``load_recording`` is given which
recordings the trusted revision holds, and a recording the change added or edited is not used: the reference
runs instead.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from driftguard.errors import DriftguardError, LimitError
from driftguard.parity.errors import ParityError
from driftguard.readers import documents, files, npz
from driftguard.readers.limits import DEFAULT, Limits

META = "__driftguard__"
RECORDING_SUFFIX = ".reference.npz"
RECORDING_VERSION = 2
#: Characters a model's name keeps in a recording's file name; a name with others is spelled with ``_`` for each
#: and a digest of the name, so two names never share a file.
_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_")

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

    def recording(self, model: str) -> Path:
        """Where ``golden record`` stores ``model``'s reference outputs for this set:
        ``<stem>.<model>.reference.npz`` beside it."""
        return self.path.with_name(f"{self._stem}.{file_part(model)}{RECORDING_SUFFIX}")

    @property
    def unkeyed_recording(self) -> Path:
        """Where driftguard before per-model recordings stored one recording for the set, whichever model made
        it (``<stem>.reference.npz``): never read, only named when found."""
        return self.path.with_name(self._stem + RECORDING_SUFFIX)

    @property
    def _stem(self) -> str:
        return self.path.name.rsplit(".", 1)[0]

    def batch(self, start: int, stop: int) -> Arrays | list[dict[str, Any]]:
        """Samples ``start:stop`` (arrays sliced on axis 0, or a list of records)."""
        if self.records:
            return list(self.records[start:stop])
        return {k: v[start:stop] for k, v in self.arrays.items()}


def file_part(model: str) -> str:
    """``model`` as it appears in a recording's file name: itself when it is letters, digits, ``-`` and ``_``;
    otherwise each other character as ``_`` and the first 8 hex digits of the name's SHA-256 after a ``-``."""
    if model and set(model) <= _NAME_CHARS:
        return model
    spelled = "".join(c if c in _NAME_CHARS else "_" for c in model)
    return f"{spelled}-{hashlib.sha256(model.encode()).hexdigest()[:8]}"


def sha256_file(path: Path, what: str = "file") -> str:
    """SHA-256 of a regular file's bytes (opened through ``readers.files``: confined, never a device)."""
    h = hashlib.sha256()
    with files.open_regular(path, what) as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return "sha256:" + h.hexdigest()


def artifact_digest(path: Path, limits: Limits = DEFAULT) -> str:
    """SHA-256 of a file, or of a folder's files (relative names and contents, sorted; at most
    ``folder_files`` of them, each inside the checked tree)."""
    if not files.exists(path):
        raise ParityError("artifact not found", str(path))
    if not files.is_dir(path):
        return sha256_file(path, "artifact")
    h = hashlib.sha256()
    for p in files.folder_files(path, limits, "artifact"):
        h.update(p.relative_to(path).as_posix().encode() + b"\0" + sha256_file(p, "artifact").encode() + b"\0")
    return "sha256:" + h.hexdigest()


def config_digest(config: Mapping[str, Any]) -> str:
    """SHA-256 of an effective config's values (sorted keys, JSON)."""
    text = json.dumps({k: config[k] for k in sorted(config)}, sort_keys=True, default=str, ensure_ascii=True)
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def load(path: Path, limits: Limits = DEFAULT) -> list[GoldenSet]:
    """The golden sets at ``path`` (a file, or a folder's ``*.npz``/``*.jsonl`` except recordings)."""
    if files.is_dir(path):
        found = [p for p in files.listing(path, limits) if p.suffix in (".npz", ".jsonl")
                 and not p.name.endswith(RECORDING_SUFFIX) and not files.is_dir(p)]
        if not found:
            raise ParityError("no golden inputs (*.npz, *.jsonl) in the folder", str(path))
        return [load_file(p, limits) for p in found]
    return [load_file(path, limits)]


def load_file(path: Path, limits: Limits = DEFAULT) -> GoldenSet:
    """One golden file, read within ``limits`` (``golden_bytes`` for its size and its arrays)."""
    if not files.exists(path) or files.is_dir(path):
        raise ParityError("golden inputs not found", str(path))
    if path.suffix == ".npz":
        return GoldenSet(path, sha256_file(path, "golden file"), arrays=_load_npz(path, limits))
    if path.suffix == ".jsonl":
        return GoldenSet(path, sha256_file(path, "golden file"), records=_load_jsonl(path, limits))
    raise ParityError("golden inputs must be .npz (named arrays) or .jsonl (records)", str(path))


def _load_npz(path: Path, limits: Limits) -> Arrays:
    arrays = npz.read(path, limits, "golden file")
    if not arrays:
        raise ParityError("no arrays in the golden file", str(path))
    counts = {k: (int(a.shape[0]) if a.ndim else None) for k, a in arrays.items()}
    if None in counts.values() or len(set(counts.values())) != 1:
        shown = ", ".join(f"{k}: {c if c is not None else 'scalar'}" for k, c in sorted(counts.items()))
        raise ParityError(f"every golden array needs the same number of samples on axis 0 ({shown})", str(path))
    if META in arrays:
        raise ParityError(f"'{META}' is reserved (this looks like a recording, not inputs)", str(path))
    return arrays


def _load_jsonl(path: Path, limits: Limits) -> tuple[dict[str, Any], ...]:
    data = files.read_bytes(path, limits, limit="golden_bytes", what="golden file")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ParityError(f"not UTF-8 text (byte {exc.start})", str(path), data[: exc.start].count(b"\n") + 1) \
            from None
    out = []
    for i, line in enumerate(text.split("\n"), 1):
        if not line.strip():
            continue
        try:
            rec = documents.loads_json(line, str(path), limits)
        except LimitError as exc:  # too deep, too many values: at the record's line
            exc.line = i
            raise
        except DriftguardError as exc:
            raise ParityError(exc.message, str(path), i) from None
        if not isinstance(rec, dict):
            raise ParityError("each line must be a JSON object (a record)", str(path), i)
        out.append(rec)
    if not out:
        raise ParityError("no records in the golden file", str(path))
    return tuple(out)


def outputs_digest(outputs: Mapping[str, np.ndarray[Any, Any]]) -> str:
    """SHA-256 of named arrays: each name, dtype, shape and bytes (C order), by name."""
    h = hashlib.sha256()
    for name in sorted(outputs):
        array = np.ascontiguousarray(outputs[name])
        h.update(json.dumps([name, array.dtype.str, list(array.shape)]).encode() + b"\0")
        h.update(array.tobytes())
    return "sha256:" + h.hexdigest()


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


def record(golden: GoldenSet, outputs: Mapping[str, np.ndarray[Any, Any]], provenance: Provenance, *,
           model: str) -> Path:
    """Write ``model``'s reference outputs for ``golden`` beside it (``GoldenSet.recording``); returns the file
    written."""
    if META in outputs:
        raise ParityError(f"an output may not be named '{META}'", str(golden.path))
    target = golden.recording(model)
    meta = np.array(json.dumps({**provenance.to_dict(), "model": model, "outputs": outputs_digest(outputs)},
                               sort_keys=True))
    # beside the golden file (confined with it): a stale recording or a symlink named like it is replaced
    with files.create_output(target, tree=target.parent, named=False, what="golden record") as fh:
        arrays: dict[str, Any] = {META: meta, **{k: np.asarray(v) for k, v in outputs.items()}}
        np.savez(fh, **arrays)
    return target


def load_recording(golden: GoldenSet, expected: Callable[[], Provenance], limits: Limits = DEFAULT,
                   trusted: Callable[[Path], bool] | None = None, *, model: str) -> Arrays | None:
    """``model``'s recorded reference outputs for ``golden``, or None when there is none, or when ``trusted``
    (given where the change is not trusted) says the trusted revision does not hold this recording as it is. A
    recording made from other inputs, another artifact or another config, or whose outputs are not the ones
    recorded, is refused (ParityError naming the model: re-record); so is a set that has only a recording of
    before per-model recordings (it cannot say which model's reference it holds). ``expected`` gives the
    provenance it must carry, asked only when a recording exists: it hashes the reference artifact, a read of
    the whole model file."""
    target = golden.recording(model)
    again = f"re-record with `driftguard golden record --model {_quoted(model)}`"
    if not files.exists(target):
        old = golden.unkeyed_recording
        if files.exists(old):
            raise ParityError(f"a recording of before per-model recordings (it does not say which model's "
                              f"reference it holds): for model '{model}', {again}, which writes {target.name}; "
                              f"then delete {old.name}", str(old))
        return None
    if trusted is not None and not trusted(target):
        return None
    try:
        arrays = npz.read(target, limits, "recording")
        meta = documents.loads_json(str(arrays.pop(META)), str(target), limits)
    except (ValueError, KeyError) as exc:
        raise ParityError(f"unreadable recording of model '{model}' ({_short(exc)}); {again}", str(target)) \
            from None
    if not isinstance(meta, dict):
        raise ParityError(f"unreadable recording of model '{model}' (its metadata is not an object); {again}",
                          str(target))
    want = expected().to_dict()
    stale = [name for name in ("inputs", "artifact", "config", "runner") if meta.get(name) != want[name]]
    if meta.get("version") != RECORDING_VERSION:
        stale.insert(0, "version")
    if stale:
        raise ParityError(f"stale recording of model '{model}': the {', '.join(stale)} changed since it was "
                          f"recorded; {again}", str(target))
    if meta.get("outputs") != outputs_digest(arrays):
        raise ParityError(f"the recording's outputs are not the ones recorded for model '{model}' (edited after "
                          f"`driftguard golden record`): refused; {again}", str(target))
    return arrays


def _quoted(model: str) -> str:
    """``model`` as a shell word (quoted when it holds anything but letters, digits, ``-``, ``_`` and ``.``)."""
    import shlex

    return shlex.quote(model)


def _short(exc: BaseException) -> str:
    return str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__


def concat(parts: Sequence[Mapping[str, np.ndarray[Any, Any]]]) -> Arrays:
    """Batched outputs joined on axis 0 (every batch must give the same names)."""
    if not parts:
        return {}
    names = list(parts[0])
    return {n: np.concatenate([np.asarray(p[n]) for p in parts], axis=0) for n in names}
