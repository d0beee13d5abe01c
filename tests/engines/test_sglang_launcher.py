"""The SGLang table: ServerArgs' options as add_cli_args_from_dataclass registers them, and
human_readable_int, checked by hand against the sglang 0.5.23 wheel."""

from __future__ import annotations

import pytest

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


#: sglang/srt/utils/common.py human_readable_int (the 0.5.23 wheel): si_multiplier {"k": 10**3, "M": 10**6,
#: "G": 10**9, "T": 10**12}, iec_multiplier {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40}, written out.
SUFFIXES = [("k", 1000), ("M", 1_000_000), ("G", 1_000_000_000), ("T", 1_000_000_000_000),
            ("Ki", 1024), ("Mi", 1_048_576), ("Gi", 1_073_741_824), ("Ti", 1_099_511_627_776)]


@pytest.mark.parametrize(("suffix", "scale"), SUFFIXES)
def test_each_suffix_scales_as_sglang_does(suffix: str, scale: int) -> None:
    assert human_readable_int(f"1{suffix}") == scale
    assert human_readable_int(f" 3{suffix}\n") == 3 * scale  # stripped
    assert human_readable_int(f"{suffix}") is None  # a suffix needs its number
    assert human_readable_int(f"1{suffix.lower()}{suffix}") is None  # one suffix only
    if suffix in ("k", "M", "G", "T"):
        assert human_readable_int(f"0.5{suffix}") == scale // 2  # decimals for SI suffixes
    else:
        assert human_readable_int(f"0.5{suffix}") is None  # "Decimals are not allowed with IEC suffixes"


def test_a_result_is_an_int_and_a_non_number_is_none() -> None:
    for word in ("25.6k", "1Ki", "4096"):
        assert type(human_readable_int(word)) is int, word
    assert human_readable_int("") is None and human_readable_int("k") is None and human_readable_int("1e3") is None
    assert derive({"context_length": "1.5Ki"}) == () and derive({"context_length": 4096}) == ()
    (found,) = derive({"context_length": "128Ki"})
    assert (found.value, found.sources) == (131072, ("context_length",))


def test_numbers_longer_than_64_digits_are_not_read() -> None:
    """The guard the module documents (no context length has such a number; SGLang itself reads any length): 64
    digits are read, with a suffix or without, 65 are not, and the word is kept as written."""
    assert type(human_readable_int("1" * 64 + "k")) is int and type(human_readable_int("1" * 63 + "Ki")) is int
    assert human_readable_int("1" * 65 + "k") is None and human_readable_int("1" * 65 + "Ki") is None
    assert human_readable_int("1" * 64) == int("1" * 64) and human_readable_int("1" * 65) is None  # no suffix
    assert human_readable_int("1" * 32 + "." + "1" * 33 + "k") is None  # 65 digits with a decimal point
