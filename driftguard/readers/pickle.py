"""The safe unpickler: a checkpoint's object tree as plain values and records, never executed, always bounded.

:class:`SafeUnpickler` is the pure-Python ``pickle._Unpickler`` with four changes:

* ``find_class`` resolves an explicit allowlist of names (:data:`ALLOWED`) to *our own* stand-ins: torch's
  tensor rebuild functions become functions returning a :class:`TensorRecord` (shape, dtype, numel) and
  ``persistent_load`` returns a :class:`StorageRecord` (storage bytes are never read, torch is never imported);
  ``OrderedDict``, ``torch.Size``, dtypes become plain values; a few record classes (``argparse.Namespace``,
  ``TrainingArguments``, Lightning's ``AttributeDict``...) become :class:`RecordedObject`/:class:`RecordedDict`
  instances that only collect their state. Anything else raises :class:`~driftguard.errors.RefusedError`.
  torch's own ``weights_only`` unpickler (``torch/_weights_only_unpickler.py``) is the reference.
* The opcodes that mutate an object already on the stack (BUILD, SETITEM(S), APPEND(S), ADDITEMS) apply only
  to objects this file created (records, dicts, lists, sets); aimed at an allowlisted stand-in they are
  refused. The stand-ins are immutable and the allowlist is a read-only mapping, so nothing a file contains can
  change how another file is read. EXT opcodes (the process-wide copyreg extension cache) are refused.
* Every opcode counts against ``Limits.pickle_ops``, every container it builds against ``Limits.objects``,
  integer literals against ``Limits.int_digits``, shapes against ``Limits.rank``.
* After loading, :func:`check_tree` measures the tree as later walks will see it (shared sub-objects counted at
  every place they are referenced, in time linear in the distinct objects) and refuses cycles, trees deeper
  than ``Limits.depth`` and trees larger than ``Limits.objects``, so every walk afterwards is bounded.
"""

from __future__ import annotations

import _compat_pickle
import io
import math
import pickle
import struct
from collections.abc import Callable, Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, BinaryIO, ClassVar

from driftguard.errors import ExtractionError, LimitError, RefusedError
from driftguard.normalize import normalize_dtype
from driftguard.readers.limits import DEFAULT, Limits


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

    Subclasses are made per allowlisted name (``recorded_name``); no method of the original class runs. Each
    instance is created by the file being read (REDUCE, NEWOBJ), so its state is that file's alone.
    """

    recorded_name: ClassVar[str] = "object"
    __slots__ = ("args", "state")
    args: tuple[Any, ...]
    state: Any

    def __new__(cls, *args: Any) -> RecordedObject:
        # NEWOBJ calls __new__ without __init__, REDUCE calls both: set the fields here.
        self = super().__new__(cls)
        self.args = args
        self.state = None
        return self

    def __init__(self, *args: Any) -> None:
        pass

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

    recorded_name: ClassVar[str] = "dict"


class _Frozen:
    """A stand-in whose attributes cannot change once made."""

    __slots__ = ()

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable")


class Marker(_Frozen):
    """A named placeholder for an allowlisted global that is only ever passed as an argument."""

    __slots__ = ("name",)
    name: str

    def __init__(self, name: str) -> None:
        object.__setattr__(self, "name", name)

    def __repr__(self) -> str:
        return f"<{self.name}>"


class StorageType(Marker):
    """``torch.FloatStorage`` and friends: the element type a persistent id's storage holds."""

    __slots__ = ("dtype",)
    dtype: str

    def __init__(self, name: str, dtype: str) -> None:
        super().__init__(name)
        object.__setattr__(self, "dtype", dtype)


class TorchDtype(str):
    """A ``torch.<dtype>`` global, as its canonical name (``torch.bfloat16`` -> ``bfloat16``)."""

    __slots__ = ()


# --- tensor rebuild stand-ins ---------------------------------------------------------------------------

_INT64 = 2 ** 63


