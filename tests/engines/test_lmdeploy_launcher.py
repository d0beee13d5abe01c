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
