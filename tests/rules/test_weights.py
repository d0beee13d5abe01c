"""DG401 weights provenance on real tiny models built here: an ONNX exported from checkpoint A passes against
A (FP32, renamed initializers, external data, int8 after quantize_dynamic) and fails against a retrained B;
weights it cannot compare are a warning, never a pass."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import pytest

from driftguard.errors import RefusedError

for _extra in ("torch", "onnx", "numpy", "onnxruntime.quantization", "safetensors"):
    pytest.importorskip(_extra)

import numpy as np  # noqa: E402
import onnx  # noqa: E402
import torch  # noqa: E402
from onnxruntime import quantization  # noqa: E402

from driftguard import api  # noqa: E402
from driftguard.gate.sides import kind_traits  # noqa: E402
from driftguard.model import EffectiveConfig, Finding, Unjudged, WeightMatch  # noqa: E402
from driftguard.readers.tensors import onnx_tensors  # noqa: E402
from driftguard.rules.base import RuleContext, Side  # noqa: E402
from driftguard.rules.engine import run_rules  # noqa: E402
from driftguard.rules.weights import KEY, WeightsCheck  # noqa: E402


class Tiny(torch.nn.Module):
    """Embedding, a token-level linear (exported as MatMul on a transposed initializer), mean, a head."""

    def __init__(self) -> None:
        super().__init__()
        self.embedding = torch.nn.Embedding(50, 16)
        self.proj = torch.nn.Linear(16, 24)
        self.head = torch.nn.Linear(24, 3)

    def forward(self, input_ids: Any) -> Any:
        return self.head(torch.relu(self.proj(self.embedding(input_ids))).mean(1))


def _train(seed: int) -> Tiny:
    torch.manual_seed(seed)
    model = Tiny()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    for _ in range(3):
        ids = torch.randint(0, 50, (8, 6))
        loss = model(ids).pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return model.eval()


def _export(model: Tiny, path: Path) -> Path:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, (torch.zeros((1, 6), dtype=torch.long),), str(path), input_names=["input_ids"],
                          output_names=["logits"], dynamic_axes={"input_ids": {0: "b"}}, opset_version=17,
                          dynamo=False)
    return path


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("prov")
    a, b = _train(0), _train(1)
    out = {"ckpt_a": d / "a.ckpt", "ckpt_b": d / "b.ckpt", "onnx_a": _export(a, d / "a.onnx")}
    torch.save({"state_dict": {f"model.{k}": v for k, v in a.state_dict().items()},
                "hyper_parameters": {"num_labels": 3}}, out["ckpt_a"])
    torch.save({"state_dict": {f"model.{k}": v for k, v in b.state_dict().items()},
                "hyper_parameters": {"num_labels": 3}}, out["ckpt_b"])
    out["int8_a"] = d / "a-int8.onnx"
    quantization.quantize_dynamic(str(out["onnx_a"]), str(out["int8_a"]), weight_type=quantization.QuantType.QInt8)
    return out


def _side(name: str, artifact: EffectiveConfig) -> Side:
    """A one-artifact side as the gate builds it: with what its kind declares (the weights it holds)."""
    return Side(name, (artifact,), dict(artifact.values), kinds=kind_traits([artifact.kind]))


def judge(training: Path, deployed: Path, options: dict[str, Any] | None = None) -> list[Finding]:
    t, d = api.extract(training), api.extract(deployed)
    ctx = RuleContext("m", _side("training", t), _side("deployment", d), options=options or {})
    return list(WeightsCheck().check(ctx))


def test_export_exercises_the_transpose(files: dict[str, Path]) -> None:
    shapes = {tuple(t.dims) for t in onnx.load(str(files["onnx_a"])).graph.initializer}
    assert (16, 24) in shapes, shapes  # proj.weight [24, 16] stored transposed for MatMul


def test_export_of_a_passes_against_a(files: dict[str, Path]) -> None:
    assert judge(files["ckpt_a"], files["onnx_a"]) == []


def test_export_of_a_fails_against_retrained_b_naming_both_files(files: dict[str, Path]) -> None:
    [f] = judge(files["ckpt_b"], files["onnx_a"])
    assert (f.rule, f.key, f.severity) == ("DG401", KEY, "error")
    assert f.training is not None and f.deployed is not None
    assert f.training.origin.path == str(files["ckpt_b"]) and f.deployed.origin.path == str(files["onnx_a"])
    assert "b.ckpt" in f.message and "a.onnx" in f.message
    # embedding, proj.bias, head.weight and proj.weight, which the exporter renamed and transposed
    assert f.delta["matched"] == 0 and len(f.delta["unmatched"]) == 4, f.delta
    assert any(name.startswith("onnx::MatMul") for name in f.delta["unmatched"])
    # the delta is the JSON form of the typed evidence, which names every tensor
    assert f.weights is not None and f.weights.path == str(files["onnx_a"]) and f.weights.delta() == f.delta
    assert (len(f.weights.matched), len(f.weights.unmatched), f.weights.deployed) == (0, 4, None)


def test_int8_quantize_dynamic_export_is_compared_after_dequantization(files: dict[str, Path]) -> None:
    assert judge(files["ckpt_a"], files["int8_a"]) == []
    [f] = judge(files["ckpt_b"], files["int8_a"])
    assert f.severity == "error" and "(dequantized)" in f.message


def test_renamed_initializers_still_pass(files: dict[str, Path], tmp_path: Path) -> None:
    model = onnx.load(str(files["onnx_a"]))
    renames = {t.name: f"w{i}" for i, t in enumerate(model.graph.initializer)}
    for t in model.graph.initializer:
        t.name = renames[t.name]
    for node in model.graph.node:
        node.input[:] = [renames.get(i, i) for i in node.input]
    onnx.checker.check_model(model)
    path = tmp_path / "renamed.onnx"
    onnx.save(model, str(path))
    assert judge(files["ckpt_a"], path) == []
    assert judge(files["ckpt_b"], path)[0].severity == "error"


def test_external_data_is_read_per_tensor_and_streamed_reader_agrees_with_onnx_load(
        files: dict[str, Path], tmp_path: Path) -> None:
    model = onnx.load(str(files["onnx_a"]))
    expected = {t.name: onnx.numpy_helper.to_array(t) for t in model.graph.initializer
                if t.data_type == onnx.TensorProto.FLOAT}
    path = tmp_path / "ext.onnx"
    onnx.save_model(model, str(path), save_as_external_data=True, all_tensors_to_one_file=True,
                    location="ext.data", size_threshold=0)
    assert path.stat().st_size < 2000  # the weights really are outside the graph file
    got = {t.name: t.values for t in onnx_tensors(path) if not isinstance(t, tuple)}
    assert set(got) == set(expected)
    assert all(np.array_equal(got[k], expected[k]) for k in expected)
    assert judge(files["ckpt_a"], path) == []


def test_safetensors_training_side(files: dict[str, Path], tmp_path: Path) -> None:
    from safetensors.torch import save_file

    state = torch.load(files["ckpt_a"], weights_only=True)["state_dict"]
    path = tmp_path / "model.safetensors"
    save_file({k: v.contiguous() for k, v in state.items()}, str(path))
    assert judge(path, files["onnx_a"]) == []
    assert judge(path, files["int8_a"]) == []


def test_int8_weight_without_a_readable_scale_is_a_warning_not_a_pass(files: dict[str, Path],
                                                                       tmp_path: Path) -> None:
    model = onnx.load(str(files["int8_a"]))
    target = next(t.name for t in model.graph.initializer if list(t.dims) == [16, 24])  # proj, quantized
    for t in model.graph.initializer:
        if t.name == target:
            t.name = "opaque_weight"
    for node in model.graph.node:
        node.input[:] = ["opaque_weight" if i == target else i for i in node.input]
    path = tmp_path / "opaque.onnx"
    onnx.save(model, str(path))
    [f] = judge(files["ckpt_a"], path)
    assert f.severity == "warning" and "not comparable" in f.message and "opaque_weight" in f.message
    assert f.weights is not None and f.weights.not_comparable == ("opaque_weight",) and f.weights.matched


def test_a_file_with_nothing_to_compare_it_with_says_so_as_data(files: dict[str, Path]) -> None:
    d = api.extract(files["onnx_a"])
    ctx = RuleContext("m", Side("training", (), {}), _side("deployment", d), options={})
    [f] = WeightsCheck().check(ctx)
    assert f.severity == "warning" and f.deployed is not None and f.deployed.value == "not compared"
    assert f.weights == WeightMatch(f.deployed.origin.path, deployed=Unjudged.NOT_COMPARED)


class Sentinel:
    """Unpickling this would create a file: the rule must refuse it without running it."""

    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self) -> tuple[Any, ...]:
        return (open, (self.path, "w"))


def test_checkpoint_the_metadata_reader_refuses_is_an_input_error_and_nothing_runs(files: dict[str, Path],
                                                                                   tmp_path: Path) -> None:
    sentinel = tmp_path / "executed"
    state = torch.load(files["ckpt_a"], weights_only=True)["state_dict"]
    path = tmp_path / "evil.pt"
    torch.save({"state_dict": state, "extra": Sentinel(str(sentinel))}, path)
    t = api.extract(files["ckpt_a"])  # the metadata extractor refuses the evil file itself; feed its path here
    evil = type(t)("torch", str(path), t.values)
    d = api.extract(files["onnx_a"])
    ctx = RuleContext("m", _side("training", evil), _side("deployment", d))
    # DG401 applies the metadata reader's rules before torch.load ever sees the file: the refusal is exit 2.
    with pytest.raises(RefusedError, match="refused pickle global") as exc:
        list(WeightsCheck().check(ctx))
    assert exc.value.path == str(path)
    assert not sentinel.exists()


def test_min_elements_and_ignore_options(files: dict[str, Path]) -> None:
    [f] = judge(files["ckpt_b"], files["onnx_a"], {"DG401": {"ignore": ["embedding*", "onnx::*"]}})
    assert "embedding" not in f.message
    assert judge(files["ckpt_b"], files["onnx_a"], {"DG401": {"min_elements": 10**6}})[0].severity == "warning"


def test_opt_in_runs_only_when_enabled(files: dict[str, Path]) -> None:
    t, d = api.extract(files["ckpt_b"]), api.extract(files["onnx_a"])
    ctx = RuleContext("m", _side("training", t), _side("deployment", d))
    assert not [f for f in run_rules(ctx) if f.rule == "DG401"]
    assert [f.rule for f in run_rules(ctx, enable=["DG401"]) if f.rule == "DG401"] == ["DG401"]


def test_gate_through_the_manifest(files: dict[str, Path], tmp_path: Path) -> None:
    manifest = tmp_path / "driftguard.yaml"
    for ckpt, failing in (("ckpt_a", False), ("ckpt_b", True)):
        manifest.write_text(
            "version: 1\nmodels:\n  clf:\n"
            f"    training: [{{path: {files[ckpt]}, kind: lightning}}]\n"
            f"    deployment: [{{path: {files['onnx_a']}}}]\n"
            "rules: {enable: [DG401]}\n", encoding="utf-8")
        report = api.check(manifest, root=tmp_path.parent)  # the fixtures live beside this test's folder
        assert any(f.rule == "DG401" for f in report.findings) is failing


@pytest.mark.slow
@pytest.mark.parametrize(("options", "needle"), [
    ('{min_elements: "sixteen"}', "min_elements must be a non-negative integer"),
    ("{min_element: 16}", "unknown option 'min_element'"),
    ("{ignore: 5}", "ignore must be a list of globs"),
    ("[1]", "driftguard.yaml:6: rules.options.DG401"),  # the manifest schema catches this one, with its line
])
def test_bad_options_are_a_manifest_error_not_a_crash(tmp_path: Path, options: str, needle: str) -> None:
    import subprocess
    import sys

    (tmp_path / "generation_config.json").write_text('{"top_p": 0.9}')
    manifest = tmp_path / "driftguard.yaml"
    manifest.write_text("version: 1\nmodels:\n  m:\n    training: [{path: generation_config.json}]\n"
                        "    deployment: [{path: generation_config.json}]\n"
                        f"rules: {{enable: [DG401], options: {{DG401: {options}}}}}\n")
    res = subprocess.run([sys.executable, "-m", "driftguard", "check", "--config", str(manifest)],
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 2, res.stderr
    assert needle in res.stderr and "Traceback" not in res.stderr


def test_the_options_model_is_in_the_manifest_schema() -> None:
    """DG401's options are its own pydantic model (``Rule.Options``); the published schema carries it."""
    from driftguard import manifest as manifest_mod
    from driftguard.rules.weights import WeightsCheck, WeightsCheckOptions

    assert WeightsCheck.Options is WeightsCheckOptions
    assert WeightsCheckOptions.model_validate({"ignore": "onnx::*"}).ignore == ("onnx::*",)
    defs = manifest_mod.schema()["$defs"]
    assert defs["Rules"]["properties"]["options"]["properties"]["DG401"] == {"$ref": "#/$defs/WeightsCheckOptions"}
    assert set(defs["WeightsCheckOptions"]["properties"]) == {"min_elements", "ignore"}
