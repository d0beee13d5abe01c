"""Pickle opcodes spelled by hand, for crafting pickles that ``pickle.dumps`` would never write (a GLOBAL aimed
at a stand-in, a BUILD on it, shared sub-objects through the memo). Shared by the reader and attack tests."""

from __future__ import annotations

import struct

#: PROTO 2.
P2 = b"\x80\x02"


def glob(full: str) -> bytes:
    """GLOBAL ``module.name``."""
    module, name = full.rsplit(".", 1)
    return b"c" + module.encode() + b"\n" + name.encode() + b"\n"


def text(value: str) -> bytes:
    """BINUNICODE ``value``."""
    raw = value.encode()
    return b"X" + struct.pack("<I", len(raw)) + raw
