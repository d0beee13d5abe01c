"""Hostile checkpoints: cross-file state, archive ambiguity, unbounded work, bad input as a bug.

Every attack is generated here; each asserts the verdict (exit 2 for bad input, the honest drift still failing),
that nothing ran (a sentinel file), and that the work stayed bounded (the limit that stopped it, the bytes read
and inflated, the child's peak RSS: see ``bounded.py``).
"""

from __future__ import annotations

import pickle
import struct
import zipfile
from pathlib import Path
from typing import Any

import pytest

from driftguard import api
from driftguard.errors import ExtractionError, LimitError, RefusedError
from driftguard.readers import pickle as safe_pickle
from driftguard.readers.limits import Limits
from driftguard.readers.torch_archive import load_checkpoint, read_data_pkl
from tests.attacks.bounded import run_cli, sentinel_absent
from tests.readers.opcodes import P2
from tests.readers.opcodes import glob as _global
from tests.readers.opcodes import text as _str

torch = pytest.importorskip("torch")

def _zip_like_torch(path: Path, data_pkl: bytes, prefix: str = "archive", extra: list[tuple[str, bytes]] | None = None,
                    method: int = zipfile.ZIP_STORED) -> Path:
    with zipfile.ZipFile(path, "w", method) as zf:
        zf.writestr(f"{prefix}/data.pkl", data_pkl)
        zf.writestr(f"{prefix}/byteorder", b"little")
        for name, data in extra or []:
            zf.writestr(name, data)
        zf.writestr(f"{prefix}/version", b"3\n")
    return path


def _reference(tmp_path: Path) -> Path:
    path = tmp_path / "reference.pt"
    torch.save({"state_dict": {"w": torch.zeros(3, 2), "b": torch.zeros(2)}, "hparams": {"max_length": 1024}}, path)
    return path


# --- 1. cross-file state ------------------------------------------------------------------------------------

_MUTATIONS = {
    # BUILD with a slot-state dict (setattr on the target) and with a plain __dict__ state
    "BUILD-slots": lambda: b"N}" + _str("dtype") + _str("int8") + b"s\x86b",
    "BUILD-dict": lambda: b"}" + _str("name") + _str("x") + b"sb",
    "SETITEM": lambda: _str("k") + _str("v") + b"s",
    "SETITEMS": lambda: b"(" + _str("k") + _str("v") + b"u",
    "APPEND": lambda: _str("v") + b"a",
    "APPENDS": lambda: b"(" + _str("v") + b"e",
    "ADDITEMS": lambda: b"(" + _str("v") + b"\x90",
}


@pytest.mark.parametrize("op", sorted(_MUTATIONS))
def test_no_opcode_can_change_an_allowlisted_stand_in(op: str, tmp_path: Path) -> None:
    reference = _reference(tmp_path)
    before = api.extract(reference).plain()
    for name in sorted(safe_pickle.ALLOWED):
        data = P2 + _global(name) + _MUTATIONS[op]() + b"."
        with pytest.raises(ExtractionError) as exc:
            safe_pickle.loads(data, "evil.pkl")
        assert isinstance(exc.value, RefusedError) or "corrupt" in str(exc.value), (name, op, exc.value)
    assert api.extract(reference).plain() == before
    assert safe_pickle.ALLOWED["torch.FloatStorage"].dtype == "float32"


def test_stand_ins_and_allowlist_are_immutable() -> None:
    with pytest.raises(TypeError):
        safe_pickle.ALLOWED["builtins.eval"] = eval  # type: ignore[index]
    storage = safe_pickle.ALLOWED["torch.HalfStorage"]
    with pytest.raises(AttributeError):
        storage.dtype = "int8"


def _lightning_like(path: Path, dtype: Any, max_length: int) -> Path:
    torch.save({"state_dict": {"fc.weight": torch.zeros(4, 4, dtype=dtype)}, "hyper_parameters": {
        "max_length": max_length}, "pytorch-lightning_version": "2.4.0"}, path)
    return path


def _build_attack(path: Path) -> Path:
    """The reported attack: BUILD on the shared FloatStorage stand-in, then an ordinary tensor."""
    body = (b"}" + _str("x") + _global("torch.FloatStorage") + b"N}" + _str("dtype") + _str("float16") + b"s\x86b"
            + b"s.")
    return _zip_like_torch(path, P2 + body)


