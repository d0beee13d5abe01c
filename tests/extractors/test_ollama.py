"""ollama kind: Modelfiles read as ``ollama create`` reads them, on real files from public repositories (values
checked by hand against Ollama's parser and ``api.Options``) and on files written here; the CLI as a subprocess,
and a check of a Hugging Face training folder against a GGUF + Modelfile deployment."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from driftguard import api
from driftguard.errors import ExtractionError
from driftguard.extractors import detect
from driftguard.keys import chat_template_digest

ROOT = Path(__file__).resolve().parents[2]
LOCAL = ROOT / "tests" / "corpus" / "local"


def _modelfile(tmp_path: Path, text: str, name: str = "Modelfile") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _plain(path: Path) -> dict[str, object]:
    return api.extract(path).plain()


@pytest.mark.parametrize("name", ["Modelfile", "llama3.Modelfile", "Modelfile.qwen", "Modelfile.json"])
def test_detected_by_name(tmp_path: Path, name: str) -> None:
    """The name is the format's (``KindInfo.names``): it outranks any claim on the content."""
    assert detect(_modelfile(tmp_path, "FROM llama3.2\n", name)) == "ollama"


def test_parameters_map_to_the_vocabulary(tmp_path: Path) -> None:
    path = _modelfile(tmp_path, """FROM llama3.2:3b
ADAPTER ./lora.gguf
PARAMETER num_ctx 8192
PARAMETER temperature 0.6
PARAMETER top_k 20
PARAMETER top_p 0.95
PARAMETER min_p 0.05
PARAMETER typical_p 0.9
PARAMETER repeat_penalty 1.1
PARAMETER repeat_last_n 128
PARAMETER presence_penalty 0.5
PARAMETER frequency_penalty 0.25
PARAMETER seed 42
PARAMETER num_predict 256
PARAMETER stop <|eot_id|>
PARAMETER stop "User:"
PARAMETER num_gpu 99
PARAMETER use_mmap false
SYSTEM You are terse.
""")
    cfg = api.extract(path)
    plain = cfg.plain()
    assert plain["model.source"] == "llama3.2:3b"
    assert plain["model.adapters"] == ["./lora.gguf"]
    assert plain["serving.max_model_len"] == 8192
    assert plain["generation.temperature"] == 0.6
    assert plain["generation.top_k"] == 20
    assert plain["generation.top_p"] == 0.95
    assert plain["generation.min_p"] == 0.05
    assert plain["generation.typical_p"] == 0.9
    assert plain["generation.repetition_penalty"] == 1.1
    assert plain["ollama.repeat_last_n"] == 128
    assert plain["generation.presence_penalty"] == 0.5
    assert plain["generation.frequency_penalty"] == 0.25
    assert plain["generation.seed"] == 42
    assert plain["generation.max_new_tokens"] == 256
    assert plain["generation.stop"] == ["<|eot_id|>", "User:"]
    assert plain["ollama.num_gpu"] == 99
    assert plain["ollama.use_mmap"] is False
    assert plain["ollama.system"] == "You are terse."
    assert plain["generation.do_sample"] is True
    assert cfg["serving.max_model_len"].origin.line == 3
    assert cfg["generation.stop"].origin.line == 15
    assert "repeat_last_n" in (cfg["generation.repetition_penalty"].note or "")


def test_ollama_defaults_for_what_is_unset(tmp_path: Path) -> None:
    cfg = api.extract(_modelfile(tmp_path, "FROM ./qwen2.5-7b-q4_k_m.gguf\n"))
    expected = {"generation.temperature": 0.8, "generation.top_k": 40, "generation.top_p": 0.9,
                "generation.min_p": 0.0, "generation.typical_p": 1.0, "generation.repetition_penalty": 1.0,
                "generation.presence_penalty": 0.0, "generation.frequency_penalty": 0.0, "generation.seed": None,
                "generation.max_new_tokens": -1, "generation.stop": [], "ollama.repeat_last_n": 64,
                "ollama.num_keep": 4, "ollama.num_batch": 512}
    for key, value in expected.items():
        assert cfg[key].value == value, key
        assert not cfg[key].explicit and "api/types.go" not in (cfg[key].note or "x")  # cites defaults.md
        assert (cfg[key].note or "").startswith("defaults.md §"), key
    assert "serving.max_model_len" not in cfg.plain()  # Ollama sizes the context from the GPU's memory
    assert cfg["generation.do_sample"].value is True


