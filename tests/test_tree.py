"""The test tree mirrors the package: every module ``driftguard/<dir>/<name>.py`` has its test file
``tests/<dir>/test_<name>.py`` (a package's ``__init__.py``: ``tests/<dir>/test_<dir>.py``), or a stated reason
below naming the test files that exercise it instead. The reasons are checked too: each names only test files
that exist, and none is kept for a module that has its mirror or no longer exists."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "driftguard"

#: module (relative to driftguard/) -> why it has no test file of its own, naming the tests that cover it.
ELSEWHERE: dict[str, str] = {
    "__init__.py":
        ("the lazy re-exports: tests/test_typing.py (typed for users, lazy at run time), tests/test_new_user.py "
         "(dir(driftguard)), tests/test_light_import.py"),
    "__main__.py":
        ("one line, cli.main(): every subprocess run of `python -m driftguard`, e.g. tests/test_cli.py, "
         "tests/test_new_user.py"),
    "approvals/__init__.py":
        ("re-exports and schema()/render(): tests/approvals/test_write.py (render), "
         "tests/test_check_report_schema.py (the published schema)"),
    "ci/__init__.py": "a docstring only; its modules: tests/ci/test_gitref.py, tests/ci/test_shard.py",
    "ci/baseline.py":
        ("introduced vs existing findings of check --base: tests/ci/test_gitref.py, tests/ci/test_changed.py, "
         "tests/gate/test_baseline.py"),
    "ci/merge.py":
        ("driftguard report (shards merged, reports read back): tests/ci/test_shard.py, tests/test_api.py "
         "(merge_reports)"),
    "engines/__init__.py":
        ("the engine registry: tests/engines/test_specs.py, tests/engines/test_engine_plugin.py (an engine through "
         "its entry point)"),
    "engines/lmdeploy.py": "its spec and defaults: tests/engines/test_specs.py, tests/test_keys_defaults.py",
    "engines/openai.py": "its spec and defaults: tests/engines/test_specs.py, tests/test_keys_defaults.py",
    "engines/sglang.py":
        ("its spec, defaults from the model and output fields: tests/extractors/test_sglang.py, "
         "tests/engines/test_endpoints.py, tests/rules/test_output_params_engines.py"),
    "engines/tensorrt_llm.py": "its spec and defaults: tests/engines/test_specs.py, tests/test_keys_defaults.py",
    "engines/tgi.py": "its spec and defaults: tests/engines/test_specs.py, tests/test_keys_defaults.py",
    "engines/transformers.py":
        ("its spec and defaults: tests/engines/test_specs.py, tests/test_keys_defaults.py, "
         "tests/extractors/test_hf_generation.py"),
    "engines/vllm.py":
        ("its spec and defaults: tests/engines/test_specs.py, tests/test_keys_defaults.py, "
         "tests/extractors/test_vllm.py"),
    "extractors/hf_common.py":
        ("shared by the hf-* extractors: tests/extractors/test_hf_config.py, tests/extractors/test_hf_generation.py,"
         " tests/extractors/test_hf_tokenizer.py, tests/extractors/test_hf_corpus.py"),
    "extractors/runtime_common.py":
        ("shared by the serving-engine extractors: tests/extractors/test_vllm.py, tests/extractors/test_tgi.py, "
         "tests/extractors/test_tensorrt_llm.py, tests/extractors/test_lmdeploy.py, "
         "tests/engines/test_engine_plugin.py"),
    "extractors/templates.py": "--set names that fill nothing: tests/extractors/test_triton_templates.py",
    "extractors/triton_parse.py":
        ("config.pbtxt parsing and template filling: tests/extractors/test_triton.py, "
         "tests/extractors/test_triton_templates.py"),
    "gate/__init__.py": "a docstring only; its modules: tests/gate/test_check.py, tests/gate/test_pipeline.py",
    "keys.py":
        ("the vocabulary: tests/test_keys_defaults.py, tests/extractors/test_base.py (every extracted key "
         "canonical), tests/engines/test_specs.py"),
    "parity/__init__.py":
        "a docstring only; its modules: tests/parity/test_model_parity.py, tests/parity/test_stage_cli.py",
    "readers/__init__.py":
        "a docstring only; its modules: tests/readers/test_pickle.py, tests/attacks/test_documents.py",
    "readers/onnx_wire.py":
        "tests/extractors/test_onnx.py (agreement with onnx.load), tests/attacks/test_onnx.py",
    "readers/protowire.py": "under onnx_wire: tests/attacks/test_onnx.py, tests/extractors/test_onnx.py",
    "readers/safetensors.py":
        ("the header reader: tests/extractors/test_safetensors.py (checked against the safetensors package), "
         "tests/attacks/test_safetensors.py"),
    "readers/tensors.py": "DG401's tensor reading: tests/rules/test_weights.py",
    "readers/torch_archive.py": "tests/extractors/test_torch.py, tests/attacks/test_checkpoints.py",
    "reporters/__init__.py":
        ("the format registry: tests/reporters/test_sarif.py, tests/reporters/test_junit.py, "
         "tests/test_output_golden.py"),
    "reporters/json.py":
        "byte for byte: tests/test_output_golden.py; against its schema: tests/test_check_report_schema.py",
    "reporters/markdown.py":
        "byte for byte: tests/test_output_golden.py; $GITHUB_STEP_SUMMARY: tests/test_cli.py",
    "reporters/configs.py": "extract/diff tables: tests/reporters/test_style.py, tests/test_output_golden.py",
    "reporters/doc_text.py": "byte for byte (extract on the corpus): tests/test_output_golden.py",
    "reporters/table.py": "tests/reporters/test_style.py (fit, render), tests/reporters/test_escape.py",
    "rules/__init__.py": "RULES and load_rules: tests/rules/test_engine.py, tests/rules/test_rules_cases.py",
    "rules/base.py": "Rule, RuleContext, Side: tests/rules/test_engine.py, tests/rules/test_rules_cases.py",
    "rules/policy.py":
        "DG301-DG303 cases: tests/rules/test_rules_cases.py; tests/rules/test_decoding.py, tests/engines/test_specs.py",
    "rules/policy_fields.py":
        "DG304 cases: tests/rules/test_rules_cases.py; tests/extractors/test_request_validation.py",
}


def _mirror(module: Path) -> Path:
    rel = module.relative_to(PACKAGE)
    name = (rel.parent.name or "driftguard") if rel.stem == "__init__" else rel.stem
    return ROOT / "tests" / rel.parent / f"test_{name}.py"


def _modules() -> list[str]:
    return sorted(p.relative_to(PACKAGE).as_posix() for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts)


def test_every_module_has_its_test_file_or_a_stated_reason() -> None:
    missing = [m for m in _modules() if not _mirror(PACKAGE / m).is_file() and m not in ELSEWHERE]
    assert not missing, ("modules without tests/<dir>/test_<name>.py or a reason in ELSEWHERE:\n  "
                         + "\n  ".join(f"{m} -> {_mirror(PACKAGE / m).relative_to(ROOT)}" for m in missing))


def test_every_stated_reason_is_current() -> None:
    modules = set(_modules())
    gone = [m for m in ELSEWHERE if m not in modules]
    mirrored = [m for m in ELSEWHERE if m in modules and _mirror(PACKAGE / m).is_file()]
    assert not gone, f"reasons kept for modules that no longer exist: {gone}"
    assert not mirrored, f"reasons kept for modules that have their own test file now: {mirrored}"
    for module, reason in ELSEWHERE.items():
        named = re.findall(r"tests/[\w/]+\.py", reason)
        assert named, f"{module}: the reason names no test file: {reason!r}"
        absent = [n for n in named if not (ROOT / n).is_file()]
        assert not absent, f"{module}: the reason names test files that do not exist: {absent}"
