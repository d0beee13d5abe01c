"""Table tests per engine spec, written from the engines' own definitions (issue 25 point 3), never from the spec
tables under test: for every range a serving path validates, the values exactly at each bound and just past it;
for every decoding rule, each field at its neutral value and just off it; the documented defaults.

Sources (shared/reference/defaults.md cites file, commit and line of each):
* TGI: huggingface/text-generation-inference@db931fcf42da router/src/validation.rs ``validate`` (defaults.md §3,
  TGI-VAL; the same checks at 01067f8ba8bc: temperature, repetition_penalty <= 0 refused, top_k <= 0 refused,
  max_new_tokens 0 refused, top_p and typical_p refused at <= 0 or >= 1, frequency_penalty in -2.0..=2.0);
  best_of ``exclusiveMinimum: 0`` in docs/openapi.json (tests/corpus/runtime/); server/.../utils/tokens.py
  ``NextTokenChooser`` (TGI-TOK: sampling = do_sample or temperature != 1 or top_k != 0 or top_p < 1 or
  typical_p < 1).
* OpenAI: openai/openai-openapi@f85dbe223d40 openapi.json (defaults.md §5, OAI): temperature [0, 2], top_p
  [0, 1], n [1, 128], presence and frequency penalty [-2, 2]; defaults temperature 1, top_p 1, n 1, penalties 0;
  legacy Completions max_tokens 16, Chat Completions none.
* lmdeploy: InternLM/lmdeploy@1263d5cd889b lmdeploy/messages.py ``GenerationConfig`` (defaults.md §6, LMD):
  ``__post_init__`` 0 <= top_p <= 1, top_k >= 0, 0 <= temperature <= 2, 0 <= min_p <= 1; defaults n 1,
  max_new_tokens 512, do_sample False, top_p 1.0, top_k 50, min_p 0.0, temperature 0.8, repetition_penalty 1.0;
  ``_determine_gen_config``: do_sample False sets top_k 1, temperature 1.0, repetition_penalty 1.0.
* TensorRT-LLM: NVIDIA/TensorRT-LLM@3585984b32cd cpp/tensorrt_llm/executor/samplingConfig.cpp (defaults.md §4.1,
  TRT-SC: top_k >= 0, 0 < top_p <= 1, temperature >= 0, repetition_penalty > 0, min_p in [0, 1], beam width
  > 0), tensorrtllm_backend@c2e65b88d852 utils.cc (TRTB-CC: a runtime_top_p <= 0 is unset, not refused), the
  greedy rule (top_k 1, or top_k 0 with top_p 0, or temperature 0; beam search when beam_width > 1) and the
  LLM API's greedy default while no sampling field is set (TRT-DOC, §4.2).
* vLLM: vllm-project/vllm@00388f6573cc vllm/sampling_params.py (defaults.md §2.1, VLLM-SP): ``SamplingParams``'
  defaults, ``_verify_args`` (n >= 1, presence and frequency penalty in [-2, 2], repetition_penalty > 0,
  temperature >= 0, top_p in (0, 1], top_k >= -1, min_p in [0, 1], max_tokens >= 1) and ``__post_init__``
  (temperature < ``_SAMPLING_EPS`` = 1e-5 is greedy and sets top_p 1.0, top_k 0, min_p 0.0);
  @0052a5b81898 vllm/config/model.py (VLLM-MC) ``try_get_generation_config`` (``config.to_diff_dict()``) and
  ``get_diff_sampling_param`` (its six ``available_params``); @002032ee2b18
  vllm/entrypoints/openai/chat_completion/protocol.py (VLLM-CHAT) ``ChatCompletionRequest``.
* SGLang: sgl-project/sglang@00c17cafcb9e python/sglang/srt/sampling/sampling_params.py ``SamplingParams``: its
  defaults, ``__post_init__`` (``0 <= temperature < _SAMPLING_EPS`` = 1e-6 is greedy: top_k 1) and ``verify``
  (temperature >= 0, top_p in (0, 1], min_p in [0, 1], frequency and presence penalty in [-2, 2],
  repetition_penalty in (0, 2], min_new_tokens >= 0, max_new_tokens >= 0); @004c82e07d87
  python/sglang/srt/entrypoints/openai/protocol.py ``CompletionRequest`` (max_tokens 16, ``max_tokens must be
  positive``, echo False) and ``ChatCompletionRequest`` (``to_sampling_params``: min_tokens -> min_new_tokens);
  @01d4f856c43c docs/docs/basic_usage/sampling_params.mdx (``/generate`` is "the low-level endpoint").
* transformers ``generate()`` (TF-4.57.6, the PyPI wheel defaults.md §0 reads; the same checks in 5.25.0):
  generation/logits_process.py, each processor's own check, where ``_get_logits_processor`` (generation/utils.py)
  builds it only off its neutral value (temperature != 1, top_k != 0, top_p and typical_p < 1, min_length,
  min_new_tokens and no_repeat_ngram_size > 0, repetition_penalty != 1): ``TemperatureLogitsWarper`` "has to be
  a strictly positive float" (0.0 is greedy: generate() turns do_sample off, defaults.md §1.3), ``TopKLogitsWarper``
  "a strictly positive integer", ``MinPLogitsWarper`` "in the [0, 1] interval", ``TypicalLogitsWarper`` "> 0 and
  < 1", ``RepetitionPenaltyLogitsProcessor`` "a strictly positive float", ``MinLengthLogitsProcessor`` "a
  non-negative integer", ``MinNewTokensLengthLogitsProcessor`` (``< 0`` refused), ``NoRepeatNGramLogitsProcessor``
  "a strictly positive integer"; generation/configuration_utils.py ``GenerationConfig.validate``: "`max_new_tokens`
  must be greater than 0", and greedy search (num_beams 1, do_sample False: the defaults) refuses any
  num_return_sequences but 1; its docstring names the modes of num_beams=1 and num_beams>1, none below 1.
* Triton: triton-inference-server/core@6370c433e5be src/model_config_utils.cc ``ValidateModelConfig``
  ("'max_batch_size' must be non-negative value", "dynamic batching preferred size must be positive") and
  ``NormalizeInstanceGroup`` (a count below 1 becomes 1: 0 is no error); triton-inference-server/common
  protobuf/model_config.proto (TRI-PROTO, defaults.md §0) ``uint64 max_queue_delay_microseconds``.
"""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from driftguard import engines
from driftguard.model import How, Origin, Value

