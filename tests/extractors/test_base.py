"""``KindInfo``: the one typed record an extractor declares its kind with, checked when it is built (a plug-in's
record is built by code mypy never saw), and what the gate derives from it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from driftguard import engines, extractors, keys
from driftguard.errors import DriftguardError
from driftguard.extractors.base import KindInfo
from driftguard.keys import Default


@pytest.mark.parametrize(("field", "value", "says"), [
    ("role", "serving", "role: one of training, deployment, either"),
    ("rank", "10", "rank: an int"),
    ("rank", True, "rank: an int"),
    ("engine", 3, "engine: a str or None"),
    ("namespaces", ["generation"], "namespaces: a tuple of str"),
    ("defaults", {"generation.top_k": 50}, "defaults: a mapping of key -> Default"),
    ("weights", "pickle", "weights: one of onnx, torch, safetensors, folder or None"),
    ("engine_loads", 1, "engine_loads: a bool"),
    ("io", "triton", "io: one of declared, graph or None"),
])
def test_a_wrong_type_is_refused_naming_the_field(field: str, value: Any, says: str) -> None:
    with pytest.raises(TypeError, match=says):
        KindInfo(kind="x", description="d", **{field: value})


def test_a_misspelled_field_is_refused_not_defaulted() -> None:
    with pytest.raises(TypeError, match="rankk"):
        KindInfo(kind="x", description="d", rankk=10)  # type: ignore[call-arg]  # the typo under test


def test_speaks_is_the_defaults_namespaces_then_the_declared_ones() -> None:
    info = KindInfo(kind="x", description="d", namespaces=("generation", "serving"),
                    defaults={"preprocessing.max_length": Default(1, "s"), "generation.top_k": Default(0, "s")})
    assert info.speaks == ("preprocessing", "generation", "serving")
    assert KindInfo(kind="y", description="d").speaks == ()
    assert hash(info)  # a record: hashable although it holds a table


def test_what_rules_select_by_is_declared_by_the_kinds() -> None:
    """The capabilities DG401 (weights), DG105 (engine_loads) and DG21x (io) select artifacts by, and the
    traits the gate passes rules for each kind."""
    from driftguard.gate.sides import kind_traits

    builtin = extractors.builtin_kinds()
    assert {k: extractors.info(k).weights for k in builtin if extractors.info(k).weights} == {
        "hf-model": "folder", "onnx": "onnx", "safetensors": "safetensors", "lightning": "torch", "torch": "torch"}
    assert [k for k in builtin if extractors.info(k).engine_loads] == ["hf-model", "hf-config", "safetensors", "torch"]
    assert {k: extractors.info(k).io for k in builtin if extractors.info(k).io} == {"triton": "declared",
                                                                                    "onnx": "graph"}
    traits = kind_traits(["onnx", "vllm"])
    assert (traits["onnx"].weights, traits["onnx"].io, traits["onnx"].engine_loads) == ("onnx", "graph", False)
    assert traits["vllm"].speaks == extractors.info("vllm").speaks and traits["vllm"].weights is None


def test_request_kinds_and_engine_args_are_declared_not_listed() -> None:
    from driftguard.gate.scaffold import request_kinds

    # Engines whose files show them first, then the shape every engine speaks (OpenAI's body).
    kinds = request_kinds()
    assert kinds[:4] == ("vllm", "tgi", "tensorrt-llm", "lmdeploy") and kinds[-1] == "openai"
    assert set(kinds) == {n for n in engines.ENGINES if engines.engine(n).EXTRACTOR is not None}
    assert [k for k in extractors.available_kinds() if extractors.info(k).engine_args is not None] == ["vllm"]


TESTS = Path(__file__).resolve().parents[1]


def test_every_key_a_kind_extracts_is_canonical_or_in_a_namespace_it_keeps() -> None:
    """``KindInfo.keeps`` is what the kinds really write: every key extracted from the corpus, the fixtures and
    the examples (153 artifacts of the 9 text kinds) is in the vocabulary or under a namespace its kind declares."""
    seen: set[str] = set()
    files = [p for root in (TESTS / "corpus", TESTS / "fixtures", TESTS.parent / "examples") for p in root.rglob("*")]
    for path in sorted(p for p in files if p.is_file()):
        try:
            cfg = extractors.extract(path)
        except DriftguardError:
            continue  # refused files (another format, an error the corpus pins) extract nothing
        seen.add(cfg.kind)
        keeps = extractors.kept_namespaces(cfg.kind)
        for key in cfg.values:
            assert keys.is_canonical(key) or key.split(".", 1)[0] in keeps, (cfg.kind, str(path), key)
    assert len(seen) >= 9, seen
    assert extractors.format_namespaces()[:2] == ["triton", "hf"]


def test_a_kind_that_reads_launch_commands_keeps_every_launchers_namespace() -> None:
    """The shell and container kinds declare no launcher namespaces of their own: each registered launcher's comes
    from ``engines.LAUNCHERS`` (a new launcher is one registry line), and only such kinds get them."""
    expected = ("vllm", "tgi", "tensorrt_llm", "lmdeploy", "sglang", "tritonserver", "llama_cpp")
    for kind in ("shell", "dockerfile", "compose", "kubernetes"):
        assert extractors.kept_namespaces(kind) == expected
    assert extractors.kept_namespaces("hf-config") == ("hf",)
    assert "llama_cpp" in extractors.format_namespaces()