def _ambiguous_archive(path: Path) -> Path:
    """The reported archive attack: a second data.pkl whose hyper-parameters hide the drift (torch and zipfile
    would read different ones)."""
    good = _lightning_like(path.with_suffix(".src"), torch.float32, 512)
    entries = _entries(good)
    prefix = entries[0][0].split("/")[0]
    hidden = pickle.dumps({"hyper_parameters": {"max_length": 1024}, "pytorch-lightning_version": "2.4.0"},
                          protocol=2)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about the duplicate name: that is the attack
        return _rewrite(path, [*entries, (f"{prefix}/data.pkl", hidden)])


_CRAFTED = {"build": (_build_attack, "refused BUILD"), "archive": (_ambiguous_archive, "ambiguous")}


@pytest.mark.slow
@pytest.mark.parametrize("crafted", sorted(_CRAFTED))
@pytest.mark.parametrize("where", ["training-first", "training-last", "deployment-first", "deployment-last"])
def test_honest_drift_still_fails_with_a_crafted_checkpoint_anywhere(tmp_path: Path, where: str,
                                                                     crafted: str) -> None:
    train = _lightning_like(tmp_path / "train.ckpt", torch.float32, 1024)
    served = _lightning_like(tmp_path / "served.ckpt", torch.float32, 512)  # the honest drift: 1024 vs 512
    make, refusal = _CRAFTED[crafted]
    evil = make(tmp_path / "evil.pt")
    sides = {"training": [train.name], "deployment": [served.name]}
    side, pos = where.split("-")
    sides[side].insert(0 if pos == "first" else 1, evil.name)
    manifest = tmp_path / "driftguard.yaml"
    lines = ["version: 1", "models:", "  m:"]
    for s, names in sides.items():
        lines.append(f"    {s}:")
        lines += [f"      - path: {n}" for n in names]
    manifest.write_text("\n".join(lines) + "\n")
    res = run_cli(["check", "--config", str(manifest)])
    assert res.rc in (1, 2), res.stdout + res.stderr
    assert res.rc == 2 and refusal in res.stderr
    res.assert_bounded()
    # Without the crafted file the same manifest fails on the drift itself.
    manifest.write_text(manifest.read_text().replace("      - path: evil.pt\n", ""))
    honest = run_cli(["check", "--config", str(manifest)])
    assert honest.rc == 1 and "preprocessing.max_length" in honest.stdout


# --- 2. archive ambiguity: read what torch reads, or refuse --------------------------------------------------

def _entries(path: Path) -> list[tuple[str, bytes]]:
    with zipfile.ZipFile(path) as zf:
        return [(i.filename, zf.read(i)) for i in zf.infolist()]


def _rewrite(path: Path, entries: list[tuple[str, bytes]], method: int = zipfile.ZIP_STORED,
             comment: bytes = b"") -> Path:
    with zipfile.ZipFile(path, "w", method) as zf:
        for name, data in entries:
            zf.writestr(name, data)
        zf.comment = comment
    return path


def _torch_reads(path: Path) -> Any:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return torch.load(path, weights_only=True)["hparams"]
        except Exception as exc:  # torch refuses the archive
            return f"refused: {type(exc).__name__}"


def _we_read(path: Path) -> Any:
    try:
        from driftguard.extractors.checkpoint_common import to_plain

        return to_plain(load_checkpoint(path))["hparams"]
    except ExtractionError as exc:
        return f"refused: {exc.message}"