# (path, field, value, accepted): each bound exactly, and a step past it.
RANGES = [
    # TGI-VAL validate
    ("tgi", "temperature", 0.0, False), ("tgi", "temperature", 0.01, True), ("tgi", "temperature", -1.0, False),
    ("tgi", "top_k", 0, False), ("tgi", "top_k", 1, True), ("tgi", "top_k", -1, False),
    ("tgi", "top_p", 0.0, False), ("tgi", "top_p", 0.01, True), ("tgi", "top_p", 0.99, True),
    ("tgi", "top_p", 1.0, False),
    ("tgi", "typical_p", 0.0, False), ("tgi", "typical_p", 0.5, True), ("tgi", "typical_p", 1.0, False),
    ("tgi", "repetition_penalty", 0.0, False), ("tgi", "repetition_penalty", 0.5, True),
    ("tgi", "frequency_penalty", -2.0, True), ("tgi", "frequency_penalty", 2.0, True),
    ("tgi", "frequency_penalty", -2.5, False), ("tgi", "frequency_penalty", 2.5, False),
    ("tgi", "max_new_tokens", 0, False), ("tgi", "max_new_tokens", 1, True),
    ("tgi", "best_of", 0, False), ("tgi", "best_of", 1, True),
    # OAI openapi.json
    ("openai", "temperature", 0.0, True), ("openai", "temperature", 2.0, True),
    ("openai", "temperature", -0.5, False), ("openai", "temperature", 2.5, False),
    ("openai", "top_p", 0.0, True), ("openai", "top_p", 1.0, True), ("openai", "top_p", -0.5, False),
    ("openai", "top_p", 1.5, False),
    ("openai", "n", 1, True), ("openai", "n", 128, True), ("openai", "n", 0, False), ("openai", "n", 129, False),
    ("openai-completions", "n", 128, True), ("openai-completions", "n", 129, False),
    ("openai", "presence_penalty", -2.0, True), ("openai", "presence_penalty", 2.0, True),
    ("openai", "presence_penalty", -2.5, False), ("openai", "presence_penalty", 2.5, False),
    ("openai", "frequency_penalty", -2.0, True), ("openai", "frequency_penalty", 2.0, True),
    ("openai", "frequency_penalty", -2.5, False), ("openai", "frequency_penalty", 2.5, False),
    # LMD GenerationConfig.__post_init__ (the pipeline and the api_server)
    ("lmdeploy-pipeline", "top_p", 0.0, True), ("lmdeploy-pipeline", "top_p", 1.0, True),
    ("lmdeploy-pipeline", "top_p", -0.5, False), ("lmdeploy-pipeline", "top_p", 1.5, False),
    ("lmdeploy-server", "top_p", 1.0, True), ("lmdeploy-server", "top_p", 1.5, False),
    ("lmdeploy-server", "top_p", 0.0, False),  # every api_server endpoint: "must be in (0, 1]" (validation.py)
    # InternLM/lmdeploy@1263d5cd889b lmdeploy/serve/openai/endpoints/generate.py check_request: max_tokens > 0,
    # top_p in (0, 1], top_k >= 0, temperature in [0, 2]
    ("lmdeploy-generate", "max_tokens", 0, False), ("lmdeploy-generate", "max_tokens", 1, True),
    ("lmdeploy-generate", "top_p", 0.0, False), ("lmdeploy-generate", "top_p", 1.0, True),
    ("lmdeploy-generate", "top_p", 1.01, False), ("lmdeploy-generate", "top_k", 0, True),
    ("lmdeploy-generate", "top_k", -1, False), ("lmdeploy-generate", "temperature", 0.0, True),
    ("lmdeploy-generate", "temperature", -0.01, False), ("lmdeploy-generate", "temperature", 2.0, True),
    ("lmdeploy-generate", "temperature", 2.01, False), ("lmdeploy-generate", "temperature", 1.5, True),
    ("lmdeploy-pipeline", "top_k", 0, True), ("lmdeploy-pipeline", "top_k", -1, False),
    ("lmdeploy-pipeline", "temperature", 0.0, True), ("lmdeploy-pipeline", "temperature", 2.0, True),
    ("lmdeploy-pipeline", "temperature", -0.5, False), ("lmdeploy-pipeline", "temperature", 2.5, False),
    ("lmdeploy-pipeline", "min_p", 0.0, True), ("lmdeploy-pipeline", "min_p", 1.0, True),
    ("lmdeploy-pipeline", "min_p", -0.5, False), ("lmdeploy-pipeline", "min_p", 1.5, False),
    # TRT-SC (the LLM API and trtllm-serve take SamplingParams)
    ("trtllm-llmapi", "top_k", 0, True), ("trtllm-llmapi", "top_k", -1, False),
    ("trtllm-llmapi", "top_p", 0.0, False), ("trtllm-llmapi", "top_p", 0.01, True),
    ("trtllm-llmapi", "top_p", 1.0, True), ("trtllm-llmapi", "top_p", 1.5, False),
    ("trtllm-serve", "top_p", 0.0, False), ("trtllm-serve", "top_p", 1.0, True),
    ("trtllm-llmapi", "temperature", 0.0, True), ("trtllm-llmapi", "temperature", -0.5, False),
    ("trtllm-llmapi", "repetition_penalty", 0.0, False), ("trtllm-llmapi", "repetition_penalty", 0.5, True),
    ("trtllm-llmapi", "min_p", 0.0, True), ("trtllm-llmapi", "min_p", 1.0, True),
    ("trtllm-llmapi", "min_p", -0.5, False), ("trtllm-llmapi", "min_p", 1.5, False),
    # NVIDIA/TensorRT-LLM@a98a9061d72f tensorrt_llm/sampling_params.py SamplingParams._validate:
    # "truncate_prompt_tokens must be >= 1"
    ("trtllm-llmapi", "truncate_prompt_tokens", 1, True), ("trtllm-llmapi", "truncate_prompt_tokens", 0, False),
    ("trtllm-serve", "truncate_prompt_tokens", 0, False),
    # Triton tensorrtllm_backend: request tensors into the same SamplingConfig; runtime_top_p <= 0 is unset
    ("triton-tensorrtllm", "runtime_top_k", 0, True), ("triton-tensorrtllm", "runtime_top_k", -1, False),
    ("triton-tensorrtllm", "runtime_top_p", 0.0, True), ("triton-tensorrtllm", "runtime_top_p", -1.0, True),
    ("triton-tensorrtllm", "temperature", 0.0, True), ("triton-tensorrtllm", "temperature", -0.5, False),
    ("triton-tensorrtllm", "beam_width", 1, True), ("triton-tensorrtllm", "beam_width", 0, False),
    ("triton-tensorrtllm", "repetition_penalty", 0.0, False),
    ("triton-tensorrtllm", "repetition_penalty", 0.5, True),
    # TRT-SC checkTopK (the ensemble's top_k is runtime_top_k) and checkNumReturnSequences (> 0: the LLM API's n
    # becomes num_return_sequences); one new token is a length every path takes
    ("triton-tensorrtllm", "top_k", 0, True), ("triton-tensorrtllm", "top_k", -1, False),
    ("trtllm-llmapi", "n", 1, True), ("trtllm-llmapi", "n", 0, False),
    ("trtllm-serve", "n", 1, True), ("trtllm-serve", "n", 0, False),
    ("triton-tensorrtllm", "request_output_len", 1, True), ("triton-tensorrtllm", "max_tokens", 1, True),
    ("trtllm-llmapi", "max_tokens", 1, True), ("trtllm-serve", "max_completion_tokens", 1, True),
    # VLLM-SP _verify_args; the three vLLM paths build the same SamplingParams
    ("vllm-serve", "temperature", 0.0, True), ("vllm-serve", "temperature", -0.5, False),
    ("vllm-serve", "top_p", 0.0, False), ("vllm-serve", "top_p", 0.01, True), ("vllm-serve", "top_p", 1.0, True),
    ("vllm-serve", "top_p", 1.5, False),
    ("vllm-serve", "top_k", -1, True), ("vllm-serve", "top_k", 0, True), ("vllm-serve", "top_k", -2, False),
    ("vllm-serve", "min_p", 0.0, True), ("vllm-serve", "min_p", 1.0, True), ("vllm-serve", "min_p", -0.5, False),
    ("vllm-serve", "min_p", 1.5, False),
    ("vllm-serve", "repetition_penalty", 0.0, False), ("vllm-serve", "repetition_penalty", 0.5, True),
    ("vllm-serve", "repetition_penalty", 2.5, True),  # "must be greater than zero": no upper bound
    ("vllm-serve", "presence_penalty", -2.0, True), ("vllm-serve", "presence_penalty", 2.0, True),
    ("vllm-serve", "presence_penalty", -2.5, False), ("vllm-serve", "presence_penalty", 2.5, False),
    ("vllm-serve", "frequency_penalty", -2.0, True), ("vllm-serve", "frequency_penalty", 2.0, True),
    ("vllm-serve", "frequency_penalty", -2.5, False), ("vllm-serve", "frequency_penalty", 2.5, False),
    ("vllm-serve", "n", 1, True), ("vllm-serve", "n", 0, False),
    ("vllm-serve", "max_tokens", 1, True), ("vllm-serve", "max_tokens", 0, False),
    # VLLM-CHAT build_tok_params: max_completion_tokens takes max_tokens' place, so the same max_tokens >= 1
    ("vllm-serve", "max_completion_tokens", 1, True), ("vllm-serve", "max_completion_tokens", 0, False),
    ("triton-vllm", "presence_penalty", -2.0, True), ("triton-vllm", "presence_penalty", -2.5, False),
    ("vllm-sampling-params", "frequency_penalty", -2.0, True),
    ("vllm-sampling-params", "frequency_penalty", -2.5, False),
    # SGLang SamplingParams.verify (/generate's sampling_params; the OpenAI-compatible paths build the same)
    ("sglang-generate", "temperature", 0.0, True), ("sglang-generate", "temperature", -0.5, False),
    ("sglang-generate", "top_p", 0.0, False), ("sglang-generate", "top_p", 0.5, True),
    ("sglang-generate", "top_p", 1.0, True), ("sglang-generate", "top_p", 1.5, False),
    ("sglang-generate", "min_p", 0.0, True), ("sglang-generate", "min_p", 1.0, True),
    ("sglang-generate", "min_p", -0.5, False), ("sglang-generate", "min_p", 1.5, False),
    ("sglang-generate", "frequency_penalty", -2.0, True), ("sglang-generate", "frequency_penalty", 2.0, True),
    ("sglang-generate", "frequency_penalty", -2.5, False), ("sglang-generate", "frequency_penalty", 2.5, False),
    ("sglang-generate", "presence_penalty", -2.0, True), ("sglang-generate", "presence_penalty", 2.0, True),
    ("sglang-generate", "presence_penalty", -2.5, False), ("sglang-generate", "presence_penalty", 2.5, False),
    ("sglang-generate", "repetition_penalty", 0.0, False), ("sglang-generate", "repetition_penalty", 0.5, True),
    ("sglang-generate", "repetition_penalty", 1.5, True), ("sglang-generate", "repetition_penalty", 2.0, True),
    ("sglang-generate", "repetition_penalty", 2.5, False),
    ("sglang-generate", "min_new_tokens", 0, True), ("sglang-generate", "min_new_tokens", -1, False),
    ("sglang-generate", "max_new_tokens", 0, True), ("sglang-generate", "max_new_tokens", -1, False),
    ("sglang-generate", "n", 1, True),
    ("sglang-chat", "min_tokens", 0, True), ("sglang-chat", "min_tokens", -1, False),  # -> min_new_tokens
    ("sglang-chat", "presence_penalty", -2.0, True), ("sglang-chat", "presence_penalty", -2.5, False),
    ("sglang-chat", "max_completion_tokens", 1, True),  # to_sampling_params: max_new_tokens 1
    # CompletionRequest.validate_max_tokens_positive
    ("sglang-completions", "max_tokens", 1, True), ("sglang-completions", "max_tokens", 0, False),
    # transformers (TF-4.57.6): the logits processors' checks and GenerationConfig.validate
    ("transformers", "temperature", 0.0, True), ("transformers", "temperature", 0.5, True),
    ("transformers", "temperature", -0.5, False),
    ("transformers", "top_k", 0, True), ("transformers", "top_k", 1, True), ("transformers", "top_k", -1, False),
    ("transformers", "min_p", 0.0, True), ("transformers", "min_p", 1.0, True), ("transformers", "min_p", -0.5, False),
    ("transformers", "min_p", 1.5, False),
    ("transformers", "typical_p", 0.0, False), ("transformers", "typical_p", 0.5, True),
    ("transformers", "typical_p", 1.0, True), ("transformers", "typical_p", -0.5, False),
    ("transformers", "typical_p", 1.5, False),
    ("transformers", "repetition_penalty", 0.0, False), ("transformers", "repetition_penalty", 0.5, True),
    ("transformers", "min_length", 0, True), ("transformers", "min_length", -1, False),
    ("transformers", "min_new_tokens", 0, True), ("transformers", "min_new_tokens", -1, False),
    ("transformers", "no_repeat_ngram_size", 0, True), ("transformers", "no_repeat_ngram_size", 1, True),
    ("transformers", "no_repeat_ngram_size", -1, False),
    ("transformers", "max_new_tokens", 1, True), ("transformers", "max_new_tokens", 0, False),
    ("transformers", "num_return_sequences", 1, True), ("transformers", "num_return_sequences", 0, False),
    ("transformers", "num_beams", 1, True), ("transformers", "num_beams", 0, False),
]

