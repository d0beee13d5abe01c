"""``parity.golden`` on its own, with small arrays and records written in the test (no model runs): loading golden
sets and their errors, the hashes (the recipes the module states, checked against hashes of literal bytes written
out here), recording and the refusals of ``load_recording``. Expected values come from the module's documented
contract and the README ("Golden inputs"), never from the module's own output."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from driftguard.errors import LimitError
from driftguard.parity import golden
from driftguard.parity.errors import ParityError
from driftguard.readers.limits import DEFAULT
from tests.parity.conftest import np


def sha(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def npz(path: Path, **arrays: Any) -> Path:
    np.savez(path, **arrays)
    return path


# --- a golden set ------------------------------------------------------------------------------------------------

def test_a_set_counts_its_samples_and_slices_them(tmp_path: Path) -> None:
    arrays = golden.GoldenSet(tmp_path / "g.npz", "d", arrays={"x": np.arange(10).reshape(5, 2),
                                                              "y": np.arange(5)})
    assert arrays.count == 5
    batch = arrays.batch(1, 3)
    assert isinstance(batch, dict) and sorted(batch) == ["x", "y"]
    assert batch["x"].tolist() == [[2, 3], [4, 5]] and batch["y"].tolist() == [1, 2]
    records = golden.GoldenSet(tmp_path / "g.jsonl", "d", records=({"text": "a"}, {"text": "b"}, {"text": "c"}))
    assert records.count == 3
    assert records.batch(1, 3) == [{"text": "b"}, {"text": "c"}]
    assert records.batch(0, 1) == [{"text": "a"}]
    assert golden.GoldenSet(tmp_path / "g.npz", "d").count == 0


def test_where_a_models_recording_lies(tmp_path: Path) -> None:
    """``<stem>.<model>.reference.npz`` beside the inputs, the stem being the name less its last suffix; the old
    unkeyed one ``<stem>.reference.npz``."""
    gs = golden.GoldenSet(tmp_path / "sub" / "eval.v2.npz", "d")
    assert gs.recording("m") == tmp_path / "sub" / "eval.v2.m.reference.npz"
    assert gs.unkeyed_recording == tmp_path / "sub" / "eval.v2.reference.npz"
    digest = hashlib.sha256(b"a b").hexdigest()[:8]
    assert gs.recording("a b") == tmp_path / "sub" / f"eval.v2.a_b-{digest}.reference.npz"


def test_a_set_and_a_provenance_are_frozen(tmp_path: Path) -> None:
    import dataclasses

    with pytest.raises(dataclasses.FrozenInstanceError):
        golden.GoldenSet(tmp_path / "g.npz", "d").digest = "e"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        golden.Provenance("a", "b", "c", "d").config = "e"  # type: ignore[misc]


def test_an_empty_model_name_gets_a_digest_not_an_empty_part() -> None:
    assert golden.file_part("") == "-" + hashlib.sha256(b"").hexdigest()[:8]
    assert golden.file_part("Az09-_") == "Az09-_"
    every = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_"  # letters, digits, - and _
    assert golden.file_part(every) == every and golden.file_part(every[::-1]) == every[::-1]
    assert golden.file_part("é") == "_-" + hashlib.sha256("é".encode()).hexdigest()[:8]


# --- hashes ------------------------------------------------------------------------------------------------------

def test_a_files_digest_is_the_sha256_of_its_bytes_also_past_one_read(tmp_path: Path) -> None:
    small = tmp_path / "small.bin"
    small.write_bytes(b"abc")
    assert golden.sha256_file(small) == "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    big = tmp_path / "big.bin"
    data = bytes(range(256)) * (3 * 4096 + 7)  # 3 MiB and a bit: several reads of 1 MiB
    big.write_bytes(data)
    assert golden.sha256_file(big) == sha(data)
    assert golden.artifact_digest(small) == golden.sha256_file(small)


def test_a_folder_artifacts_digest_hashes_each_files_relative_name_and_digest_in_order(tmp_path: Path) -> None:
    folder = tmp_path / "model"
    (folder / "sub").mkdir(parents=True)
    (folder / "b.txt").write_bytes(b"B")
    (folder / "sub" / "a.txt").write_bytes(b"A")
    (folder / "a.txt").write_bytes(b"")
    expected = hashlib.sha256()
    for name, content in (("a.txt", b""), ("b.txt", b"B"), ("sub/a.txt", b"A")):
        expected.update(name.encode() + b"\0" + sha(content).encode() + b"\0")
    assert golden.artifact_digest(folder) == "sha256:" + expected.hexdigest()
    with pytest.raises(ParityError, match="artifact not found") as err:
        golden.artifact_digest(tmp_path / "missing")
    assert err.value.path == str(tmp_path / "missing")


def test_a_configs_digest_is_its_values_as_sorted_json() -> None:
    text = '{"a": "x", "b": [1, 2], "c": null}'
    assert golden.config_digest({"c": None, "b": [1, 2], "a": "x"}) == sha(text.encode())
    assert golden.config_digest({}) == sha(b"{}")
    nested = b'{"n": {"y": [{"a": 1, "b": 0}], "z": 1}}'  # sorted inside too
    assert golden.config_digest({"n": {"z": 1, "y": [{"b": 0, "a": 1}]}}) == sha(nested)
    # non-JSON values are written as their str(); non-ASCII escaped
    assert golden.config_digest({"p": Path("m.onnx"), "t": "é"}) == sha(b'{"p": "m.onnx", "t": "\\u00e9"}')


def test_the_outputs_digest_is_name_dtype_shape_then_bytes_by_name() -> None:
    a = np.array([[1, 2], [3, 4]], dtype="<i4")
    b = np.array([0.5], dtype="<f8")
    expected = hashlib.sha256()
    expected.update(b'["a", "<i4", [2, 2]]\0' + a.tobytes())
    expected.update(b'["b", "<f8", [1]]\0' + b.tobytes())
    assert golden.outputs_digest({"b": b, "a": a}) == "sha256:" + expected.hexdigest()
    # a transposed view is hashed in C order: the same digest as its contiguous copy, not its memory's
    t = np.arange(6, dtype="<i2").reshape(2, 3).T
    expected = hashlib.sha256(b'["t", "<i2", [3, 2]]\0' + np.array([[0, 3], [1, 4], [2, 5]], "<i2").tobytes())
    assert golden.outputs_digest({"t": t}) == "sha256:" + expected.hexdigest()
    assert golden.outputs_digest({}) == sha(b"")


# --- loading inputs ----------------------------------------------------------------------------------------------

def test_a_folder_holds_every_npz_and_jsonl_but_recordings(tmp_path: Path) -> None:
    npz(tmp_path / "b.npz", x=np.zeros((2, 1)))
    (tmp_path / "a.jsonl").write_text('{"text": "hi"}\n', encoding="utf-8")
    npz(tmp_path / "b.m.reference.npz", y=np.zeros((2, 1)))
    (tmp_path / "notes.txt").write_text("x", encoding="utf-8")
    (tmp_path / "c.npz").mkdir()
    sets = golden.load(tmp_path)
    assert [gs.path.name for gs in sets] == ["a.jsonl", "b.npz"]
    assert sets[0].records == ({"text": "hi"},) and sets[0].digest == sha(b'{"text": "hi"}\n')
    assert sets[1].count == 2 and sets[1].digest == golden.sha256_file(tmp_path / "b.npz")
    assert [gs.path for gs in golden.load(tmp_path / "b.npz")] == [tmp_path / "b.npz"]


def test_a_folder_without_inputs_is_an_error(tmp_path: Path) -> None:
    npz(tmp_path / "g.m.reference.npz", y=np.zeros((2, 1)))
    with pytest.raises(ParityError, match=r"no golden inputs \(\*\.npz, \*\.jsonl\) in the folder") as err:
        golden.load(tmp_path)
    assert err.value.path == str(tmp_path)


@pytest.mark.parametrize("name", ["missing.npz", "folder.npz"])
def test_golden_inputs_not_found(tmp_path: Path, name: str) -> None:
    (tmp_path / "folder.npz").mkdir()
    with pytest.raises(ParityError, match="golden inputs not found"):
        golden.load_file(tmp_path / name)


@pytest.mark.parametrize("name", ["g.json", "g.txt", "g.zip", "g.npy", "g.yaml", "g"])
def test_only_npz_and_jsonl_are_golden_inputs(tmp_path: Path, name: str) -> None:
    (tmp_path / name).write_text('{"text": "a"}\n', encoding="utf-8")
    with pytest.raises(ParityError, match=r"must be \.npz \(named arrays\) or \.jsonl \(records\)"):
        golden.load_file(tmp_path / name)


def test_every_array_needs_the_same_sample_count(tmp_path: Path) -> None:
    with pytest.raises(ParityError) as err:
        golden.load_file(npz(tmp_path / "g.npz", b=np.zeros(3), a=np.zeros((2, 4))))
    assert err.value.message == "every golden array needs the same number of samples on axis 0 (a: 2, b: 3)"
    with pytest.raises(ParityError) as err:
        golden.load_file(npz(tmp_path / "s.npz", a=np.zeros(2), s=np.float64(1.0)))
    assert err.value.message == "every golden array needs the same number of samples on axis 0 (a: 2, s: scalar)"
    with pytest.raises(ParityError, match="samples on axis 0"):  # a scalar alone has no sample axis either
        golden.load_file(npz(tmp_path / "one.npz", s=np.float64(1.0)))
    assert golden.load_file(npz(tmp_path / "ok.npz", a=np.zeros(3), b=np.ones((3, 2)))).count == 3


def test_an_empty_npz_and_a_recording_are_not_inputs(tmp_path: Path) -> None:
    with pytest.raises(ParityError, match="no arrays in the golden file"):
        golden.load_file(npz(tmp_path / "empty.npz"))
    with pytest.raises(ParityError, match="'__driftguard__' is reserved"):
        golden.load_file(npz(tmp_path / "rec.npz", __driftguard__=np.zeros(2), y=np.zeros(2)))


def test_records_one_object_a_line_blank_lines_skipped_bom_allowed(tmp_path: Path) -> None:
    path = tmp_path / "g.jsonl"
    path.write_bytes(b'\xef\xbb\xbf{"text": "a"}\n\n   \n{"text": "b", "label": 1}\n')
    assert golden.load_file(path).records == ({"text": "a"}, {"text": "b", "label": 1})


@pytest.mark.parametrize(("content", "message", "line"), [
    (b'{"text": "a"}\n\n[1, 2]\n', "each line must be a JSON object (a record)", 3),
    (b'{"text": "a"}\n{"text": \n', "invalid JSON", 2),
    (b'\n{"text": "a"}\n{"text": "\xff"}\n', "not UTF-8 text (byte 25)", 3),
    (b'{"text": "a"}\n{"text": "\xff"}\n', "not UTF-8 text (byte 24)", 2),
    (b'\xff\n', "not UTF-8 text (byte 0)", 1),
    (b"\n \n", "no records in the golden file", None),
])
def test_a_bad_record_names_its_line(tmp_path: Path, content: bytes, message: str, line: int | None) -> None:
    path = tmp_path / "g.jsonl"
    path.write_bytes(content)
    with pytest.raises(ParityError) as err:
        golden.load_file(path)
    assert err.value.message.startswith(message) and (err.value.path, err.value.line) == (str(path), line)


def test_a_record_past_a_limit_is_a_limit_error_at_its_line(tmp_path: Path) -> None:
    path = tmp_path / "g.jsonl"
    path.write_text('{"a": 1}\n\n{"a": ' + "[" * 200 + "]" * 200 + "}\n", encoding="utf-8")
    with pytest.raises(LimitError) as err:
        golden.load_file(path, DEFAULT)
    assert err.value.limit == "depth" and err.value.line == 3


# --- recordings --------------------------------------------------------------------------------------------------

PROV = golden.Provenance("sha256:in", "sha256:art", "sha256:cfg", "onnxruntime")


def recorded(tmp_path: Path, model: str = "m") -> tuple[golden.GoldenSet, dict[str, Any]]:
    gs = golden.load_file(npz(tmp_path / "g.npz", x=np.zeros((2, 3))))
    outputs = {"logits": np.array([[1.0, 2.0], [3.0, 4.0]], dtype=np.float32), "ids": np.array([7, 8])}
    assert golden.record(gs, outputs, PROV, model=model) == gs.recording(model)
    return gs, outputs


def test_a_recording_holds_the_outputs_and_its_provenance(tmp_path: Path) -> None:
    gs, outputs = recorded(tmp_path)
    with np.load(tmp_path / "g.m.reference.npz", allow_pickle=False) as z:
        assert sorted(z.files) == ["__driftguard__", "ids", "logits"]
        meta = json.loads(str(z["__driftguard__"]))
    assert meta == {"version": 2, "inputs": "sha256:in", "artifact": "sha256:art", "config": "sha256:cfg",
                    "runner": "onnxruntime", "model": "m", "outputs": golden.outputs_digest(outputs)}
    assert PROV.to_dict() == {"version": 2, "inputs": "sha256:in", "artifact": "sha256:art", "config": "sha256:cfg",
                              "runner": "onnxruntime"}
    got = golden.load_recording(gs, lambda: PROV, model="m")
    assert got is not None and sorted(got) == ["ids", "logits"]
    assert got["logits"].tolist() == [[1.0, 2.0], [3.0, 4.0]] and got["ids"].tolist() == [7, 8]


def test_an_output_may_not_take_the_reserved_name(tmp_path: Path) -> None:
    gs = golden.load_file(npz(tmp_path / "g.npz", x=np.zeros((2, 3))))
    with pytest.raises(ParityError, match="an output may not be named '__driftguard__'"):
        golden.record(gs, {"__driftguard__": np.zeros(2)}, PROV, model="m")
    assert not gs.recording("m").exists()


def test_no_recording_is_none_and_asks_for_no_provenance(tmp_path: Path) -> None:
    gs = golden.load_file(npz(tmp_path / "g.npz", x=np.zeros((2, 3))))

    def never() -> golden.Provenance:
        raise AssertionError("the reference artifact is hashed only when a recording exists")

    assert golden.load_recording(gs, never, model="m") is None
    recorded(tmp_path, "other")
    assert golden.load_recording(gs, never, model="m") is None


def test_a_recording_the_trusted_revision_does_not_hold_is_not_used(tmp_path: Path) -> None:
    gs, _ = recorded(tmp_path)
    asked: list[Path] = []

    def trusted(path: Path) -> bool:
        asked.append(path)
        return False

    assert golden.load_recording(gs, lambda: PROV, trusted=trusted, model="m") is None
    assert asked == [tmp_path / "g.m.reference.npz"]
    assert golden.load_recording(gs, lambda: PROV, trusted=lambda p: True, model="m") is not None


@pytest.mark.parametrize(("changed", "named"), [
    ({"inputs": "sha256:other"}, "the inputs changed"),
    ({"artifact": "sha256:other"}, "the artifact changed"),
    ({"config": "sha256:other"}, "the config changed"),
    ({"runner": "torch"}, "the runner changed"),
    ({"inputs": "sha256:other", "config": "sha256:other", "runner": "torch"},
     "the inputs, config, runner changed"),
])
def test_a_stale_recording_names_what_changed(tmp_path: Path, changed: dict[str, str], named: str) -> None:
    gs, _ = recorded(tmp_path)
    now = golden.Provenance(**{**{"inputs": PROV.inputs, "artifact": PROV.artifact, "config": PROV.config,
                                  "runner": PROV.runner}, **changed})
    with pytest.raises(ParityError) as err:
        golden.load_recording(gs, lambda: now, model="m")
    assert err.value.message == (f"stale recording of model 'm': {named} since it was recorded; "
                                 "re-record with `driftguard golden record --model m`")
    assert err.value.path == str(tmp_path / "g.m.reference.npz")


def forge(path: Path, meta: Any, **arrays: Any) -> None:
    np.savez(path, __driftguard__=np.array(json.dumps(meta)), **arrays)


def test_a_recording_of_another_version_is_stale(tmp_path: Path) -> None:
    gs, outputs = recorded(tmp_path)
    meta = {**PROV.to_dict(), "version": 1, "model": "m", "outputs": golden.outputs_digest(outputs)}
    forge(tmp_path / "g.m.reference.npz", meta, **outputs)
    with pytest.raises(ParityError, match="stale recording of model 'm': the version changed since"):
        golden.load_recording(gs, lambda: PROV, model="m")
    forge(tmp_path / "g.m.reference.npz", {**meta, "version": 2, "runner": "x"}, **outputs)
    with pytest.raises(ParityError, match="the runner changed since"):
        golden.load_recording(gs, lambda: PROV, model="m")
    del meta["version"]
    forge(tmp_path / "g.m.reference.npz", {**meta, "config": "y", "runner": "z"}, **outputs)
    with pytest.raises(ParityError, match="the version, config, runner changed since"):
        golden.load_recording(gs, lambda: PROV, model="m")


def test_edited_outputs_are_refused(tmp_path: Path) -> None:
    gs, outputs = recorded(tmp_path)
    meta = {**PROV.to_dict(), "model": "m", "outputs": golden.outputs_digest(outputs)}
    forge(tmp_path / "g.m.reference.npz", meta, **{**outputs, "ids": np.array([7, 9])})
    with pytest.raises(ParityError) as err:
        golden.load_recording(gs, lambda: PROV, model="m")
    assert err.value.message == ("the recording's outputs are not the ones recorded for model 'm' (edited after "
                                 "`driftguard golden record`): refused; re-record with "
                                 "`driftguard golden record --model m`")


@pytest.mark.parametrize("forged", ["sha256:" + "0" * 64, "sha256:" + "f" * 64, "", None])
def test_outputs_whose_digest_is_not_the_recorded_one_are_refused_either_way(tmp_path: Path, forged: Any) -> None:
    gs, outputs = recorded(tmp_path)
    forge(tmp_path / "g.m.reference.npz", {**PROV.to_dict(), "model": "m", "outputs": forged}, **outputs)
    with pytest.raises(ParityError, match="the recording's outputs are not the ones recorded"):
        golden.load_recording(gs, lambda: PROV, model="m")


def test_the_version_is_compared_by_value(tmp_path: Path) -> None:
    """JSON's 2.0 is the number 2 (RFC 8259 does not tell integers from other numbers): the same version."""
    gs, outputs = recorded(tmp_path)
    meta = {**PROV.to_dict(), "version": 2.0, "model": "m", "outputs": golden.outputs_digest(outputs)}
    forge(tmp_path / "g.m.reference.npz", meta, **outputs)
    got = golden.load_recording(gs, lambda: PROV, model="m")
    assert got is not None and sorted(got) == ["ids", "logits"]


