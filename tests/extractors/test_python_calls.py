"""The python kind's call table: which calls are known (by import, never by a bare name) and how each resolves
through the engine kind that reads the same fields in a file (equivalence with a vLLM request YAML and a
generation_config.json), with the expected values worked out by hand."""

from __future__ import annotations

from pathlib import Path

import pytest

from driftguard import extractors
from driftguard.errors import ExtractionError
from driftguard.extractors import python_calls
from driftguard.extractors.base import ExtractOptions
from driftguard.model import EffectiveConfig, How
from driftguard.readers import python_ast

SAMPLING = {"temperature": 0.7, "top_p": 0.8, "top_k": 20, "repetition_penalty": 1.05}
SHARED = ("generation.temperature", "generation.top_p", "generation.top_k", "generation.repetition_penalty",
          "generation.max_new_tokens", "generation.do_sample")


def _py(tmp_path: Path, text: str, options: ExtractOptions | None = None) -> EffectiveConfig:
    path = tmp_path / "app.py"
    path.write_text(text)
    return extractors.extract(path, "python", options)


def _shown(calls: str) -> list[str]:
    source = python_ast.read(calls, "app.py")
    return [t.shown for c in source.calls if (t := python_calls.match(c, source)) is not None]


def test_known_calls_come_from_imports() -> None:
    assert _shown("import vllm\nvllm.SamplingParams()\nvllm.LLM('m')\nvllm.EngineArgs(model='m')\n") == \
        ["SamplingParams", "LLM", "EngineArgs"]
    assert _shown("from vllm.engine.arg_utils import AsyncEngineArgs as A\nA(model='m')\n") == ["AsyncEngineArgs"]
    assert _shown("from transformers import GenerationConfig, pipeline\nGenerationConfig(top_k=1)\n"
                  "p = pipeline('text-generation')\np('x', max_new_tokens=3)\n") == \
        ["GenerationConfig", "pipeline", "pipeline call"]
    assert _shown("import openai\nopenai.ChatCompletion.create(messages=[])\n") == ["ChatCompletion.create"]
    # no import: the same names are the file's own
    assert _shown("SamplingParams(top_p=1)\nGenerationConfig(top_k=1)\nclient.chat.completions.create()\n") == []
    # a receiver the file does not tell is a transformers model only when the file imports transformers and the call
    # passes GenerationConfig fields (llm.generate(prompts, params) is vLLM's)
    assert _shown("import transformers\nm.generate(max_new_tokens=3)\nllm.generate(p, params)\n") == ["generate"]
    assert _shown("import openai\nc.chat.completions.create(model='x')\n") == ["chat.completions.create"]


def test_sampling_params_equal_a_vllm_request_yaml_and_a_generation_config(tmp_path: Path) -> None:
    args = ", ".join(f"{k}={v}" for k, v in SAMPLING.items())
    py = _py(tmp_path, f"from vllm import SamplingParams\nSamplingParams({args}, max_tokens=512)\n")
    yml = tmp_path / "request.yaml"
    yml.write_text("".join(f"{k}: {v}\n" for k, v in SAMPLING.items()) + "max_tokens: 512\n")
    request = extractors.extract(yml, "vllm")
    gen = tmp_path / "generation_config.json"
    gen.write_text('{"do_sample": true, "temperature": 0.7, "top_p": 0.8, "top_k": 20, "repetition_penalty": 1.05, '
                   '"max_new_tokens": 512}\n')
    hf = extractors.extract(gen, "hf-generation")
    expected = {"generation.temperature": 0.7, "generation.top_p": 0.8, "generation.top_k": 20,
                "generation.repetition_penalty": 1.05, "generation.max_new_tokens": 512, "generation.do_sample": True}
    for cfg in (py, request, hf):
        assert {k: cfg.values[k].value for k in SHARED} == expected, cfg.kind


