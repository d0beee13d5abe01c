"""Checkpoint object trees as canonical keys: the record-to-key helpers the torch, lightning, training-args
and safetensors kinds share.

Reading is :mod:`driftguard.readers.torch_archive` and :mod:`driftguard.readers.pickle` (the safe unpickler,
the torch archive rules, the limits); this module re-exports what extractors use from them and maps the records
(tensors as shape/dtype records, hyperparameter trees) onto canonical keys.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from driftguard.errors import ExtractionError, MissingExtraError
from driftguard.extractors.base import ValueBuilder
from driftguard.normalize import FLOAT_DTYPES, normalize_dtype
from driftguard.readers.limits import DEFAULT, Limits
from driftguard.readers.pickle import (
    ALLOWED,
    Marker,
    RecordedDict,
    RecordedObject,
    SafeUnpickler,
    StorageRecord,
    TensorRecord,
    TorchDtype,
    allowed_globals,
    iter_tensors,
    loads,
)
from driftguard.readers.torch_archive import LEGACY_MAGIC, ZIP_MAGIC, is_legacy, is_zip, read_data_pkl
from driftguard.readers.torch_archive import load_checkpoint as _load_checkpoint

__all__ = ["ALLOWED", "FLOAT_DTYPES", "LEGACY_MAGIC", "ZIP_MAGIC", "RecordedDict", "RecordedObject",
           "SafeUnpickler", "StorageRecord", "TensorRecord", "TorchDtype", "allowed_globals", "is_legacy",
           "is_zip", "iter_tensors", "load_checkpoint", "loads", "read_data_pkl"]


def load_checkpoint(path: Path, limits: Limits = DEFAULT) -> Any:
    """The checkpoint's object tree with tensors as TensorRecords (zip or legacy, never torch)."""
    return _load_checkpoint(path, limits)


# --- walking the result ---------------------------------------------------------------------------------

def is_state_dict(obj: Any) -> bool:
    """A non-empty mapping of names to tensors."""
    return isinstance(obj, dict) and bool(obj) and all(isinstance(v, TensorRecord) for v in obj.values())


def to_plain(obj: Any, depth: int = 0) -> Any:
    """The object as JSON-like data: records become dicts (or their value), tensors a short description.

    The tree was measured by ``readers.pickle.check_tree`` (no cycle, bounded depth and size), so this
    recursion is bounded."""
    if isinstance(obj, TorchDtype):
        return str(obj)
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    if isinstance(obj, TensorRecord):
        return f"tensor({obj.dtype}, {list(obj.shape)})"
    if isinstance(obj, RecordedObject):
        name = type(obj).recorded_name
        if name.startswith("pathlib."):
            return posixpath.join(*[str(a) for a in obj.args]) if obj.args else "."
        fields = obj.fields()
        if fields:
            return {k: to_plain(v, depth + 1) for k, v in fields.items()}
        if len(obj.args) == 1:  # an enum member, recorded by value
            return to_plain(obj.args[0], depth + 1)
        return [to_plain(a, depth + 1) for a in obj.args]
    if isinstance(obj, dict):
        return {str(k): to_plain(v, depth + 1) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_plain(v, depth + 1) for v in obj]
    if isinstance(obj, (set, frozenset)):
        return sorted((to_plain(v, depth + 1) for v in obj), key=repr)
    if isinstance(obj, (bytes, bytearray)):
        return f"<{len(obj)} bytes>"
    if isinstance(obj, complex):
        return str(obj)
    if isinstance(obj, StorageRecord):
        return f"storage({obj.dtype}, {obj.numel})"
    if isinstance(obj, Marker):
        return obj.name
    return repr(obj)


# --- from records to canonical keys (shared by the torch, lightning, training-args and safetensors kinds) ---

#: Hyperparameter names with a canonical key. Matched on the last segment of the flattened name; the shallowest
#: match wins, so ``hparams.max_length`` beats ``hparams.datamodule.max_length``.
HPARAM_KEYS: dict[str, str] = {
    "max_length": "preprocessing.max_length",
    "max_seq_length": "preprocessing.max_length",
    "max_source_length": "preprocessing.max_length",
    "max_seq_len": "preprocessing.max_length",
    "num_labels": "model.num_labels",
    "num_classes": "model.num_labels",
    "vocab_size": "model.vocab_size",
    "hidden_size": "model.hidden_size",
    "num_hidden_layers": "model.num_layers",
    "num_attention_heads": "model.num_attention_heads",
    "max_position_embeddings": "model.max_position_embeddings",
    "generation_max_length": "generation.max_length",
    "generation_num_beams": "generation.num_beams",
    "max_new_tokens": "generation.max_new_tokens",
    "num_beams": "generation.num_beams",
    "do_sample": "generation.do_sample",
    "temperature": "generation.temperature",
    "top_p": "generation.top_p",
    "top_k": "generation.top_k",
    "repetition_penalty": "generation.repetition_penalty",
    "no_repeat_ngram_size": "generation.no_repeat_ngram_size",
    "length_penalty": "generation.length_penalty",
}

#: Names whose value is a dtype: a fallback for ``precision.weights`` when the checkpoint holds no float tensors.
DTYPE_HPARAMS = ("dtype", "torch_dtype")


def flatten(obj: Any, prefix: str, pointer: str = "") -> Iterator[tuple[str, str, Any]]:
    """``(dotted key, pointer, plain value)`` for every leaf of a plain mapping; lists and empty dicts are leaves."""
    if isinstance(obj, dict) and obj:
        for k, v in obj.items():
            yield from flatten(v, f"{prefix}.{k}", f"{pointer}/{k}")
    else:
        yield prefix, pointer, obj