def _shape(size: Any) -> tuple[int, ...]:
    if not isinstance(size, (tuple, list)) or not all(isinstance(d, int) and not isinstance(d, bool)
                                                      for d in size):
        raise pickle.UnpicklingError(f"tensor size must be a tuple of ints, got {type(size).__name__}")
    if any(d < 0 or d >= _INT64 for d in size):
        raise pickle.UnpicklingError("tensor size has a dimension outside [0, 2**63)")
    rank = _current_limits().rank
    if len(size) > rank:
        raise LimitError("rank", rank, f"tensor of {len(size)} dimensions")
    return tuple(size)


def _record(size: Any, dtype: str) -> TensorRecord:
    shape = _shape(size)
    numel = math.prod(shape)
    if numel >= _INT64:  # torch counts elements in an int64: no real tensor is larger
        raise pickle.UnpicklingError(f"tensor of {len(shape)} dimensions declares 2**63 elements or more")
    return TensorRecord(shape, dtype, numel)


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
    return str(name) if isinstance(name, str) else "layout"


def _size(dims: Any = ()) -> tuple[int, ...]:
    if not isinstance(dims, (tuple, list)):
        raise pickle.UnpicklingError("torch.Size of something other than a sequence")
    return _shape(tuple(dims))


def _device(*args: Any) -> str:
    if not all(isinstance(a, (str, int)) and not isinstance(a, bool) for a in args):
        raise pickle.UnpicklingError("torch.device of something other than a name and an index")
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


def _set(items: Any = ()) -> set[Any]:
    if not isinstance(items, (list, tuple, set, frozenset)):
        raise pickle.UnpicklingError("set of something other than a sequence")
    return set(items)


def _frozenset(items: Any = ()) -> frozenset[Any]:
    if not isinstance(items, (list, tuple, set, frozenset)):
        raise pickle.UnpicklingError("frozenset of something other than a sequence")
    return frozenset(items)


def _complex(real: Any = 0, imag: Any = 0) -> complex:
    if not all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in (real, imag)):
        raise pickle.UnpicklingError("complex of something other than numbers")
    return complex(real, imag)


def _reconstructor(cls: Any, base: Any, state: Any) -> Any:
    # copyreg._reconstructor (protocols 0 and 1): object.__new__(cls), dict.__new__(cls)... for our classes only.
    if isinstance(cls, type) and issubclass(cls, (RecordedObject, RecordedDict)):
        return cls()
    raise pickle.UnpicklingError("copyreg._reconstructor for a class that is not allowlisted")


def _newobj(cls: Any, *args: Any) -> Any:
    if isinstance(cls, type) and issubclass(cls, (RecordedObject, RecordedDict)):
        return cls()
    raise pickle.UnpicklingError("copyreg.__newobj__ for a class that is not allowlisted")


_REBUILD_FUNCTIONS: Mapping[str, Callable[..., Any]] = MappingProxyType({
    "torch._utils._rebuild_tensor": _rebuild_tensor,
    "torch._utils._rebuild_tensor_v2": _rebuild_tensor,
    "torch._utils._rebuild_tensor_v3": _rebuild_tensor_v3,
    "torch._utils._rebuild_qtensor": _rebuild_qtensor,
    "torch._utils._rebuild_meta_tensor_no_storage": _rebuild_meta_tensor_no_storage,
    "torch._utils._rebuild_parameter": _rebuild_parameter,
    "torch._utils._rebuild_parameter_with_state": _rebuild_parameter,
})

#: Legacy storage class names -> element type (torch/storage.py ``_dtype_to_storage_type_map``).
STORAGE_DTYPES: Mapping[str, str] = MappingProxyType({
    "DoubleStorage": "float64", "FloatStorage": "float32", "HalfStorage": "float16", "LongStorage": "int64",
    "IntStorage": "int32", "ShortStorage": "int16", "CharStorage": "int8", "ByteStorage": "uint8",
    "BoolStorage": "bool", "BFloat16Storage": "bfloat16", "ComplexDoubleStorage": "complex128",
    "ComplexFloatStorage": "complex64", "QInt8Storage": "qint8", "QUInt8Storage": "quint8",
    "QInt32Storage": "qint32", "QUInt4x2Storage": "quint4x2", "QUInt2x4Storage": "quint2x4",
    "UntypedStorage": "uint8", "TypedStorage": "uint8",
})

