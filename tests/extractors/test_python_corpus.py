"""Real Python files (tests/corpus/python: serving, evaluation and client scripts from 19 public repositories),
read by the python kind. Every expected value below was read by hand from the file at the line named, with the
library's semantics (vLLM SamplingParams / engine args, transformers generate() and pipeline(), the OpenAI
client): not copied from driftguard's output. Each file either extracts or is an input error (exit 2) that says
why; none is claimed by another kind."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from driftguard import extractors
from driftguard.errors import ExtractionError
from driftguard.model import How

CORPUS = Path(__file__).resolve().parents[1] / "corpus" / "python"

#: file -> {key: (value, line)}; ``How.UNRESOLVED`` values as ("<source text>", line, "unresolved").
EXPECTED: dict[str, dict[str, tuple[Any, ...]]] = {
    "henghayan__HappyChat__quantize__awa_run.py": {  # offline vLLM with an AWQ checkpoint in fp16
        "generation.temperature": (0, 3), "generation.top_p": (1, 3), "generation.max_new_tokens": (256, 3),
        "generation.do_sample": (False, 3),  # temperature 0 < 1e-5: vLLM greedy
        "model.source": ("/data2/llm3-8", 5), "precision.quantization": ("awq", 6),
        "precision.compute": ("float16", 7), "serving.max_model_len": (4096, 9),
    },
    "q1w2e3r4-1__TowerDefense-JiuKun__run.py": {  # a 16-token context window: the file says so
        "model.source": ("/home/models/Qwen3-4B", 5), "precision.compute": ("auto", 7),
        "serving.tensor_parallel_size": (1, 8), "serving.max_model_len": (16, 9),
        "generation.temperature": (0.7, 12), "generation.top_p": (0.8, 12), "generation.max_new_tokens": (256, 12),
    },
    "sandeepyadav1478__catalystrag__check-vllm.py": {
        "generation.temperature": (0.8, 7), "generation.top_p": (0.95, 7), "model.source": ("facebook/opt-125m", 8),
        "generation.max_new_tokens": (16, None),  # max_tokens unset: SamplingParams' own default
    },
    "DDDOOONNN__XLLM__test.py": {
        "generation.temperature": (0.5, 13), "generation.top_p": (0.95, 13), "generation.max_new_tokens": (512, 13),
        "model.source": ("/data/rjn/Qwen2-VL-7B-Instruct", 14), "serving.tensor_parallel_size": (2, 14),
    },
    "DDDOOONNN__XLLM__testvllm.py": {  # every value is a parameter of get_completion: known only at run time
        "generation.temperature": ("temperature", 13, "unresolved"),
        "generation.max_new_tokens": ("max_tokens", 13, "unresolved"),
        "serving.max_model_len": ("max_model_len", 15, "unresolved"), "vllm.trust_remote_code": (True, 15),
    },
    "victorpengmx__llm-web-chat__backend__model.py": {  # AsyncEngineArgs from a config module the file imports
        "model.source": ("config.MODEL_PATH", 5, "unresolved"), "precision.compute": ("auto", 8),
        "serving.max_model_len": ("config.MAX_MODEL_LEN", 11, "unresolved"), "vllm.enforce_eager": (True, 14),
        "generation.temperature": ("config.TEMPERATURE", 20, "unresolved"),
    },
    "NVIDIA__NeMo-Skills__tests__scripts__run_cmd_llm_infer_check.py": {
        "generation.temperature": (0, 25), "generation.max_new_tokens": (4, 26), "generation.top_p": (1, 27),
        "generation.num_return_sequences": (1, 28), "openai.model": ("api_model", 21, "unresolved"),
    },
    "baizhiyuan__LazyLLM__examples__test_vllm.py": {  # extra_body's top_k: a vLLM extension, not an OpenAI field
        "generation.max_new_tokens": (8000, 17), "generation.temperature": (0.7, 18), "generation.top_p": (0.8, 19),
        "generation.presence_penalty": (1.5, 20), "openai.unknown_fields.top_k": (20, 21),
    },
    "beingkong__RealtimeSTT__vllm_test.py": {
        "openai.model": ("Qwen/Qwen3-14B-AWQ", 12), "generation.max_new_tokens": (32768, 16),
        "generation.temperature": (0.6, 17), "generation.top_p": (0.95, 18),
    },
    "DDDOOONNN__XLLM__testAPI.py": {  # legacy Completions without max_tokens: the API's default of 16
        "openai.model": ("/data/rjn/Qwen2-VL-7B-Instruct", 10), "generation.max_new_tokens": (16, None),
    },
    "star14ms__Transformer-Study__old__transformers__generation_strategies__4_beam-search_decoding.py": {
        "model.source": ("gpt2-medium", 6), "generation.num_beams": (5, 11), "generation.max_new_tokens": (50, 11),
        "generation.do_sample": (False, None),  # transformers' default: beam search without sampling
    },
    "star14ms__Transformer-Study__old__transformers__generation_strategies__3_multinomial_sampling.py": {
        "model.source": ("gpt2-large", 6), "generation.do_sample": (True, 11), "generation.num_beams": (1, 11),
        "generation.max_new_tokens": (100, 11),
    },
    "itsliupeng__snippet__infer_model__infer.py": {  # the file repeats the same script twice: the calls agree
        "precision.compute": ("auto", 4), "generation.max_length": ("max_length", 11, "unresolved"),
        "generation.do_sample": (True, 13), "generation.repetition_penalty": (1.3, 14),
        "generation.no_repeat_ngram_size": (5, 15), "generation.temperature": (0.7, 16),
        "generation.top_k": (40, 17), "generation.top_p": (0.8, 18),
    },
    "Kangurur__llama__test__llama__test2.py": {  # the pipeline object's call forwards generate() kwargs
        "model.source": ("Llama-3.2-1B", 8), "precision.compute": ("bfloat16", 9), "generation.do_sample": (True, 15),
        "generation.top_k": (10, 16), "generation.max_length": (400, 20),
    },
    "johnrobinsn__neortc__llama3.py": {  # torch_dtype inside model_kwargs
        "model.source": ("meta-llama/Meta-Llama-3.1-8B-Instruct", 8), "precision.compute": ("float16", 10),
        "generation.max_new_tokens": (256, 21),
    },
    "YecanLee__simple_llm_benchmark__develop__tgi_test.py": {  # a body posted to TGI's /generate
        "generation.max_new_tokens": (256, 13),  # the dict literal repeats the key: Python keeps the last
        "generation.top_k": (5, 12), "tgi.unknown_fields.penalty_alpha": (0.6, 11),  # not a TGI parameter
    },
    "B43M__SycophancyLLMGermanPolitics__test.py": {
        "generation.max_new_tokens": (20, 10),
        "generation.do_sample": (False, None),  # 'parameters' given without do_sample: TGI's default, greedy
    },
    "kontainapp__km-demo__textgen-gpt2__app__main.py": {
        "model.source": ("gpt2", 13), "generation.max_length": (30, 19), "generation.num_return_sequences": (1, 19),
    },
}

#: Files the kind refuses, and why (each an input error naming the file and line).
REFUSED = {
    "itsliupeng__snippet__hf_infer.py": "generation.max_length differently: 16384 (generate, line 28) vs 50",
    "shivateja126__MEDICAL-CHATBOT-__language.py": "generation.max_new_tokens differently: 1024 (pipeline call, "
                                                   "line 44) vs 512",
    "itsliupeng__snippet__emu3_infer.py": "model.source differently",  # a model and its vision tokenizer
    "sarakh1999__CS245-Project__first.py": "not valid Python",  # a notebook export: `!pip install vllm`
    "victorpengmx__llm-web-chat__backend__chat.py": "no known call in this Python file",
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_values_checked_by_hand(name: str) -> None:
    cfg = extractors.extract(CORPUS / name, "python")
    for key, expected in EXPECTED[name].items():
        v = cfg.values[key]
        assert (v.value, v.origin.line if expected[1] is not None else None) == expected[:2], (name, key)
        assert (v.how == How.UNRESOLVED) is (expected[2:] == ("unresolved",)), (name, key)


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_refused_files_say_why(name: str) -> None:
    with pytest.raises(ExtractionError, match=re.escape(REFUSED[name])) as err:
        extractors.extract(CORPUS / name, "python")
    assert err.value.path == str(CORPUS / name) and err.value.line is not None


def test_every_file_extracts_or_is_an_input_error_and_only_the_python_kind_claims_it() -> None:
    names = sorted(p.name for p in CORPUS.iterdir() if p.suffix == ".py")
    assert len(names) == 39
    outcomes = {"ok": 0, "refused": 0}
    for name in names:
        assert extractors.candidates(CORPUS / name)[0] in ([], ["python"]), name
        try:
            extractors.extract(CORPUS / name, "python")
            outcomes["ok"] += 1
        except ExtractionError:
            outcomes["refused"] += 1
    assert outcomes == {"ok": 34, "refused": 5}


#: tests/corpus/python-args: generation settings that are the field defaults of an argument dataclass handed to
#: HfArgumentParser (``script_args.temperature``); each value at the line that uses it, read by hand from the
#: field's ``default=`` (a command line may set another value, as the note says).
ARGS_CORPUS = CORPUS.parent / "python-args"
ARGS_EXPECTED: dict[str, dict[str, tuple[Any, ...]]] = {
    "RLHFlow__Online-RLHF__generation__get_hf2.py": {
        # fields temperature (line 57, default 0.7), max_new_tokens (line 49, 2048: max_tokens and max_model_len), K 8
        "generation.temperature": (0.7, 93), "generation.max_new_tokens": (2048, 95),
        "generation.num_return_sequences": (8, 96), "serving.max_model_len": (2048, 86),
        # model_path = script_args.model_name_or_path (a module constant): the field's default "your model"
        "model.source": ("your model", 83), "generation.do_sample": (True, 93),
        "vllm.stop_token_ids": ("[tokenizer.eos_token_id] + script_args.eos_ids", 97, "unresolved"),
    },
    "brendanbennett__trl__scripts__eval_math500.py": {
        # fields temperature (line 63, default 0.0: vLLM greedy), max_tokens (line 59, 4096); one GPU; model "output"
        "generation.temperature": (0, 105), "generation.do_sample": (False, 105),
        "generation.max_new_tokens": (4096, 107), "serving.tensor_parallel_size": (1, 103),
        "model.source": ("output", 103),
    },
}


@pytest.mark.parametrize("name", sorted(ARGS_EXPECTED))
def test_argument_dataclass_defaults_checked_by_hand(name: str) -> None:
    cfg = extractors.extract(ARGS_CORPUS / name, "python")
    for key, expected in ARGS_EXPECTED[name].items():
        v = cfg.values[key]
        assert (v.value, v.origin.line) == expected[:2], (name, key)
        assert (v.how == How.UNRESOLVED) is (expected[2:] == ("unresolved",)), (name, key)
    assert sorted(p.name for p in ARGS_CORPUS.iterdir() if p.suffix == ".py") == sorted(ARGS_EXPECTED)
    assert "a command line may set another value" in (cfg.values["generation.temperature"].note or "")