def _layouts(base: Path, tmp: Path) -> dict[str, Path]:
    entries = _entries(base)
    prefix = entries[0][0].split("/")[0]
    alt = pickle.dumps({"hparams": {"max_length": 512}}, protocol=2)
    pkl = next(d for n, d in entries if n.endswith("/data.pkl"))
    others = [(n, d) for n, d in entries if not n.endswith("/data.pkl")]
    out = {
        "as-saved": base,
        "deflated": _rewrite(tmp / "deflated.pt", entries, zipfile.ZIP_DEFLATED),
        "data-pkl-last": _rewrite(tmp / "last.pt", [*others, (f"{prefix}/data.pkl", pkl)]),
        "extra-record": _rewrite(tmp / "extra.pt", [*entries, (f"{prefix}/notes.txt", b"hello")]),
        "zip-comment": _rewrite(tmp / "comment.pt", entries, comment=b"a comment"),
        "renamed-folder": _rewrite(tmp / "renamed.pt", [(n.replace(prefix, "other", 1), d) for n, d in entries]),
        # torch refuses these:
        "second-prefix": _rewrite(tmp / "two.pt", [*entries, ("evil/data.pkl", alt), ("evil/version", b"3\n")]),
        "root-data-pkl": _rewrite(tmp / "root.pt", [("data.pkl", alt), *entries]),
        "no-folder": _rewrite(tmp / "flat.pt", [(n.split("/", 1)[1], d) for n, d in entries]),
        "no-version": _rewrite(tmp / "nover.pt", [(n, d) for n, d in entries if not n.endswith("/version")]),
        # ambiguous: torch picks one of two equal names by a binary search; we refuse
        "duplicate-first": _rewrite(tmp / "dup1.pt", [(f"{prefix}/data.pkl", alt), *entries]),
        "duplicate-last": _rewrite(tmp / "dup2.pt", [*entries, (f"{prefix}/data.pkl", alt)]),
    }
    return out


def test_archive_layouts_differential_against_torch_load(tmp_path: Path) -> None:
    import warnings

    base = tmp_path / "base.pt"
    torch.save({"hparams": {"max_length": 1024}, "w": torch.zeros(2)}, base)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        layouts = _layouts(base, tmp_path)
    accepted_by_torch = 0
    for name, path in layouts.items():
        ours, theirs = _we_read(path), _torch_reads(path)
        if name.startswith("duplicate"):
            assert isinstance(ours, str) and "ambiguous" in ours, (name, ours)
            continue
        if isinstance(theirs, str):
            assert isinstance(ours, str) and ours.startswith("refused"), (name, ours, theirs)
        else:
            accepted_by_torch += 1
            assert ours == theirs, (name, ours, theirs)
    assert accepted_by_torch == 6


def test_encrypted_entry_is_refused(tmp_path: Path) -> None:
    path = _zip_like_torch(tmp_path / "enc.pt", pickle.dumps({"a": 1}, protocol=2))
    raw = bytearray(path.read_bytes())
    # set the "encrypted" flag bit in the local header and the central directory entry of data.pkl
    for sig, flag_at in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        at = raw.find(sig)
        raw[at + flag_at] |= 1
    path.write_bytes(bytes(raw))
    with pytest.raises(ExtractionError, match="encrypted"):
        read_data_pkl(path)
    run_cli(["extract", f"torch:{path}"]).assert_input_error("encrypted")


# --- 3. unbounded work ----------------------------------------------------------------------------------

@pytest.mark.slow
def test_zip_bomb_is_refused_before_it_inflates(tmp_path: Path) -> None:
    path = tmp_path / "bomb.pt"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("archive/data.pkl", P2 + b"N" * (200 * 1024 * 1024) + b".")
        zf.writestr("archive/version", b"3\n")
    assert path.stat().st_size < 1024 * 1024
    res = run_cli(["extract", f"torch:{path}"])
    res.assert_input_error("data.pkl of 209715203 bytes")
    res.assert_limit("pickle_bytes")
    # Refused from the archive's directory: nothing inflated, the compressed data never read.
    res.assert_bounded(read_at_most=4096, inflated_at_most=0)