# DG303's ranges of the serving config (Triton core's ValidateModelConfig, NormalizeInstanceGroup, model_config.proto):
# (key, value, accepted).
SERVING = [
    ("batching.max_batch_size", 0, True), ("batching.max_batch_size", -1, False),
    ("batching.preferred_batch_sizes", 1, True), ("batching.preferred_batch_sizes", 0, False),
    ("batching.max_queue_delay_us", 0, True), ("batching.max_queue_delay_us", -1, False),
    ("serving.instance_count", 0, True),
]


@pytest.mark.parametrize(("key", "value", "ok"), SERVING)
def test_each_serving_bound_is_tritons_own(key: str, value: int, ok: bool) -> None:
    assert engines.CANONICAL_RANGES[key].ok(value) == ok
    assert engines.CANONICAL_RANGES["batching.preferred_batch_sizes"].each  # a list: each size is checked


@pytest.mark.parametrize(("spec", "name", "value", "ok"), RANGES)
def test_each_bound_is_the_engines_own(spec: str, name: str, value: float, ok: bool) -> None:
    msg = engines.get(spec).check(name, value)
    assert (msg is None) == ok, msg
    if not ok:
        assert msg is not None and msg.startswith("must be in ")


def test_tgi_says_that_tgi_rejects_it() -> None:
    assert engines.get("tgi").check("top_p", 1.0) == "must be in (0, 1) (TGI rejects it)"
    assert engines.get("openai").check("n", 129) == "must be in [1, 128]"


