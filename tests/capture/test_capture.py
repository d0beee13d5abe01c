"""``driftguard.capture``: a tiny real GPT-2 (examples/capture/build.py) computes the same with and without it;
the snapshot it writes equals what ``extract`` reads from the files that configured the run; the wrapping is
undone on exit; records from threads are kept; a block that raised or recorded nothing writes no file."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

import driftguard
from driftguard.capture import Capture, Record, capture
from driftguard.capture import __main__ as runner
from driftguard.errors import ExtractionError, UsageError
from driftguard.extractors import extract
from driftguard.extractors.base import ExtractOptions
from tests.capture.conftest import EXAMPLE

PROMPTS = ["the cat sat on the mat", "hello world"]


def _load(folder: Path) -> tuple[Any, Any]:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    return (AutoTokenizer.from_pretrained(folder, local_files_only=True),
            AutoModelForCausalLM.from_pretrained(folder, local_files_only=True))


def _run(tokenizer: Any, model: Any) -> dict[str, Any]:
    """Greedy, sampled (seeded) and beam outputs with their scores, and the encodings."""
    import torch

    enc = tokenizer(PROMPTS, max_length=5, truncation=True, padding=True, return_tensors="pt")
    out: dict[str, Any] = {"ids": enc["input_ids"], "mask": enc["attention_mask"]}
    for name, kwargs in (("greedy", {"do_sample": False}), ("sampled", {"top_p": 0.9}),
                         ("beams", {"do_sample": False, "num_beams": 2})):
        torch.manual_seed(7)
        res = model.generate(**enc, max_new_tokens=6, output_scores=True, return_dict_in_generate=True, **kwargs)
        out[name] = res.sequences
        out[f"{name}.scores"] = torch.stack(res.scores)
    return out


@pytest.mark.slow
def test_capture_does_not_change_what_the_model_computes(tiny_model: Path, tmp_path: Path) -> None:
    import torch

    tokenizer, model = _load(tiny_model)
    without = _run(tokenizer, model)
    with capture(tmp_path / "run.snapshot.json") as active:
        within = _run(tokenizer, model)
    after = _run(tokenizer, model)
    assert without.keys() == within.keys() == after.keys()
    for name in without:
        assert torch.equal(without[name], within[name]), name
        assert torch.equal(without[name], after[name]), name
    assert [r.endpoint for r in active.records] == ["tokenizer", "generate", "generate", "generate"]


@pytest.mark.slow
def test_the_snapshot_equals_what_extract_reads_from_the_files_that_configured_the_run(
        tiny_model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The eval script's call kwargs over the model folder's generation_config.json (the python kind reading
    the script with that file as its side's context, as a manifest side does) and its tokenizer_config.json:
    every canonical value both state is the same value."""
    monkeypatch.chdir(tmp_path)
    assert runner.main(["-o", "eval.snapshot.json", str(EXAMPLE / "eval.py"), str(tiny_model)]) == 0
    captured = extract(tmp_path / "eval.snapshot.json", "snapshot").values
    generation = extract(tiny_model / "generation_config.json", "hf-generation")
    script = extract(EXAMPLE / "eval.py", "python", ExtractOptions(context=(generation,))).values
    tokenizer = extract(tiny_model / "tokenizer_config.json", "hf-tokenizer").values
    files = {**{k: v for k, v in tokenizer.items() if k.startswith("preprocessing.")},
             **{k: v for k, v in script.items() if k.startswith(("generation.", "preprocessing."))}}
    both = sorted(k for k in captured if k in files and k.startswith(("generation.", "preprocessing.")))
    assert {k: captured[k].value for k in both} == {k: files[k].value for k in both}
    assert {"generation.do_sample", "generation.temperature", "generation.top_k", "generation.top_p",
            "generation.max_new_tokens", "generation.eos_token_id", "generation.pad_token_id",
            "preprocessing.max_length", "preprocessing.padding_side", "preprocessing.truncation_side"} <= set(both)
    # what the run used, each value from its own file: the call's kwargs, the model's generation config, the
    # tokenizer's sides
    assert (captured["generation.max_new_tokens"].value, captured["generation.top_p"].value) == (8, 0.9)
    assert (captured["generation.temperature"].value, captured["generation.top_k"].value) == (0.7, 20)
    assert captured["generation.do_sample"].value is True
    assert (captured["preprocessing.max_length"].value, captured["preprocessing.padding_side"].value,
            captured["preprocessing.truncation_side"].value) == (16, "left", "left")
    assert captured["generation.top_p"].origin.source == f"generate() at {_site('out = model.generate')}"