def test_the_model_is_named_never_passed_by_position(tmp_path: Path) -> None:
    gs = golden.load_file(npz(tmp_path / "g.npz", x=np.zeros((2, 3))))
    with pytest.raises(TypeError):
        golden.record(gs, {"y": np.ones((2, 1))}, PROV, "m")  # type: ignore[misc]
    with pytest.raises(TypeError):
        golden.load_recording(gs, lambda: PROV, DEFAULT, None, "m")  # type: ignore[misc]


def test_an_unreadable_recording_names_the_model_and_the_command(tmp_path: Path) -> None:
    gs, outputs = recorded(tmp_path, "my model")
    target = gs.recording("my model")
    np.savez(target, **outputs)  # no metadata
    with pytest.raises(ParityError) as err:
        golden.load_recording(gs, lambda: PROV, model="my model")
    assert err.value.message == ("unreadable recording of model 'my model' ('__driftguard__'); "
                                 "re-record with `driftguard golden record --model 'my model'`")
    forge(target, ["not", "an", "object"], **outputs)
    with pytest.raises(ParityError) as err:
        golden.load_recording(gs, lambda: PROV, model="my model")
    assert err.value.message == ("unreadable recording of model 'my model' (its metadata is not an object); "
                                 "re-record with `driftguard golden record --model 'my model'`")
    assert err.value.path == str(target)