def _values(values: Mapping[str, object], how: How = How.EXPLICIT) -> dict[str, Value]:
    return {f"generation.{k}": Value(v, Origin("request.json", 1), how) for k, v in values.items()}


def _samples(spec: str, values: Mapping[str, object], how: How = How.EXPLICIT) -> bool | None:
    rule = engines.get(spec).decoding
    assert rule is not None
    decision = rule(_values(values, how))
    return None if decision is None else decision.samples


# TGI-TOK has_warpers: each warper at its neutral value samples nothing, just off it samples even with do_sample
# false. Where the request's own do_sample decides (true, or false with no warper on) the rule adds nothing (None).
@pytest.mark.parametrize(("values", "samples"), [
    ({"do_sample": False, "temperature": 1.0, "top_k": 0, "top_p": 1.0, "typical_p": 1.0}, None),
    ({"do_sample": False, "temperature": 0.99}, True), ({"do_sample": False, "temperature": 1.01}, True),
    ({"do_sample": False, "top_k": 1}, True), ({"do_sample": False, "top_k": 0}, None),
    ({"do_sample": False, "top_p": 0.99}, True), ({"do_sample": False, "top_p": 1.0}, None),
    ({"do_sample": False, "typical_p": 0.99}, True), ({"do_sample": False, "typical_p": 1.0}, None),
    ({"temperature": 0.7}, True), ({"top_k": 1}, True), ({"typical_p": 0.5}, True),
    ({}, False),  # do_sample's default is false and no warper is set
    ({"temperature": 1.0, "top_k": 0, "top_p": 1.0, "typical_p": 1.0}, False),
    ({"do_sample": True}, None), ({"do_sample": True, "temperature": 0.5}, None),
    # the rule as written (top_k != 0, top_p < 1, typical_p < 1), also on values the router refuses
    ({"do_sample": False, "top_k": -1}, True), ({"do_sample": False, "top_p": 1.5}, None),
    ({"do_sample": False, "typical_p": 1.5}, None),
])
def test_tgi_samples_when_do_sample_or_any_warper(values: dict[str, object], samples: bool | None) -> None:
    assert _samples("tgi", values) is samples


def test_tgi_names_the_first_warper_that_samples() -> None:
    rule = engines.get("tgi").decoding
    assert rule is not None
    decision = rule(_values({"do_sample": False, "temperature": 1.0, "top_p": 0.9, "typical_p": 0.5}))
    assert decision is not None and decision.anchor == "generation.top_p"
    assert decision.derived_from == ("generation.top_p", "generation.typical_p")


@pytest.mark.parametrize(("spec", "values", "samples"), [
    ("openai", {"temperature": 0}, False), ("openai", {"temperature": 0.01}, True),
    ("openai", {"temperature": 1.0}, True), ("openai-completions", {"temperature": 0.0}, False),
    ("openai", {}, None), ("openai", {"temperature": True}, None), ("openai", {"temperature": "0"}, None),
])
def test_openai_samples_at_any_temperature_above_zero(spec: str, values: dict[str, object],
                                                      samples: bool | None) -> None:
    assert _samples(spec, values) is samples


# TF-4.57.6 generation/utils.py: the warpers apply only ``if generation_config.do_sample`` (defaults.md §1.1); a
# do_sample that is absent or not a boolean decides nothing here (the default layer's do_sample False does).
@pytest.mark.parametrize(("values", "samples"), [
    ({"do_sample": True}, True), ({"do_sample": False}, False), ({"do_sample": False, "temperature": 0.7}, False),
    ({}, None), ({"temperature": 0.7}, None), ({"do_sample": "true"}, None), ({"do_sample": 1}, None),
])
def test_transformers_samples_exactly_when_do_sample_is_true(values: dict[str, object], samples: bool | None) -> None:
    assert _samples("transformers", values) is samples


def test_openai_defaults_are_the_api_references() -> None:
    chat = {k: d.value for k, (d, _) in engines.get("openai").defaults().items()}
    completions = {k: d.value for k, (d, _) in engines.get("openai-completions").defaults().items()}
    assert chat == {"generation.temperature": 1.0, "generation.top_p": 1.0, "generation.num_return_sequences": 1,
                    "generation.presence_penalty": 0.0, "generation.frequency_penalty": 0.0,
                    "generation.seed": None}
    assert completions == {**chat, "generation.max_new_tokens": 16}


def test_lmdeploy_defaults_are_generation_configs() -> None:
    pipeline = {k: d.value for k, (d, _) in engines.get("lmdeploy-pipeline").defaults().items()}
    assert pipeline == {"generation.num_return_sequences": 1, "generation.max_new_tokens": 512,
                        "generation.do_sample": False, "generation.top_p": 1.0, "generation.top_k": 50,
                        "generation.min_p": 0.0, "generation.temperature": 0.8,
                        "generation.repetition_penalty": 1.0, "generation.seed": None}
    server = {k: d.value for k, (d, _) in engines.get("lmdeploy-server").defaults().items()}
    assert server == {k: v for k, v in pipeline.items() if k != "generation.max_new_tokens"}  # session_len - prompt


@pytest.mark.parametrize(("do_sample", "samples", "forced"), [
    (False, False, {"generation.top_k": 1, "generation.temperature": 1.0, "generation.repetition_penalty": 1.0}),
    (True, True, {}),
])
def test_lmdeploy_pipeline_greedy_forces_what_determine_gen_config_sets(do_sample: bool, samples: bool,
                                                                       forced: dict[str, object]) -> None:
    rule = engines.get("lmdeploy-pipeline").decoding
    assert rule is not None
    decision = rule(_values({"do_sample": do_sample}))
    assert decision is not None and decision.samples is samples and dict(decision.forced) == forced
    assert rule(_values({"do_sample": "false"})) is None and rule({}) is None


@pytest.mark.parametrize("values", [{}, {"do_sample": False}, {"temperature": 0.0}])
def test_lmdeploy_api_server_always_samples(values: dict[str, object]) -> None:
    assert _samples("lmdeploy-server", values) is True


