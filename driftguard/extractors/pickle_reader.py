"""Read torch checkpoints as metadata, never executing them.

A ``torch.save`` file is a zip archive holding ``<name>/data.pkl`` (the object tree as a pickle) and one
``<name>/data/<key>`` entry per tensor storage. We read only ``data.pkl`` with :class:`SafeUnpickler`, a
``pickle.Unpickler`` whose ``find_class`` resolves an explicit allowlist of names to *our own* stand-ins:

* torch's tensor rebuild functions become functions returning a :class:`TensorRecord` (shape, dtype, numel),
  and ``persistent_load`` returns a :class:`StorageRecord` (dtype from the storage type); storage bytes are
  never read, torch is never imported;
* ``collections.OrderedDict``, ``torch.Size``, ``torch.device`` and dtype globals become plain values;
* a few record classes (``argparse.Namespace``, ``transformers.TrainingArguments``, its enums, Lightning's
  ``AttributeDict``...) become :class:`RecordedObject` instances that only collect their state.

Anything else raises :class:`~driftguard.errors.RefusedError` naming ``module.qualname``. torch's own
``weights_only`` unpickler (``torch/_weights_only_unpickler.py``) is the reference for what is safe: nothing on
this allowlist can call code of the artifact's choosing, and REDUCE/NEWOBJ can only reach callables that
``find_class`` returned, all of which are defined here.
"""

from __future__ import annotations

import _compat_pickle
import io
import math
import os
import pickle
import posixpath
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from driftguard.errors import ExtractionError, MissingExtraError, RefusedError
from driftguard.extractors.base import ValueBuilder
from driftguard.normalize import normalize_dtype

#: The first bytes of a legacy (pre-1.6, non-zip) torch file: pickle protocol 2 of torch's magic number.
LEGACY_MAGIC = b"\x80\x02\x8a\nl\xfc\x9cF\xf9 j\xa8P\x19."
ZIP_MAGIC = b"PK\x03\x04"
#: data.pkl holds only the object tree; one larger than this is not a checkpoint we should unpack in memory.
MAX_PICKLE_BYTES = 512 * 1024 * 1024

FLOAT_DTYPES = frozenset({
    "float16", "bfloat16", "float32", "float64", "float8_e4m3fn", "float8_e4m3fnuz", "float8_e5m2",
    "float8_e5m2fnuz", "float8_e8m0fnu", "float4_e2m1fn",
})


@dataclass(frozen=True, slots=True)
class StorageRecord:
    """A tensor storage as the archive names it; its bytes stay unread."""

    dtype: str
    key: str
    location: str
    numel: int


@dataclass(frozen=True, slots=True)
class TensorRecord:
    """A tensor's shape, element type and element count, without its data."""

    shape: tuple[int, ...]
    dtype: str
    numel: int


class RecordedObject:
    """An instance of an allowlisted record class: collects constructor arguments and pickled state only.

    Subclasses are made per allowlisted name (``recorded_name``); no method of the original class runs.
    """

    recorded_name = "object"
    __slots__ = ("args", "state")
    args: tuple[Any, ...]
    state: Any

    def __new__(cls, *args: Any) -> RecordedObject:
        # NEWOBJ calls __new__ without __init__, REDUCE calls both: set the fields here.
        self = super().__new__(cls)
        self.args = args
        self.state = None
        return self

    def __setstate__(self, state: Any) -> None:
        self.state = state

    def fields(self) -> dict[str, Any]:
        """The object's fields: its pickled ``__dict__`` (slot state merged), else its constructor arguments."""
        state = self.state
        if isinstance(state, tuple) and len(state) == 2 and isinstance(state[1], dict):
            merged = dict(state[0] or {})
            merged.update(state[1])
            state = merged
        if isinstance(state, dict):
            return {str(k): v for k, v in state.items()}
        return {}


class RecordedDict(dict[Any, Any]):
    """A dict subclass record (OrderedDict, Lightning AttributeDict): items via SETITEMS, attributes ignored."""

    def __setstate__(self, state: Any) -> None:
        # OrderedDict state dicts carry `_metadata` (per-module versions); attributes are not configuration.
        return None


