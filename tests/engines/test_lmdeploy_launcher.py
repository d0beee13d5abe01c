"""The lmdeploy api_server table, checked by hand at InternLM/lmdeploy@1263d5cd889b."""

from __future__ import annotations

from driftguard.engines.launcher import Flag
from driftguard.engines.lmdeploy_launcher import API_SERVER, FLAGS, TP_DEFAULT, derive


def _flag(spelling: str) -> Flag:
    flag = API_SERVER.flag(spelling)
    assert flag is not None, spelling
    return flag


def test_options_and_keys() -> None:
    (inv,) = API_SERVER.invocations
    assert (inv.program, inv.subcommand, inv.positionals) == ("lmdeploy", ("serve", "api_server"), ("model_path",))
    assert API_SERVER.by_dest()["model_path"].key == "model.source"
    assert API_SERVER.flag("--model-path") is None  # the model is positional only
    assert _flag("--tp").key == "serving.tensor_parallel_size" and _flag("--tp").default == TP_DEFAULT
    assert _flag("--session-len").key == "serving.max_model_len" and _flag("--session_len").dest == "session_len"
    assert _flag("--max-batch-size").key == "batching.max_batch_size" and _flag("--max-batch-size").default is None
    assert _flag("--dtype").choices == ("auto", "float16", "bfloat16") and _flag("--dtype").key == "precision.compute"
    assert _flag("--adapters").action == "nargs" and _flag("--adapters").key == "model.adapters"
    assert _flag("--revision").key == "model.revision"
    assert _flag("--cache-max-entry-count").type == "float" and _flag("--enable-prefix-caching").action == "store_true"
    assert _flag("--async").dest == "async_"
    assert API_SERVER.serving == "lmdeploy-server" and API_SERVER.underscores
    assert len(FLAGS) == 72


def test_model_format_and_chat_template() -> None:
    by_key = {d.key: d.value for d in derive({"model_format": "awq", "chat_template": "qwen"})}
    assert by_key == {"precision.quantization": "awq", "preprocessing.chat_template_name": "qwen"}
    assert {d.key: d.value for d in derive({"model_format": "hf"})} == {"precision.quantization": "none"}
    assert derive({"chat_template": "templates/chat.json"}) == ()  # a ChatTemplateConfig file, not a name


def test_tp_defaults_to_one_gpu() -> None:
    """lmdeploy/cli/utils.py ``ArgumentHelper.tp``: ``parser.add_argument('--tp', type=int, default=1, ...)``
    (the same at InternLM/lmdeploy@265a4916c029)."""
    assert TP_DEFAULT.value == 1 and "ArgumentHelper.tp" in TP_DEFAULT.source


def test_a_long_option_may_be_written_as_a_unique_prefix() -> None:
    """FlexibleArgumentParser is an argparse.ArgumentParser with allow_abbrev left at its default, True: a
    prefix that starts one option only is that option, also with underscores."""
    assert API_SERVER.abbreviations
    assert _flag("--session").dest == "session_len" and _flag("--cache-max").dest == "cache_max_entry_count"
    assert _flag("--cache_max").dest == "cache_max_entry_count"


def test_a_model_format_lmdeploy_does_not_offer_derives_nothing() -> None:
    # lmdeploy/cli/utils.py ArgumentHelper.model_format takes a word among its choices (hf, awq, gptq, fp8, mxfp4 at
    # InternLM/lmdeploy@265a4916c029): argparse refuses int4, so it says nothing about the weights.
    assert derive({"model_format": "int4"}) == ()
    assert derive({"model_format": 4}) == ()