@pytest.mark.parametrize(("values", "samples"), [
    ({"top_k": 1}, False), ({"top_k": 1, "top_p": 0.9}, False), ({"top_k": 2}, True), ({"top_k": 0}, True),
    ({"top_k": 0, "top_p": 0.0}, False), ({"top_p": 0.0}, False), ({"top_k": 2, "top_p": 0.0}, True),
    ({"top_p": 0.9}, True), ({}, None),
])
def test_turbomind_samples_unless_top_k_is_one(values: dict[str, object], samples: bool | None) -> None:
    assert _samples("turbomind", values) is samples


# §4.1: greedy when top_k == 1, or top_k == 0 with top_p == 0, or temperature == 0; beam search (not sampling)
# when beam_width > 1. Unset fields take the runtime's defaults: top_k 0, top_p 0.0, temperature 1.0, beams 1.
@pytest.mark.parametrize(("values", "samples"), [
    ({}, False), ({"top_k": 0, "top_p": 0.0}, False), ({"top_k": 0, "top_p": 0.01}, True),
    ({"top_k": 1}, False), ({"top_k": 1, "top_p": 0.9}, False), ({"top_k": 2}, True),
    ({"top_k": 2, "top_p": 0.0}, True),
    ({"top_p": 0.9}, True), ({"top_p": 0.9, "temperature": 0.0}, False), ({"top_p": 0.9, "temperature": 0.01}, True),
    ({"top_p": 0.9, "num_beams": 1}, True), ({"top_p": 0.9, "num_beams": 2}, False),
    # tensorrtllm_backend (TRTB-CC, §4.5): a runtime_top_p <= 0 is reset to unset, the runtime's 0.0: greedy
    ({"top_k": 0, "top_p": -0.5}, False), ({"top_p": -1.0}, False), ({"top_k": 2, "top_p": -0.5}, True),
    ({"top_p": [0.9, 0.0]}, None), ({"top_k": [1, 2]}, None), ({"num_beams": [1]}, None),
    ({"temperature": [0.0]}, None),
])
def test_tensorrt_llm_greedy_and_beam_rules(values: dict[str, object], samples: bool | None) -> None:
    assert _samples("triton-tensorrtllm", values) is samples
    assert _samples("trtllm-serve", values) is samples


@pytest.mark.parametrize(("values", "how", "samples"), [
    ({}, How.EXPLICIT, False), ({"top_p": 0.9}, How.DEFAULT, False), ({"top_k": 5}, How.DERIVED, False),
    ({"top_p": 0.9}, How.EXPLICIT, True), ({"top_p": 0.9}, How.INHERITED, True),
    ({"top_k": 1}, How.EXPLICIT, False), ({"temperature": 0.0, "top_p": 0.9}, How.EXPLICIT, False),
    ({"min_p": 0.5, "top_p": 0.9}, How.EXPLICIT, True),
])
def test_tensorrt_llm_llm_api_is_greedy_until_a_sampling_field_is_set(values: dict[str, object], how: How,
                                                                     samples: bool) -> None:
    """TRT-DOC: "By default (temperature = top_p = top_k = None), greedy sampling is used"; a value the
    engine's own defaults supplied is not one the request set."""
    assert _samples("trtllm-llmapi", values, how) is samples


def test_tensorrt_llm_runtime_defaults_are_the_cpp_ones() -> None:
    """TRT-DDP defaultDecodingParams.h: beam width 1, temperature 1.0, top_k 0, top_p 0.0, repetition 1.0,
    min length 1, seed 0, length_penalty 0.0, early_stopping 1 (§4.1); the LLM API's max_tokens 32 and n 1
    (§4.2); trtllm-serve's temperature 1.0, top_p 1.0, top_k 0, min_tokens 0 (§4.3)."""
    triton = {k: d.value for k, (d, _) in engines.get("triton-tensorrtllm").defaults().items()}
    assert {k: triton[k] for k in ("generation.num_beams", "generation.temperature", "generation.top_k",
                                   "generation.top_p", "generation.repetition_penalty",
                                   "generation.min_new_tokens", "generation.seed", "generation.length_penalty",
                                   "generation.early_stopping")} == {
        "generation.num_beams": 1, "generation.temperature": 1.0, "generation.top_k": 0, "generation.top_p": 0.0,
        "generation.repetition_penalty": 1.0, "generation.min_new_tokens": 1, "generation.seed": 0,
        "generation.length_penalty": 0.0, "generation.early_stopping": 1}
    assert {k: triton[k] for k in ("generation.presence_penalty", "generation.frequency_penalty",
                                   "generation.min_p", "generation.no_repeat_ngram_size")} == {
        "generation.presence_penalty": 0.0, "generation.frequency_penalty": 0.0, "generation.min_p": 0.0,
        "generation.no_repeat_ngram_size": 0}  # 1 << 30 is off, written 0 (the canonical value below)
    llm_api = {k: d.value for k, (d, _) in engines.get("trtllm-llmapi").defaults().items()}
    assert (llm_api["generation.max_new_tokens"], llm_api["generation.num_return_sequences"]) == (32, 1)
    serve = {k: d.value for k, (d, _) in engines.get("trtllm-serve").defaults().items()}
    assert (serve["generation.temperature"], serve["generation.top_p"], serve["generation.top_k"],
            serve["generation.min_new_tokens"], serve["generation.min_p"],
            serve["generation.num_return_sequences"]) == (1.0, 1.0, 0, 0, 0.0, 1)
    assert engines.get("triton-tensorrtllm").canonical("no_repeat_ngram_size", 1 << 30) == 0  # TRT-SP: off


def test_tgi_defaults_are_generate_parameters() -> None:
    """TGI-VAL: temperature None -> 1.0, top_k None -> 0, top_p None -> 1.0, typical_p 1.0, repetition_penalty
    1.0, frequency_penalty 0.0, best_of 1, seed None (random), stop []."""
    tgi = {k: d.value for k, (d, _) in engines.get("tgi").defaults().items()}
    assert tgi == {"generation.temperature": 1.0, "generation.top_k": 0, "generation.top_p": 1.0,
                   "generation.typical_p": 1.0, "generation.repetition_penalty": 1.0,
                   "generation.frequency_penalty": 0.0, "generation.num_return_sequences": 1,
                   "generation.seed": None, "generation.stop": []}


def test_tgi_generate_neither_watermarks_nor_returns_the_prompt_nor_applies_the_chat_template() -> None:
    """router/src/lib.rs GenerateParameters: ``watermark`` is a ``#[serde(default)] bool`` (false);
    router/src/server.rs ``generate``: ``return_full_text.unwrap_or(false)``, and it tokenizes ``inputs`` as
    given (only ``chat_completions`` applies the chat template). A side that sets either field to its default
    changes nothing."""
    tgi = engines.get("tgi")
    assert tgi.output_fields["parameters.watermark"] is False
    assert tgi.output_fields["parameters.return_full_text"] is False
    ((endpoint),) = tgi.endpoints
    assert (endpoint.path, endpoint.field, endpoint.chat_template) == ("/generate", "inputs", False)