@pytest.mark.parametrize("source", ["llama3.2", "qwen3:8b", "hf.co/bartowski/Llama-3.2-1B-Instruct-GGUF:Q4_K_M",
                                    "igorls/gemma-4-12B-it-heretic-GGUF:latest"])
def test_from_a_model_keeps_its_own_parameters(tmp_path: Path, source: str) -> None:
    """``ollama create`` merges the base model's parameters layer under the Modelfile's: unseen here, so Ollama's
    defaults are not claimed for what the Modelfile leaves unset."""
    cfg = api.extract(_modelfile(tmp_path, f"FROM {source}\nPARAMETER num_ctx 4096\n"))
    assert [k for k in cfg if not k.startswith("model.")] == ["serving.max_model_len"]
    assert "parameters layer" in (cfg["model.source"].note or "")


@pytest.mark.parametrize("source", ["/models/llama.gguf", "~/models/x", "./weights", "..\\w", "C:\\m\\x.gguf",
                                    "D:/m", "model.bin", "local-folder"])
def test_from_a_file_takes_ollama_defaults(tmp_path: Path, source: str) -> None:
    (tmp_path / "local-folder").mkdir()
    cfg = api.extract(_modelfile(tmp_path, f"FROM {source}\n"))
    assert cfg["generation.top_k"].value == 40 and cfg["model.source"].note is None


def _gguf(path: Path) -> Path:
    gguf = pytest.importorskip("gguf")
    np = pytest.importorskip("numpy")
    w = gguf.GGUFWriter(str(path), "llama")
    w.add_context_length(8192)
    w.add_file_type(gguf.LlamaFileType.MOSTLY_Q4_K_M)
    w.add_eos_token_id(2)
    w.add_chat_template("{{ messages }}")
    q4k = np.zeros((2, 144), dtype=np.uint8)
    w.add_tensor("blk.0.attn_q.weight", q4k, raw_shape=q4k.shape, raw_dtype=gguf.GGMLQuantizationType.Q4_K)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return path


def test_from_a_gguf_in_the_tree_brings_its_header(tmp_path: Path) -> None:
    """``ollama create`` builds the model from the GGUF FROM names: its header speaks for the Modelfile where the
    Modelfile is silent, with the GGUF's own origin; not its chat template (Ollama prompts with TEMPLATE)."""
    _gguf(tmp_path / "tiny.gguf")
    cfg = api.extract(_modelfile(tmp_path, "FROM ./tiny.gguf\nPARAMETER num_ctx 2048\n"))
    quant = cfg["precision.quantization"]
    assert (quant.value, quant.how.value, quant.origin.path, quant.origin.pointer) == (
        "q4_k_m", "inherited", str(tmp_path / "tiny.gguf"), "general.file_type")
    assert quant.origin.source == "FROM ./tiny.gguf"
    assert cfg["model.max_position_embeddings"].value == 8192
    assert cfg["generation.eos_token_id"].value == [2]
    assert cfg["serving.max_model_len"].value == 2048  # the Modelfile's own, beside the model's 8192
    assert "preprocessing.chat_template" not in cfg.plain()


def test_from_a_gguf_outside_the_tree_is_not_read(tmp_path: Path) -> None:
    _gguf(tmp_path / "outside.gguf")
    inner = tmp_path / "inner"
    inner.mkdir()
    cfg = api.extract(_modelfile(inner, "FROM ../outside.gguf\n"))
    assert "precision.quantization" not in cfg.plain()
    assert cfg["generation.top_k"].value == 40  # still a file: Ollama's defaults


def test_temperature_zero_is_greedy(tmp_path: Path) -> None:
    cfg = api.extract(_modelfile(tmp_path, "FROM m\nPARAMETER temperature 0\n"))
    assert cfg["generation.do_sample"].value is False
    assert cfg["generation.do_sample"].how.value == "derived"


def test_seed_and_num_predict_minus_one(tmp_path: Path) -> None:
    cfg = api.extract(_modelfile(tmp_path, "FROM m\nPARAMETER seed -1\nPARAMETER num_predict -1\n"))
    assert cfg["generation.seed"].value is None and cfg["generation.seed"].explicit
    assert cfg["generation.max_new_tokens"].value == -1
    assert "no limit" in (cfg["generation.max_new_tokens"].note or "")


def test_template_is_not_a_chat_template(tmp_path: Path) -> None:
    template = "{{ if .System }}<|im_start|>system\n{{ .System }}<|im_end|>\n{{ end }}"
    cfg = api.extract(_modelfile(tmp_path, f'FROM m\nTEMPLATE """{template}"""\n'))
    assert cfg["ollama.template"].value == template
    assert cfg["ollama.template_digest"].value == chat_template_digest(template)
    assert "preprocessing.chat_template" not in cfg.plain()


