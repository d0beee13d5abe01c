"""Hostile parity inputs and reports, as properties: a mutated golden ``.npz`` or ``.jsonl``, a mutated recording,
or a mutated JSON report either reads or raises DriftguardError (exit 2), never anything else (exit 3).
Mutations: byte edits of the whole file, of one ``.npy`` member (its header included), entries duplicated, dropped
or renamed; structural edits of records and reports. Derandomized, seconds; ``benchmarks/fuzz.py`` runs long."""

from __future__ import annotations

import io
import json
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from driftguard.ci import merge
from driftguard.parity import golden
from driftguard.readers.limits import Limits
from tests.fuzz.test_properties import EXAMPLES, _only_driftguard_errors, byte_edits, text_mutation, tree_edits

#: Small limits, so a mutation that inflates a size meets a limit instead of taking the machine's memory.
SMALL = Limits(golden_bytes=1 << 20, zip_entries=64, objects=5000, depth=32)
ROOT = Path(__file__).resolve().parents[2]


def _npz(**arrays: np.ndarray) -> bytes:  # type: ignore[type-arg]
    buf = io.BytesIO()
    np.savez(buf, **arrays)  # type: ignore[arg-type]  # numpy's stubs want the first array positional
    return buf.getvalue()


NPZ_SEEDS = [
    _npz(x=np.arange(24, dtype=np.float32).reshape(6, 4)),
    _npz(input_ids=np.arange(12, dtype=np.int64).reshape(3, 4), attention_mask=np.ones((3, 4), dtype=np.int64)),
    _npz(f=np.asfortranarray(np.arange(6.0).reshape(2, 3)), s=np.array(["a", "bc"])),
]
JSONL_SEED = b'{"text": "hello", "label": 1}\n{"text": "world", "reference": [1, 2]}\n'


@st.composite
def npz_mutation(draw: st.DrawFn, data: bytes) -> bytes:
    """An ``.npz`` with one edit: the file's bytes, one member's bytes (its ``.npy`` header too), an entry
    duplicated, dropped or renamed."""
    op = draw(st.integers(0, 4))
    if op == 0:
        return draw(byte_edits(data))
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        entries = [(i.filename, zf.read(i)) for i in zf.infolist()]
    i = draw(st.integers(0, len(entries) - 1))
    if op == 1:
        entries[i] = (entries[i][0], draw(byte_edits(entries[i][1])))
    elif op == 2:
        entries.append(entries[i])
    elif op == 3:
        del entries[i]
    else:
        entries[i] = (draw(st.sampled_from(["x", "x.npy", "../x.npy", "a/b.npy", "__driftguard__.npy", ""])),
                      entries[i][1])
    out = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # duplicate names on purpose
        with zipfile.ZipFile(out, "w", draw(st.sampled_from([zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED]))) as zf:
            for name, payload in entries:
                zf.writestr(name or "_", payload)
    return out.getvalue()


@EXAMPLES
@given(data=st.data())
def test_mutated_golden_npz_reads_or_is_an_input_error(data: st.DataObject,
                                                       tmp_path_factory: pytest.TempPathFactory) -> None:
    seed = data.draw(st.sampled_from(NPZ_SEEDS), label="seed")
    path = tmp_path_factory.mktemp("golden") / "golden.npz"
    path.write_bytes(data.draw(npz_mutation(seed)))
    _only_driftguard_errors(lambda: golden.load_file(path, SMALL))


@EXAMPLES
@given(data=st.data())
def test_mutated_golden_jsonl_reads_or_is_an_input_error(data: st.DataObject,
                                                         tmp_path_factory: pytest.TempPathFactory) -> None:
    path = tmp_path_factory.mktemp("golden") / "golden.jsonl"
    path.write_bytes(data.draw(text_mutation("golden.json", JSONL_SEED)))
    _only_driftguard_errors(lambda: golden.load_file(path, SMALL))


@EXAMPLES
@given(data=st.data())
def test_mutated_recording_is_used_refused_or_an_input_error(data: st.DataObject,
                                                             tmp_path_factory: pytest.TempPathFactory) -> None:
    folder = tmp_path_factory.mktemp("recording")
    np.savez(folder / "golden.npz", x=np.arange(8, dtype=np.float32).reshape(4, 2))
    gs = golden.load_file(folder / "golden.npz")
    provenance = golden.Provenance(gs.digest, "none", "sha256:c", "callable")
    golden.record(gs, {"y": gs.arrays["x"] * 2}, provenance, model="m")
    gs.recording("m").write_bytes(data.draw(npz_mutation(gs.recording("m").read_bytes())))
    _only_driftguard_errors(lambda: golden.load_recording(gs, lambda: provenance, SMALL, model="m"))


def _report_seed() -> bytes:
    from driftguard import api

    report = api.check(ROOT / "examples" / "summarizer" / "driftguard.yaml", today=__import__("datetime").date(
        2026, 12, 1))
    return json.dumps(report.to_dict()).encode()


@pytest.fixture(scope="module")
def report_seed() -> bytes:
    return _report_seed()


@EXAMPLES
@given(data=st.data())
def test_mutated_report_is_read_or_an_input_error(data: st.DataObject, report_seed: bytes,
                                                  tmp_path_factory: pytest.TempPathFactory) -> None:
    if data.draw(st.booleans()):
        mutated = json.dumps(data.draw(tree_edits(json.loads(report_seed)))).encode()
    else:
        mutated = data.draw(byte_edits(report_seed))
    path = tmp_path_factory.mktemp("report") / "shard.json"
    path.write_bytes(mutated)
    _only_driftguard_errors(lambda: merge.merge([(str(path), merge.load(path, SMALL))]))