def test_openai_chat_takes_messages_and_completions_a_prompt() -> None:
    """The API reference: Chat Completions (/v1/chat/completions) takes ``messages``, which the server renders
    with the chat template; legacy Completions (/v1/completions) a raw ``prompt``. Each path has its one."""
    (chat,) = engines.get("openai").endpoints
    (completions,) = engines.get("openai-completions").endpoints
    assert (chat.path, chat.field, chat.chat_template) == ("/v1/chat/completions", "messages", True)
    assert (completions.path, completions.field, completions.chat_template) == ("/v1/completions", "prompt", False)


def test_openai_echo_is_off_unless_asked() -> None:
    """defaults.md §5 (OAI): Completions ``echo`` defaults to false, so a request with echo false changes
    nothing and echo true (the prompt returned with the completion) does."""
    assert engines.get("openai-completions").output_fields["echo"] is False


@pytest.mark.parametrize("spec", ["lmdeploy-pipeline", "lmdeploy-server"])
def test_lmdeploy_output_fields_are_neutral_at_generation_configs_defaults(spec: str) -> None:
    """InternLM/lmdeploy lmdeploy/messages.py GenerationConfig (read at 0043859b6cfe and 9f134dc46ed3;
    defaults.md §6 cites 1263d5cd889b): ignore_eos False, skip_special_tokens True, spaces_between_special_tokens
    True, include_stop_str_in_output False (9f134dc46ed3). A request stating these changes nothing; the
    opposite value does."""
    fields = engines.get(spec).output_fields
    assert (fields["ignore_eos"], fields["skip_special_tokens"], fields["spaces_between_special_tokens"],
            fields["include_stop_str_in_output"]) == (False, True, True, False)


#: NVIDIA/TensorRT-LLM@a98a9061d72f tensorrt_llm/sampling_params.py SamplingParams: the Python defaults of the
#: fields without a canonical key; the Optional ones (None) take the C++ runtime's values, defaults.md §4.1
#: (TRT-DDP defaultDecodingParams.h): top_p_min 1e-6, top_p_decay 1.0, top_p_reset_ids -1, beam diversity 0.0,
#: early_stopping 1.
SAMPLING_PARAMS_NEUTRAL = {
    "include_stop_str_in_output": False, "apply_batched_logits_processor": False, "use_beam_search": False,
    "exclude_input_from_output": True, "ignore_eos": False, "detokenize": True, "add_special_tokens": True,
    "skip_special_tokens": True, "spaces_between_special_tokens": True,
    "top_p_min": 1e-6, "top_p_decay": 1.0, "top_p_reset_ids": -1, "beam_search_diversity_rate": 0.0,
    "early_stopping": 1,
}


def test_tensorrt_llm_llm_api_output_fields_are_neutral_at_sampling_params_defaults() -> None:
    fields = engines.get("trtllm-llmapi").output_fields
    assert {k: fields[k] for k in SAMPLING_PARAMS_NEUTRAL} == SAMPLING_PARAMS_NEUTRAL


def test_tensorrt_llm_request_tensors_are_neutral_at_the_runtime_defaults() -> None:
    """The Triton request tensors of the same settings: defaults.md §4.1 and §4.5 (unset tensors take the C++
    runtime's values)."""
    fields = engines.get("triton-tensorrtllm").output_fields
    assert (fields["request.runtime_top_p_min"], fields["request.runtime_top_p_decay"],
            fields["request.runtime_top_p_reset_ids"], fields["request.beam_search_diversity_rate"]) == \
        (1e-6, 1.0, -1, 0.0)


VLLM_PATHS = ["vllm-serve", "triton-vllm", "vllm-sampling-params"]


@pytest.mark.parametrize("spec", VLLM_PATHS)
def test_vllm_defaults_are_sampling_params(spec: str) -> None:
    """VLLM-SP SamplingParams: n 1, presence and frequency penalty 0.0, repetition_penalty 1.0, temperature 1.0,
    top_p 1.0, top_k 0, min_p 0.0, seed None, stop None (``__post_init__``: []), max_tokens 16, min_tokens 0. Each
    path's bottom layer (the server's own defaults above it come from the model, defaults.md §2.2)."""
    assert {k: d.value for k, (d, _) in engines.get(spec).defaults().items()} == {
        "generation.num_return_sequences": 1, "generation.presence_penalty": 0.0,
        "generation.frequency_penalty": 0.0, "generation.repetition_penalty": 1.0, "generation.temperature": 1.0,
        "generation.top_p": 1.0, "generation.top_k": 0, "generation.min_p": 0.0, "generation.seed": None,
        "generation.stop": [], "generation.max_new_tokens": 16, "generation.min_new_tokens": 0}


# VLLM-SP __post_init__: ``if self.temperature < _SAMPLING_EPS`` (1e-5) greedy, otherwise it samples; a value that
# is no number decides nothing.
@pytest.mark.parametrize(("values", "samples"), [
    ({"temperature": 0.0}, False), ({"temperature": 0.000009}, False), ({"temperature": 0.00001}, True),
    ({"temperature": 0.5}, True), ({"temperature": 1.0}, True), ({"temperature": 2.0}, True),
    ({}, None), ({"temperature": True}, None), ({"temperature": False}, None), ({"temperature": "0"}, None),
    ({"temperature": None}, None),
])
@pytest.mark.parametrize("spec", VLLM_PATHS)
def test_vllm_samples_unless_temperature_is_below_1e_5(spec: str, values: dict[str, object],
                                                       samples: bool | None) -> None:
    assert _samples(spec, values) is samples


def test_vllm_greedy_forces_what_post_init_sets() -> None:
    """VLLM-SP __post_init__, greedy: ``self.top_p = 1.0; self.top_k = 0; self.min_p = 0.0``; sampling forces
    nothing."""
    rule = engines.get("vllm-serve").decoding
    assert rule is not None
    greedy = rule(_values({"temperature": 0.0}))
    assert greedy is not None and dict(greedy.forced) == {"generation.top_p": 1.0, "generation.top_k": 0,
                                                          "generation.min_p": 0.0}
    sampling = rule(_values({"temperature": 0.7}))
    assert sampling is not None and dict(sampling.forced) == {}


@pytest.mark.parametrize("spec", VLLM_PATHS)
def test_vllm_output_fields_are_neutral_at_the_request_and_sampling_params_defaults(spec: str) -> None:
    """VLLM-CHAT ChatCompletionRequest: use_beam_search False, include_stop_str_in_output False, ignore_eos False,
    skip_special_tokens True, spaces_between_special_tokens True; VLLM-SP SamplingParams: detokenize True (and the
    same four). A request stating these changes nothing; the opposite value does."""
    fields = engines.get(spec).output_fields
    assert {k: fields[k] for k in ("ignore_eos", "use_beam_search", "include_stop_str_in_output",
                                   "skip_special_tokens", "spaces_between_special_tokens", "detokenize")} == {
        "ignore_eos": False, "use_beam_search": False, "include_stop_str_in_output": False,
        "skip_special_tokens": True, "spaces_between_special_tokens": True, "detokenize": True}


