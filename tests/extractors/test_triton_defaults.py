"""The Triton extractor's documented defaults, pinned as literals from shared/reference/defaults.md §7
(Triton ModelConfig): what an absent field means, so that a config that leaves it out compares equal to one that
spells the default out, and a changed default is noticed here rather than agreed with by the table."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from driftguard.extractors import triton
from driftguard.extractors.base import ExtractOptions

#: Every defaulted (not written) value of a minimal config, per §7 row.
BARE_ORT: dict[str, Any] = {
    "batching.max_batch_size": 0,                          # max_batch_size: proto3 int32 -> 0
    "batching.dynamic": False,                             # scheduling_choice: none
    "batching.sequence": False,
    "serving.decoupled": False,                            # model_transaction_policy.decoupled: false
    "serving.device_kind": "auto",                         # instance_group: one group, KIND_AUTO
    "serving.instance_count": 1,                           # count "Default is 1"
    "triton.default_model_filename": "model.onnx",         # default_model_filename: model.onnx (onnxruntime)
    "triton.optimization.input_pinned_memory": True,       # optimization.input/output_pinned_memory: enabled
    "triton.optimization.output_pinned_memory": True,
    "triton.version_policy": "latest:1",                   # version_policy: latest { num_versions: 1 }
}

#: ``dynamic_batching {}`` with max_batch_size 8 on the python backend.
DYNAMIC: dict[str, Any] = {
    "batching.max_queue_delay_us": 0,                      # dynamic_batching {}: max_queue_delay_microseconds 0
    "batching.preferred_batch_sizes": [8],                 # preferred_batch_size: [max_batch_size] (TRI-CORE)
    "batching.preserve_ordering": False,                   # preserve_ordering false
    "batching.sequence": False,
    "serving.decoupled": False,
    "serving.device_kind": "auto",
    "serving.instance_count": 1,
    "triton.default_model_filename": "model.py",           # model.py (python)
    "triton.dynamic_batching.default_queue_policy.allow_timeout_override": False,  # ModelQueuePolicy
    "triton.dynamic_batching.default_queue_policy.default_timeout_microseconds": 0,
    "triton.dynamic_batching.default_queue_policy.max_queue_size": 0,
    "triton.dynamic_batching.default_queue_policy.timeout_action": "REJECT",
    "triton.optimization.input_pinned_memory": True,
    "triton.optimization.output_pinned_memory": True,
    "triton.version_policy": "latest:1",
}

#: ``sequence_batching {}``.
SEQUENCE: dict[str, Any] = {
    "batching.dynamic": False,
    "batching.max_queue_delay_us": 0,                      # direct strategy: max_queue_delay_microseconds 0
    "batching.max_sequence_idle_us": 1_000_000,            # max_sequence_idle_microseconds 0/absent -> 1 000 000
    "serving.decoupled": False,
    "triton.default_model_filename": "model.py",
    "triton.optimization.input_pinned_memory": True,
    "triton.optimization.output_pinned_memory": True,
    "triton.sequence_batching.strategy": "direct",         # sequence_batching strategy: direct
    "triton.version_policy": "latest:1",
}

CASES = {
    "bare_ort": ('name: "m"\nbackend: "onnxruntime"\n', BARE_ORT),
    "dynamic": ('name: "m"\nbackend: "python"\nmax_batch_size: 8\ndynamic_batching {}\n', DYNAMIC),
    "sequence": ('name: "m"\nbackend: "python"\nmax_batch_size: 4\nsequence_batching {}\n'
                 'instance_group [{kind: KIND_CPU}]\n', SEQUENCE),
}


def _defaults(tmp_path: Path, text: str) -> dict[str, tuple[str, Any]]:
    path = tmp_path / "m" / "config.pbtxt"
    path.parent.mkdir()
    path.write_text(text)
    cfg = triton.extract(path, ExtractOptions())
    return {k: (type(v.value).__name__, v.value) for k, v in cfg.values.items() if not v.explicit}


@pytest.mark.parametrize("case", sorted(CASES))
def test_defaults_are_the_reference_values(tmp_path: Path, case: str) -> None:
    text, expected = CASES[case]
    assert _defaults(tmp_path, text) == {k: (type(v).__name__, v) for k, v in expected.items()}


@pytest.mark.parametrize(("backend", "count"), [("onnxruntime", 2), ("tensorflow", 2), ("python", 1)])
def test_cpu_instance_count(tmp_path: Path, backend: str, count: int) -> None:
    """§7 instance_group: count 1, but 2 for KIND_CPU on the TensorFlow or ONNX Runtime backends."""
    path = tmp_path / "m" / "config.pbtxt"
    path.parent.mkdir()
    path.write_text(f'name: "m"\nbackend: "{backend}"\ninstance_group [{{kind: KIND_CPU}}]\n')
    cfg = triton.extract(path, ExtractOptions())
    assert cfg["serving.instance_count"].value == count
    assert cfg["serving.device_kind"].value == "cpu"