def test_unknown_parameter_is_refused_as_ollama_create_does(tmp_path: Path) -> None:
    path = _modelfile(tmp_path, "FROM m\nPARAMETER temperature 0.2\nPARAMETER num_gqa 8\n")
    with pytest.raises(ExtractionError, match=r"unknown parameter 'num_gqa'.*did you mean num_gpu") as err:
        api.extract(path)
    assert (err.value.path, err.value.line) == (str(path), 3)
    with pytest.raises(ExtractionError, match="unknown parameter 'Temperature'"):
        api.extract(_modelfile(tmp_path, "FROM m\nPARAMETER Temperature 0.2\n"))  # names are case-sensitive


@pytest.mark.parametrize(("line", "what"), [
    ("temperature hot", "invalid float"), ("temperature 1_0", "invalid float"), ("temperature 1e39", "invalid float"),
    ("top_k 4.5", "invalid int"), ("top_k 99999999999999999999", "invalid int"), ("use_mmap yes", "invalid bool"),
])
def test_values_ollama_cannot_parse(tmp_path: Path, line: str, what: str) -> None:
    with pytest.raises(ExtractionError, match=what):
        api.extract(_modelfile(tmp_path, f"FROM m\nPARAMETER {line}\n"))


def test_go_number_spellings(tmp_path: Path) -> None:
    plain = _plain(_modelfile(tmp_path, "FROM m\nPARAMETER top_p 0x1p-1\nPARAMETER top_k +7\nPARAMETER use_mmap T\n"))
    assert (plain["generation.top_p"], plain["generation.top_k"], plain["ollama.use_mmap"]) == (0.5, 7, True)


def test_deprecated_parameter_is_reported_not_applied(tmp_path: Path) -> None:
    cfg = api.extract(_modelfile(tmp_path, "FROM m\nPARAMETER mirostat 2\nPARAMETER use_mlock true\n"))
    assert cfg["ollama.unknown_fields.mirostat"].value == "2"
    assert "deprecated" in (cfg["ollama.unknown_fields.mirostat"].note or "")
    assert cfg["ollama.unknown_fields.use_mlock"].origin.line == 3


def test_only_the_last_adapter_applies(tmp_path: Path) -> None:
    cfg = api.extract(_modelfile(tmp_path, "FROM m\nADAPTER ./a.gguf\nADAPTER ./b.gguf\n"))
    assert cfg["model.adapters"].value == ["./b.gguf"]
    assert cfg["ollama.unknown_fields.adapter"].value == "./a.gguf"
    assert cfg["ollama.unknown_fields.adapter"].origin.line == 2


def test_messages_licenses_requires(tmp_path: Path) -> None:
    plain = _plain(_modelfile(tmp_path, 'FROM m\nLICENSE MIT\nLICENSE """Apache\n2.0"""\nMESSAGE user Hi\n'
                                        "MESSAGE assistant Hello there\nREQUIRES 0.14.0\n"))
    assert plain["ollama.license"] == ["MIT", "Apache\n2.0"]
    assert plain["ollama.messages"] == [{"role": "user", "content": "Hi"},
                                        {"role": "assistant", "content": "Hello there"}]
    assert plain["ollama.requires"] == "0.14.0"


@pytest.mark.parametrize("version", ["0.14", "v1", "1.2.3-rc.1+build.5"])
def test_requires_accepts_semver(tmp_path: Path, version: str) -> None:
    assert _plain(_modelfile(tmp_path, f"FROM m\nREQUIRES {version}\n"))["ollama.requires"] == version


@pytest.mark.parametrize("version", ["latest", "1.02.0", "1.2-rc1", "1.2.3.4"])
def test_requires_refuses_what_ollama_refuses(tmp_path: Path, version: str) -> None:
    with pytest.raises(ExtractionError, match="not a semantic version"):
        api.extract(_modelfile(tmp_path, f"FROM m\nREQUIRES {version}\n"))


# --- real Modelfiles (tests/corpus/local): values read by hand from each file ---------------------------------

def test_corpus_lower_case_commands_and_an_empty_looking_system() -> None:
    plain = _plain(LOCAL / "0rfboy__ollama13b.Modelfile")
    assert plain["model.source"] == "llama3.2:1b"
    assert plain["ollama.system"] == "\n\n"  # the two newlines between the triple quotes
    assert (plain["generation.temperature"], plain["generation.top_p"], plain["serving.max_model_len"]) == (
        0.5, 0.9, 16384)