def test_vllm_serve_reads_six_fields_of_the_generation_config_through_to_diff_dict() -> None:
    """VLLM-MC: ``try_get_generation_config`` returns ``config.to_diff_dict()`` (values equal to transformers'
    defaults dropped) and ``get_diff_sampling_param`` keeps repetition_penalty, temperature, top_k, top_p, min_p
    and max_new_tokens. Triton's vllm_backend and a SamplingParams built in code read no generation_config.json
    (defaults.md §2.3, TRI-VLLM)."""
    use = engines.get("vllm-serve").generation_config
    assert use is not None and use.drop_hf_defaults is True
    assert dict(use.fields) == {"repetition_penalty": "generation.repetition_penalty",
                                "temperature": "generation.temperature", "top_k": "generation.top_k",
                                "top_p": "generation.top_p", "min_p": "generation.min_p",
                                "max_new_tokens": "generation.max_new_tokens"}
    assert engines.get("triton-vllm").generation_config is None
    assert engines.get("vllm-sampling-params").generation_config is None


def test_vllm_endpoints() -> None:
    """triton-inference-server/vllm_backend@11c4e0fd7c6e src/utils/request.py GenerateRequest._get_input_tensors:
    ``text_input`` becomes ``{"prompt": prompt}`` as given, no chat template; ``vllm serve``'s
    /v1/chat/completions renders ``messages`` with the chat template (VLLM-CHAT
    ChatCompletionRequest.build_chat_params), /v1/completions takes ``prompt`` as given; a SamplingParams built in
    code has no endpoint."""
    def shape(spec: str) -> list[tuple[str, str, bool]]:
        return [(e.path, e.field, e.chat_template) for e in engines.get(spec).endpoints]

    serve = [("/v1/chat/completions", "messages", True), ("/v1/completions", "prompt", False)]
    assert shape("vllm-serve") == serve
    assert shape("triton-vllm") == [("/v2/models/{model}/generate", "text_input", False), *serve]
    assert shape("vllm-sampling-params") == []


SGLANG_PATHS = ["sglang-generate", "sglang-chat", "sglang-completions"]


def test_sglang_defaults_are_its_own_where_the_model_decides_nothing() -> None:
    """SGLang SamplingParams: frequency and presence penalty 0.0, min_new_tokens 0, n 1, max_new_tokens 128
    (/generate); CompletionRequest: max_tokens 16 and the same penalties, min_tokens and n; ChatCompletionRequest:
    max_tokens None (runs to the context). The five sampling fields ``--sampling-defaults model`` takes from the
    model are no default of SGLang's (the docs' "Note on defaults")."""
    own = {"generation.frequency_penalty": 0.0, "generation.presence_penalty": 0.0,
           "generation.min_new_tokens": 0, "generation.num_return_sequences": 1}

    def defaults(spec: str) -> dict[str, object]:
        return {k: d.value for k, (d, _) in engines.get(spec).defaults().items()}

    assert defaults("sglang-generate") == {**own, "generation.max_new_tokens": 128}
    assert defaults("sglang-chat") == own
    assert defaults("sglang-completions") == {**own, "generation.max_new_tokens": 16}


# SGLang SamplingParams.__post_init__: ``if 0 <= self.temperature < _SAMPLING_EPS`` (1e-6) it sets top_k 1, which
# is greedy; a request's own top_k 1 is greedy at any temperature. No decision while the temperature is the
# model's (unknown here) or no number.
@pytest.mark.parametrize(("values", "samples"), [
    ({"top_k": 1, "temperature": 0.7}, False), ({"top_k": 1}, False),
    ({"top_k": 2, "temperature": 0.7}, True), ({"top_k": 0, "temperature": 0.7}, True),  # 0: off (-1, 1 << 30)
    ({"temperature": 0.0}, False), ({"temperature": 0.0000005}, False), ({"temperature": 0.000001}, True),
    ({"temperature": 0.7}, True), ({"temperature": 2.0}, True),
    ({"temperature": -0.5}, True),  # the rule as written (0 <= t): verify refuses it afterwards
    ({}, None), ({"top_k": 2}, None), ({"temperature": True}, None), ({"temperature": "0"}, None),
])
@pytest.mark.parametrize("spec", SGLANG_PATHS)
def test_sglang_is_greedy_below_1e_6_or_at_top_k_1(spec: str, values: dict[str, object],
                                                  samples: bool | None) -> None:
    assert _samples(spec, values) is samples


def test_sglang_top_k_1_is_the_decision_whatever_the_temperature() -> None:
    rule = engines.get("sglang-generate").decoding
    assert rule is not None
    decision = rule(_values({"top_k": 1, "temperature": 0.7}))
    assert decision is not None and decision.anchor == "generation.top_k"
    assert decision.derived_from == ("generation.top_k",)
    by_temperature = rule(_values({"top_k": 2, "temperature": 0.0}))
    assert by_temperature is not None and by_temperature.anchor == "generation.temperature"


@pytest.mark.parametrize("spec", SGLANG_PATHS)
def test_sglang_output_fields_are_neutral_at_the_request_defaults(spec: str) -> None:
    """SamplingParams: ignore_eos False, no_stop_trim False, skip_special_tokens True,
    spaces_between_special_tokens True; ChatCompletionRequest: continue_final_message False; CompletionRequest:
    echo False. A request stating these changes nothing; the opposite value does."""
    fields = engines.get(spec).output_fields
    assert {k: fields[k] for k in ("ignore_eos", "no_stop_trim", "skip_special_tokens",
                                   "spaces_between_special_tokens", "continue_final_message", "echo")} == {
        "ignore_eos": False, "no_stop_trim": False, "skip_special_tokens": True,
        "spaces_between_special_tokens": True, "continue_final_message": False, "echo": False}


def test_sglang_endpoints() -> None:
    """The docs: /generate "is the low-level endpoint" (text or input_ids as given, no chat template; "for a
    high-level endpoint that can automatically handle chat templates" use the OpenAI-compatible API);
    ChatCompletionRequest.input_ids "bypasses chat template tokenization entirely"; CompletionRequest's prompt is
    raw text."""
    def shape(spec: str) -> list[tuple[str, str, bool]]:
        return [(e.path, e.field, e.chat_template) for e in engines.get(spec).endpoints]

    assert shape("sglang-generate") == [("/generate", "text", False), ("/generate", "input_ids", False)]
    assert shape("sglang-chat") == [("/v1/chat/completions", "input_ids", False),
                                    ("/v1/chat/completions", "messages", True)]
    assert shape("sglang-completions") == [("/v1/completions", "prompt", False)]


