"""One ``Limits`` object bounds every reader: bytes read, objects built, nesting depth, element counts.

Every limit has a name; exceeding it raises :class:`~driftguard.errors.LimitError`, one line naming the limit,
the value found and how to raise it (``--limit NAME=N`` on the command line, ``limits: {NAME: N}`` in the
manifest, ``Limits(NAME=N)`` in the library). The defaults are far above any real configuration or checkpoint
metadata and keep each read of a crafted file under a few seconds and a few hundred MiB.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from functools import lru_cache

from driftguard.errors import LimitError, UsageError

MiB = 1024 * 1024
#: The largest value a limit may be set to (a byte count a read call can still take).
MAX_LIMIT = 2 ** 62
#: ``depth`` above this would exceed the interpreter's stack in the walks that recurse over a checked tree (the
#: values' normalization, comparison and reporters): tests/attacks/test_depth_cap.py runs every reader and a
#: check at this depth.
MAX_DEPTH = 256


@dataclass(frozen=True, slots=True)
class Limits:
    """What one read may cost. Each field is a documented, user-raisable limit."""

    #: Bytes of a text artifact read whole: JSON, YAML, config.pbtxt, INI, manifest, approval.
    file_bytes: int = 16 * MiB
    #: Uncompressed bytes of a checkpoint's pickle (``data.pkl``; a legacy file's object pickle).
    pickle_bytes: int = 64 * MiB
    #: Pickle opcodes executed while reading one checkpoint's object tree.
    pickle_ops: int = 2_000_000
    #: Values (containers and scalars) built or visited while reading one document or object tree, counting
    #: every time a shared sub-object or a YAML alias is expanded.
    objects: int = 250_000
    #: Nesting depth of a document or object tree (a dict in a list is depth 2).
    depth: int = 64
    #: Decimal digits of one integer literal (JSON, YAML, INI, pickle LONG, pbtxt).
    int_digits: int = 400
    #: Tensors in one checkpoint, safetensors header or ONNX graph.
    tensors: int = 1_000_000
    #: Dimensions of one tensor shape.
    rank: int = 64
    #: Nodes of one ONNX graph, subgraphs and functions included.
    onnx_nodes: int = 500_000
    #: Protobuf fields of one ONNX model walked outside tensor payloads (node inputs, attributes, dims...).
    onnx_fields: int = 5_000_000
    #: Bytes of an ONNX model once tensor payloads are skipped (graph structure, names, attributes).
    onnx_metadata_bytes: int = 128 * MiB
    #: Fields of one Triton model config (inputs, outputs, parameters, ... counted one by one).
    triton_fields: int = 50_000
    #: Entries of one zip archive (a torch checkpoint).
    zip_entries: int = 1_000_000
    #: Bytes of a GGUF file's header walked (metadata and tensor infos; skipped array payloads count).
    gguf_header_bytes: int = 64 * MiB
    #: Bytes of a Python file parsed (``ast`` needs about 500 bytes of memory per byte of source).
    python_bytes: int = 1 * MiB
    #: Nodes of one Python file's syntax tree.
    python_nodes: int = 200_000
    #: Nesting depth of one Python file's syntax tree (a long ``a + b + ...`` chain nests one level a term).
    python_depth: int = 200
    #: Bytes of one parity golden file or recording: the file, and an ``.npz``'s arrays as their headers declare
    #: them (checked before numpy inflates one).
    golden_bytes: int = 1024 * MiB
    #: Files of one folder walked whole (a parity runner's artifact folder, vetted and hashed before it loads).
    folder_files: int = 100_000

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= MAX_LIMIT:
                raise UsageError(f"limit {f.name} must be a positive integer up to 2**62, got {value!r}")
        if self.depth > MAX_DEPTH:
            raise UsageError(f"limit depth may be raised up to {MAX_DEPTH} (deeper trees would exhaust the "
                             f"interpreter's stack in later walks), got {self.depth}")

    def with_overrides(self, overrides: Mapping[str, object]) -> Limits:
        """A copy with ``{name: value}`` applied; UsageError for an unknown name or a value that is not a
        positive integer."""
        known = {f.name for f in fields(self)}
        changes: dict[str, int] = {}
        for name, raw in overrides.items():
            if name not in known:
                raise UsageError(f"unknown limit '{name}'; limits: {', '.join(sorted(known))}")
            value = parse_limit_value(raw)
            if value is None:
                raise UsageError(f"limit {name} must be a positive integer (suffixes K, M, G allowed), got {raw!r}")
            changes[name] = value
        return replace(self, **changes)

    def check(self, name: str, found: int, what: str, path: str | None = None, line: int | None = None) -> None:
        """Raise LimitError when ``found`` exceeds the limit ``name``."""
        allowed = getattr(self, name)
        if found > allowed:
            raise LimitError(name, allowed, what, path, line)


_SUFFIX = {"k": 1024, "m": MiB, "g": 1024 * MiB}


def parse_limit_value(raw: object) -> int | None:
    """``123``, ``"64M"``, ``"2g"`` -> an int > 0; None when it is not one."""
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        return raw if raw > 0 else None
    if not isinstance(raw, str):
        return None
    text = raw.strip().lower()
    scale = 1
    if text and text[-1] in _SUFFIX:
        scale = _SUFFIX[text[-1]]
        text = text[:-1]
    # ASCII digits only: str.isdigit also accepts '²', which int() then refuses with a ValueError (a crash).
    if not (text.isascii() and text.isdigit()) or len(text) > 18:
        return None
    value = int(text) * scale
    return value if 0 < value <= MAX_LIMIT else None


@lru_cache(maxsize=64)
def capped(limits: Limits, name: str, most: int) -> Limits:
    """``limits`` with the limit ``name`` lowered to ``most`` where it is higher (detection reads small files
    only); one object per combination, since building a Limits checks every field."""
    return replace(limits, **{name: min(getattr(limits, name), most)})


def names() -> list[str]:
    """Every limit's name, in declaration order."""
    return [f.name for f in fields(Limits)]


DEFAULT = Limits()

__all__ = ["DEFAULT", "LimitError", "Limits", "capped", "names", "parse_limit_value"]
