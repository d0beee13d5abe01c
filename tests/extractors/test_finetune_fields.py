"""The field lists the fine-tuning kinds check files against: generated data with its source, holding the
fields those frameworks' parsers read (checked by hand against the sources at the cited commits)."""

from __future__ import annotations

import re

from driftguard.extractors import finetune_fields as ff


def test_sources_name_repository_commit_and_version() -> None:
    assert re.fullmatch(r"hiyouga/LLaMA-Factory@[0-9a-f]{12} src/llamafactory/hparams/\*\.py", ff.LLAMAFACTORY_SOURCE)
    assert ff.SEQ2SEQ_SOURCE.startswith("transformers==5.8.0 (wheel)")
    assert re.match(r"axolotl-ai-cloud/axolotl@[0-9a-f]{12} ", ff.AXOLOTL_SOURCE)


def test_llamafactory_fields_of_every_parser_group() -> None:
    # ModelArguments (and its bases), DataArguments, FinetuningArguments, GeneratingArguments, EvaluationArguments,
    # LLaMA-Factory's TrainingArguments additions, the KTransformers runtime group
    for name in ("model_name_or_path", "adapter_name_or_path", "quantization_bit", "vllm_maxlen", "infer_dtype",
                 "export_dir", "template", "cutoff_len", "default_system", "finetuning_type", "pure_bf16",
                 "lora_rank", "temperature", "skip_special_tokens", "task", "n_shot", "overwrite_output_dir",
                 "ray_num_workers", "fp8_backend", "kt_config"):
        assert name in ff.LLAMAFACTORY_FIELDS, name
    # init=False fields are set by the parser, not by the file: HfArgumentParser refuses them
    assert not {"compute_dtype", "device_map", "model_max_length", "block_diag_attn"} & ff.LLAMAFACTORY_FIELDS


def test_seq2seq_fields_of_the_pinned_transformers() -> None:
    for name in ("output_dir", "do_train", "learning_rate", "bf16", "fp16", "eval_strategy", "warmup_ratio",
                 "predict_with_generate", "generation_max_length", "generation_num_beams", "deepspeed"):
        assert name in ff.SEQ2SEQ_FIELDS, name
    assert "evaluation_strategy" not in ff.SEQ2SEQ_FIELDS  # renamed eval_strategy, removed before 4.55


def test_axolotl_fields_names_and_aliases() -> None:
    for name in ("base_model", "sequence_len", "adapter", "lora_model_dir", "load_in_4bit", "load_in_8bit", "gptq",
                 "bf16", "fp16", "tf32", "chat_template", "chat_template_jinja", "datasets", "revision_of_model",
                 "model_config"):  # model_config: the alias of overrides_of_model_config
        assert name in ff.AXOLOTL_FIELDS, name
    assert "medusa_num_heads" not in ff.AXOLOTL_FIELDS | ff.AXOLOTL_PLUGIN_FIELDS
    assert {"liger_rope", "cut_cross_entropy"} <= ff.AXOLOTL_PLUGIN_FIELDS