def _bomb_cases() -> dict[str, bytes]:
    n = 3_000_000
    shared = P2 + b"]q\x00" + b"N" + b"a"  # L0 = [None], memo 0
    for i in range(1, 40):  # L(i) = [L(i-1), L(i-1)]: 2**40 leaves when walked as a tree
        shared += b"]" + b"h" + bytes([i - 1]) + b"a" + b"h" + bytes([i - 1]) + b"a" + b"q" + bytes([i])
    return {
        "empty-sets": P2 + b"]" + (b"\x8fa" * n) + b".",
        "memo-refs": P2 + b"]" + b"Nq\x00a" + (b"h\x00a" * (n * 2)) + b".",
        "shared-dag": shared + b".",
        "self-reference": P2 + b"]q\x00h\x00a.",
        "deep-lists": P2 + b"]" * 5000 + b"a" * 4999 + b".",
        "huge-int": P2 + b"\x8b" + struct.pack("<i", 4000) + b"\x01" * 4000 + b".",
        "huge-shape": P2 + b"}" + _str("w") + _global("torch._utils._rebuild_tensor_v2") + b"(" + b"(" +
                      _str("storage") + _global("torch.FloatStorage") + _str("0") + _str("cpu") + b"K\x01t" +
                      b"Q" + b"K\x00" + b"(" + b"\x8a\x08" + b"\xff" * 7 + b"\x7f" + b"\x8a\x08" + b"\xff" * 7 +
                      b"\x7f" + b"t" + b"(K\x01K\x01t" + b"\x89" + b"}" + b"tRs.",
    }


#: The limit that stops each crafted pickle (None: refused as corrupt before any limit is reached).
_BOMB_LIMITS = {"empty-sets": "objects", "memo-refs": "pickle_ops", "shared-dag": "objects", "self-reference": None,
                "deep-lists": "depth", "huge-int": "int_digits", "huge-shape": None}


@pytest.mark.slow
@pytest.mark.parametrize("case", sorted(_bomb_cases()))
def test_crafted_pickles_are_refused_within_bounds(case: str, tmp_path: Path) -> None:
    data = _bomb_cases()[case]
    path = _zip_like_torch(tmp_path / f"{case}.pt", data)
    res = run_cli(["extract", f"torch:{path}"])
    limit = _BOMB_LIMITS[case]
    if limit is None:
        res.assert_input_error("corrupt checkpoint pickle")
    else:
        res.assert_limit(limit)
    res.assert_bounded(inflated_at_most=len(data))
    with pytest.raises(ExtractionError):
        safe_pickle.loads(data, case)


def test_limits_are_named_and_raisable(tmp_path: Path) -> None:
    data = P2 + b"]" * 100 + b"a" * 99 + b"."
    with pytest.raises(LimitError) as exc:
        safe_pickle.loads(data, "deep.pkl")
    assert exc.value.limit == "depth"
    assert safe_pickle.loads(data, "deep.pkl", Limits(depth=200)) is not None
    path = _zip_like_torch(tmp_path / "deep.pt", P2 + b"}" + _str("x") + b"]" * 100 + b"a" * 99 + b"s.")
    run_cli(["extract", f"torch:{path}"]).assert_input_error("depth limit (64)", "--limit depth=N")
    assert run_cli(["extract", f"torch:{path}", "--limit", "depth=200"]).rc == 0


def test_legacy_file_nested_5000_deep_is_an_input_error(tmp_path: Path) -> None:
    path = tmp_path / "deep_legacy.pt"
    magic = pickle.dumps(0x1950A86A20F9469CFC6C, protocol=2)
    body = P2 + b"}" + _str("x") + b"]" * 5000 + b"a" * 4999 + b"s."
    path.write_bytes(magic + pickle.dumps(1001, protocol=2) + pickle.dumps({}, protocol=2) + body)
    res = run_cli(["extract", f"torch:{path}"])
    res.assert_limit("depth")
    res.assert_bounded()


def test_no_payload_runs_anywhere(tmp_path: Path) -> None:
    sentinel = tmp_path / "pwned"
    payload = (b"cposix\nsystem\n" + _str(f"touch {sentinel}") + b"\x85R")
    cases = {
        "zip": _zip_like_torch(tmp_path / "z.pt", P2 + payload + b"."),
        "legacy": tmp_path / "l.pt",
        "build-then-reduce": _zip_like_torch(tmp_path / "b.pt", P2 + _global("torch.Size") + b"}" + _str(
            "__call__") + _global("posix.system") + b"sb" + _str(f"touch {sentinel}") + b"\x85R."),
    }
    cases["legacy"].write_bytes(pickle.dumps(0x1950A86A20F9469CFC6C, protocol=2) + pickle.dumps(1001, protocol=2)
                                + pickle.dumps({}, protocol=2) + P2 + payload + b".")
    for path in cases.values():
        res = run_cli(["extract", f"torch:{path}"])
        res.assert_input_error("refused")
    sentinel_absent(sentinel)

