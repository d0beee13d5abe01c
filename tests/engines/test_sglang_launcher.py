"""The SGLang table: ServerArgs' options as add_cli_args_from_dataclass registers them, and
human_readable_int, checked by hand against the sglang 0.5.23 wheel."""

from __future__ import annotations

from driftguard.engines.launcher import Flag
from driftguard.engines.sglang_launcher import FLAGS, LAUNCH_SERVER, TP_DEFAULT, derive, human_readable_int


def _flag(spelling: str) -> Flag:
    flag = LAUNCH_SERVER.flag(spelling)
    assert flag is not None, spelling
    return flag


def test_options_and_keys() -> None:
    assert _flag("--model-path") is _flag("--model") and _flag("--model").key == "model.source"
    assert _flag("--tp-size") is _flag("--tensor-parallel-size") is _flag("--tp")  # --tp: an argparse prefix
    assert LAUNCH_SERVER.abbreviations
    assert LAUNCH_SERVER.flag("--disable-overlap") is _flag("--disable-overlap-schedule")
    assert LAUNCH_SERVER.flag("--enable") is None  # a prefix of many flags: argparse calls it ambiguous
    assert _flag("--tp").key == "serving.tensor_parallel_size" and _flag("--tp").default == TP_DEFAULT
    assert _flag("--context-length").key is None and _flag("--context-length").type == "str"  # see derive
    assert _flag("--max-running-requests").key == "batching.max_batch_size"
    assert _flag("--dtype").choices == ("auto", "half", "float16", "bfloat16", "float", "float32")
    assert _flag("--dtype").key == "precision.compute" and _flag("--quantization").key == "precision.quantization"
    assert _flag("--chat-template").key == "preprocessing.chat_template"
    assert _flag("--lora-paths").action == "nargs" and _flag("--lora-paths").key == "model.adapters"
    assert _flag("--trust-remote-code").action == "store_true"
    assert _flag("--enable-tf32-matmul").action == "bool_optional"
    assert _flag("--mem-fraction-static").type == "float" and _flag("--port").type == "int"
    assert _flag("--disable-cuda-graph").action == "store_true"  # deprecated, still accepted
    assert LAUNCH_SERVER.config_flag == "config" and not LAUNCH_SERVER.underscores
    assert LAUNCH_SERVER.flag("--context_length") is None  # plain argparse: no underscore spelling
    spellings = [s for f in FLAGS for s in f.spellings]
    assert len(spellings) == len(set(spellings))


def test_human_readable_int() -> None:
    assert human_readable_int("32768") == 32768
    assert human_readable_int("32k") == 32000 and human_readable_int("25.6k") == 25600
    assert human_readable_int("128Ki") == 131072 and human_readable_int("1M") == 1_000_000
    assert human_readable_int("1.5Ki") is None and human_readable_int("32K") is None
    assert human_readable_int("abc") is None
    assert human_readable_int("9" * 5000) is None and human_readable_int("9" * 5000 + "k") is None  # no crash
    # sglang/srt/utils/common.py (the 0.5.23 wheel): re.fullmatch(r"(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|k|M|G|T)"), then
    # int(Decimal(number) * multiplier) for SI, truncating; anything else through int(), which takes a sign and
    # underscores.
    assert human_readable_int(".5k") is None and human_readable_int("1.k") is None  # no digit before/after '.'
    assert human_readable_int("1.0001k") == 1000  # 1000.1, truncated
    assert human_readable_int("+4096") == 4096 and human_readable_int("32_768") == 32768
    assert human_readable_int("-1") == -1


def test_context_length_derives_max_model_len() -> None:
    (found,) = derive({"context_length": "20992"})
    assert (found.key, found.value) == ("serving.max_model_len", 20992)
    assert derive({"context_length": "4k"})[0].value == 4000
    assert derive({}) == ()