def test_generation_config_call_equals_the_json_file(tmp_path: Path) -> None:
    py = _py(tmp_path, "from transformers import GenerationConfig\n"
                       "GenerationConfig(do_sample=True, temperature=0.7, top_k=20, max_new_tokens=512)\n")
    gen = tmp_path / "generation_config.json"
    gen.write_text('{"do_sample": true, "temperature": 0.7, "top_k": 20, "max_new_tokens": 512}\n')
    hf = extractors.extract(gen, "hf-generation")
    keys = [k for k in hf.values if k.startswith("generation.")]
    assert {k: py.values[k].value for k in keys} == {k: hf.values[k].value for k in keys}
    assert {k: py.values[k].how for k in keys} == {k: hf.values[k].how for k in keys}


def test_a_run_time_value_is_unresolved_under_the_key_it_sets(tmp_path: Path) -> None:
    cfg = _py(tmp_path, "import sys\nfrom vllm import LLM\nLLM(model=sys.argv[1], max_model_len=int(sys.argv[2]))\n")
    for key, text in (("model.source", "sys.argv[1]"), ("serving.max_model_len", "int(sys.argv[2])")):
        assert (cfg.values[key].how, cfg.values[key].value, cfg.values[key].origin.line) == \
            (How.UNRESOLVED, text, 3)


def test_kwargs_built_at_run_time_are_one_unresolved_value(tmp_path: Path) -> None:
    cfg = _py(tmp_path, "from vllm import SamplingParams\ndef f(**kw):\n    return SamplingParams(top_p=0.5, **kw)\n")
    v = cfg.values["vllm.unresolved_arguments"]
    assert (v.how, v.value, v.origin.line) == (How.UNRESOLVED, "**kw", 3)


def test_generate_takes_the_models_generation_config_below_its_kwargs(tmp_path: Path) -> None:
    gen = tmp_path / "generation_config.json"
    gen.write_text('{"do_sample": true, "temperature": 0.6, "top_p": 0.9}\n')
    context = (extractors.extract(gen, "hf-generation"),)
    cfg = _py(tmp_path, "import transformers\nmodel.generate(ids, temperature=0.2, max_new_tokens=64)\n",
              ExtractOptions(context=context))
    v = cfg.values
    assert (v["generation.temperature"].value, v["generation.temperature"].how) == (0.2, How.EXPLICIT)
    assert (v["generation.top_p"].value, v["generation.top_p"].how) == (0.9, How.INHERITED)
    assert v["generation.do_sample"].value is True and v["generation.max_new_tokens"].value == 64


def test_sampling_params_ignore_the_models_generation_config(tmp_path: Path) -> None:
    gen = tmp_path / "generation_config.json"
    gen.write_text('{"temperature": 0.6, "top_p": 0.9, "max_new_tokens": 2048}\n')
    context = (extractors.extract(gen, "hf-generation"),)
    cfg = _py(tmp_path, "from vllm import SamplingParams\nSamplingParams(temperature=0.2)\n",
              ExtractOptions(context=context))
    assert cfg.values["generation.top_p"].value == 1.0 and cfg.values["generation.max_new_tokens"].value == 16


def test_pipeline_model_dtype_and_generation(tmp_path: Path) -> None:
    cfg = _py(tmp_path, "import torch\nfrom transformers import pipeline\n"
                        "pipe = pipeline('text-generation', 'org/m', revision='v2', torch_dtype=torch.bfloat16,\n"
                        "                max_new_tokens=100, device_map='auto')\n")
    v = cfg.values
    assert (v["model.source"].value, v["model.revision"].value, v["precision.compute"].value) == \
        ("org/m", "v2", "bfloat16")
    assert (v["generation.max_new_tokens"].value, v["hf.pipeline.device_map"].value) == (100, "auto")
    assert v["hf.pipeline.task"].value == "text-generation" and v["precision.compute"].origin.line == 3


@pytest.mark.parametrize(("call", "cut"), [
    ("tok(x, truncation=True, max_length=128)", True),
    ("tok(x, max_length=128)", True),  # transformers truncates (longest_first) when only max_length is given
    ("tok(x, padding='max_length', max_length=128)", False),  # max_length is the padding length
    ("tok(x, truncation=False, max_length=128)", False),
    ("tok.encode(x, truncation='only_first', max_length=128)", True),
])
def test_a_tokenizer_calls_max_length_counts_when_it_truncates(tmp_path: Path, call: str, cut: bool) -> None:
    cfg = _py(tmp_path, f"from transformers import AutoTokenizer\ntok = AutoTokenizer.from_pretrained('m')\n{call}\n")
    assert ("preprocessing.max_length" in cfg.values) is cut
    assert ("hf.tokenizer.max_length" in cfg.values) is not cut