def test_a_recording_from_before_per_model_recordings_is_refused(tmp_path: Path) -> None:
    gs = golden.load_file(npz(tmp_path / "g.npz", x=np.zeros((2, 3))))
    npz(tmp_path / "g.reference.npz", y=np.zeros(2))
    with pytest.raises(ParityError) as err:
        golden.load_recording(gs, lambda: PROV, model="m")
    assert err.value.message == ("a recording of before per-model recordings (it does not say which model's "
                                 "reference it holds): for model 'm', re-record with `driftguard golden record "
                                 "--model m`, which writes g.m.reference.npz; then delete g.reference.npz")
    assert err.value.path == str(tmp_path / "g.reference.npz")


def test_an_exceptions_first_line_at_most_200_characters_or_its_type() -> None:
    assert golden._short(ValueError("first\nsecond")) == "first"
    assert golden._short(ValueError("x" * 300)) == "x" * 200
    assert golden._short(KeyError()) == "KeyError"


# --- batches -----------------------------------------------------------------------------------------------------

def test_batches_giving_other_names_do_not_join() -> None:
    with pytest.raises(KeyError):
        golden.concat([{"a": np.zeros(1), "b": np.zeros(1)}, {"a": np.zeros(1)}])
    joined = golden.concat([{"a": np.zeros(1), "b": np.ones(1)}, {"b": np.ones(1), "a": np.zeros(1)}])
    assert list(joined) == ["a", "b"]  # in the first batch's order


def test_batched_outputs_are_joined_on_the_sample_axis() -> None:
    assert golden.concat([]) == {}
    joined = golden.concat([{"a": np.array([[1, 2]]), "b": [0.5]}, {"a": np.array([[3, 4], [5, 6]]), "b": [1.5]}])
    assert sorted(joined) == ["a", "b"]
    assert joined["a"].tolist() == [[1, 2], [3, 4], [5, 6]] and joined["b"].tolist() == [0.5, 1.5]


def test_a_fifo_named_like_the_recording_is_refused_not_written_to(tmp_path: Path) -> None:
    """The recording's path is the run's choice, not one named on the command line: a device or FIFO there (a
    checked-in trap) is refused, as "driftguard golden record" refuses anything but a regular file."""
    import os

    from driftguard.errors import UsageError

    gs = golden.load_file(npz(tmp_path / "g.npz", x=np.zeros((2, 3))))
    os.mkfifo(gs.recording("m"))
    reader = os.open(gs.recording("m"), os.O_RDONLY | os.O_NONBLOCK)  # so a write would not block the test
    try:
        with pytest.raises(UsageError, match="not a regular file"):
            golden.record(gs, {"y": np.ones((2, 1))}, PROV, model="m")
    finally:
        os.close(reader)
