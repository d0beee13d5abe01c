"""Triton config.pbtxt extraction: mapping, lines, defaults, templates, errors, and equivalence on the corpus."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from google.protobuf import text_format

from driftguard import api
from driftguard.errors import ExtractionError, TemplateError
from driftguard.extractors.triton_parse import model_config_pb2

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "triton"
CORPUS = Path(__file__).resolve().parents[1] / "corpus" / "triton"


def corpus_files() -> list[Path]:
    """Every file of corpus/triton, plus the Triton configs that corpus/runtime holds beside engine files."""
    files = [p for p in CORPUS.iterdir() if p.is_file() and not p.name.endswith(".tsv") and p.name != "README.md"]
    runtime = CORPUS.parent / "runtime"
    files += [p for p in runtime.iterdir() if ".pbtxt" in p.name]
    return sorted(files)


def test_corpus_files_are_all_walked() -> None:
    """Every Triton config of the corpus (triton/ plus those in runtime/), none left out."""
    assert len(corpus_files()) == 83


def parses_with_official_schema(path: Path) -> bool:
    """The official parser accepts the file and it sets a field. An empty ModelConfig parses, and Triton serves
    it by auto-completing from the model (qa/L0_model_config's empty_config), but it states nothing for
    driftguard to read: refused by design (every kind recognises a field of its format)."""
    config = model_config_pb2().ModelConfig()
    try:
        text_format.Parse(path.read_text(), config)
    except text_format.ParseError:
        return False
    return bool(config.ListFields())


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "driftguard", *args], capture_output=True, text=True, timeout=120)


# -- mapping ------------------------------------------------------------------------------------------------

def test_sequence_batching_config_maps_to_canonical_keys_with_lines() -> None:
    cfg = api.extract(FIXTURES / "good" / "simple_dyna_sequence.pbtxt")
    assert cfg.kind == "triton"
    v = cfg["batching.max_batch_size"]
    assert (v.value, v.explicit, v.origin.line) == (8, True, 29)
    assert cfg["batching.sequence"].value is True
    assert cfg["batching.dynamic"].value is False and not cfg["batching.dynamic"].explicit
    assert cfg["batching.max_queue_delay_us"].value == 10000
    assert cfg["batching.max_queue_delay_us"].origin.line == 34
    assert cfg["io.inputs.INPUT.dtype"].value == "int32"
    # max_batch_size > 0: the implicit batch dimension is made explicit
    assert cfg["io.inputs.INPUT.shape"].value == [-1, 1]
    assert cfg["triton.inputs.INPUT.dims"].value == [1]
    assert cfg["io.inputs.INPUT.shape"].origin.line == 80
    # two CPU instances written explicitly
    assert cfg["serving.instance_count"].value == 2
    assert cfg["serving.device_kind"].value == "cpu"
    assert cfg["serving.backend"].value == "onnxruntime"
    # Triton core fills preferred_batch_size with [max_batch_size] for the oldest strategy
    pref = cfg["batching.preferred_batch_sizes"]
    assert pref.value == [8] and not pref.explicit and "§7" in (pref.note or "")
    assert cfg["triton.parameters.execute_delay_ms"].value == 3


def test_no_batching_keeps_dims_as_written() -> None:
    cfg = api.extract(FIXTURES / "good" / "densenet_onnx.pbtxt")
    assert cfg["batching.max_batch_size"].value == 0
    shape = cfg["io.inputs.data_0.shape"].value
    assert shape == cfg["triton.inputs.data_0.dims"].value  # no batch dim added
    assert cfg["triton.inputs.data_0.reshape"].value == [1, 3, 224, 224]
    # instance_group absent: one group, KIND_AUTO (documented default)
    assert cfg["serving.device_kind"].value == "auto" and not cfg["serving.device_kind"].explicit


def test_tensorrt_accelerator_precision() -> None:
    cfg = api.extract(FIXTURES / "good" / "ort_trt.pbtxt")
    assert cfg["precision.compute"].value == "float16"
    assert cfg["serving.accelerators"].value == ["tensorrt"]
    assert cfg["precision.compute"].origin.line is not None
    assert cfg["io.inputs.input.1.shape"].value == [-1, 1, 32, 100]  # tensor names with dots survive


def test_generation_parameters_map_to_generation_keys(tmp_path: Path) -> None:
    p = tmp_path / "config.pbtxt"
    p.write_text('backend: "python"\nmax_batch_size: 4\n'
                 'parameters { key: "temperature" value: { string_value: "0.7" } }\n'
                 'parameters: { key: "runtime_top_k" value: { string_value: "-1" } }\n'
                 'parameters { key: "end_id" value: { string_value: "2" } }\n')
    cfg = api.extract(p)
    assert cfg["generation.temperature"].value == 0.7
    assert cfg["generation.temperature"].origin.line == 3
    assert cfg["generation.top_k"].value == 0  # -1 and 0 both mean "off"
    assert cfg["generation.eos_token_id"].value == [2]
    assert cfg["triton.parameters.temperature"].value == 0.7


# -- templates ----------------------------------------------------------------------------------------------

def test_dollar_placeholder_is_one_clear_error() -> None:
    with pytest.raises(TemplateError) as info:
        api.extract(FIXTURES / "good" / "trtllm_preprocessing.pbtxt.template")
    err = info.value
    assert err.placeholder == "${triton_max_batch_size}"
    assert err.line == 29
    assert "--set triton_max_batch_size=" in err.message


def test_set_fills_dollar_placeholders_like_fill_template() -> None:
    path = FIXTURES / "good" / "trtllm_preprocessing.pbtxt.template"
    cfg = api.extract(path, substitutions={"triton_max_batch_size": "64", "max_queue_delay_microseconds": "500",
                                           "max_queue_size": "0", "preprocessing_instance_count": "2",
                                           "tokenizer_dir": "/models/tok"})
    assert cfg["batching.max_batch_size"].value == 64
    assert cfg["batching.max_batch_size"].origin.line == 29
    assert cfg["batching.max_queue_delay_us"].value == 500
    assert cfg["batching.preferred_batch_sizes"].value == [64]
    assert cfg["serving.instance_count"].value == 2
    assert cfg["triton.parameters.tokenizer_dir"].value == "/models/tok"


def test_bare_name_placeholder_and_set() -> None:
    path = FIXTURES / "good" / "sherpa_scorer.pbtxt.template"
    with pytest.raises(TemplateError) as info:
        api.extract(path)
    assert info.value.placeholder == "MAX_BATCH" and info.value.line == 17
    cfg = api.extract(path, substitutions={"MAX_BATCH": "16", "SCORER_INSTANCE_NUM": "3", "ENCODER_DIM": "512"})
    assert cfg["batching.max_batch_size"].value == 16
    assert cfg["io.inputs.encoder_out.shape"].value == [-1, -1, 512]  # a bare name inside a list
    assert cfg["serving.instance_count"].value == 3


def test_hash_placeholder_names_its_line() -> None:
    with pytest.raises(TemplateError) as info:
        api.extract(FIXTURES / "bad" / "hash_placeholder.pbtxt")
    assert info.value.placeholder == "#MAX_BATCH" and info.value.line == 3
    cfg = api.extract(FIXTURES / "bad" / "hash_placeholder.pbtxt", substitutions={"MAX_BATCH": "2"})
    assert cfg["batching.max_batch_size"].value == 2


def test_placeholders_left_in_strings_are_reported_not_fatal(tmp_path: Path) -> None:
    p = tmp_path / "config.pbtxt"
    p.write_text('backend: "tensorrtllm"\nparameters { key: "engine_dir" value: { string_value: "${engine_dir}" } }\n')
    cfg = api.extract(p)
    assert cfg["triton.template.unfilled"].value == ["${engine_dir}"]
    assert cfg["triton.template.unfilled"].origin.line == 2


@pytest.mark.parametrize(("name", "line"), [
    ("bad_enum.pbtxt", 7), ("unclosed.pbtxt", None), ("unknown_field.pbtxt", 4)])
def test_invalid_configs_raise_with_line(name: str, line: int | None) -> None:
    with pytest.raises(ExtractionError) as info:
        api.extract(FIXTURES / "bad" / name)
    assert info.value.path and info.value.path.endswith(name)
    if line is not None:
        assert info.value.line == line


def test_a_negative_max_batch_size_is_refused_as_triton_refuses_it(tmp_path: Path) -> None:
    """Triton's ValidateModelConfig (core src/model_config_utils.cc @05295b70) refuses to load a model whose
    max_batch_size is negative; the config is no deployment to compare, so the check fails closed, naming the
    line. 0 is the documented "no batching"."""
    p = tmp_path / "config.pbtxt"
    p.write_text('name: "m"\nbackend: "onnxruntime"\n\nmax_batch_size: -1\n', encoding="utf-8")
    with pytest.raises(ExtractionError) as info:
        api.extract(p)
    assert info.value.message == ("max_batch_size -1: Triton refuses to load this model ('max_batch_size' must be "
                                  "non-negative value)")
    assert (info.value.path, info.value.line) == (str(p), 4)
    res = run_cli("extract", str(p))
    assert res.returncode == 2 and f"{p}:4:" in res.stderr and "Traceback" not in res.stderr
    p.write_text('name: "m"\nbackend: "onnxruntime"\nmax_batch_size: 0\n', encoding="utf-8")
    assert api.extract(p)["batching.max_batch_size"].value == 0


@pytest.mark.parametrize(("dims", "field"), [("dims: [ 0 ]", "dims [0]"), ("dims: [ -1, -2 ]", "dims [-1, -2]"),
                                             ("dims: [ 4 ] reshape: { shape: [ 2, 0 ] }", "reshape [2, 0]")])
def test_a_dimension_below_1_other_than_minus_1_is_refused_as_triton_refuses_it(tmp_path: Path, dims: str,
                                                                                 field: str) -> None:
    """Triton's ValidateIOShape (core src/model_config_utils.cc): "dimension must be integer >= 1, or -1 to
    indicate a variable-size dimension", for dims and for a reshape's shape."""
    p = tmp_path / "config.pbtxt"
    p.write_text('name: "m"\nbackend: "onnxruntime"\nmax_batch_size: 8\ninput [\n  {\n    name: "x"\n'
                 f'    data_type: TYPE_FP32\n    {dims}\n  }}\n]\n', encoding="utf-8")
    with pytest.raises(ExtractionError) as info:
        api.extract(p)
    assert info.value.message == (f"input 'x': {field}: Triton refuses to load this model (a dimension must be an "
                                  "integer >= 1, or -1 for a variable size)")
    assert (info.value.path, info.value.line) == (str(p), 8)
    p.write_text('name: "m"\nbackend: "onnxruntime"\nmax_batch_size: 8\ninput [\n  {\n    name: "x"\n'
                 '    data_type: TYPE_FP32\n    dims: [ -1, 1 ] reshape: { shape: [ ] }\n  }\n]\n', encoding="utf-8")
    assert api.extract(p)["io.inputs.x.shape"].value == [-1, -1, 1]


def test_cli_error_is_one_line_with_file_and_line() -> None:
    res = run_cli("extract", str(FIXTURES / "bad" / "bad_enum.pbtxt"))
    assert res.returncode == 2
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("driftguard: error: ") and "bad_enum.pbtxt:7:" in lines[0]
    assert "Traceback" not in res.stderr


def test_cli_set_and_json(tmp_path: Path) -> None:
    path = FIXTURES / "good" / "sherpa_scorer.pbtxt.template"
    res = run_cli("extract", str(path), "--set", "MAX_BATCH=16", "--set", "ENCODER_DIM=512",
                  "--set", "SCORER_INSTANCE_NUM=1", "--format", "json")
    assert res.returncode == 0, res.stderr
    import json

    data = json.loads(res.stdout)
    assert data["kind"] == "triton"
    assert data["values"]["batching.max_batch_size"]["value"] == 16
    assert data["values"]["batching.max_batch_size"]["origin"]["line"] == 17
    assert run_cli("extract", str(path), "--set", "novalue").returncode == 2


# -- the corpus -------------------------------------------------------------------------------------------

def test_corpus_accepts_exactly_what_the_schema_accepts() -> None:
    from driftguard.errors import DriftguardError

    accepted = rejected = 0
    for path in corpus_files():
        official = parses_with_official_schema(path)
        try:
            api.extract(f"triton:{path}")
        except DriftguardError as exc:
            assert not official, f"{path.name}: driftguard rejected a config the schema accepts: {exc}"
            assert exc.path == str(path) and exc.line is not None
            rejected += 1
        else:
            assert official, f"{path.name}: accepted a config the schema rejects"
            accepted += 1
    assert accepted >= 50 and rejected >= 10


@pytest.mark.slow
def test_corpus_cli_exit_codes_and_no_tracebacks() -> None:
    files = corpus_files()
    sample = files[:: max(1, len(files) // 12)]
    for path in sample:
        res = run_cli("extract", "--kind", "triton", str(path))
        expected = 0 if parses_with_official_schema(path) else 2
        assert res.returncode == expected, (path.name, res.stderr)
        assert "Traceback" not in res.stderr
        if expected == 2:
            assert len(res.stderr.strip().splitlines()) == 1
            assert f"{path}:" in res.stderr


# -- equivalence and sensitivity -----------------------------------------------------------------------

def _parseable() -> list[Path]:
    return [p for p in corpus_files() if parses_with_official_schema(p)]


def _message(path: Path) -> object:
    m = model_config_pb2().ModelConfig()
    text_format.Parse(path.read_text(), m)
    return m


def _findings(a: Path, b: Path) -> list[str]:
    return [f.key for f in api.diff(f"triton:{a}", f"triton:{b}").findings]


@pytest.mark.slow
def test_equivalent_rewrites_produce_no_findings(tmp_path: Path) -> None:
    for i, path in enumerate(_parseable()):
        msg = _message(path)
        original = path.read_text()
        variants = {
            "reserialized": text_format.MessageToString(msg),
            "reordered": "\n".join(reversed([
                text_format.MessageToString(_only(msg, fd.name)) for fd, _ in msg.ListFields()])),  # type: ignore[attr-defined]
            "commented": "# leading comment\n" + "\n".join(
                f"{line}  # trailing" if line.strip() and not line.lstrip().startswith("#") else line
                for line in original.splitlines()),
        }
        if "max_batch_size" not in original:
            variants["default_spelled_out"] = original + "\nmax_batch_size: 0\n"
        if not msg.HasField("version_policy"):  # type: ignore[attr-defined]
            variants["version_policy_spelled_out"] = original + "\nversion_policy: { latest: { num_versions: 1 } }\n"
        for name, text in variants.items():
            other = tmp_path / f"{i}-{name}.pbtxt"
            other.write_text(text)
            assert _findings(path, other) == [], f"{path.name} {name}"


def _only(msg: object, field: str) -> object:
    out = model_config_pb2().ModelConfig()
    out.MergeFrom(msg)  # type: ignore[arg-type]
    for fd, _ in out.ListFields():
        if fd.name != field:
            out.ClearField(fd.name)
    return out


@pytest.mark.slow
def test_real_changes_are_found_on_the_expected_key(tmp_path: Path) -> None:
    checked = 0
    for i, path in enumerate(_parseable()):
        msg = _message(path)
        cases: dict[str, tuple[object, str]] = {}

        m = _copy(msg)
        m.max_batch_size = m.max_batch_size + 3
        cases["mbs"] = (m, "batching.max_batch_size")
        if msg.input and msg.input[0].dims:  # type: ignore[attr-defined]
            name = msg.input[0].name  # type: ignore[attr-defined]
            m = _copy(msg)
            m.input[0].data_type = 12 if m.input[0].data_type != 12 else 11  # FP64 / FP32
            cases["dtype"] = (m, f"io.inputs.{name}.dtype")
            m = _copy(msg)
            m.input[0].dims[-1] = m.input[0].dims[-1] + 7 if m.input[0].dims[-1] > 0 else 5
            cases["dim"] = (m, f"io.inputs.{name}.shape")
        if msg.HasField("dynamic_batching"):  # type: ignore[attr-defined]
            m = _copy(msg)
            m.dynamic_batching.max_queue_delay_microseconds += 250
            cases["delay"] = (m, "batching.max_queue_delay_us")
        for name, (changed, key) in cases.items():
            other = tmp_path / f"{i}-{name}.pbtxt"
            other.write_text(text_format.MessageToString(changed))
            res = api.diff(f"triton:{path}", f"triton:{other}")
            keys = [f.key for f in res.findings]
            assert key in keys, f"{path.name} {name}: {keys}"
            finding = next(f for f in res.findings if f.key == key)
            assert finding.training is not None and finding.deployed is not None
            checked += 1
    assert checked > 100


def _copy(msg: object) -> object:
    m = model_config_pb2().ModelConfig()
    m.CopyFrom(msg)  # type: ignore[arg-type]
    return m


def test_diff_cli_exit_codes(tmp_path: Path) -> None:
    a = FIXTURES / "good" / "simple_dyna_sequence.pbtxt"
    b = tmp_path / "config.pbtxt"
    b.write_text(a.read_text().replace("max_queue_delay_microseconds: 10000",
                                       "max_queue_delay_microseconds: 5000"))
    assert run_cli("diff", str(a), str(a)).returncode == 0
    res = run_cli("diff", str(a), str(b), "--format", "json")
    assert res.returncode == 1
    import json

    findings = json.loads(res.stdout)["findings"]
    assert [f["key"] for f in findings] == ["batching.max_queue_delay_us"]
    f = findings[0]
    assert (f["training"], f["deployed"]) == (10000, 5000)
    assert f["training_origin"]["line"] == 34 and f["deployed_origin"]["line"] == 34
    assert run_cli("diff", str(a), str(tmp_path / "missing.pbtxt")).returncode == 2


@pytest.mark.parametrize("text", ["", "# only a comment\n", "\n\n"])
def test_a_config_that_sets_no_field_is_an_input_error(tmp_path: Path, text: str) -> None:
    """Every kind recognises a field of its format: an empty config.pbtxt states nothing (Triton would
    auto-complete it from the model), so it is exit 2 in one line, not a page of ModelConfig defaults."""
    import subprocess
    import sys

    cfg = tmp_path / "config.pbtxt"
    cfg.write_text(text)
    proc = subprocess.run([sys.executable, "-m", "driftguard", "extract", str(cfg)], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        f"driftguard: error: {cfg}:1: a Triton config that sets no ModelConfig field: Triton would auto-complete "
        "it from the model, which driftguard does not read; state the fields it serves with"]