def test_tokenizer_sides_and_model_max_length(tmp_path: Path) -> None:
    cfg = _py(tmp_path, "from transformers import AutoTokenizer\n"
                        "tok = AutoTokenizer.from_pretrained('m', model_max_length=2048, truncation_side='left')\n"
                        "tok.padding_side = 'left'\n")
    v = cfg.values
    assert (v["preprocessing.max_length"].value, v["preprocessing.truncation_side"].value) == (2048, "left")
    assert (v["preprocessing.padding_side"].value, v["preprocessing.padding_side"].origin.line) == ("left", 3)


def test_legacy_completion_and_a_client_completions_call(tmp_path: Path) -> None:
    cfg = _py(tmp_path, "import openai\nopenai.Completion.create(model='m', prompt=p, max_tokens=5)\n")
    assert cfg.values["generation.max_new_tokens"].value == 5
    cfg = _py(tmp_path, "from openai import OpenAI\nc = OpenAI()\nc.completions.create(model='m', prompt='x')\n")
    assert cfg.values["generation.max_new_tokens"].value == 16  # the Completions API default (defaults.md §5)


def test_an_unknown_dtype_is_an_input_error_at_its_line(tmp_path: Path) -> None:
    with pytest.raises(ExtractionError) as err:
        _py(tmp_path, "from transformers import pipeline\n\npipeline('x', torch_dtype='float99')\n")
    assert err.value.line == 3


def test_argparse_defaults_fold_with_a_note(tmp_path: Path) -> None:
    cfg = _py(tmp_path, "import argparse\nfrom vllm import LLM, SamplingParams\np = argparse.ArgumentParser()\n"
                        "p.add_argument('--max-model-len', type=int, default='4096')\n"
                        "g = p.add_argument_group('sampling')\ng.add_argument('-t', '--temperature', type=float, "
                        "default=0.2)\np.add_argument('--model', required=True)\n"
                        "p.add_argument('--eager', action='store_true')\nargs = p.parse_args()\n"
                        "LLM(model=args.model, max_model_len=args.max_model_len, enforce_eager=args.eager)\n"
                        "SamplingParams(temperature=args.temperature)\n")
    v = cfg.values
    assert (v["serving.max_model_len"].value, v["serving.max_model_len"].origin.line) == (4096, 10)
    assert v["serving.max_model_len"].note == ("argparse default of --max-model-len (line 4); a command line may "
                                               "set another value")
    assert v["generation.temperature"].value == 0.2 and v["vllm.enforce_eager"].value is False
    assert v["model.source"].how == How.UNRESOLVED  # required, no default: the command line gives it


def test_a_request_body_posted_to_a_named_endpoint(tmp_path: Path) -> None:
    cfg = _py(tmp_path, "import requests\nURL = 'http://localhost:8000/v1/chat/completions'\n"
                        "def ask(q):\n    return requests.post(URL, json={\n        'model': 'm',\n"
                        "        'messages': [{'role': 'user', 'content': q}],\n        'temperature': 0.3,\n"
                        "        'max_tokens': 64,\n    })\n")
    v = cfg.values
    assert (v["generation.temperature"].value, v["generation.temperature"].origin.line) == (0.3, 7)
    assert (v["generation.max_new_tokens"].value, v["generation.max_new_tokens"].origin.line) == (64, 8)
    cfg = _py(tmp_path, "import httpx\ndef gen(prompt, n):\n    return httpx.post('http://tgi:80/generate', json={\n"
                        "        'inputs': prompt,\n        'parameters': {'temperature': 0.5, 'max_new_tokens': n},\n"
                        "    })\n")
    v = cfg.values
    assert (v["generation.temperature"].value, v["generation.temperature"].origin.line) == (0.5, 5)
    assert v["generation.max_new_tokens"].how == How.UNRESOLVED and v["generation.max_new_tokens"].value == "n"


