"""hf-generation: generation_config.json to generation.* with transformers defaults, lines and errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from driftguard import api
from driftguard.engines.transformers import HF_GENERATION_DEFAULTS, TRANSFORMERS_DEFAULTS_VERSION
from driftguard.errors import ExtractionError
from driftguard.extractors import hf_generation
from driftguard.extractors.base import ExtractOptions
from driftguard.model import EffectiveConfig

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "hf-generation"
LLAMA2 = FIXTURES / "good" / "llama2" / "generation_config.json"


def extract(path: Path) -> EffectiveConfig:
    return hf_generation.extract(path, ExtractOptions())


def write(tmp_path: Path, data: object, name: str = "generation_config.json") -> Path:
    p = tmp_path / name
    p.write_text(json.dumps(data, indent=2))
    return p


def test_llama2_pinned_values_and_lines() -> None:
    cfg = extract(LLAMA2)
    assert cfg.kind == "hf-generation"
    assert cfg["generation.top_p"].value == 0.9
    assert cfg["generation.temperature"].value == 0.6
    assert cfg["generation.do_sample"].value is True
    assert cfg["generation.max_length"].value == 4096
    assert cfg["generation.eos_token_id"].value == [2]
    assert cfg["generation.pad_token_id"].value == 0
    assert cfg["hf.generation.transformers_version"].value == "4.31.0.dev0"
    top_p = cfg["generation.top_p"]
    assert top_p.explicit and top_p.origin.line == 8 and top_p.origin.pointer == "/top_p"
    assert cfg["generation.temperature"].origin.line == 6


def test_absent_keys_take_transformers_defaults() -> None:
    cfg = extract(LLAMA2)
    top_k = cfg["generation.top_k"]
    assert top_k.value == 50 and not top_k.explicit
    assert top_k.origin.line is None
    assert TRANSFORMERS_DEFAULTS_VERSION in (top_k.origin.source or "")
    assert top_k.note and "defaults.md" in top_k.note
    for key, default in HF_GENERATION_DEFAULTS.items():
        assert key in cfg, key
        if not cfg[key].explicit:
            assert cfg[key].value == default.value


def test_eos_list_sorted_and_deduplicated() -> None:
    cfg = extract(FIXTURES / "good" / "gemma2" / "generation_config.json")
    assert cfg["generation.eos_token_id"].value == [1, 107]
    assert cfg["hf.generation.cache_implementation"].value == "hybrid"
    assert cfg["hf.generation._from_model_config"].value is True


def test_eos_int_and_list_spellings(tmp_path: Path) -> None:
    assert extract(write(tmp_path, {"eos_token_id": [107, 1, 107]}))["generation.eos_token_id"].value == [1, 107]
    assert extract(write(tmp_path, {"eos_token_id": 2}))["generation.eos_token_id"].value == [2]


def test_known_keys_without_canonical_key_are_kept_namespaced(tmp_path: Path) -> None:
    cfg = extract(write(tmp_path, {"forced_decoder_ids": [[1, None]], "guidance_scale": 1.5, "top_k": 10}))
    assert cfg["hf.generation.forced_decoder_ids"].value == [[1, None]]
    assert cfg["hf.generation.guidance_scale"].value == 1.5
    assert cfg["generation.top_k"].value == 10


@pytest.mark.parametrize(("raw", "expected"), [(0, 0), (None, 0), (-1, 0), (50.0, 50)])
def test_top_k_off_spellings(tmp_path: Path, raw: object, expected: int) -> None:
    value = extract(write(tmp_path, {"top_k": raw}))["generation.top_k"]
    assert value.value == expected and value.explicit


def test_null_means_unset_for_other_keys(tmp_path: Path) -> None:
    cfg = extract(write(tmp_path, {"top_p": None, "max_new_tokens": None}))
    assert cfg["generation.top_p"].value == 1.0 and not cfg["generation.top_p"].explicit
    assert "generation.max_new_tokens" not in cfg


def test_integral_floats_become_ints(tmp_path: Path) -> None:
    cfg = extract(write(tmp_path, {"temperature": 1.0, "max_new_tokens": 256.0, "num_beams": 4}))
    assert cfg["generation.temperature"].value == 1 and type(cfg["generation.temperature"].value) is int
    assert cfg["generation.max_new_tokens"].value == 256
    assert cfg["generation.num_beams"].value == 4


def test_early_stopping_never_and_stop_strings(tmp_path: Path) -> None:
    cfg = extract(write(tmp_path, {"early_stopping": "never", "stop_strings": ["b", "a"]}))
    assert cfg["generation.early_stopping"].value == "never"
    assert cfg["generation.stop"].value == ["a", "b"]


@pytest.mark.parametrize(("name", "key", "line"), [
    ("top_p_string.json", "top_p", 3),
    ("do_sample_string.json", "do_sample", 2),
])
def test_wrong_types_name_key_and_line(name: str, key: str, line: int) -> None:
    with pytest.raises(ExtractionError) as info:
        extract(FIXTURES / "bad" / name)
    assert f"'{key}'" in info.value.message
    assert info.value.line == line


def test_invalid_json_has_line_and_column() -> None:
    with pytest.raises(ExtractionError) as info:
        extract(FIXTURES / "bad" / "truncated.json")
    assert info.value.line == 5 and info.value.column is not None


def test_top_level_must_be_an_object() -> None:
    with pytest.raises(ExtractionError, match="top level must be a JSON object, got an array") as info:
        extract(FIXTURES / "bad" / "top_level_list.json")
    assert (info.value.line, info.value.column) == (1, 1)


def test_detect_by_name_and_content(tmp_path: Path) -> None:
    assert hf_generation.detect(LLAMA2, LLAMA2.read_bytes()[:4096])
    other = write(tmp_path, {"top_p": 0.9, "transformers_version": "4.40.0"}, "gen.json")
    assert hf_generation.detect(other, other.read_bytes())
    plain = write(tmp_path, {"top_p": 0.9}, "request.json")
    assert not hf_generation.detect(plain, plain.read_bytes())
    config = write(tmp_path, {"model_type": "llama", "eos_token_id": 2, "transformers_version": "4"}, "c.json")
    assert not hf_generation.detect(config, config.read_bytes())
    assert api.extract(str(other)).kind == "hf-generation"


def test_cli_bad_type_is_one_line_exit_2() -> None:
    bad = FIXTURES / "bad" / "top_p_string.json"
    proc = subprocess.run([sys.executable, "-m", "driftguard", "extract", f"hf-generation:{bad}"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"driftguard: error: {bad}:3")
    assert "Traceback" not in proc.stderr


def test_does_not_import_torch() -> None:
    code = (f"import sys; from driftguard import api; api.extract({str(LLAMA2)!r}); "
            "print('torch' in sys.modules, 'numpy' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_keys_generation_config_does_not_know_are_reported(tmp_path: Path) -> None:
    """GenerationConfig keeps ``top_P`` and ``max_new_token`` as attributes generate() never reads: the file's
    author believes they apply; they are kept as unknown fields with the closest real name, for DG304."""
    cfg = extract(write(tmp_path, {"top_P": 0.9, "max_new_token": 64, "temperature": 0.7,
                                   "transformers_version": "4.57.6", "lang_to_id": {"<|en|>": 50259}}))
    top = cfg["hf.generation.unknown_fields.top_P"]
    assert top.value == 0.9 and top.explicit and top.origin.line == 2  # indent=2: one key a line
    assert top.note is not None and top.note.endswith("did you mean top_p?")
    assert cfg["hf.generation.unknown_fields.max_new_token"].note.endswith("did you mean max_new_tokens?")
    assert cfg["generation.top_p"].value == 1.0 and not cfg["generation.top_p"].explicit  # the default applies
    # bookkeeping and a field Whisper's own generate() reads are known
    assert cfg["hf.generation.transformers_version"].value == "4.57.6"
    assert cfg["hf.generation.lang_to_id"].value == {"<|en|>": 50259}


def test_typo_is_a_dg304_warning_in_check(tmp_path: Path) -> None:
    (tmp_path / "train").mkdir()
    (tmp_path / "serve").mkdir()
    train = write(tmp_path / "train", {"top_p": 0.9})
    serve = write(tmp_path / "serve", {"top_p": 0.9, "top_P": 0.5})
    findings = [f for f in api.diff(f"hf-generation:{train}", f"hf-generation:{serve}").findings if f.rule == "DG304"]
    assert [f.key for f in findings] == ["hf.generation.unknown_fields.top_P"]
    assert "did you mean top_p?" in findings[0].message


def test_a_file_with_no_generation_field_exits_2_in_one_line(tmp_path: Path) -> None:
    genai = write(tmp_path, {"model": {"type": "phi3"}, "search": {"max_length": 4096}}, "genai_config.json")
    proc = subprocess.run([sys.executable, "-m", "driftguard", "extract", f"hf-generation:{genai}"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.startswith(f"driftguard: error: {genai}:1: not a hf-generation file: none of its fields "
                                  "(model, search)")
    assert len(proc.stderr.strip().splitlines()) == 1