def _site(text: str) -> str:
    """``file:line`` of the example script's line starting with ``text`` (as the capture names it)."""
    lines = (EXAMPLE / "eval.py").read_text(encoding="utf-8").splitlines()
    line = next(i for i, t in enumerate(lines, 1) if t.strip().startswith(text))
    return f"{EXAMPLE / 'eval.py'}:{line}"


def _wrapped() -> dict[str, object]:
    from transformers import PreTrainedTokenizerBase
    from transformers.generation.utils import GenerationMixin

    return {f"{cls.__name__}.{name}": cls.__dict__[name]
            for cls, name in ((GenerationMixin, "generate"), (GenerationMixin, "_prepare_generation_config"),
                              (PreTrainedTokenizerBase, "__call__"),
                              (PreTrainedTokenizerBase, "_get_padding_truncation_strategies"))}


@pytest.mark.slow
def test_the_wrapping_is_undone_on_exit_even_after_an_error_and_when_nested(tmp_path: Path) -> None:
    before = _wrapped()
    with capture(tmp_path / "outer.json") as outer:
        inside = _wrapped()
        assert all(inside[name] is not before[name] for name in before)
        with pytest.raises(RuntimeError), capture(tmp_path / "inner.json"):
            assert _wrapped() == inside  # a nested capture wraps nothing twice
            raise RuntimeError("the block failed")
        assert _wrapped() == inside  # the outer capture is still active
        outer.records.append(Record("tokenizer", "x.py:1", {"max_length": 1}))
    assert all(_wrapped()[name] is before[name] for name in before)
    assert not (tmp_path / "inner.json").exists()  # a block that raised writes nothing
    assert (tmp_path / "outer.json").is_file()


@pytest.mark.slow
def test_records_from_threads_are_kept_each_with_its_own_call_site(tiny_model: Path, tmp_path: Path) -> None:
    tokenizer, model = _load(tiny_model)
    enc = tokenizer(PROMPTS, return_tensors="pt", padding=True)

    def work(n: int) -> None:
        model.generate(**enc, max_new_tokens=n, do_sample=False)

    with capture(tmp_path / "threads.snapshot.json") as active:
        threads = [threading.Thread(target=work, args=(n,)) for n in (2, 3, 4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    generated = [r for r in active.records if r.endpoint == "generate"]
    assert sorted(r.body["max_new_tokens"] for r in generated) == [2, 3, 4]  # type: ignore[type-var]
    assert {r.site for r in generated} == {f"{Path(__file__).resolve().relative_to(Path.cwd())}:"
                                          f"{work.__code__.co_firstlineno + 1}"}
    # three settings of one key: the snapshot says so instead of choosing one
    with pytest.raises(ExtractionError, match=r"captured calls set generation\.max_new_tokens differently"):
        extract(tmp_path / "threads.snapshot.json", "snapshot")


@pytest.mark.slow
def test_a_block_that_records_nothing_is_a_usage_error_and_writes_nothing(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=r"no transformers generate\(\) or tokenizer call and no vLLM "
                                                r"LLM.generate\(\) or LLM.chat\(\) ran"), \
            capture(tmp_path / "none.json"):
        pass
    assert not (tmp_path / "none.json").exists()


def test_identical_records_are_one_response_in_first_seen_order(tmp_path: Path) -> None:
    when = datetime(2026, 12, 7, 13, 0, tzinfo=timezone.utc)
    c = Capture(tmp_path / "s.json", now=lambda: when)
    c.records += [Record("tokenizer", "eval.py:3", {"max_length": 8}),
                  Record("generate", "eval.py:4", {"top_k": 5}),
                  Record("tokenizer", "eval.py:3", {"max_length": 8}),
                  Record("tokenizer", "eval.py:9", {"max_length": 8})]
    snap = c.snapshot()
    assert [(r["endpoint"], r["request"]) for r in snap["responses"]] == [
        ("tokenizer", "tokenizer() at eval.py:3"), ("generate", "generate() at eval.py:4"),
        ("tokenizer", "tokenizer() at eval.py:9")]
    assert (snap["format"], snap["version"], snap["server"], snap["url"], snap["model"]) == (
        "driftguard-snapshot", 1, "capture", None, None)
    assert snap["captured_at"] == "2026-12-07T13:00:00+00:00"


def test_driftguard_capture_is_the_call_whether_or_not_the_package_was_imported() -> None:
    code = ("import driftguard\nf = driftguard.capture\nimport driftguard.capture\n"
            "print(callable(f), callable(driftguard.capture), type(driftguard.capture('x')).__name__)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["True", "True", "Capture"]
    assert callable(driftguard.capture)


def test_importing_the_capture_loads_no_engine() -> None:
    code = ("import json, sys\nimport driftguard.capture\n"
            "print(json.dumps(sorted(m for m in ('torch', 'transformers', 'tokenizers') if m in sys.modules)))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert json.loads(out) == []
