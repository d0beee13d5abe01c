"""Property: real JSON/YAML files from tests/corpus, mutated (bytes flipped, structure spliced in, cut
short, nested, aliased), never make a document reader or an extractor raise anything but DriftguardError."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from driftguard import extractors
from driftguard.errors import DriftguardError
from driftguard.extractors.base import ExtractOptions
from driftguard.readers import documents, yaml_doc
from driftguard.readers.limits import Limits

CORPUS = Path(__file__).resolve().parents[1] / "corpus"
SEEDS = sorted(p for folder in ("hf", "runtime") for p in (CORPUS / folder).glob("*")
               if p.suffix in (".json", ".yaml", ".yml") and p.stat().st_size < 64 * 1024)

# Small limits so that the mutations reach them, as well as the defaults.
LIMITS = (Limits(), Limits(objects=200, depth=6, int_digits=8, file_bytes=32 * 1024))
SPLICES = [b"[", b"{", b"]", b"}", b"&a ", b"*a", b"&a [*a]", b"!!binary ", b"!!set ", b"<<: ", b"\x00", b"\xff",
           b"1" * 600, b"-", b": ", b"\n  ", b'"', b"\\u0000", b"1e999", b"NaN", b"---\n", b"? ", b"!!python/name:os.x"]


@st.composite
def mutated(draw: st.DrawFn) -> tuple[Path, bytes]:
    seed = draw(st.sampled_from(SEEDS))
    data = bytearray(seed.read_bytes())
    for _ in range(draw(st.integers(1, 6))):
        at = draw(st.integers(0, len(data)))
        op = draw(st.sampled_from(("flip", "splice", "cut", "wrap")))
        if op == "flip" and data:
            data[min(at, len(data) - 1)] = draw(st.integers(0, 255))
        elif op == "splice":
            data[at:at] = draw(st.sampled_from(SPLICES))
        elif op == "cut":
            del data[at:at + draw(st.integers(1, 64))]
        else:
            depth = draw(st.integers(1, 120))
            data = bytearray(b"[" * depth + bytes(data) + b"]" * depth)
    return seed, bytes(data)


def _only_driftguard_errors(fn: Callable[..., object], *args: object) -> None:
    with contextlib.suppress(DriftguardError):
        fn(*args)


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(case=mutated(), which=st.integers(0, len(LIMITS) - 1))
def test_document_loaders_raise_only_driftguard_errors(tmp_path: Path, case: tuple[Path, bytes], which: int) -> None:
    _, data = case
    limits = LIMITS[which]
    for suffix in (".json", ".yaml"):
        path = tmp_path / f"doc{suffix}"
        path.write_bytes(data)
        _only_driftguard_errors(documents.load_document, path, limits)
        documents.sniff(path, data[:4096], limits=limits)  # never raises at all
    text = data.decode("utf-8", "replace")
    _only_driftguard_errors(documents.loads_json, text, "x.json", limits)
    _only_driftguard_errors(yaml_doc.loads, text, "x.yaml", DriftguardError, limits)


KINDS = ("hf-generation", "hf-config", "hf-tokenizer", "vllm", "tgi", "openai", "tensorrt-llm", "lmdeploy")


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(case=mutated(), kind=st.sampled_from(KINDS), which=st.integers(0, len(LIMITS) - 1))
def test_extract_raises_only_driftguard_errors(tmp_path: Path, case: tuple[Path, bytes], kind: str,
                                               which: int) -> None:
    seed, data = case
    path = tmp_path / seed.name
    path.write_bytes(data)
    _only_driftguard_errors(extractors.extract, path, kind, ExtractOptions(limits=LIMITS[which]))