def test_a_body_posted_to_sglangs_generate(tmp_path: Path) -> None:
    """SGLang's docs' own request (docs/docs/basic_usage/sampling_params.mdx): /generate with text and
    sampling_params is SGLang's native endpoint, not TGI's; a value built at run time stays unresolved."""
    cfg = _py(tmp_path, "import requests\ndef ask(n):\n"
                        "    return requests.post('http://localhost:30000/generate', json={\n"
                        "        'text': 'The capital of France is',\n"
                        "        'sampling_params': {'temperature': 0, 'max_new_tokens': n, 'regex': 'F|E'},\n"
                        "    })\n")
    v = cfg.values
    assert cfg.serving == "sglang-generate"
    assert (v["generation.temperature"].value, v["generation.temperature"].origin.line) == (0, 5)
    assert v["generation.max_new_tokens"].how == How.UNRESOLVED and v["generation.max_new_tokens"].value == "n"
    assert v["sglang.regex"].value == "F|E"
    assert v["preprocessing.chat_template_applied"].value is False


def test_a_body_posted_to_an_unknown_url_is_not_read(tmp_path: Path) -> None:
    assert _shown("import requests\nrequests.post(url, json={'temperature': 1})\n"
                  "requests.post('http://x/api/v2/items', json={'temperature': 1})\n") == []


def test_tensorrt_llm_llm_api_calls(tmp_path: Path) -> None:
    cfg = _py(tmp_path, "from tensorrt_llm import LLM, SamplingParams\nllm = LLM(model='m', dtype='bfloat16')\n"
                        "sp = SamplingParams(temperature=0.8, top_p=0.95, max_tokens=64)\n")
    v = cfg.values
    assert (v["precision.compute"].value, v["precision.compute"].origin.line) == ("bfloat16", 2)
    assert (v["generation.temperature"].value, v["generation.max_new_tokens"].value) == (0.8, 64)
    assert cfg.serving == "trtllm-llmapi"
    cfg = _py(tmp_path, "from tensorrt_llm import SamplingParams\nSamplingParams()\n")
    assert cfg.values["generation.max_new_tokens"].value == 32  # the LLM API's default (defaults.md §4)


def test_lmdeploy_pipeline_engine_config_and_generation_config(tmp_path: Path) -> None:
    cfg = _py(tmp_path, "from lmdeploy import pipeline, GenerationConfig, TurbomindEngineConfig\n"
                        "backend = TurbomindEngineConfig(tp=2, session_len=8192)\n"
                        "pipe = pipeline('internlm/internlm2_5-7b-chat', backend_config=backend)\n"
                        "gen = GenerationConfig(top_p=0.8, temperature=0.6, max_new_tokens=1024, do_sample=True)\n")
    v = cfg.values
    assert (v["serving.tensor_parallel_size"].value, v["serving.max_model_len"].value) == (2, 8192)
    assert (v["model.source"].value, v["model.source"].origin.line) == ("internlm/internlm2_5-7b-chat", 3)
    assert (v["generation.temperature"].value, v["generation.max_new_tokens"].value) == (0.6, 1024)
    # without do_sample the pipeline is greedy: lmdeploy forces top_k 1 and temperature 1.0 (defaults.md §6)
    cfg = _py(tmp_path, "import lmdeploy\nlmdeploy.GenerationConfig(temperature=0.6)\n")
    assert (cfg.values["generation.top_k"].value, cfg.values["generation.temperature"].how) == (1, How.FORCED)


def test_sglang_engine_reads_its_server_args(tmp_path: Path) -> None:
    cfg = _py(tmp_path, "import sglang as sgl\n\nllm = sgl.Engine(model_path='org/m', context_length=8192, tp_size=2,\n"
                        "                 max_running_requests=64, mem_fraction_static=0.8)\n")
    v = cfg.values
    assert (v["model.source"].value, v["serving.tensor_parallel_size"].value) == ("org/m", 2)
    assert (v["serving.max_model_len"].value, v["serving.max_model_len"].how) == (8192, How.DERIVED)
    assert (v["batching.max_batch_size"].value, v["batching.max_batch_size"].origin.line) == (64, 4)
    assert v["sglang.mem_fraction_static"].value == 0.8
