"""Walk every ONNX model the installed ``onnx`` package ships as backend test data and check that driftguard's
ONNX extractor (wire-level payload skipping) agrees with an extraction built from ``onnx.load``.

Two checks per model:
  1. ``extract(path)`` (driftguard's own decoder, no onnx) equals ``config_from_model`` of the same fields read
     from ``onnx.load(path, load_external_data=False)`` (values and origins);
  2. the reduced ModelProto equals ``onnx.load``'s with the payload fields of every tensor cleared, wherever
     the tensor sits (initializers, sparse initializers, node attributes, subgraphs, functions, training
     graphs), byte-for-byte after deterministic serialization.

Usage: python benchmarks/walk_onnx_backend.py [--node-cases] [ROOT ...]
(default ROOT: onnx/backend/test/data of the installed onnx). Recent onnx wheels omit the ``node/`` test data
(over a thousand models); ``--node-cases`` rebuilds those models from the test-case definitions the wheel does
ship (``onnx.backend.test.case.node.collect_testcases``) into a temporary folder and walks them too.
Prints a summary; exit 1 when any model disagrees.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import onnx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # ``tests.readers.test_onnx_proto.from_onnx``
from driftguard.errors import DriftguardError
from driftguard.extractors import onnx as onnx_extractor
from driftguard.extractors.base import ExtractOptions
from driftguard.readers import onnx_wire
from tests.readers.test_onnx_proto import from_onnx

PAYLOAD_FIELDS = ("float_data", "int32_data", "string_data", "int64_data", "raw_data", "double_data",
                  "uint64_data")


def models_under(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*.onnx") if p.is_file())


def check(path: Path) -> str | None:
    """None when the two readings agree, else what differs."""
    try:
        full = onnx.load(str(path), load_external_data=False)
    except Exception as exc:  # onnx itself cannot read it: driftguard must refuse too
        try:
            onnx_extractor.extract(path, ExtractOptions())
        except DriftguardError:
            return None
        return f"onnx.load fails ({exc}) but driftguard read it"
    try:
        ours = onnx_extractor.extract(path, ExtractOptions())
    except DriftguardError as exc:
        try:
            onnx_extractor.config_from_model(from_onnx(full), path)
        except DriftguardError:
            return None  # both refuse (e.g. no graph)
        return f"driftguard refused: {exc}"
    reference = onnx_extractor.config_from_model(from_onnx(full), path)
    if ours.to_dict() != reference.to_dict():
        a, b = ours.to_dict()["values"], reference.to_dict()["values"]
        diff = sorted(k for k in a.keys() | b.keys() if a.get(k) != b.get(k))
        return f"extraction differs on {diff[:5]}"
    clear_payloads(full)
    reduced = onnx.ModelProto.FromString(onnx_wire.read_without_payloads(path))
    if reduced.SerializeToString(deterministic=True) != full.SerializeToString(deterministic=True):
        return "reduced ModelProto differs from onnx.load's with payloads cleared"
    return None


def clear_payloads(model: onnx.ModelProto) -> None:
    """Clear the payload fields of every TensorProto in the model, found with onnx's own classes (an
    independent walk from driftguard's wire-level one)."""

    def tensor(t: onnx.TensorProto) -> None:
        for f in PAYLOAD_FIELDS:
            t.ClearField(f)

    def sparse(s: onnx.SparseTensorProto) -> None:
        tensor(s.values)
        tensor(s.indices)

    def attribute(a: onnx.AttributeProto) -> None:
        if a.HasField("t"):
            tensor(a.t)
        for t in a.tensors:
            tensor(t)
        if a.HasField("sparse_tensor"):
            sparse(a.sparse_tensor)
        for s in a.sparse_tensors:
            sparse(s)
        if a.HasField("g"):
            graph(a.g)
        for g in a.graphs:
            graph(g)

    def graph(g: onnx.GraphProto) -> None:
        for t in g.initializer:
            tensor(t)
        for s in g.sparse_initializer:
            sparse(s)
        for n in g.node:
            for a in n.attribute:
                attribute(a)

    if model.HasField("graph"):
        graph(model.graph)
    for info in model.training_info:
        for part in ("initialization", "algorithm"):
            if info.HasField(part):
                graph(getattr(info, part))
    for fn in model.functions:
        for n in fn.node:
            for a in n.attribute:
                attribute(a)
        for a in fn.attribute_proto:
            attribute(a)


def write_node_cases(root: Path) -> int:
    """Serialize onnx's node test cases as ``root/<case>/model.onnx``; returns how many."""
    from onnx.backend.test.case.node import collect_testcases

    cases = collect_testcases()
    for case in cases:
        assert case.model is not None
        folder = root / case.name
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "model.onnx").write_bytes(case.model.SerializeToString())
    return len(cases)


def main(argv: list[str]) -> int:
    node_cases = "--node-cases" in argv
    argv = [a for a in argv if a != "--node-cases"]
    roots = [Path(a) for a in argv] or [Path(onnx.__file__).parent / "backend" / "test" / "data"]
    if node_cases:
        tmp = tempfile.TemporaryDirectory(prefix="onnx-node-cases-")
        print(f"node cases: {write_node_cases(Path(tmp.name) / 'node')} written to {tmp.name}")
        roots.append(Path(tmp.name))
    paths = [p for r in roots for p in models_under(r)]
    failures: list[tuple[Path, str]] = []
    start = time.perf_counter()
    for p in paths:
        problem = check(p)
        if problem:
            failures.append((p, problem))
    elapsed = time.perf_counter() - start
    for p, problem in failures:
        print(f"DIFF {p}: {problem}")
    print(f"onnx {onnx.__version__}: {len(paths)} models under {', '.join(map(str, roots))}: "
          f"{len(paths) - len(failures)} agree, {len(failures)} differ ({elapsed:.1f} s)")
    return 1 if failures or not paths else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