def test_corpus_windows_path_quoted_without_escapes() -> None:
    plain = _plain(LOCAL / "0xlawal__hausa-ai-v1.Modelfile")
    assert plain["model.source"] == "C:\\Users\\goodn\\OneDrive\\Desktop\\gh projects\\hausa_ai\\model\\hausa-ai.gguf"
    assert plain["ollama.template"] == "{{ .Prompt }}"
    assert (plain["generation.temperature"], plain["generation.top_p"]) == (0.7, 0.9)  # last line has no newline


def test_corpus_stop_list_and_chatml_template() -> None:
    for name in ("APEX160230__model-distillation.Modelfile", "47thtechcorner__RayCodes_Qwengram-0.8B.Modelfile"):
        plain = _plain(LOCAL / name)
        assert plain["generation.stop"] == ["<|im_start|>", "<|im_end|>"], name  # bare and quoted alike
        assert plain["generation.temperature"] == 0.7
        assert str(plain["ollama.template"]).startswith("{{ if .System }}<|im_start|>system\n{{ .System }}")
    assert _plain(LOCAL / "47thtechcorner__RayCodes_Qwengram-0.8B.Modelfile")["model.source"] == \
        "./models/QwenGram-0.8B-Q8_0.gguf"


def test_corpus_context_and_unlimited_prediction() -> None:
    plain = _plain(LOCAL / "AA967-LLM__Local-Hermes-with-gemma-4-build-.Modelfile")
    assert plain["model.source"] == "igorls/gemma-4-12B-it-heretic-GGUF:latest"
    assert (plain["serving.max_model_len"], plain["generation.max_new_tokens"], plain["ollama.num_gpu"]) == (
        65536, -1, 999)


def test_corpus_credit_analyst() -> None:
    plain = _plain(LOCAL / "1697-20747__llm_credit_paper.Modelfile")
    assert (plain["generation.temperature"], plain["generation.top_p"], plain["generation.repetition_penalty"],
            plain["serving.max_model_len"], plain["generation.max_new_tokens"]) == (0.05, 0.9, 1.1, 4096, 2048)
    assert "Data not available' — never fabricate" in str(plain["ollama.system"])


def test_corpus_template_backslash_n_is_not_a_newline() -> None:
    plain = _plain(LOCAL / "ADGEfficiency__local-coding-assistant.Modelfile")
    assert plain["model.source"] == "./experiments/2024-06-28/unsloth.Q5_K_M.gguf"
    assert "completes the request.\\n\\n### Instruction" in str(plain["ollama.template"])
    assert plain["ollama.system"] == "Write a response that appropriately completes the request."


def test_corpus_system_prompts_and_temperatures() -> None:
    guard = _plain(LOCAL / "1ek8__GuardSRE.Modelfile")
    assert (guard["serving.max_model_len"], guard["generation.temperature"]) == (16384, 0.2)
    assert str(guard["ollama.system"]).startswith("\nYou are GuardSRE AI") and str(guard["ollama.system"]).endswith(
        "mitigation briefs.\n")
    assert _plain(LOCAL / "24kr__Ollama.Modelfile")["generation.temperature"] == 0.3
    loto = _plain(LOCAL / "ARCAlhau80__LotoScope.Modelfile")
    assert (loto["model.source"], loto["generation.temperature"], loto["generation.top_p"]) == ("qwen2.5:14b", 0.2, 0.9)


def test_corpus_bare_from_is_all_ollama_defaults() -> None:
    for name, source in (("7rohxt__finetune-ollama-unsloth.Modelfile", "phi3-patient-admission.gguf"),
                         ("31mohit__tinyllama-finetune.Modelfile", "./tinyllama-finetuned.gguf")):
        cfg = api.extract(LOCAL / name)
        assert cfg["model.source"].value == source
        assert [k for k in cfg if cfg[k].explicit] == ["model.source"]


def test_every_corpus_file_is_detected() -> None:
    files = sorted(LOCAL.glob("*.Modelfile"))
    assert len(files) == 12
    assert {detect(p) for p in files} == {"ollama"}


# --- CLI ----------------------------------------------------------------------------------------------------

def _cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "driftguard", *args], capture_output=True, text=True, timeout=120,
                          cwd=cwd)


