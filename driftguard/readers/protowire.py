"""The protobuf wire format (https://protobuf.dev/programming-guides/encoding/), the few primitives driftguard's
payload-skipping readers need: varints, skipping a field's value, walking a message's fields, and a file seen as
bytes through a small read window. It decodes no schema; ``readers.onnx_wire`` (metadata without payloads, the
initializer index DG401 reads one tensor at a time from) builds on it. Every walk is iterative: nested groups
cannot exhaust the Python stack (they are refused past ``MAX_GROUP_DEPTH``). This module imports nothing from
driftguard.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import BinaryIO, Protocol, SupportsIndex, overload

# Wire types (protobuf encoding guide).
VARINT, I64, LEN, SGROUP, EGROUP, I32 = 0, 1, 2, 3, 4, 5
#: Nesting of (deprecated) groups a skipped value may hold; protobuf's own parsers stop at 100 message levels.
MAX_GROUP_DEPTH = 64


class WireError(ValueError):
    """The bytes are not a well-formed protobuf message; ``offset`` is where reading failed."""

    def __init__(self, message: str, offset: int) -> None:
        super().__init__(f"{message} at byte {offset}")
        self.offset = offset


class Buffer(Protocol):
    """Indexable bytes: ``bytes`` itself, or ``FileBytes`` over an open file."""

    def __len__(self) -> int: ...

    @overload
    def __getitem__(self, index: SupportsIndex, /) -> int: ...

    @overload
    def __getitem__(self, index: slice, /) -> bytes: ...


class FileBytes:
    """A file seen as bytes, read on demand through a small window, so that skipped payloads are never read."""

    WINDOW = 1 << 16

    def __init__(self, fh: BinaryIO, size: int) -> None:
        self._fh = fh
        self._size = size
        self._start = 0
        self._window = b""

    def __len__(self) -> int:
        return self._size

    def _read(self, start: int, length: int) -> bytes:
        self._fh.seek(start)
        data = self._fh.read(length)
        if len(data) != length:
            raise WireError("file changed while reading", start)
        return data

    @overload
    def __getitem__(self, index: SupportsIndex, /) -> int: ...

    @overload
    def __getitem__(self, index: slice, /) -> bytes: ...

    def __getitem__(self, index: SupportsIndex | slice, /) -> int | bytes:
        if isinstance(index, slice):
            start, stop, _ = index.indices(self._size)
            if self._start <= start and stop <= self._start + len(self._window):
                return self._window[start - self._start:stop - self._start]
            return self._read(start, max(0, stop - start))
        i = index.__index__()
        offset = i - self._start
        if not 0 <= offset < len(self._window):
            if not 0 <= i < self._size:
                raise IndexError(i)
            self._start = i
            self._window = self._read(i, min(self.WINDOW, self._size - i))
            offset = 0
        return self._window[offset]

    def window_at(self, pos: int, size: int) -> tuple[bytes, int]:
        """Bytes of the read window holding ``[pos, pos + size)`` (fewer at the end of the file), and the
        index of ``pos`` in them: lets a hot loop (a varint) index plain ``bytes`` instead of this object."""
        offset = pos - self._start
        if not offset >= 0 or offset + size > len(self._window):
            if not 0 <= pos < self._size:
                raise IndexError(pos)
            self._start = pos
            self._window = self._read(pos, min(self.WINDOW, self._size - pos))
            offset = 0
        return self._window, offset


def varint(buf: Buffer, pos: int, end: int) -> tuple[int, int]:
    """Decode a base-128 varint at ``pos``; returns (value, position after it)."""
    if isinstance(buf, FileBytes) and pos < end:
        window, offset = buf.window_at(pos, min(10, end - pos))
        value, after = _varint_bytes(window, offset, offset + min(10, end - pos), pos)
        return value, pos + (after - offset)
    return _varint_bytes(buf, pos, end, pos)


def _varint_bytes(buf: Buffer, pos: int, end: int, reported: int) -> tuple[int, int]:
    result = 0
    shift = 0
    while True:
        if pos >= end:
            raise WireError("truncated varint", reported)
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, pos
        shift += 7
        if shift >= 70:
            raise WireError("varint too long", reported)


def encode_varint(value: int) -> bytes:
    out = bytearray()
    while True:
        b = value & 0x7F
        value >>= 7
        if value:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def skip_value(buf: Buffer, pos: int, end: int, wire_type: int, field: int) -> tuple[int, int]:
    """Skip one field value; returns (start of the value, length prefix included; position after it)."""
    start = pos
    if wire_type == VARINT:
        _, after = varint(buf, pos, end)
        return pos, after
    if wire_type == I64:
        after = pos + 8
    elif wire_type == I32:
        after = pos + 4
    elif wire_type == LEN:
        length, pos = varint(buf, pos, end)
        after = pos + length
    elif wire_type == SGROUP:
        after = _skip_group(buf, pos, end, field)
    else:
        raise WireError(f"invalid wire type {wire_type}", pos)
    if after > end:
        raise WireError("field runs past the end of its message", start)
    return start, after


def _skip_group(buf: Buffer, pos: int, end: int, field: int) -> int:
    """The position after the end-group tag closing ``field``'s group that starts at ``pos``. Iterative:
    nested groups are a stack of field numbers, at most ``MAX_GROUP_DEPTH`` deep."""
    open_groups = [field]
    cur = pos
    while open_groups:
        tag_start = cur
        tag, cur = varint(buf, cur, end)
        number, wire_type = tag >> 3, tag & 7
        if number == 0:
            raise WireError("field number 0", tag_start)
        if wire_type == EGROUP:
            if number != open_groups.pop():
                raise WireError("mismatched end-group", tag_start)
        elif wire_type == SGROUP:
            if len(open_groups) >= MAX_GROUP_DEPTH:
                raise WireError(f"groups nested more than {MAX_GROUP_DEPTH} deep", tag_start)
            open_groups.append(number)
        else:
            _, cur = skip_value(buf, cur, end, wire_type, number)
    return cur


def iter_tags(buf: Buffer, start: int, end: int) -> Iterator[tuple[int, int, int, int, int]]:
    """``(field number, wire type, tag start, value start, value end)`` of each field of the message in
    ``buf[start:end]``; a LEN value's range includes its length prefix. WireError when malformed."""
    pos = start
    while pos < end:
        field_start = pos
        tag, pos = varint(buf, pos, end)
        field, wire_type = tag >> 3, tag & 7
        if field == 0:
            raise WireError("field number 0", field_start)
        value_start, pos = skip_value(buf, pos, end, wire_type, field)
        yield field, wire_type, field_start, value_start, pos