_TORCH_DTYPE_NAMES = (
    "float32", "float", "float64", "double", "float16", "half", "bfloat16", "complex32", "complex64",
    "complex128", "cfloat", "cdouble", "chalf", "uint8", "uint16", "uint32", "uint64", "int8", "int16", "int32",
    "int64", "short", "int", "long", "bool", "qint8", "quint8", "qint32", "quint4x2", "quint2x4",
    "float8_e4m3fn", "float8_e4m3fnuz", "float8_e5m2", "float8_e5m2fnuz", "float8_e8m0fnu", "float4_e2m1fn_x2",
    "bits8", "bits16", "bits1x8", "bits2x4", "bits4x2",
    *(f"uint{x}" for x in range(1, 8)), *(f"int{x}" for x in range(1, 8)),
)

#: Record classes whose instances become RecordedObject (fields only). Enums are recorded by value.
RECORD_CLASSES = (
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
DICT_CLASSES = (
    "collections.OrderedDict",
    "lightning.fabric.utilities.data.AttributeDict",
    "lightning_fabric.utilities.data.AttributeDict",
    "pytorch_lightning.utilities.parsing.AttributeDict",
    "lightning.pytorch.utilities.parsing.AttributeDict",
)


def _allowlist() -> Mapping[str, Any]:
    rc: dict[str, Any] = dict(_REBUILD_FUNCTIONS)
    rc["torch._tensor._rebuild_from_type_v2"] = _rebuild_from_type_v2
    rc["torch.Size"] = _size
    rc["torch.device"] = _device
    rc["torch.serialization._get_layout"] = _get_layout
    rc["torch.Tensor"] = Marker("torch.Tensor")
    rc["torch.nn.parameter.Parameter"] = Marker("torch.nn.parameter.Parameter")
    rc["_codecs.encode"] = _encode
    rc["builtins.set"] = _set
    rc["builtins.frozenset"] = _frozenset
    rc["builtins.complex"] = _complex
    rc["builtins.bytearray"] = _bytearray
    rc["builtins.object"] = Marker("object")
    rc["builtins.dict"] = Marker("dict")
    rc["copyreg._reconstructor"] = _reconstructor
    rc["copyreg.__newobj__"] = _newobj
    for name, dtype in STORAGE_DTYPES.items():
        module = "torch.storage" if name in ("UntypedStorage", "TypedStorage") else "torch"
        rc[f"{module}.{name}"] = StorageType(name, dtype)
    for name in _TORCH_DTYPE_NAMES:
        rc[f"torch.{name}"] = TorchDtype(normalize_dtype(f"torch.{name}") or name)
    for full in RECORD_CLASSES:
        rc[full] = type(full.rsplit(".", 1)[1], (RecordedObject,), {"recorded_name": full, "__slots__": ()})
    for full in DICT_CLASSES:
        rc[full] = type(full.rsplit(".", 1)[1], (RecordedDict,), {"recorded_name": full})
    return MappingProxyType(rc)


#: ``module.qualname`` -> our stand-in, for every global a checkpoint may name. Read-only; stand-ins immutable.
ALLOWED: Mapping[str, Any] = _allowlist()


def allowed_globals() -> Mapping[str, Any]:
    """The allowlist (read-only)."""
    return ALLOWED


# --- the unpickler ----------------------------------------------------------------------------------------

_P = pickle._Unpickler  # the pure-Python unpickler: its opcode table can be bounded and guarded
#: Opcodes that build a container (or call a constructor): each counts against ``Limits.objects``.
_BUILDS = frozenset(op[0] for op in (
    pickle.EMPTY_DICT, pickle.EMPTY_LIST, pickle.EMPTY_TUPLE, pickle.EMPTY_SET, pickle.FROZENSET, pickle.DICT,
    pickle.LIST, pickle.TUPLE, pickle.TUPLE1, pickle.TUPLE2, pickle.TUPLE3, pickle.REDUCE, pickle.NEWOBJ,
    pickle.NEWOBJ_EX, pickle.OBJ, pickle.INST, pickle.BINPERSID, pickle.PERSID, pickle.BYTEARRAY8,
))
_INTS = frozenset(op[0] for op in (pickle.INT, pickle.LONG, pickle.LONG1, pickle.LONG4))
_REFUSED = {pickle.EXT1[0]: "EXT1", pickle.EXT2[0]: "EXT2", pickle.EXT4[0]: "EXT4"}
# The limits of the load running in this thread/task: the rebuild stand-ins read them for the rank limit.
_ACTIVE: ContextVar[Limits] = ContextVar("driftguard_pickle_limits", default=DEFAULT)


def _current_limits() -> Limits:
    return _ACTIVE.get()


class SafeUnpickler(_P):
    """Unpickles a checkpoint pickle into plain values and records; refuses every global outside the
    allowlist, every mutation of a stand-in, and anything past the limits."""

    dispatch: ClassVar[dict[int, Callable[[Any], None]]] = dict(_P.dispatch)
    stack: list[Any]  # the pure-Python unpickler's own working stack (set by load())

    def __init__(self, file: BinaryIO, path: str, limits: Limits = DEFAULT, legacy: bool = False) -> None:
        super().__init__(file, encoding="utf-8")
        self._path = path
        self._limits = limits
        self._legacy = legacy
        self._ops = 0
        self._objects = 0

    # -- globals and persistent ids -------------------------------------------------------------------------
    def find_class(self, module: str, name: str) -> Any:
        # Protocol 2 pickles spell Python 3 names the Python 2 way (__builtin__.eval); map them back, as torch
        # does, so the name we report is the one a reader recognises.
        if (module, name) in _compat_pickle.NAME_MAPPING:
            module, name = _compat_pickle.NAME_MAPPING[(module, name)]
        elif module in _compat_pickle.IMPORT_MAPPING:
            module = _compat_pickle.IMPORT_MAPPING[module]
        full = f"{module}.{name}"
        found = ALLOWED.get(full)
        if found is None:
            raise RefusedError(
                f"refused pickle global '{full}': not on the allowlist of safe constructors (nothing was executed)",
                full, self._path,
            )
        return found

    def persistent_load(self, pid: Any) -> Any:
        # zip format: ('storage', storage_type, key, location, numel); legacy: the same plus view_metadata.
        size = 6 if self._legacy else 5
        if isinstance(pid, tuple) and pid and pid[0] == "module":
            raise RefusedError("refused a pickled module (a whole nn.Module saved with torch.save(model)): save "
                               "its state_dict instead (nothing was executed)", "module", self._path)
        if not (isinstance(pid, tuple) and len(pid) == size and pid[0] == "storage"
                and isinstance(pid[1], StorageType)):
            raise pickle.UnpicklingError(f"unsupported persistent id {type(pid).__name__}")
        storage_type, key, location, numel = pid[1], pid[2], pid[3], pid[4]
        return StorageRecord(storage_type.dtype, str(key), str(location),
                             numel if isinstance(numel, int) and not isinstance(numel, bool) else 0)

    # -- opcodes: counted, bounded, and kept off the stand-ins ------------------------------------------------
    def _guard(self, target: Any, op: str, kinds: tuple[type, ...]) -> None:
        if not isinstance(target, kinds):
            raise RefusedError(f"refused {op} on {_describe(target)}: only objects the file itself built may "
                               "be changed (nothing was executed)", op, self._path)

    def load_build(self) -> None:
        state = self.stack.pop()
        inst = self.stack[-1]
        self._guard(inst, "BUILD", (RecordedObject, RecordedDict))
        if isinstance(inst, RecordedObject):
            inst.state = state
        # RecordedDict: OrderedDict state carries `_metadata` (per-module versions), not configuration.

    def load_setitem(self) -> None:
        value = self.stack.pop()
        key = self.stack.pop()
        target = self.stack[-1]
        self._guard(target, "SETITEM", (dict,))
        target[_hashable(key)] = value

    def load_setitems(self) -> None:
        items = self.pop_mark()  # type: ignore[attr-defined]  # pickle._Unpickler's own, untyped in typeshed
        target = self.stack[-1]
        self._guard(target, "SETITEMS", (dict,))
        for i in range(0, len(items) - 1, 2):
            target[_hashable(items[i])] = items[i + 1]

    def load_append(self) -> None:
        value = self.stack.pop()
        target = self.stack[-1]
        self._guard(target, "APPEND", (list,))
        target.append(value)

    def load_appends(self) -> None:
        items = self.pop_mark()  # type: ignore[attr-defined]  # pickle._Unpickler's own, untyped in typeshed
        target = self.stack[-1]
        self._guard(target, "APPENDS", (list,))
        target.extend(items)

    def load_additems(self) -> None:
        items = self.pop_mark()  # type: ignore[attr-defined]  # pickle._Unpickler's own, untyped in typeshed
        target = self.stack[-1]
        self._guard(target, "ADDITEMS", (set,))
        target.update(_hashable(i) for i in items)

    def _count(self, code: int) -> None:
        self._ops += 1
        if self._ops > self._limits.pickle_ops:
            raise LimitError("pickle_ops", self._limits.pickle_ops, "checkpoint pickle opcodes", self._path)
        if code in _BUILDS:
            self._objects += 1
            if self._objects > self._limits.objects:
                raise LimitError("objects", self._limits.objects, "objects built by the checkpoint pickle",
                                 self._path)

    def load(self) -> Any:
        token = _ACTIVE.set(self._limits)
        try:
            return super().load()
        finally:
            _ACTIVE.reset(token)


def _describe(obj: Any) -> str:
    if isinstance(obj, Marker):
        return f"the allowlisted global {obj.name}"
    if callable(obj):
        return f"the allowlisted global {getattr(obj, '__qualname__', type(obj).__name__)}"
    return f"a {type(obj).__name__}"


def _hashable(key: Any) -> Any:
    if isinstance(key, (list, dict, set, bytearray, RecordedObject)):
        raise pickle.UnpicklingError(f"unhashable mapping key of type {type(key).__name__}")
    return key


def _install_dispatch() -> None:
    table = SafeUnpickler.dispatch
    guarded = {pickle.BUILD[0]: SafeUnpickler.load_build, pickle.SETITEM[0]: SafeUnpickler.load_setitem,
               pickle.SETITEMS[0]: SafeUnpickler.load_setitems, pickle.APPEND[0]: SafeUnpickler.load_append,
               pickle.APPENDS[0]: SafeUnpickler.load_appends, pickle.ADDITEMS[0]: SafeUnpickler.load_additems}
    for code, fn in list(table.items()):
        fn = guarded.get(code, fn)
        if code in _REFUSED:
            table[code] = _refuse(_REFUSED[code])
        elif code in _INTS:
            table[code] = _counted_int(code, fn)
        else:
            table[code] = _counted(code, fn)


def _counted(code: int, fn: Callable[[Any], None]) -> Callable[[Any], None]:
    def op(self: SafeUnpickler) -> None:
        self._count(code)
        fn(self)
    return op


def _counted_int(code: int, fn: Callable[[Any], None]) -> Callable[[Any], None]:
    def op(self: SafeUnpickler) -> None:
        self._count(code)
        fn(self)
        value = self.stack[-1]
        digits = self._limits.int_digits
        # bit_length * log10(2) bounds the decimal digits without converting (which is quadratic).
        if isinstance(value, int) and value.bit_length() * 0.30103 > digits + 1:
            raise LimitError("int_digits", digits, "integer in the checkpoint pickle", self._path)
    return op


def _refuse(name: str) -> Callable[[Any], None]:
    def op(self: SafeUnpickler) -> None:
        raise RefusedError(f"refused pickle opcode {name} (copyreg extension registry; nothing was executed)", name,
                           self._path)
    return op


_install_dispatch()


_CORRUPT = (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, KeyError, IndexError,
            UnicodeDecodeError, OverflowError, RecursionError, MemoryError, struct.error)


def load(file: BinaryIO, path: str, limits: Limits = DEFAULT, *, legacy: bool = False) -> Any:
    """One pickle from ``file`` through :class:`SafeUnpickler`, then :func:`check_tree`. Corrupt data raises
    ExtractionError, globals outside the allowlist RefusedError, exceeded limits LimitError."""
    try:
        obj = SafeUnpickler(file, path, limits, legacy).load()
    except ExtractionError as exc:  # refused, over a limit, or raised by a stand-in: name the file
        if exc.path is None:
            exc.path = path
        raise
    except _CORRUPT as exc:
        raise ExtractionError(f"corrupt checkpoint pickle: {type(exc).__name__}: {exc}", path) from None
    check_tree(obj, path, limits)
    return obj


def loads(data: bytes, path: str, limits: Limits = DEFAULT) -> Any:
    """:func:`load` over bytes."""
    return load(io.BytesIO(data), path, limits)


# --- the loaded tree: measured once, then walked safely ------------------------------------------------------

_CONTAINERS = (dict, list, tuple, set, frozenset, RecordedObject)


def children(obj: Any) -> tuple[Any, ...] | None:
    """The values a walk descends into, or None for a leaf."""
    if isinstance(obj, dict):
        return (*obj.keys(), *obj.values())
    if isinstance(obj, (list, tuple, set, frozenset)):
        return tuple(obj)
    if isinstance(obj, RecordedObject):
        return (obj.args, obj.state)
    return None


def check_tree(root: Any, path: str, limits: Limits = DEFAULT) -> None:
    """Refuse a tree with a cycle, deeper than ``limits.depth`` or larger than ``limits.objects`` when every
    shared sub-object is counted where it is referenced. Linear in the distinct objects (iterative, memoized:
    each container is sized once, however often it is referenced)."""
    if not isinstance(root, _CONTAINERS):
        return
    size: dict[int, int] = {}
    depth: dict[int, int] = {}
    tensors = 0
    on_path: set[int] = set()
    max_objects, max_depth = limits.objects, limits.depth
    # One frame per open container: [object, its children, next child index, size so far, deepest child].
    stack: list[list[Any]] = [[root, children(root), 0, 1, 0]]
    on_path.add(id(root))
    while stack:
        frame = stack[-1]
        kids, i, total, deepest = frame[1], frame[2], frame[3], frame[4]
        n = len(kids)
        opened = False
        while i < n:
            k = kids[i]
            i += 1
            if not isinstance(k, _CONTAINERS):
                total += 1
                if type(k) is TensorRecord:
                    tensors += 1
                continue
            kid = id(k)
            known = size.get(kid)
            if known is not None:  # sized already: its depth counts from here too
                total += known
                deepest = max(deepest, depth[kid])
                if len(on_path) + depth[kid] > max_depth:
                    raise LimitError("depth", max_depth, "nesting of the checkpoint's object tree", path)
                continue
            if kid in on_path:
                raise ExtractionError("corrupt checkpoint pickle: the object tree refers to itself (a cycle)",
                                      path)
            frame[2], frame[3], frame[4] = i - 1, total, deepest  # come back to this child once it is sized
            on_path.add(kid)
            if len(on_path) > max_depth:
                raise LimitError("depth", max_depth, "nesting of the checkpoint's object tree", path)
            stack.append([k, children(k), 0, 1, 0])
            opened = True
            break
        if opened:
            continue
        stack.pop()
        key = id(frame[0])
        on_path.discard(key)
        size[key], depth[key] = total, deepest + 1
        if total > max_objects:
            raise LimitError("objects", max_objects, "values in the checkpoint's object tree (shared "
                             "sub-objects counted where referenced)", path)
    limits.check("tensors", tensors, "tensors in the checkpoint", path)


def iter_tensors(obj: Any, prefix: str = "") -> Iterator[tuple[str, TensorRecord]]:
    """Every TensorRecord under ``obj`` (in dicts, lists and tuples) with its dotted path; the tree passed
    :func:`check_tree`, so the walk is bounded."""
    out: list[tuple[str, TensorRecord]] = []
    stack: list[tuple[Any, str]] = [(obj, prefix)]
    walk = (TensorRecord, dict, list, tuple)
    while stack:
        node, where = stack.pop()
        if type(node) is TensorRecord:
            out.append((where, node))
            continue
        if not isinstance(node, (dict, list, tuple)):  # a bare scalar at the top: no tensors
            continue
        items = node.items() if isinstance(node, dict) else enumerate(node)
        for k, v in reversed(list(items)):
            if isinstance(v, walk):
                stack.append((v, f"{where}.{k}" if where else str(k)))
    return iter(out)
