"""training-args kind: ``training_args.bin`` as the HF Trainer writes it (``torch.save(self.args, ...)``).

transformers is not installed here, so the fixture defines dataclasses and enums with the module paths and
names transformers uses (``transformers.training_args.TrainingArguments``, ``transformers.trainer_utils
.IntervalStrategy``...) and pickles them with torch.save: the same pickle layout, and the extractor never
imports transformers either way.
"""

from __future__ import annotations

import dataclasses
import enum
import subprocess
import sys
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

torch = pytest.importorskip("torch")

from driftguard import api  # noqa: E402
from driftguard.errors import ExtractionError  # noqa: E402
from driftguard.extractors import detect  # noqa: E402


@pytest.fixture()
def hf_classes(monkeypatch: pytest.MonkeyPatch) -> Iterator[types.SimpleNamespace]:
    """Stand-ins for transformers' classes, registered under transformers' module names for pickling."""
    trainer_utils = types.ModuleType("transformers.trainer_utils")
    training_args = types.ModuleType("transformers.training_args")
    seq2seq = types.ModuleType("transformers.training_args_seq2seq")

    class IntervalStrategy(str, enum.Enum):
        NO = "no"
        STEPS = "steps"
        EPOCH = "epoch"

    class OptimizerNames(str, enum.Enum):
        ADAMW_TORCH = "adamw_torch"

    IntervalStrategy.__module__ = trainer_utils.__name__
    IntervalStrategy.__qualname__ = "IntervalStrategy"
    OptimizerNames.__module__ = training_args.__name__
    OptimizerNames.__qualname__ = "OptimizerNames"
    trainer_utils.IntervalStrategy = IntervalStrategy  # type: ignore[attr-defined]  # module built at runtime
    training_args.OptimizerNames = OptimizerNames  # type: ignore[attr-defined]  # module built at runtime

    @dataclasses.dataclass
    class TrainingArguments:
        output_dir: str = "out"
        learning_rate: float = 5e-5
        seed: int = 42
        fp16: bool = False
        bf16: bool = False
        eval_strategy: Any = IntervalStrategy.NO
        optim: Any = OptimizerNames.ADAMW_TORCH
        accelerator_config: Any = None

    @dataclasses.dataclass
    class Seq2SeqTrainingArguments(TrainingArguments):
        predict_with_generate: bool = False
        generation_max_length: int | None = None
        generation_num_beams: int | None = None

    TrainingArguments.__module__ = training_args.__name__
    TrainingArguments.__qualname__ = "TrainingArguments"
    Seq2SeqTrainingArguments.__module__ = seq2seq.__name__
    Seq2SeqTrainingArguments.__qualname__ = "Seq2SeqTrainingArguments"
    training_args.TrainingArguments = TrainingArguments  # type: ignore[attr-defined]  # module built at runtime
    seq2seq.Seq2SeqTrainingArguments = Seq2SeqTrainingArguments  # type: ignore[attr-defined]  # same
    for mod in (types.ModuleType("transformers"), trainer_utils, training_args, seq2seq):
        monkeypatch.setitem(sys.modules, mod.__name__, mod)
    yield types.SimpleNamespace(TrainingArguments=TrainingArguments, Seq2Seq=Seq2SeqTrainingArguments,
                                IntervalStrategy=IntervalStrategy)


def test_seq2seq_training_args(tmp_path: Path, hf_classes: types.SimpleNamespace) -> None:
    args = hf_classes.Seq2Seq(output_dir="/runs/t5", learning_rate=3e-4, bf16=True, predict_with_generate=True,
                              generation_max_length=128, generation_num_beams=4,
                              eval_strategy=hf_classes.IntervalStrategy.STEPS,
                              accelerator_config={"split_batches": False})
    path = tmp_path / "training_args.bin"
    torch.save(args, path)
    assert detect(path) == "training-args"
    cfg = api.extract(path)
    plain = cfg.plain()
    assert plain["hf.training_args.class"] == "transformers.training_args_seq2seq.Seq2SeqTrainingArguments"
    assert plain["generation.max_length"] == 128
    assert cfg["generation.max_length"].origin.pointer == "/generation_max_length"
    assert plain["generation.num_beams"] == 4
    assert plain["precision.compute"] == "bfloat16"
    assert plain["hparams.seed"] == 42
    assert "generation.seed" not in plain
    assert plain["hparams.eval_strategy"] == "steps"
    assert plain["hparams.optim"] == "adamw_torch"
    assert plain["hparams.output_dir"] == "/runs/t5"
    assert plain["hparams.accelerator_config.split_batches"] is False


def test_plain_training_args_defaults_to_full_precision(tmp_path: Path, hf_classes: types.SimpleNamespace) -> None:
    path = tmp_path / "training_args.bin"
    torch.save(hf_classes.TrainingArguments(fp16=False), path)
    plain = api.extract(path).plain()
    assert plain["precision.compute"] == "float32"
    assert "generation.max_length" not in plain


def test_unset_generation_length_is_not_mapped(tmp_path: Path, hf_classes: types.SimpleNamespace) -> None:
    path = tmp_path / "training_args.bin"
    torch.save(hf_classes.Seq2Seq(fp16=True), path)
    plain = api.extract(path).plain()
    assert plain["hparams.generation_max_length"] is None
    assert "generation.max_length" not in plain
    assert plain["precision.compute"] == "float16"


def test_training_args_under_another_name_is_detected_by_content(tmp_path: Path,
                                                                  hf_classes: types.SimpleNamespace) -> None:
    path = tmp_path / "args.bin"
    torch.save(hf_classes.TrainingArguments(), path)
    assert detect(path) == "training-args"


def test_cli_reads_it_without_transformers(tmp_path: Path, hf_classes: types.SimpleNamespace) -> None:
    path = tmp_path / "training_args.bin"
    torch.save(hf_classes.Seq2Seq(generation_num_beams=2), path)
    code = ("import sys; from driftguard import api; c = api.extract(sys.argv[1]); "
            "assert c['generation.num_beams'].value == 2; "
            "assert not [m for m in ('torch', 'transformers') if m in sys.modules]")
    subprocess.run([sys.executable, "-c", code, str(path)], check=True)


def test_a_state_dict_is_not_training_args(tmp_path: Path) -> None:
    path = tmp_path / "training_args.bin"
    torch.save({"w": torch.zeros(2)}, path)
    with pytest.raises(ExtractionError, match="expected a pickled TrainingArguments"):
        api.extract(path)