def test_cli_extract_and_an_unknown_parameter(tmp_path: Path) -> None:
    good = _modelfile(tmp_path, "FROM llama3.2\nPARAMETER num_ctx 4096\n")
    out = _cli("extract", str(good), "--format", "json")
    assert out.returncode == 0, out.stderr
    value = json.loads(out.stdout)["values"]["serving.max_model_len"]
    assert (value["value"], value["origin"]["line"]) == (4096, 2)
    bad = _modelfile(tmp_path, "FROM llama3.2\nPARAMETER numa true\n", "bad.Modelfile")
    out = _cli("extract", str(bad))
    assert out.returncode == 2
    assert out.stderr.startswith(f"driftguard: error: {bad}:2: unknown parameter 'numa'")


def _training(folder: Path, template: str) -> None:
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps({
        "architectures": ["LlamaForCausalLM"], "model_type": "llama", "torch_dtype": "bfloat16",
        "max_position_embeddings": 8192, "hidden_size": 256, "num_hidden_layers": 2, "num_attention_heads": 8,
        "vocab_size": 1000, "bos_token_id": 1, "eos_token_id": 2}))
    (folder / "generation_config.json").write_text(json.dumps({
        "do_sample": True, "temperature": 0.6, "top_p": 0.9, "bos_token_id": 1, "eos_token_id": 2}))
    (folder / "tokenizer_config.json").write_text(json.dumps({
        "model_max_length": 8192, "chat_template": template, "tokenizer_class": "PreTrainedTokenizerFast"}))


def test_cli_check_hf_training_against_gguf_and_modelfile(tmp_path: Path) -> None:
    gguf = pytest.importorskip("gguf")
    np = pytest.importorskip("numpy")
    template = "{% for m in messages %}<|{{ m.role }}|>{{ m.content }}{% endfor %}"
    _training(tmp_path / "training", template)
    deploy = tmp_path / "deploy"
    deploy.mkdir()
    w = gguf.GGUFWriter(str(deploy / "model-q4_k_m.gguf"), "llama")
    w.add_context_length(8192)
    w.add_file_type(gguf.LlamaFileType.MOSTLY_Q4_K_M)
    w.add_chat_template(template + "\n")  # one newline more than the tokenizer's
    w.add_bos_token_id(1)
    w.add_eos_token_id(2)
    q4k = np.zeros((2, 144), dtype=np.uint8)
    w.add_tensor("blk.0.attn_q.weight", q4k, raw_shape=q4k.shape, raw_dtype=gguf.GGMLQuantizationType.Q4_K)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    (deploy / "Modelfile").write_text("FROM ./model-q4_k_m.gguf\nPARAMETER num_ctx 2048\nPARAMETER num_predict 4096\n")
    (tmp_path / "driftguard.yaml").write_text(
        "version: 1\nmodels:\n  chat:\n    training:\n      - path: training/config.json\n"
        "      - path: training/generation_config.json\n      - path: training/tokenizer_config.json\n"
        "    deployment:\n      - path: deploy/model-q4_k_m.gguf\n      - path: deploy/Modelfile\n")
    out = _cli("check", "--format", "json", cwd=tmp_path)
    assert out.returncode == 1, out.stderr
    findings = {(f["rule"], f["key"]): f for f in json.loads(out.stdout)["models"][0]["findings"]}
    weights = findings["DG102", "precision.weights"]  # trained in bf16, served as Q4_K_M
    assert (weights["training"], weights["deployed"]) == ("bfloat16", "q4_k")
    assert (weights["deployed_origin"]["path"], weights["deployed_origin"]["pointer"]) == (
        "deploy/model-q4_k_m.gguf", "tensor_infos")  # through the Modelfile's FROM, or the GGUF itself: the same
    template = findings["DG101", "preprocessing.chat_template"]
    assert template["deployed_origin"]["pointer"] == "tokenizer.chat_template"
    temperature = findings["DG101", "generation.temperature"]
    assert (temperature["training"], temperature["deployed"]) == (0.6, 0.8)
    assert temperature["deployed_origin"] == {"path": "deploy/Modelfile", "line": None, "source": "ollama default"}
    top_k = findings["DG101", "generation.top_k"]  # transformers' default against Ollama's
    assert (top_k["training"], top_k["deployed"]) == (50, 40)
    context = findings["DG203", "generation.max_new_tokens"]  # 4096 new tokens cannot fit the 2048-token context
    assert "4096 (deploy/Modelfile:3) exceeds serving.max_model_len 2048 (deploy/Modelfile:2)" in context["message"]
    assert ("DG103", "generation.eos_token_id") not in findings  # the GGUF states the end token
