"""The llama-server table: llama.cpp common/arg.cpp's options (spellings, values, environment variables), the
request defaults of common/common.h, and the per-slot context rule, against values read by hand at
ggml-org/llama.cpp@0c1e57098bba."""

from __future__ import annotations

from driftguard.engines.launcher import Flag
from driftguard.engines.llama_cpp_launcher import DEFAULTS, FLAGS, LLAMA_SERVER, derive
from driftguard.model import Json


def _flag(spelling: str) -> Flag:
    flag = LLAMA_SERVER.flag(spelling)
    assert flag is not None, spelling
    return flag


def test_the_options_the_issue_names_with_their_spellings_and_meaning() -> None:
    assert _flag("-m").dest == _flag("--model").dest == "model" and _flag("-m").key == "model.source"
    assert _flag("-c").dest == _flag("--ctx-size").dest == "ctx_size" and _flag("-c").type == "int"
    assert _flag("-np").dest == _flag("--parallel").dest == "parallel"
    assert _flag("-np").key == "batching.max_batch_size"
    assert _flag("-b").dest == "batch_size" and _flag("-b").key == "serving.max_num_tokens"
    assert _flag("-ngl").dest == _flag("--gpu-layers").dest == _flag("--n-gpu-layers").dest == "n_gpu_layers"
    assert _flag("--temp").dest == _flag("--temperature").dest == "temperature"
    assert _flag("--temp").key == "generation.temperature" and _flag("--temp").type == "float"
    assert _flag("--top-k").key == "generation.top_k" and _flag("--top-k").type == "int"
    assert _flag("--top-p").key == "generation.top_p" and _flag("--min-p").key == "generation.min_p"
    assert _flag("--repeat-penalty").key == "generation.repetition_penalty"
    assert _flag("-n").dest == _flag("--predict").dest == _flag("--n-predict").dest == "n_predict"
    assert _flag("-n").key == "generation.max_new_tokens"
    assert _flag("-s").dest == _flag("--seed").dest == "seed" and _flag("-s").key == "generation.seed"
    assert _flag("--chat-template").key == _flag("--chat-template-file").key == "preprocessing.chat_template"
    assert _flag("-hf").key == "model.source"


def test_how_llama_cpp_reads_a_command_line() -> None:
    assert LLAMA_SERVER.underscores  # common_params_parse_ex: '_' -> '-' in a long option
    assert _flag("--repeat_penalty").dest == "repeat_penalty" and _flag("--top_k").dest == "top_k"
    assert _flag("-c").env == "LLAMA_ARG_CTX_SIZE" and _flag("-np").env == "LLAMA_ARG_N_PARALLEL"
    assert _flag("--temp").env == "LLAMA_ARG_TEMPERATURE" and _flag("-m").env == "LLAMA_ARG_MODEL"
    assert _flag("--jinja").action == "store_true" and _flag("--no-jinja").action == "store_false"
    assert _flag("-kvu").dest == _flag("-no-kvu").dest == "kv_unified" and _flag("-no-kvu").action == "store_false"
    assert _flag("--lora").action == "append" and _flag("--lora").delimiter == ","
    assert _flag("--lora").key == "model.adapters"
    assert _flag("--chat-template-file").file and not _flag("--chat-template").file
    assert _flag("-fa").action == "optional" and _flag("-fa").const == "on"  # bare '-fa' in older releases
    # a tool's own option is not llama-server's (LLAMA_EXAMPLE_PERPLEXITY only), nor a preset-only key
    assert LLAMA_SERVER.flag("--hellaswag") is None and LLAMA_SERVER.flag("load-on-startup") is None
    assert LLAMA_SERVER.flag("--kl-divergence") is None
    spellings = [s for f in FLAGS for s in f.spellings]
    assert len(spellings) == len(set(spellings))


def test_request_defaults_are_common_h_values() -> None:
    by_key = {k: d.value for k, d in DEFAULTS.items()}
    assert by_key == {"generation.temperature": 0.8, "generation.top_k": 40, "generation.top_p": 0.95,
                      "generation.min_p": 0.05, "generation.repetition_penalty": 1.0,
                      "generation.presence_penalty": 0.0, "generation.frequency_penalty": 0.0,
                      "generation.seed": None, "generation.max_new_tokens": -1, "serving.max_num_tokens": 2048,
                      "batching.max_batch_size": 4}
    assert all("0c1e57098bba" in d.source for d in DEFAULTS.values())
    assert "general.sampling" in DEFAULTS["generation.top_k"].source  # a GGUF may set its own
    assert _flag("--temp").default is DEFAULTS["generation.temperature"] and _flag("-c").default is None


def test_per_slot_context() -> None:
    def ctx(**args: Json) -> Json:
        found = derive(args)
        return found[0].value if found else None

    assert ctx(ctx_size=8192, parallel=4) == 2048  # 8192 / 4
    assert ctx(ctx_size=8192, parallel=3) == 2816  # 2730, padded up to a multiple of 256
    assert ctx(ctx_size=4000) == 4096  # n_ctx itself is padded; -np unset: 4 slots sharing a unified cache
    assert ctx(ctx_size=8192, parallel=4, kv_unified=True) == 8192
    assert ctx(ctx_size=8192, parallel=1) == 8192
    assert ctx(ctx_size=0) is None and ctx(parallel=4) is None  # 0: the model's trained context
    assert derive({"ctx_size": 512})[0].sources[0] == "ctx_size"


def test_per_slot_context_at_its_thresholds() -> None:
    """src/llama-context.cpp: n_ctx padded up to a multiple of 256 (GGML_PAD), n_ctx_seq = n_ctx / n_parallel
    (an integer division of uint32_t values) without a unified cache; tools/server/server.cpp: -np -1 (auto)
    is 4 slots sharing a unified cache."""
    def one(**args: Json) -> Json:
        (found,) = derive(args)
        return found.value

    assert one(ctx_size=1) == 256  # the smallest context is one padded block
    assert one(ctx_size=8192, parallel=2) == 4096
    assert one(ctx_size=8192, parallel=-1) == 8192  # auto: a unified cache, the whole context per request
    assert derive({"ctx_size": -1}) == ()  # no context size -c documents (0 is the model's own)
    value = one(ctx_size=8192, parallel=3)
    assert value == 2816 and type(value) is int  # a token count, never a float
    # One slot gets the whole context: the rule of one slot, not of n_ctx / n_parallel.
    (single,) = derive({"ctx_size": 8192, "parallel": 1})
    assert "one slot" in single.why and "n_ctx / n_parallel" not in single.why
