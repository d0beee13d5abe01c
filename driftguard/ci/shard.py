"""``check --shard I/N``: a deterministic split of a manifest's models across N CI jobs.

A model belongs to shard ``sha256(name) mod N + 1``: every job computes the same split from the names alone,
without talking to the others, and adding or removing a model never moves another one to a different shard
(its cache, its logs and its job stay where they were). Each model is in exactly one shard, so the shards'
reports together are the whole report (``driftguard report`` merges them)."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable

from driftguard.errors import UsageError

MAX_SHARDS = 10_000
_SPEC = re.compile(r"([0-9]{1,6})/([0-9]{1,6})")


def parse_shard(spec: str) -> tuple[int, int]:
    """``"I/N"`` as ``(I, N)`` with 1 <= I <= N <= 10,000; UsageError otherwise."""
    m = _SPEC.fullmatch(spec.strip())
    if m is not None:
        index, count = int(m.group(1)), int(m.group(2))
        if 1 <= index <= count <= MAX_SHARDS:
            return index, count
    raise UsageError(f"--shard expects I/N with 1 <= I <= N <= {MAX_SHARDS} (e.g. 2/5), got '{spec}'")


def shard_of(name: str, count: int) -> int:
    """The shard (1-based) that model ``name`` belongs to out of ``count``."""
    digest = hashlib.sha256(name.encode("utf-8", "surrogatepass")).digest()
    return int.from_bytes(digest[:8], "big") % count + 1


def select(names: Iterable[str], shard: tuple[int, int]) -> list[str]:
    """The names of shard ``(I, N)``, in their original order."""
    index, count = shard
    return [n for n in names if shard_of(n, count) == index]
