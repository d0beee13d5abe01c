"""The transformers hooks: what a tokenizer call resolved (max_length from model_max_length, the padding side
from the call or the tokenizer), a generate() given a GenerationConfig and kwargs, only the outermost call of a
thread, and the call site as the user's frame."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from driftguard.capture import capture
from driftguard.capture.hf import call_site, jsonable


def test_the_call_site_is_the_callers_file_and_line() -> None:
    here = call_site()
    assert here == f"{Path(__file__).resolve().relative_to(Path.cwd())}:17"


def test_jsonable_keeps_json_and_shows_anything_else_as_its_repr() -> None:
    assert jsonable({"a": (1, 2.5, None), 3: {True}}) == {"a": [1, 2.5, None], "3": [True]}
    assert jsonable(Path("x")) == repr(Path("x"))


def _tokenizer(folder: Path) -> Any:
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(folder, local_files_only=True)


@pytest.mark.slow
@pytest.mark.parametrize(("kwargs", "expected"), [
    # truncation without a length: the tokenizer's model_max_length (64), as transformers resolves it
    ({"truncation": True},
     {"truncation_strategy": "longest_first", "max_length": 64, "padding_strategy": "do_not_pad"}),
    # a length alone turns truncation on (transformers' backward-compatible rule)
    ({"max_length": 4}, {"truncation_strategy": "longest_first", "max_length": 4}),
    # padding to max_length with none given pads to model_max_length, and does not truncate
    ({"padding": "max_length"},
     {"padding_strategy": "max_length", "max_length": 64, "truncation_strategy": "do_not_truncate"}),
    # the call's padding side wins over the tokenizer's (left), and tokenizer_kwargs over the call's
    ({"padding": True, "padding_side": "right"}, {"padding_strategy": "longest", "padding_side": "right"}),
    ({"padding_side": "right", "tokenizer_kwargs": {"padding_side": "left", "add_special_tokens": False}},
     {"padding_side": "left", "add_special_tokens": False}),
    ({}, {"padding_side": "left", "truncation_side": "left", "add_special_tokens": True, "max_length": None}),
])
def test_a_tokenizer_call_records_what_transformers_resolved(tiny_model: Path, tmp_path: Path,
                                                             kwargs: dict[str, Any],
                                                             expected: dict[str, Any]) -> None:
    tokenizer = _tokenizer(tiny_model)
    with capture(tmp_path / "t.json") as active:
        tokenizer(["the cat sat on the mat", "hello"], **kwargs)
    (record,) = active.records
    assert record.endpoint == "tokenizer"
    assert {k: record.body[k] for k in expected} == expected


@pytest.mark.slow
def test_generate_with_a_generation_config_and_kwargs_and_only_the_outer_call(tiny_model: Path,
                                                                             tmp_path: Path) -> None:
    from transformers import AutoModelForCausalLM, GenerationConfig

    tokenizer = _tokenizer(tiny_model)
    model = AutoModelForCausalLM.from_pretrained(tiny_model, local_files_only=True)
    enc = tokenizer(["hello world"], return_tensors="pt")
    with capture(tmp_path / "g.json") as active:
        model.generate(**enc, generation_config=GenerationConfig(top_k=3, do_sample=True), max_new_tokens=2)
        model.generate(**enc, max_new_tokens=2, do_sample=False, assistant_model=model)
    given, assisted = [r.body for r in active.records if r.endpoint == "generate"]
    # the given config over the model's (temperature 0.7 from generation_config.json), the kwargs over both
    assert (given["top_k"], given["temperature"], given["max_new_tokens"], given["do_sample"]) == (3, 0.7, 2, True)
    # assisted generation runs the assistant's generate() inside: one record, the outer call's
    assert (assisted["do_sample"], assisted["max_new_tokens"]) == (False, 2)
    assert len([r for r in active.records if r.endpoint == "generate"]) == 2