@pytest.mark.parametrize("spec", ["lmdeploy-pipeline", "lmdeploy-server"])
def test_lmdeploy_repetition_ngram_early_stop_is_off_at_zero(spec: str) -> None:
    """InternLM/lmdeploy@156ed458c74e lmdeploy/serve/openai/endpoints/completions.py completions_v1 (and
    @f97f25ac0675 serve/openai/chat_completions/serving.py chat_completions_v1): repetition_ngram_size "N-gram
    length for repetition early stop ... ``0`` disables", repetition_ngram_threshold "... ``0`` disables"."""
    fields = engines.get(spec).output_fields
    assert (fields["repetition_ngram_size"], fields["repetition_ngram_threshold"]) == (0, 0)


def test_lmdeploy_server_ignores_what_its_completion_request_asks_for_by_default() -> None:
    """InternLM/lmdeploy@0051af7d2360 lmdeploy/serve/openai/protocol.py CompletionRequest: presence_penalty 0.0,
    frequency_penalty 0.0 (completions_v1 @156ed458c74e: "Currently we do not support ... presence_penalty,
    frequency_penalty"), echo False, suffix None: the values that ask for nothing."""
    assert engines.engine("lmdeploy").SERVER_IGNORED == {"presence_penalty": 0.0, "frequency_penalty": 0.0,
                                                         "echo": False, "suffix": None}


def test_lmdeploy_server_renders_chat_messages_and_takes_a_completion_prompt_as_given() -> None:
    """@f97f25ac0675 chat_completions/serving.py chat_completions_v1: ``do_preprocess=resolved_input_ids is None``
    (messages go through the chat template); @156ed458c74e endpoints/completions.py completions_v1:
    ``generate(prompt, ..., do_preprocess=False)``."""
    endpoints = [(e.path, e.field, e.chat_template) for e in engines.get("lmdeploy-server").endpoints]
    assert endpoints == [("/v1/chat/completions", "messages", True), ("/v1/completions", "prompt", False)]


def test_turbomind_beam_search_diversity_is_off_at_the_examples_zero() -> None:
    """InternLM/lmdeploy@21f993780e45 examples/cpp/llama/llama_config.ini ``[request]``:
    ``beam_search_diversity_rate=0.0`` (as the C++ runtime's default, defaults.md §4.1)."""
    assert engines.get("turbomind").output_fields == {"request.beam_search_diversity_rate": 0.0}


def test_trtllm_serve_output_fields_are_neutral_at_its_request_defaults() -> None:
    """NVIDIA/TensorRT-LLM@0076e9390e1e tensorrt_llm/serve/openai_protocol.py ChatCompletionRequest and
    CompletionRequest: top_p_min 0.0 (to_sampling_params: ``top_p_min if top_p_min > 0 else None``, unset),
    prompt_ignore_length 0, echo False, add_generation_prompt True; early_stopping None, the engine's own, which
    is 1 (defaults.md §4.1, TRT-DDP), what ``true`` maps to (``_early_stopping_to_int``)."""
    fields = engines.get("trtllm-serve").output_fields
    assert {k: fields[k] for k in ("top_p_min", "prompt_ignore_length", "echo", "add_generation_prompt",
                                   "early_stopping")} == {
        "top_p_min": 0.0, "prompt_ignore_length": 0, "echo": False, "add_generation_prompt": True,
        "early_stopping": True}


def test_trtllm_serve_adds_special_tokens_to_a_completion_and_not_to_a_chat() -> None:
    """@0076e9390e1e openai_protocol.py: ChatCompletionRequest.add_special_tokens defaults to False ("the chat
    template takes care of adding the special tokens"), CompletionRequest.add_special_tokens to True."""
    spec = engines.get("trtllm-serve")
    chat, completions = spec.endpoints
    assert (chat.path, chat.field, chat.chat_template) == ("/v1/chat/completions", "messages", True)
    assert (completions.path, completions.field, completions.chat_template) == ("/v1/completions", "prompt", False)
    assert spec.neutral("add_special_tokens", chat) is False
    assert spec.neutral("add_special_tokens", completions) is True


def test_tensorrtllm_backend_tokenizes_text_input_as_given() -> None:
    """triton-inference-server/tensorrtllm_backend@04d96ce8e635 all_models/inflight_batcher_llm/preprocessing/1/
    model.py ``_create_request``: ``self.tokenizer.encode(s[0].decode(), add_special_tokens=...)`` on each query,
    no chat template, whether the ensemble is reached through Triton's generate or infer endpoint."""
    endpoints = [(e.path, e.field, e.chat_template) for e in engines.get("triton-tensorrtllm").endpoints]
    assert endpoints == [("/v2/models/{model}/generate", "text_input", False),
                         ("/v2/models/{model}/infer", "text_input", False)]


def test_lmdeploy_generate_defaults_and_endpoints() -> None:
    """InternLM/lmdeploy@1263d5cd889b lmdeploy/serve/openai/protocol.py GenerateReqInput: max_tokens 128; the
    other sampling defaults come as on the OpenAI endpoints (GenerationConfig's, over the model's generation
    config); endpoints/generate.py: preprocess(..., do_preprocess=False), the prompt or input_ids as given."""
    spec = engines.get("lmdeploy-generate")
    defaults = {k: d.value for k, (d, _) in spec.defaults().items()}
    assert defaults["generation.max_new_tokens"] == 128
    assert {k: defaults[k] for k in ("generation.temperature", "generation.top_k", "generation.top_p")} == \
        {"generation.temperature": 0.8, "generation.top_k": 50, "generation.top_p": 1.0}
    assert [(e.path, e.field, e.chat_template) for e in spec.endpoints] == \
        [("/generate", "prompt", False), ("/generate", "input_ids", False)]
    assert "max_new_tokens" not in spec.fields and "seed" not in spec.known  # not GenerateReqInput fields


@pytest.mark.parametrize("name", ["lmdeploy-server", "lmdeploy-generate"])
def test_lmdeploy_api_server_generation_config_use(name: str) -> None:
    """lmdeploy/serve/core/generation_config.py: the model's generation_config.json through transformers'
    GenerationConfig.to_diff_dict(), filtered to the fields of lmdeploy's GenerationConfig (messages.py), minus
    max_new_tokens and do_sample, which build_generation_config pops."""
    gc = engines.get(name).generation_config
    assert gc is not None and gc.drop_hf_defaults
    assert dict(gc.fields) == {"temperature": "generation.temperature", "top_p": "generation.top_p",
                               "top_k": "generation.top_k", "min_p": "generation.min_p",
                               "repetition_penalty": "generation.repetition_penalty",
                               "min_new_tokens": "generation.min_new_tokens"}
    assert engines.get("lmdeploy-pipeline").generation_config is None  # the pipeline reads only eos from it