class _Marker:
    """A named placeholder for an allowlisted global that is only ever passed as an argument."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"<{self.name}>"


class _StorageType(_Marker):
    __slots__ = ("dtype",)

    def __init__(self, name: str, dtype: str) -> None:
        super().__init__(name)
        self.dtype = dtype


class TorchDtype(str):
    """A ``torch.<dtype>`` global, as its canonical name (``torch.bfloat16`` -> ``bfloat16``)."""

    __slots__ = ()


# --- tensor rebuild stand-ins ---------------------------------------------------------------------------

def _shape(size: Any) -> tuple[int, ...]:
    if not isinstance(size, (tuple, list)) or not all(isinstance(d, int) and not isinstance(d, bool)
                                                      for d in size):
        raise pickle.UnpicklingError(f"tensor size must be a tuple of ints, got {type(size).__name__}")
    return tuple(size)


def _record(size: Any, dtype: str) -> TensorRecord:
    shape = _shape(size)
    return TensorRecord(shape, dtype, math.prod(shape))


def _storage(storage: Any) -> StorageRecord:
    if not isinstance(storage, StorageRecord):
        raise pickle.UnpicklingError("tensor storage is not a storage record")
    return storage


def _rebuild_tensor(storage: Any, storage_offset: Any, size: Any, stride: Any, *rest: Any) -> TensorRecord:
    return _record(size, _storage(storage).dtype)


def _rebuild_tensor_v3(storage: Any, storage_offset: Any, size: Any, stride: Any, requires_grad: Any,
                       backward_hooks: Any, dtype: Any, *rest: Any) -> TensorRecord:
    _storage(storage)
    return _record(size, str(dtype))


def _rebuild_qtensor(storage: Any, storage_offset: Any, size: Any, *rest: Any) -> TensorRecord:
    return _record(size, _storage(storage).dtype)


def _rebuild_meta_tensor_no_storage(dtype: Any, size: Any, *rest: Any) -> TensorRecord:
    return _record(size, str(dtype))


def _rebuild_parameter(data: Any, *rest: Any) -> Any:
    if not isinstance(data, TensorRecord):
        raise pickle.UnpicklingError("parameter data is not a tensor")
    return data


def _rebuild_from_type_v2(func: Any, new_type: Any, args: Any, state: Any) -> Any:
    # Tensor subclasses and tensors with Python attributes: only our own rebuild functions may be named.
    if func not in _REBUILD_FUNCTIONS.values() or not isinstance(args, tuple):
        raise pickle.UnpicklingError("_rebuild_from_type_v2 names a function that is not a tensor rebuild")
    return func(*args)


def _get_layout(name: Any) -> str:
    return str(name)


def _size(dims: Any = ()) -> tuple[int, ...]:
    return _shape(tuple(dims))


def _device(*args: Any) -> str:
    return ":".join(str(a) for a in args)


def _encode(text: Any, encoding: Any = "utf-8") -> bytes:
    # Protocol 2 spells bytes as _codecs.encode(str, 'latin1'); allow only that, as torch does.
    if not isinstance(text, str) or encoding not in ("latin1", "latin-1", "utf-8", "utf8"):
        raise pickle.UnpicklingError("_codecs.encode used for something other than bytes")
    return text.encode(encoding)


def _bytearray(data: Any = b"") -> bytearray:
    # Only from bytes-like data: bytearray(n) would allocate n bytes of the artifact's choosing.
    if not isinstance(data, (bytes, bytearray, str, list)):
        raise pickle.UnpicklingError("bytearray from something other than bytes")
    return bytearray(data, "latin1") if isinstance(data, str) else bytearray(data)


def _reconstructor(cls: Any, base: Any, state: Any) -> Any:
    # copyreg._reconstructor (protocols 0 and 1): object.__new__(cls), dict.__new__(cls)... for our classes only.
    if isinstance(cls, type) and issubclass(cls, (RecordedObject, RecordedDict)):
        return cls()
    raise pickle.UnpicklingError("copyreg._reconstructor for a class that is not allowlisted")


def _newobj(cls: Any, *args: Any) -> Any:
    if isinstance(cls, type) and issubclass(cls, (RecordedObject, RecordedDict)):
        return cls()
    raise pickle.UnpicklingError("copyreg.__newobj__ for a class that is not allowlisted")


_REBUILD_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "torch._utils._rebuild_tensor": _rebuild_tensor,
    "torch._utils._rebuild_tensor_v2": _rebuild_tensor,
    "torch._utils._rebuild_tensor_v3": _rebuild_tensor_v3,
    "torch._utils._rebuild_qtensor": _rebuild_qtensor,
    "torch._utils._rebuild_meta_tensor_no_storage": _rebuild_meta_tensor_no_storage,
    "torch._utils._rebuild_parameter": _rebuild_parameter,
    "torch._utils._rebuild_parameter_with_state": _rebuild_parameter,
}

#: Legacy storage class names -> element type (torch/storage.py ``_dtype_to_storage_type_map``).
_STORAGE_DTYPES: dict[str, str] = {
    "DoubleStorage": "float64", "FloatStorage": "float32", "HalfStorage": "float16", "LongStorage": "int64",
    "IntStorage": "int32", "ShortStorage": "int16", "CharStorage": "int8", "ByteStorage": "uint8",
    "BoolStorage": "bool", "BFloat16Storage": "bfloat16", "ComplexDoubleStorage": "complex128",
    "ComplexFloatStorage": "complex64", "QInt8Storage": "qint8", "QUInt8Storage": "quint8",
    "QInt32Storage": "qint32", "QUInt4x2Storage": "quint4x2", "QUInt2x4Storage": "quint2x4",
    "UntypedStorage": "uint8", "TypedStorage": "uint8",
}

_TORCH_DTYPE_NAMES = (
    "float32", "float", "float64", "double", "float16", "half", "bfloat16", "complex32", "complex64",
    "complex128", "cfloat", "cdouble", "chalf", "uint8", "uint16", "uint32", "uint64", "int8", "int16", "int32",
    "int64", "short", "int", "long", "bool", "qint8", "quint8", "qint32", "quint4x2", "quint2x4",
    "float8_e4m3fn", "float8_e4m3fnuz", "float8_e5m2", "float8_e5m2fnuz", "float8_e8m0fnu", "float4_e2m1fn_x2",
    "bits8", "bits16", "bits1x8", "bits2x4", "bits4x2",
    *(f"uint{x}" for x in range(1, 8)), *(f"int{x}" for x in range(1, 8)),
)

#: Record classes whose instances become RecordedObject (fields only). Enums are recorded by value.
_RECORD_CLASSES = (
    "argparse.Namespace",
    "transformers.training_args.TrainingArguments",
    "transformers.training_args_seq2seq.Seq2SeqTrainingArguments",
    "trl.trainer.sft_config.SFTConfig",
    "transformers.training_args.OptimizerNames",
    "transformers.trainer_utils.IntervalStrategy",
    "transformers.trainer_utils.SaveStrategy",
    "transformers.trainer_utils.EvaluationStrategy",
    "transformers.trainer_utils.HubStrategy",
    "transformers.trainer_utils.SchedulerType",
    "transformers.trainer_utils.FSDPOption",
    "transformers.debug_utils.DebugOption",
    "transformers.trainer_pt_utils.AcceleratorConfig",
    "transformers.generation.configuration_utils.GenerationConfig",
    "transformers.utils.generic.ExplicitEnum",
    "accelerate.utils.dataclasses.DistributedType",
    "pathlib.Path", "pathlib.PosixPath", "pathlib.WindowsPath", "pathlib.PurePosixPath", "pathlib.PureWindowsPath",
)
_DICT_CLASSES = (
    "collections.OrderedDict",
    "lightning.fabric.utilities.data.AttributeDict",
    "lightning_fabric.utilities.data.AttributeDict",
    "pytorch_lightning.utilities.parsing.AttributeDict",
    "lightning.pytorch.utilities.parsing.AttributeDict",
)


@lru_cache(maxsize=1)
def allowed_globals() -> dict[str, Any]:
    """``module.qualname`` -> our stand-in, for every global a checkpoint may name."""
    rc: dict[str, Any] = dict(_REBUILD_FUNCTIONS)
    rc["torch._tensor._rebuild_from_type_v2"] = _rebuild_from_type_v2
    rc["torch.Size"] = _size
    rc["torch.device"] = _device
    rc["torch.serialization._get_layout"] = _get_layout
    rc["torch.Tensor"] = _Marker("torch.Tensor")
    rc["torch.nn.parameter.Parameter"] = _Marker("torch.nn.parameter.Parameter")
    rc["_codecs.encode"] = _encode
    rc["builtins.set"] = set
    rc["builtins.frozenset"] = frozenset
    rc["builtins.complex"] = complex
    rc["builtins.bytearray"] = _bytearray
    rc["builtins.object"] = _Marker("object")
    rc["builtins.dict"] = _Marker("dict")
    rc["copyreg._reconstructor"] = _reconstructor
    rc["copyreg.__newobj__"] = _newobj
    for name, dtype in _STORAGE_DTYPES.items():
        module = "torch.storage" if name in ("UntypedStorage", "TypedStorage") else "torch"
        rc[f"{module}.{name}"] = _StorageType(name, dtype)
    for name in _TORCH_DTYPE_NAMES:
        rc[f"torch.{name}"] = TorchDtype(normalize_dtype(f"torch.{name}") or name)
    for full in _RECORD_CLASSES:
        rc[full] = type(full.rsplit(".", 1)[1], (RecordedObject,), {"recorded_name": full, "__slots__": ()})
    for full in _DICT_CLASSES:
        rc[full] = type(full.rsplit(".", 1)[1], (RecordedDict,), {"recorded_name": full})
    return rc


class SafeUnpickler(pickle.Unpickler):
    """Unpickles ``data.pkl`` into plain values and records; refuses every global outside the allowlist."""

    def __init__(self, file: io.BufferedIOBase, path: str) -> None:
        super().__init__(file, encoding="utf-8")
        self._path = path

    def find_class(self, module: str, name: str) -> Any:
        # Protocol 2 pickles spell Python 3 names the Python 2 way (__builtin__.eval); map them back, as torch
        # does, so the name we report is the one a reader recognises.
        if (module, name) in _compat_pickle.NAME_MAPPING:
            module, name = _compat_pickle.NAME_MAPPING[(module, name)]
        elif module in _compat_pickle.IMPORT_MAPPING:
            module = _compat_pickle.IMPORT_MAPPING[module]
        full = f"{module}.{name}"
        found = allowed_globals().get(full)
        if found is None:
            raise RefusedError(
                f"refused pickle global '{full}': not on the allowlist of safe constructors (nothing was executed)",
                full, self._path,
            )
        return found

    def persistent_load(self, pid: Any) -> Any:
        if not (isinstance(pid, tuple) and len(pid) == 5 and pid[0] == "storage"
                and isinstance(pid[1], _StorageType)):
            raise pickle.UnpicklingError(f"unsupported persistent id {type(pid).__name__}")
        _, storage_type, key, location, numel = pid
        return StorageRecord(storage_type.dtype, str(key), str(location), numel if isinstance(numel, int) else 0)


def loads(data: bytes, path: str) -> Any:
    """Unpickle ``data`` with :class:`SafeUnpickler`; corrupt data raises ExtractionError, globals outside the
    allowlist RefusedError."""
    try:
        return SafeUnpickler(io.BytesIO(data), path).load()
    except RefusedError:
        raise
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, KeyError, IndexError,
            UnicodeDecodeError, OverflowError, RecursionError, MemoryError) as exc:
        raise ExtractionError(f"corrupt checkpoint pickle: {type(exc).__name__}: {exc}", path) from None


def is_zip(head: bytes) -> bool:
    return head.startswith(ZIP_MAGIC)


def is_legacy(head: bytes) -> bool:
    return head.startswith(LEGACY_MAGIC)


def read_data_pkl(path: Path) -> bytes:
    """The bytes of ``<archive>/data.pkl``; ExtractionError for a corrupt, truncated or foreign zip."""
    try:
        with zipfile.ZipFile(path) as zf:
            names = [n for n in zf.namelist() if n == "data.pkl" or n.endswith("/data.pkl")]
            names = [n for n in names if n.count("/") <= 1]
            if not names:
                raise ExtractionError("zip archive has no data.pkl: not a torch.save checkpoint", str(path))
            info = zf.getinfo(sorted(names, key=len)[0])
            if info.file_size > MAX_PICKLE_BYTES:
                raise ExtractionError(f"data.pkl is {info.file_size} bytes, more than the "
                                      f"{MAX_PICKLE_BYTES}-byte limit for checkpoint metadata", str(path))
            return zf.read(info)
    except ExtractionError:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError, NotImplementedError) as exc:
        raise ExtractionError(f"corrupt or truncated checkpoint archive: {exc}", str(path)) from None
    except IsADirectoryError:
        raise ExtractionError("is a folder, expected a checkpoint file", str(path)) from None
    except OSError as exc:
        raise ExtractionError(f"cannot read: {exc.strerror or exc}", str(path)) from None


def _read_head(path: Path) -> bytes:
    try:
        with path.open("rb") as fh:
            return fh.read(len(LEGACY_MAGIC))
    except IsADirectoryError:
        raise ExtractionError("is a folder, expected a checkpoint file", str(path)) from None
    except OSError as exc:
        raise ExtractionError(f"cannot read: {exc.strerror or exc}", str(path)) from None


def load_checkpoint(path: Path) -> Any:
    """The checkpoint's object tree with tensors as TensorRecords. Zip files are read without torch; legacy
    (non-zip) files need torch and are loaded with ``weights_only=True``."""
    st = _stat(path)
    return _load_cached(str(path), st[0], st[1])


def _stat(path: Path) -> tuple[int, int]:
    try:
        st = os.stat(path)
    except OSError as exc:
        raise ExtractionError(f"cannot read: {exc.strerror or exc}", str(path)) from None
    return st.st_mtime_ns, st.st_size


@lru_cache(maxsize=4)
def _load_cached(path: str, mtime_ns: int, size: int) -> Any:
    # Detection and extraction read the same file back to back; the cache keeps that to one parse.
    p = Path(path)
    head = _read_head(p)
    if is_zip(head):
        return loads(read_data_pkl(p), path)
    if is_legacy(head):
        return _load_legacy(p)
    if not head:
        raise ExtractionError("empty file: not a torch checkpoint", path)
    raise ExtractionError("not a torch checkpoint (neither a torch.save zip archive nor a legacy torch file)",
                          path)


def _load_legacy(path: Path) -> Any:
    """Legacy files carry storages inline, so there is no metadata-only path: torch's own weights_only
    unpickler reads them (mmap needs the zip format, so it cannot be used here)."""
    try:
        import torch
    except ImportError:
        raise MissingExtraError("legacy torch checkpoints", "torch", "torch", str(path)) from None
    try:
        obj = torch.load(str(path), weights_only=True, map_location="cpu")
    except pickle.UnpicklingError as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise RefusedError(f"refused by torch's weights_only unpickler: {first}", first, str(path)) from None
    except (RuntimeError, EOFError, ValueError, OSError) as exc:
        raise ExtractionError(f"cannot read legacy torch checkpoint: {exc}", str(path)) from None
    return _from_torch(obj, torch)


def _from_torch(obj: Any, torch: Any) -> Any:
    if isinstance(obj, torch.Tensor):
        dtype = normalize_dtype(str(obj.dtype)) or str(obj.dtype).removeprefix("torch.")
        return TensorRecord(tuple(obj.shape), dtype, obj.numel())
    if isinstance(obj, dict):
        return {k: _from_torch(v, torch) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(_from_torch(v, torch) for v in obj)
    if isinstance(obj, torch.dtype):
        return TorchDtype(normalize_dtype(str(obj)) or str(obj).removeprefix("torch."))
    if isinstance(obj, torch.device):
        return str(obj)
    return obj


# --- walking the result ---------------------------------------------------------------------------------

def iter_tensors(obj: Any, prefix: str = "", depth: int = 0) -> Iterator[tuple[str, TensorRecord]]:
    """Every TensorRecord under ``obj`` with its dotted path (64 levels deep at most: no checkpoint nests
    tensors deeper, and a crafted pickle must not exhaust the stack)."""
    if depth > 64:
        return
    if isinstance(obj, TensorRecord):
        yield prefix, obj
    elif isinstance(obj, dict):
        for k, v in obj.items():
            yield from iter_tensors(v, f"{prefix}.{k}" if prefix else str(k), depth + 1)
    elif isinstance(obj, (list, tuple)):
        for i, v in enumerate(obj):
            yield from iter_tensors(v, f"{prefix}.{i}" if prefix else str(i), depth + 1)


def is_state_dict(obj: Any) -> bool:
    """A non-empty mapping of names to tensors."""
    return isinstance(obj, dict) and bool(obj) and all(isinstance(v, TensorRecord) for v in obj.values())


def to_plain(obj: Any, depth: int = 0) -> Any:
    """The object as JSON-like data: records become dicts (or their value), tensors a short description."""
    if depth > 64:
        return "<nested too deeply>"
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
    if isinstance(obj, _Marker):
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
    TrainingArguments), ``torch`` (anything else that loads) or None (not a zip, refused or corrupt). Legacy
    files are not peeked: that would need torch and a full load."""
    if not is_zip(head):
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