def coerce(value: Any, type_name: str) -> Any:
    """``value`` as the key type (int, float, bool, str, dtype); None when it does not fit."""
    from driftguard.normalize import normalize_number, parse_bool

    if type_name == "int":
        value = normalize_number(value)
        return value if isinstance(value, int) and not isinstance(value, bool) else None
    if type_name == "float":
        return normalize_number(float(value)) if isinstance(value, (int, float)) and not isinstance(
            value, bool) else None
    if type_name == "bool":
        return parse_bool(value)
    if type_name == "dtype":
        return normalize_dtype(value) if isinstance(value, (str, int)) and not isinstance(value, bool) else None
    return value if isinstance(value, str) else None


def weights_summary(tensors: list[tuple[str, int, str]]) -> dict[str, Any]:
    """From ``(name, numel, dtype)`` triples: ``count``, ``parameters`` (all elements) and ``precision`` (the
    float dtype holding most elements; None without float tensors) with ``precision_note``."""
    by_dtype: dict[str, int] = {}
    for _, numel, dtype in tensors:
        by_dtype[dtype] = by_dtype.get(dtype, 0) + numel
    floats = {d: n for d, n in by_dtype.items() if d in FLOAT_DTYPES}
    total = sum(n for _, n, _ in tensors)
    out: dict[str, Any] = {"count": len(tensors), "parameters": total, "precision": None, "precision_note": None}
    if floats:
        best = sorted(floats.items(), key=lambda kv: (-kv[1], kv[0]))[0]
        out["precision"] = best[0]
        spread = ", ".join(f"{d}: {n}" for d, n in sorted(floats.items()))
        out["precision_note"] = f"float dtype holding most weight elements ({spread})"
    return out


def add_hparams(vb: ValueBuilder, tree: Any, key_prefix: str, pointer: str,
                table: dict[str, str] | None = None) -> dict[str, tuple[str, Any]]:
    """Record every leaf of ``tree`` under ``key_prefix.*`` and map known names (``table``, default
    :data:`HPARAM_KEYS`) onto canonical keys, shallowest first. Returns the mapped ``{key: (pointer, raw)}``."""
    from driftguard.keys import spec_for
    from driftguard.normalize import normalize_number

    table = HPARAM_KEYS if table is None else table
    mapped: dict[str, tuple[int, str, Any]] = {}
    plain = to_plain(tree)
    if not isinstance(plain, dict) or not plain:
        return {}
    for key, ptr, value in flatten(plain, key_prefix, pointer):
        value = normalize_number(value)
        if key not in vb.values:
            vb.set(key, value, pointer=ptr)
        name = key.rsplit(".", 1)[1]
        canonical = table.get(name)
        spec = spec_for(canonical) if canonical else None
        if canonical is None or spec is None or value is None:
            continue
        fitted = coerce(value, spec.type)
        depth = key.count(".")
        if fitted is not None and (canonical not in mapped or depth < mapped[canonical][0]):
            mapped[canonical] = (depth, ptr, fitted)
    for canonical, (_, ptr, fitted) in mapped.items():
        if canonical not in vb.values:
            vb.set(canonical, fitted, pointer=ptr, note=f"from hyperparameter {ptr.rsplit('/', 1)[1]}")
    return {k: (p, v) for k, (_, p, v) in mapped.items()}


def add_weights(vb: ValueBuilder, tensors: list[tuple[str, TensorRecord]], pointer: str) -> None:
    """``model.weights.count``/``parameters`` and ``precision.weights`` from the tensor records."""
    if not tensors:
        return
    summary = weights_summary([(n, t.numel, t.dtype) for n, t in tensors])
    vb.set("model.weights.count", summary["count"], pointer=pointer, note="tensors in the state dict")
    vb.set("model.weights.parameters", summary["parameters"], pointer=pointer,
           note="elements of every tensor in the state dict (buffers included)")
    if summary["precision"] is not None:
        vb.set("precision.weights", summary["precision"], pointer=pointer, note=summary["precision_note"])


def dtype_fallback(vb: ValueBuilder, tree: Any, pointer: str) -> None:
    """``precision.weights`` from a ``dtype``/``torch_dtype`` hyperparameter when no float tensor said it."""
    if "precision.weights" in vb.values or not isinstance(tree, dict):
        return
    for name in DTYPE_HPARAMS:
        dtype = coerce(to_plain(tree.get(name)), "dtype")
        if dtype is not None:
            vb.set("precision.weights", dtype, pointer=f"{pointer}/{name}",
                   note=f"from hyperparameter {name} (no float tensors recorded)")
            return


TRAINING_ARGS_CLASSES = frozenset({
    "transformers.training_args.TrainingArguments",
    "transformers.training_args_seq2seq.Seq2SeqTrainingArguments",
    "trl.trainer.sft_config.SFTConfig",
})
CHECKPOINT_SUFFIXES = (".pt", ".pth", ".bin", ".ckpt")


def peek_kind(path: Path, head: bytes) -> str | None:
    """What a zip checkpoint holds: ``lightning`` (a Lightning checkpoint dict), ``training-args`` (a pickled
    TrainingArguments), ``torch`` (anything else that loads) or None (not a checkpoint, refused or corrupt)."""
    if not (is_zip(head) or is_legacy(head)):
        return None
    try:
        obj = load_checkpoint(path)
    except (ExtractionError, MissingExtraError):
        return None
    if isinstance(obj, RecordedObject) and type(obj).recorded_name in TRAINING_ARGS_CLASSES:
        return "training-args"
    if isinstance(obj, dict) and ("pytorch-lightning_version" in obj
                                  or ("hyper_parameters" in obj and "state_dict" in obj)):
        return "lightning"
    return "torch"
