"""DG210-DG217: Triton config vs ONNX graph, and ONNX graph vs the training tokenizer. Table-driven cases on
EffectiveConfigs built directly (one mismatch -> exactly one finding), then real Triton configs from the corpus
paired with ONNX graphs built in the test."""

from __future__ import annotations

import itertools
import re
import shutil
from pathlib import Path
from typing import Any

import onnx
import pytest
from onnx import TensorProto, helper

from driftguard.extractors import extract
from driftguard.gate.sides import kind_traits
from driftguard.model import EffectiveConfig, Finding, How, Origin, Value
from driftguard.rules.base import Rule, RuleContext, Side
from driftguard.rules.consistency_io import CONSISTENCY_IO_RULES, pairs

TRITON = "repo/bert/config.pbtxt"
GRAPH = "repo/bert/1/model.onnx"
TOKENIZER = "train/tokenizer_config.json"
CORPUS = Path(__file__).resolve().parents[1] / "corpus" / "triton"
BACKEND_DATA = Path(onnx.__file__).parent / "backend" / "test" / "data"


def config(kind: str, path: str, values: dict[str, Any], explicit: bool = True) -> EffectiveConfig:
    def origin(i: int, key: str) -> Origin:  # text formats have lines, ONNX has pointers
        return Origin(path, None, key) if kind == "onnx" else Origin(path, i + 1)

    how = How.EXPLICIT if explicit else How.DEFAULT
    return EffectiveConfig(kind, path, {k: Value(v, origin(i, k), how) for i, (k, v) in enumerate(values.items())})


def triton(**over: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "serving.backend": "onnxruntime",
        "batching.max_batch_size": 8,
        "io.inputs": ["attention_mask", "input_ids"],
        "io.outputs": ["logits"],
        "io.inputs.input_ids.dtype": "int64",
        "triton.inputs.input_ids.dims": [-1],
        "io.inputs.attention_mask.dtype": "int64",
        "triton.inputs.attention_mask.dims": [-1],
        "io.outputs.logits.dtype": "float32",
        "triton.outputs.logits.dims": [2],
    }
    values.update(over)
    return values


def graph(**over: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "onnx.ir_version": 8,
        "io.inputs": ["input_ids", "attention_mask"],
        "io.outputs": ["logits"],
        "io.inputs.input_ids.dtype": "int64",
        "io.inputs.input_ids.shape": [-1, -1],
        "io.inputs.attention_mask.dtype": "int64",
        "io.inputs.attention_mask.shape": [-1, -1],
        "io.outputs.logits.dtype": "float32",
        "io.outputs.logits.shape": [-1, 2],
        "precision.quantization": "none",
    }
    values.update(over)
    return values


def run(deployed: list[EffectiveConfig], training: list[EffectiveConfig] | None = None) -> list[Finding]:
    def side(name: str, artifacts: list[EffectiveConfig]) -> Side:
        merged: dict[str, Value] = {}
        for a in artifacts:
            merged.update(a.values)
        return Side(name, tuple(artifacts), merged, kinds=kind_traits(a.kind for a in artifacts))

    ctx = RuleContext("bert", side("training", training or []), side("deployed", deployed))
    return [f for rule in CONSISTENCY_IO_RULES for f in rule().check(ctx)]


TOK_NAMES = {"preprocessing.model_input_names": ["input_ids", "attention_mask"]}

CASES: list[tuple[str, dict[str, Any], dict[str, Any], dict[str, Any] | None, str | None]] = [
    # (case, triton overrides, graph overrides, training values, expected rule code or None)
    ("consistent", {}, {}, None, None),
    ("input renamed", {"io.inputs": ["attention_mask", "input"], "triton.inputs.input.dims": [-1],
                       "io.inputs.input.dtype": "int64"}, {}, None, "DG210"),
    ("graph input undeclared", {}, {"io.inputs": ["input_ids", "attention_mask", "token_type_ids"],
                                    "io.inputs.token_type_ids.dtype": "int64",
                                    "io.inputs.token_type_ids.shape": [-1, -1]}, None, "DG210"),
    ("output unknown", {"io.outputs": ["scores"], "io.outputs.scores.dtype": "float32",
                        "triton.outputs.scores.dims": [2]}, {}, None, "DG210"),
    ("dtype", {"io.inputs.input_ids.dtype": "int32"}, {}, None, "DG211"),
    ("batch dim fixed", {}, {"io.outputs.logits.shape": [1, 2]}, None, "DG212"),
    ("dims fixed vs -1", {"triton.outputs.logits.dims": [-1]}, {}, None, "DG213"),
    ("dims differ", {"triton.outputs.logits.dims": [3]}, {}, None, "DG213"),
    ("no batch dim in graph", {}, {"io.outputs.logits.shape": [2]}, None, "DG213"),
    ("mbs 0 exact shape", {"batching.max_batch_size": 0, "triton.outputs.logits.dims": [1, 2],
                           "triton.inputs.input_ids.dims": [1, -1],
                           "triton.inputs.attention_mask.dims": [1, -1]}, {"io.outputs.logits.shape": [1, 2]},
     None, None),
    ("mbs 0 missing batch dim", {"batching.max_batch_size": 0, "triton.inputs.input_ids.dims": [-1, -1],
                                 "triton.inputs.attention_mask.dims": [-1, -1]}, {}, None, "DG213"),
    ("reshape honoured", {"batching.max_batch_size": 0, "triton.outputs.logits.dims": [2],
                          "triton.outputs.logits.reshape": [1, 2], "triton.inputs.input_ids.dims": [-1],
                          "triton.inputs.input_ids.reshape": [1, -1], "triton.inputs.attention_mask.dims": [-1],
                          "triton.inputs.attention_mask.reshape": [1, -1]},
     {"io.outputs.logits.shape": [1, 2]}, None, None),
    ("graph -1 matches a fixed config dim", {"triton.inputs.input_ids.dims": [128]}, {}, None, None),
    ("backend", {"serving.backend": "tensorrt"}, {}, None, "DG214"),
    ("int8 claimed, graph float", {"precision.compute": "int8"}, {}, None, "DG215"),
    ("fp16 claimed, graph qdq", {"precision.compute": "float16"}, {"precision.quantization": "qdq"}, None, "DG215"),
    ("int8 claimed, graph qdq", {"precision.compute": "int8"}, {"precision.quantization": "qdq"}, None, None),
    ("tokenizer matches", {}, {}, TOK_NAMES, None),
    ("tokenizer lacks a graph input", {"io.inputs": ["attention_mask", "input_ids", "token_type_ids"],
                                       "io.inputs.token_type_ids.dtype": "int64",
                                       "triton.inputs.token_type_ids.dims": [-1]},
     {"io.inputs": ["input_ids", "attention_mask", "token_type_ids"], "io.inputs.token_type_ids.dtype": "int64",
      "io.inputs.token_type_ids.shape": [-1, -1]}, TOK_NAMES, "DG216"),
    ("max_length too long", {"triton.inputs.input_ids.dims": [128], "triton.inputs.attention_mask.dims": [128]},
     {"io.inputs.input_ids.shape": [-1, 128], "io.inputs.attention_mask.shape": [-1, 128]},
     {**TOK_NAMES, "preprocessing.max_length": 512}, "DG217"),
    ("max_length fits", {"triton.inputs.input_ids.dims": [512]}, {"io.inputs.input_ids.shape": [-1, 512]},
     {"preprocessing.max_length": 512}, None),
]


@pytest.mark.parametrize(("case", "t_over", "g_over", "train", "code"), CASES, ids=[c[0] for c in CASES])
def test_each_mismatch_gives_exactly_one_finding(case: str, t_over: dict[str, Any], g_over: dict[str, Any],
                                                 train: dict[str, Any] | None, code: str | None) -> None:
    training = [config("hf-tokenizer", TOKENIZER, train)] if train else []
    findings = run([config("triton", TRITON, triton(**t_over)), config("onnx", GRAPH, graph(**g_over))], training)
    assert [f.rule for f in findings] == ([code] if code else []), [f.message for f in findings]
    for f in findings:
        paths = {o.path for o in f.origins()}
        assert GRAPH in paths or any(v.origin.path == GRAPH for v in f.related), f
        if f.rule in ("DG216", "DG217"):
            assert f.training is not None and f.training.origin.path == TOKENIZER
        else:
            assert TRITON in paths and f.deployed is not None and f.deployed.origin.line is not None


def test_default_max_length_is_not_a_length() -> None:
    tok = config("hf-tokenizer", TOKENIZER, {"preprocessing.max_length": 512}, explicit=False)
    findings = run([config("onnx", GRAPH, graph(**{"io.inputs.input_ids.shape": [-1, 128]}))], [tok])
    assert findings == []


def test_pairs_by_folder() -> None:
    t1, t2 = config("triton", "repo/a/config.pbtxt", triton()), config("triton", "repo/b/config.pbtxt", triton())
    g1, g2 = config("onnx", "repo/a/1/model.onnx", graph()), config("onnx", "repo/b/1/model.onnx", graph())
    side = Side("deployed", (t1, t2, g1, g2), {}, kinds=kind_traits(["triton", "onnx"]))
    assert pairs(side) == [(t1, g1), (t2, g2)]
    lone = Side("deployed", (config("triton", "x/config.pbtxt", triton()), config("onnx", "y/m.onnx", graph())), {},
                kinds=kind_traits(["triton", "onnx"]))
    assert len(pairs(lone)) == 1
    assert pairs(Side("deployed", (t1, g1), {})) == []  # no kind declared an IO signature: nothing is paired


def test_rules_pair_by_the_io_signature_a_kind_declares_not_by_its_name() -> None:
    """A plug-in kind whose artifacts are model graphs (``KindInfo.io = "graph"``) is checked against the Triton
    config like an ONNX graph: a dtype the config contradicts is found, naming the graph."""
    from driftguard.rules.base import KindTraits

    g = config("my-graph", "repo/a/1/model.mygraph", graph(**{"io.inputs.input_ids.dtype": "int32"}))
    t = config("triton", "repo/a/config.pbtxt", triton())
    kinds = {**kind_traits(["triton"]), "my-graph": KindTraits(io="graph")}
    deployed = Side("deployed", (t, g), {}, kinds=kinds)
    assert pairs(deployed) == [(t, g)]
    ctx = RuleContext("m", Side("training", (), {}), deployed)
    findings = [f for rule in CONSISTENCY_IO_RULES for f in rule().check(ctx)]
    assert findings and any("model.mygraph" in f.message and "int32" in f.message for f in findings), findings


def test_rules_document_themselves() -> None:
    codes = [r.code for r in CONSISTENCY_IO_RULES]
    assert len(set(codes)) == len(codes) and all(c.startswith("DG21") for c in codes)
    for rule in CONSISTENCY_IO_RULES:
        assert issubclass(rule, Rule) and rule.name.startswith("consistency.")
        assert "**Anti-pattern**" in (rule.__doc__ or "") and "**Best practice**" in (rule.__doc__ or "")


# -- real Triton configs from the corpus, with graphs built here ---------------------------------------------

def corpus(name: str) -> Path:
    path = CORPUS / name
    if not path.is_file():
        pytest.fail(f"corpus file absent: {path}")
    return path


DENSENET = "triton-inference-server__server__docs__examples__model_repository__densenet_onnx__config.pbtxt"


def densenet_graph(input_shape: list[int], elem: int = TensorProto.FLOAT) -> onnx.ModelProto:
    g = helper.make_graph([helper.make_node("Identity", ["data_0"], ["fc6_1"])], "densenet",
                          [helper.make_tensor_value_info("data_0", elem, input_shape)],
                          [helper.make_tensor_value_info("fc6_1", TensorProto.FLOAT, [1, 1000, 1, 1])])
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])


def repo(tmp_path: Path, config_file: Path, model: onnx.ModelProto) -> list[EffectiveConfig]:
    folder = tmp_path / "densenet_onnx"
    (folder / "1").mkdir(parents=True)
    shutil.copy(config_file, folder / "config.pbtxt")
    onnx.save(model, str(folder / "1" / "model.onnx"))
    return [extract(folder / "config.pbtxt"), extract(folder / "1" / "model.onnx")]


@pytest.mark.parametrize(("shape", "elem", "code"), [
    ([1, 3, 224, 224], TensorProto.FLOAT, None),  # the shipped densenet: reshape makes dims [3,224,224] fit
    ([1, 3, 256, 256], TensorProto.FLOAT, "DG213"),
    ([1, 3, 224, 224], TensorProto.FLOAT16, "DG211"),
])
def test_corpus_densenet_config_against_generated_graphs(tmp_path: Path, shape: list[int], elem: int,
                                                          code: str | None) -> None:
    deployed = repo(tmp_path, corpus(DENSENET), densenet_graph(shape, elem))
    assert [a.kind for a in deployed] == ["triton", "onnx"]
    findings = run(deployed)
    assert [f.rule for f in findings] == ([code] if code else []), [f.message for f in findings]
    for f in findings:
        assert {Path(o.path).name for o in f.origins()} == {"config.pbtxt", "model.onnx"}


def test_corpus_densenet_config_against_onnx_shipped_densenet(tmp_path: Path) -> None:
    shipped = BACKEND_DATA / "light" / "light_densenet121.onnx"
    if not shipped.is_file():
        pytest.skip("this onnx build ships no backend test data")
    assert run(repo(tmp_path, corpus(DENSENET), onnx.load(str(shipped)))) == []


def test_corpus_densenet_with_batching_flags_the_fixed_batch_dim(tmp_path: Path) -> None:
    text = corpus(DENSENET).read_text().replace("max_batch_size : 0", "max_batch_size : 8")
    text = re.sub(r"\n\s*reshape \{[^}]*\}", "", text)
    edited = tmp_path / "edited.pbtxt"
    edited.write_text(text)
    model = densenet_graph([1, 3, 224, 224])
    model.graph.output[0].type.tensor_type.shape.dim[0].dim_param = "batch"
    del model.graph.output[0].type.tensor_type.shape.dim[2:]
    findings = run(repo(tmp_path, edited, model))
    assert [f.rule for f in findings] == ["DG212"], [f.message for f in findings]
    assert "data_0" in findings[0].message and findings[0].deployed is not None
    assert findings[0].deployed.origin.line == 3  # max_batch_size in the config


# --- DG212/DG213's messages: the shape Triton hands the model, and the hint for a batch dimension ------------
# The shape Triton hands the model, written out from Triton's model configuration docs: the config's dims
# (reshape when given), -1 for every variable dimension, with a -1 batch dimension in front when
# max_batch_size > 0 (and none when it is 0).

def _logits(mbs: int, dims: list[int], shape: list[int]) -> list[str]:
    found = run([config("triton", TRITON, triton(**{"batching.max_batch_size": mbs,
                                                     "triton.outputs.logits.dims": dims})),
                 config("onnx", GRAPH, graph(**{"io.outputs.logits.shape": shape}))])
    return [f"{f.rule} {f.message}" for f in found if f.key == "io.outputs.logits.shape"]


@pytest.mark.parametrize(("mbs", "dims", "shape", "said"), [
    (8, [2], [2], "gives the model shape [-1, 2] (max_batch_size 8) but the ONNX graph model.onnx expects [2] "
                  "(the graph has no batch dimension: set max_batch_size: 0, or export one)"),
    (1, [4, 2], [4, 2], "gives the model shape [-1, 4, 2] (max_batch_size 1) but the ONNX graph model.onnx "
                        "expects [4, 2] (the graph has no batch dimension: set max_batch_size: 0, or export one)"),
    (0, [2], [-1, 2], "gives the model shape [2] (max_batch_size 0) but the ONNX graph model.onnx expects [-1, 2] "
                      "(the graph has a batch dimension: set max_batch_size > 0, or declare it in dims)"),
    # a rank off by one the other way, or by two: no hint
    (0, [4, 2], [2], "gives the model shape [4, 2] (max_batch_size 0) but the ONNX graph model.onnx expects [2]"),
    (8, [2], [-1, 7, 4, 2], "gives the model shape [-1, 2] (max_batch_size 8) but the ONNX graph model.onnx "
                            "expects [-1, 7, 4, 2]"),
    (0, [2], [-1, 7, 2], "gives the model shape [2] (max_batch_size 0) but the ONNX graph model.onnx expects "
                         "[-1, 7, 2]"),
    (8, [-1, 2], [-1, 256, 2], "gives the model shape [-1, -1, 2] (max_batch_size 8) but the ONNX graph "
                               "model.onnx expects [-1, 256, 2]"),
    (8, [3], [-1, 2], "gives the model shape [-1, 3] (max_batch_size 8) but the ONNX graph model.onnx expects "
                      "[-1, 2]"),
])
def test_the_dims_message_names_the_shape_triton_hands_the_model(mbs: int, dims: list[int], shape: list[int],
                                                                  said: str) -> None:
    assert _logits(mbs, dims, shape) == [f"DG213 output 'logits': config.pbtxt {said}"]


def _input_ids(mbs: int, dims: list[int], shape: list[int]) -> list[str]:
    found = run([config("triton", TRITON, triton(**{"batching.max_batch_size": mbs,
                                                     "triton.inputs.input_ids.dims": dims})),
                 config("onnx", GRAPH, graph(**{"io.inputs.input_ids.shape": shape}))])
    return [f"{f.rule} {f.message}" for f in found if f.key == "io.inputs.input_ids.shape"]


@pytest.mark.parametrize(("mbs", "dims", "shape"), [
    (8, [2], [-1, 2]), (1, [2], [-1, 2]), (0, [1, 2], [1, 2]), (0, [3, -1], [3, -1]),
])
def test_the_same_dims_fit_an_input_and_an_output(mbs: int, dims: list[int], shape: list[int]) -> None:
    assert _logits(mbs, dims, shape) == [] and _input_ids(mbs, dims, shape) == []


@pytest.mark.parametrize(("mbs", "dims", "shape"), [(8, [5, 2], [-1, -1, 2]), (0, [7, 2], [-1, 2])])
def test_a_dynamic_graph_dimension_takes_any_declared_one_for_an_input_only(mbs: int, dims: list[int],
                                                                             shape: list[int]) -> None:
    # onnxruntime_backend src/onnxruntime.cc (00fd3e87): ValidateInputs calls CompareDimsSupported with
    # compare_exact false, ValidateOutputs with true, so a dynamic output dimension must be declared -1
    assert _input_ids(mbs, dims, shape) == []
    shown = f"{[-1, *dims] if mbs else dims}".replace("'", "")
    assert _logits(mbs, dims, shape) == [
        f"DG213 output 'logits': config.pbtxt gives the model shape {shown} (max_batch_size {mbs}) but the ONNX graph "
        f"model.onnx expects {shape} (Triton compares an output's dims exactly: declare -1 where the graph's is "
        f"dynamic)"]


def backend_loads(plural: str, mbs: int, dims: list[int], model_shape: list[int]) -> bool:
    """Whether Triton's ONNX Runtime backend loads a graph tensor of ``model_shape`` for a config tensor of
    ``dims`` (its reshape when it has one), transcribed from triton-inference-server/onnxruntime_backend at
    00fd3e87a0918193d7921871f2e872efdb8d9c9a: src/onnxruntime.cc ``ValidateInputs``/``ValidateOutputs`` (a scalar
    model tensor takes dims of 1 only; otherwise ``CompareDimsSupported``, exact for outputs) and
    src/onnxruntime_utils.cc ``CompareDimsSupported``."""
    if not model_shape:
        return all(d == 1 for d in dims)
    compare_exact = plural == "outputs"
    if mbs > 0:  # supports_batching
        if model_shape[0] != -1:
            return False
        full_dims = [-1, *dims]
    else:
        full_dims = list(dims)
    return len(model_shape) == len(full_dims) and all(
        m == f for m, f in zip(model_shape, full_dims, strict=True) if compare_exact or m != -1)


GRID_DIMS = [[1], [2], [-1], [2, 3], [-1, 3], [2, -1], [1, 1]]
GRID_SHAPES = [[], [1], [2], [-1], [-1, 2], [1, 2], [2, 3], [-1, 3], [2, -1], [-1, -1], [-1, 2, 3], [-1, -1, 3],
               [4, 2, 3]]


def test_dg212_and_dg213_flag_exactly_what_the_onnxruntime_backend_refuses_to_load() -> None:
    disagree = []
    for plural, name in (("inputs", "input_ids"), ("outputs", "logits")):
        for mbs, dims, shape in itertools.product((0, 1, 8), GRID_DIMS, GRID_SHAPES):
            t = triton(**{"batching.max_batch_size": mbs, f"triton.{plural}.{name}.dims": dims})
            g = graph(**{f"io.{plural}.{name}.shape": shape})
            found = [f.rule for f in run([config("triton", TRITON, t), config("onnx", GRAPH, g)])
                     if f.key == f"io.{plural}.{name}.shape"]
            if bool(found) == backend_loads(plural, mbs, dims, shape):
                disagree.append((plural, mbs, dims, shape, found))
    assert disagree == []


@pytest.mark.parametrize("plural", ["inputs", "outputs"])
@pytest.mark.parametrize(("mbs", "reshape", "shape"), [
    (0, [1, 4], [1, 4]), (0, [1, 4], [4]), (8, [2, 2], [-1, 2, 2]), (8, [2, 2], [-1, 4]), (0, [1], []),
    (0, [1, 1], []), (0, [2], []), (8, [1], []),
])
def test_a_reshape_is_what_the_backend_compares(plural: str, mbs: int, reshape: list[int], shape: list[int]) -> None:
    name = "input_ids" if plural == "inputs" else "logits"
    t = triton(**{"batching.max_batch_size": mbs, f"triton.{plural}.{name}.dims": [4],
                  f"triton.{plural}.{name}.reshape": reshape})
    g = graph(**{f"io.{plural}.{name}.shape": shape})
    found = [f.rule for f in run([config("triton", TRITON, t), config("onnx", GRAPH, g)])
             if f.key == f"io.{plural}.{name}.shape"]
    assert bool(found) != backend_loads(plural, mbs, reshape, shape), found


def test_a_scalar_graph_tensor_takes_dims_of_one_only() -> None:
    # onnxruntime_backend src/onnxruntime.cc: "scalar tensor '...', should only provide 1 in the model
    # configuration when the model doesn't support batching"
    assert _logits(0, [1], []) == [] and _input_ids(0, [1, 1], []) == []
    assert _logits(0, [2], []) == ["DG213 output 'logits': config.pbtxt gives the model shape [2] (max_batch_size 0) "
                                   "but the ONNX graph model.onnx expects []"]
    assert len(_logits(0, [2, 1], [])) == 1 and len(_input_ids(0, [1, 2, 1], [])) == 1  # every dim, not the last


@pytest.mark.parametrize(("mbs", "shape", "fixed"), [(8, [1, 2], True), (1, [4, 2], True), (8, [-1, 2], False),
                                                     (0, [1, 2], False)])
def test_a_fixed_first_dimension_is_dg212s_only_when_triton_batches(mbs: int, shape: list[int],
                                                                     fixed: bool) -> None:
    found = _logits(mbs, [2] if mbs else [1, 2], shape)
    assert found == ([f"DG212 config.pbtxt sets max_batch_size {mbs}, but output 'logits' of the ONNX graph "
                      f"model.onnx has a fixed first dimension ({shape}); Triton needs it dynamic (-1)"]
                     if fixed else [])


# --- DG217: the tokenizer's max_length against the graph's fixed sequence dimension (the second one) --------

def _dg217(max_length: Any, shapes: dict[str, list[int]], explicit: bool = True) -> list[str]:
    over: dict[str, Any] = {f"io.inputs.{n}.shape": s for n, s in shapes.items()}
    deployed = [config("triton", TRITON, triton()), config("onnx", GRAPH, graph(**over))]
    training = [config("hf-tokenizer", TOKENIZER, {**TOK_NAMES, "preprocessing.max_length": max_length},
                       explicit=explicit)]
    return [f"{f.severity} {f.key}: {f.message}" for f in run(deployed, training) if f.rule == "DG217"]


def test_a_longer_truncation_than_the_fixed_length_is_an_error_naming_every_fixed_input() -> None:
    assert _dg217(512, {"input_ids": [-1, 128], "attention_mask": [-1, 128]}) == [
        "error io.inputs.input_ids.shape: the training tokenizer truncates at 512 tokens but the ONNX graph "
        "model.onnx takes 'input_ids' of fixed length 128 (also attention_mask)"]
    assert _dg217(129, {"input_ids": [-1, 128]}) == [
        "error io.inputs.input_ids.shape: the training tokenizer truncates at 129 tokens but the ONNX graph "
        "model.onnx takes 'input_ids' of fixed length 128"]


def test_a_shorter_truncation_must_be_padded_a_warning() -> None:
    assert _dg217(127, {"input_ids": [-1, 128]}) == [
        "warning io.inputs.input_ids.shape: the ONNX graph model.onnx takes 'input_ids' of fixed length 128; "
        "inputs truncated at 127 tokens must be padded to exactly 128"]


@pytest.mark.parametrize(("max_length", "shapes", "explicit"), [
    (128, {"input_ids": [-1, 128]}, True),  # exactly the fixed length
    (512, {"input_ids": [-1, -1]}, True),  # dynamic sequence axis
    (512, {"input_ids": [128]}, True),  # one dimension: no sequence axis to compare
    (512, {"input_ids": [-1, 128]}, False),  # a default max_length is no truncation training chose
    (int(1e30), {"input_ids": [-1, 128]}, True),  # transformers' VERY_LARGE_INTEGER: no limit
    ("512", {"input_ids": [-1, 128]}, True),
])
def test_what_dg217_leaves_alone(max_length: Any, shapes: dict[str, list[int]], explicit: bool) -> None:
    assert _dg217(max_length, shapes, explicit) == []


def test_the_first_fixed_input_is_named_and_dynamic_ones_are_not_listed() -> None:
    assert _dg217(512, {"input_ids": [-1, -1], "attention_mask": [-1, 64]}) == [
        "error io.inputs.attention_mask.shape: the training tokenizer truncates at 512 tokens but the ONNX graph "
        "model.onnx takes 'attention_mask' of fixed length 64"]
    assert _dg217(int(1e30) - 1, {"input_ids": [-1, 128]})[0].startswith("error ")


def test_the_sequence_dimension_of_a_multiple_choice_export_is_the_last() -> None:
    # transformers' ONNX export axes (huggingface/transformers 008f5c8c, src/transformers/models/bert/
    # configuration_bert.py BertOnnxConfig.inputs): {0: "batch", 1: "sequence"}, and for multiple-choice
    # {0: "batch", 1: "choice", 2: "sequence"}: four choices fixed is no sequence length
    assert _dg217(512, {"input_ids": [-1, 4, -1], "attention_mask": [-1, 4, -1]}) == []
    assert _dg217(512, {"input_ids": [-1, -1, 128], "attention_mask": [-1, -1, -1]}) == [
        "error io.inputs.input_ids.shape: the training tokenizer truncates at 512 tokens but the ONNX graph "
        "model.onnx takes 'input_ids' of fixed length 128"]


# --- DG210/DG211's messages, and which config goes with which graph -----------------------------------------

def _messages(t_over: dict[str, Any], g_over: dict[str, Any], code: str) -> list[str]:
    found = run([config("triton", TRITON, triton(**t_over)), config("onnx", GRAPH, graph(**g_over))])
    return [f"{f.key}: {f.message}" for f in found if f.rule == code]


def test_names_message_lists_unknown_and_undeclared_inputs() -> None:
    assert _messages({"io.inputs": ["input_ids", "mask"], "triton.inputs.mask.dims": [-1],
                      "io.inputs.mask.dtype": "int64"}, {}, "DG210") == [
        "io.inputs: config.pbtxt declares inputs ['mask'] that the ONNX graph model.onnx does not have; the ONNX "
        "graph model.onnx needs inputs ['attention_mask'] that config.pbtxt does not declare, so no request can "
        "feed them (graph inputs: ['input_ids', 'attention_mask'])"]
    # an output the graph lacks; an output the config leaves out is no error (Triton need not return it)
    assert _messages({"io.outputs": ["scores"], "io.outputs.scores.dtype": "float32",
                      "triton.outputs.scores.dims": [2]}, {"io.outputs": ["logits", "hidden"]}, "DG210") == [
        "io.outputs: config.pbtxt declares outputs ['scores'] that the ONNX graph model.onnx does not have "
        "(graph outputs: ['logits', 'hidden'])"]
    assert _messages({}, {"io.outputs": ["logits", "hidden"]}, "DG210") == []
    assert _messages({"io.inputs": []}, {}, "DG210") == []  # no inputs listed: Triton completes them


def test_dtype_message_names_both_files() -> None:
    assert _messages({"io.outputs.logits.dtype": "float16"}, {}, "DG211") == [
        "io.outputs.logits.dtype: output 'logits' is float16 in config.pbtxt but float32 in the ONNX graph "
        "model.onnx"]


def test_a_config_goes_with_the_graph_under_its_folder() -> None:
    t1 = config("triton", "repo/a/config.pbtxt", triton(**{"io.inputs.input_ids.dtype": "int32"}))
    t2 = config("triton", "repo/b/config.pbtxt", triton())
    g1 = config("onnx", "repo/a/1/model.onnx", graph())
    g2 = config("onnx", "repo/b/1/model.onnx", graph(**{"io.inputs.input_ids.dtype": "int32"}))
    # each config against its own graph: a's int32 against a's int64, b's int64 against b's int32
    found = [(f.rule, f.deployed and f.deployed.origin.path) for f in run([t1, t2, g1, g2]) if f.rule == "DG211"]
    assert found == [("DG211", "repo/a/config.pbtxt"), ("DG211", "repo/b/config.pbtxt")]
    # one config and one graph in unrelated folders: still each other's
    lone = run([config("triton", "deploy/config.pbtxt", triton(**{"io.inputs.input_ids.dtype": "int32"})),
                config("onnx", "export/model.onnx", graph())])
    assert [f.rule for f in lone] == ["DG211"]
    # two graphs and no folder relation: no pair is guessed
    two = run([config("triton", "deploy/config.pbtxt", triton(**{"io.inputs.input_ids.dtype": "int32"})),
               config("onnx", "export/a.onnx", graph()), config("onnx", "export/b.onnx", graph())])
    assert two == []


@pytest.mark.parametrize("mbs", ["8", 8.0, None])
def test_a_max_batch_size_that_is_no_int_is_no_batching(mbs: Any) -> None:
    # read as 0: the model shape is the dims themselves, so a graph with the batch dimension is a DG213 with the
    # "has a batch dimension" hint, never a DG212
    over = {"batching.max_batch_size": mbs} if mbs is not None else {}
    values = triton(**over)
    if mbs is None:
        del values["batching.max_batch_size"]
    found = run([config("triton", TRITON, values), config("onnx", GRAPH, graph())])
    logits = [f"{f.rule} {f.message}" for f in found if f.key == "io.outputs.logits.shape"]
    assert logits == ["DG213 output 'logits': config.pbtxt gives the model shape [2] (max_batch_size 0) but the "
                      "ONNX graph model.onnx expects [-1, 2] (the graph has a batch dimension: set "
                      "max_batch_size > 0, or declare it in dims)"]


@pytest.mark.parametrize("dims", [["2"], [2.0], "2", [2, "x"]])
def test_dims_that_are_not_ints_are_not_compared(dims: Any) -> None:
    assert _logits(8, dims, [7]) == []
    assert _logits(8, [2], dims) == []  # nor a graph shape that is not
    # nor, without dims, an IO shape the config states that is not
    values = _without(triton(**{"io.outputs.logits.shape": dims}), "triton.outputs.logits.dims")
    found = run([config("triton", TRITON, values), config("onnx", GRAPH, graph())])
    assert [f for f in found if f.rule == "DG213"] == []


# --- what a mutation run of the module (issue 25, tests/mutation/rules_consistency_io.toml) found untested ---

def _codes(deployed: list[EffectiveConfig], training: list[EffectiveConfig] | None = None) -> list[tuple[str, str]]:
    """(rule, the deployed file a finding is about) of every finding."""
    return [(f.rule, f.deployed.origin.path if f.deployed else "") for f in run(deployed, training)]


def _without(values: dict[str, Any], *keys: str) -> dict[str, Any]:
    return {k: v for k, v in values.items() if k not in keys}


def test_an_io_signature_is_compared_by_value() -> None:
    """A plug-in builds its ``KindInfo`` at run time (``extractors.base.KindInfo``), so the signature it declares
    may be an equal string that is not this module's literal."""
    from driftguard.rules.base import KindTraits

    declared, graph_io = "".join(["decl", "ared"]), "".join(["gra", "ph"])
    kinds = {"my-config": KindTraits(io=declared), "my-graph": KindTraits(io=graph_io),
             **kind_traits(["hf-tokenizer"])}
    t = config("my-config", TRITON, triton(**{"io.inputs.input_ids.dtype": "int32",
                                               "triton.inputs.input_ids.dims": [128]}))
    g = config("my-graph", GRAPH, graph(**{"io.inputs": ["input_ids", "attention_mask", "token_type_ids"],
                                           "io.inputs.input_ids.shape": [-1, 128]}))
    tok = config("hf-tokenizer", TOKENIZER, {**TOK_NAMES, "preprocessing.max_length": 512})
    ctx = RuleContext("m", Side("training", (tok,), dict(tok.values), kinds=kinds),
                      Side("deployed", (t, g), {}, kinds=kinds))
    found = [(f.rule, f.key) for rule in CONSISTENCY_IO_RULES for f in rule().check(ctx)]
    assert found == [("DG210", "io.inputs"), ("DG211", "io.inputs.input_ids.dtype"),
                     ("DG216", "preprocessing.model_input_names"), ("DG217", "io.inputs.input_ids.shape")]


def test_no_pair_is_guessed_for_two_configs_or_for_a_config_alone() -> None:
    int32 = {"io.inputs.input_ids.dtype": "int32"}
    assert _codes([config("triton", "deploy/a/config.pbtxt", triton(**int32)),
                   config("triton", "deploy/b/config.pbtxt", triton(**int32)),
                   config("onnx", "export/model.onnx", graph())]) == []
    assert _codes([config("triton", TRITON, triton(**int32))]) == []


def test_names_are_compared_only_where_both_files_list_them() -> None:
    # a config that lists no inputs (Triton completes them from the model) still has its outputs checked
    t = _without(triton(**{"io.outputs": ["scores"], "io.outputs.scores.dtype": "float32",
                           "triton.outputs.scores.dims": [2]}), "io.inputs")
    assert [(f.rule, f.key) for f in run([config("triton", TRITON, t), config("onnx", GRAPH, graph())])
            if f.rule == "DG210"] == [("DG210", "io.outputs")]
    # a graph kind that states no inputs: nothing to compare the config's with
    g = _without(graph(), "io.inputs")
    assert [f for f in run([config("triton", TRITON, triton()), config("onnx", GRAPH, g)]) if f.rule == "DG210"] == []


def test_a_negative_max_batch_size_is_read_as_the_backend_reads_it() -> None:
    # Triton core refuses one at load ('max_batch_size' must be non-negative, core src/model_config_utils.cc
    # ValidateModelConfig); the ONNX Runtime backend's own test is max_batch_size > 0 (supports_batching in
    # CompareDimsSupported), so no batch dimension and no DG212
    assert _logits(-1, [1, 2], [1, 2]) == []
    assert _logits(-1, [2], [-1, 2]) == [
        "DG213 output 'logits': config.pbtxt gives the model shape [2] (max_batch_size -1) but the ONNX graph "
        "model.onnx expects [-1, 2] (the graph has a batch dimension: set max_batch_size > 0, or declare it in "
        "dims)"]
    for plural, name in (("inputs", "input_ids"), ("outputs", "logits")):
        for dims, shape in itertools.product(GRID_DIMS, GRID_SHAPES):
            t = triton(**{"batching.max_batch_size": -1, f"triton.{plural}.{name}.dims": dims})
            g = graph(**{f"io.{plural}.{name}.shape": shape})
            found = [f.rule for f in run([config("triton", TRITON, t), config("onnx", GRAPH, g)])
                     if f.key == f"io.{plural}.{name}.shape"]
            assert bool(found) != backend_loads(plural, -1, dims, shape), (plural, dims, shape, found)


@pytest.mark.parametrize(("mbs", "dims", "shape", "hint"), [
    (0, [4, 2], [-1, 4, 2], " (the graph has a batch dimension: set max_batch_size > 0, or declare it in dims)"),
    (8, [4, 2], [2], ""),  # two dimensions short: no hint
    (8, [2], [-1, 7, 2], ""),  # one more dimension while batching: no hint
])
def test_the_rank_hints_need_a_rank_off_by_exactly_the_batch_dimension(mbs: int, dims: list[int],
                                                                       shape: list[int], hint: str) -> None:
    found = _logits(mbs, dims, shape)
    assert len(found) == 1 and found[0].startswith("DG213 ") and found[0].endswith(f"expects {shape}{hint}"), found


def test_a_rank_past_the_interpreters_small_ints_is_compared_by_value() -> None:
    # ONNX and Triton set no rank limit; CPython caches ints up to 256 only
    assert _logits(8, [2] * 300, [-1] + [2] * 300) == []
    assert _logits(8, [2] * 300, [2] * 300)[0].endswith(
        " (the graph has no batch dimension: set max_batch_size: 0, or export one)")
    assert _logits(0, [2] * 300, [-1] + [2] * 300)[0].endswith(
        " (the graph has a batch dimension: set max_batch_size > 0, or declare it in dims)")
    assert [f.split(" ")[0] for f in _logits(8, [2] * 300, [1] + [2] * 300)] == ["DG212"]


def test_a_longer_graph_shape_is_one_finding_dg213s() -> None:
    # the backend refuses it (CompareDimsSupported); DG212 leaves every rank mismatch to DG213
    assert [f.split(" ")[0] for f in _logits(8, [2], [1, 7, 2])] == ["DG213"]


def test_each_pair_and_each_tensor_is_checked_after_one_that_is_skipped() -> None:
    fixed_batch = {"io.outputs.logits.shape": [1, 2]}
    a = config("triton", "repo/a/config.pbtxt", triton(**{"batching.max_batch_size": 0,
                                                         "triton.outputs.logits.dims": [1, 2],
                                                         "triton.inputs.input_ids.dims": [-1, -1],
                                                         "triton.inputs.attention_mask.dims": [-1, -1]}))
    b = config("triton", "repo/b/config.pbtxt", triton())
    ga, gb = config("onnx", "repo/a/1/model.onnx", graph(**fixed_batch)), config("onnx", "repo/b/1/model.onnx",
                                                                              graph(**fixed_batch))
    assert _codes([a, b, ga, gb]) == [("DG212", "repo/b/config.pbtxt")]
    # attention_mask (checked first) has a rank DG212 leaves to DG213, or no shape at all; logits is still checked
    for over in ({"io.inputs.attention_mask.shape": [-1, -1, -1]}, {"io.inputs.attention_mask.shape": None}):
        g = graph(**over, **fixed_batch)
        if over["io.inputs.attention_mask.shape"] is None:
            g = _without(g, "io.inputs.attention_mask.shape")
        found = [(f.rule, f.key) for f in run([config("triton", TRITON, triton()), config("onnx", GRAPH, g)])]
        assert ("DG212", "io.outputs.logits.shape") in found, (over, found)
    g = _without(graph(**{"io.outputs.logits.shape": [-1, 3]}), "io.inputs.attention_mask.shape")
    assert [f.key for f in run([config("triton", TRITON, triton()), config("onnx", GRAPH, g)])] == [
        "io.outputs.logits.shape"]


def test_backend_and_precision_check_every_pair() -> None:
    def two(a: dict[str, Any], b: dict[str, Any], gb: dict[str, Any] | None = None) -> list[tuple[str, str]]:
        return _codes([config("triton", "repo/a/config.pbtxt", triton(**a)),
                       config("triton", "repo/b/config.pbtxt", triton(**b)),
                       config("onnx", "repo/a/1/model.onnx", graph()),
                       config("onnx", "repo/b/1/model.onnx", graph(**(gb or {})))])

    assert two({}, {"serving.backend": "tensorrt"}) == [("DG214", "repo/b/config.pbtxt")]
    assert two({}, {"precision.compute": "int8"}) == [("DG215", "repo/b/config.pbtxt")]  # a states none
    assert two({"precision.compute": "float32"}, {"precision.compute": "int8"}) == [
        ("DG215", "repo/b/config.pbtxt")]


def test_the_backend_finding_points_at_the_graphs_ir_version() -> None:
    g = graph()
    g = {**_without(g, "onnx.ir_version"), "onnx.ir_version": 8}  # not the graph's first value
    found = [f for f in run([config("triton", TRITON, triton(**{"serving.backend": "tensorrt"})),
                             config("onnx", GRAPH, g)]) if f.rule == "DG214"]
    assert [(v.origin.path, v.origin.pointer) for v in found[0].related] == [(TRITON, None), (GRAPH, "onnx.ir_version")]


def test_int8_on_a_dynamically_quantized_graph_is_no_missing_quantization() -> None:
    # the ONNX extractor's "dynamic": ONNX Runtime's dynamic quantization ops (DynamicQuantizeLinear, ...)
    found = run([config("triton", TRITON, triton(**{"precision.compute": "int8"})),
                 config("onnx", GRAPH, graph(**{"precision.quantization": "dynamic"}))])
    assert [f for f in found if f.rule == "DG215"] == []


def test_the_tokenizer_rules_relate_the_two_sides() -> None:
    # rules.base.Rule.pairwise: true for the rules that relate what the two sides state (DG216, DG217 here), so
    # `driftguard diff` runs them
    assert [r.code for r in CONSISTENCY_IO_RULES if r.pairwise] == ["DG216", "DG217"]


def test_a_tokenizer_that_names_no_tensors_is_not_compared() -> None:
    tok = config("hf-tokenizer", TOKENIZER, {"preprocessing.model_input_names": []})
    g = graph(**{"io.inputs": ["input_ids", "attention_mask", "token_type_ids"]})
    assert [f for f in run([config("onnx", GRAPH, g)], [tok]) if f.rule == "DG216"] == []


def test_a_tensor_the_tokenizer_produces_and_the_graph_lacks_is_a_warning() -> None:
    tok = config("hf-tokenizer", TOKENIZER, {"preprocessing.model_input_names": [
        "input_ids", "token_type_ids", "attention_mask"]})
    found = run([config("onnx", GRAPH, graph())], [tok])
    assert [(f.rule, str(f.severity), f.message) for f in found] == [
        ("DG216", "warning", "the training tokenizer produces 'token_type_ids' but the ONNX graph model.onnx has "
                             "no such input")]


def test_the_tokenizer_rules_read_graphs_only_and_every_graph() -> None:
    """A Triton config states its inputs and (as the extractor writes it) their shapes, and the deployment may
    ship a tokenizer too: neither is a graph. Two graphs are each checked, after one that is skipped."""
    t = triton(**{"io.inputs": ["attention_mask", "input_ids", "token_type_ids"], "triton.inputs.input_ids.dims": [128],
                  "io.inputs.input_ids.shape": [-1, 128], "io.inputs.token_type_ids.dtype": "int64",
                  "triton.inputs.token_type_ids.dims": [-1]})
    g = graph(**{"io.inputs": ["input_ids", "attention_mask", "token_type_ids"], "io.inputs.input_ids.shape": [-1, 128],
                 "io.inputs.token_type_ids.dtype": "int64", "io.inputs.token_type_ids.shape": [-1, -1]})
    shipped = config("hf-tokenizer", "repo/bert/tokenizer_config.json", {"preprocessing.max_length": 128})
    tok = config("hf-tokenizer", TOKENIZER, {**TOK_NAMES, "preprocessing.max_length": 512})
    found = _codes([config("triton", TRITON, t), config("onnx", GRAPH, g), shipped], [tok])
    assert found == [("DG216", GRAPH), ("DG217", GRAPH)]
    # two graphs: the first has no inputs listed, all dynamic or exactly the tokenizer's length; the second is checked
    second = config("onnx", "repo/b/1/model.onnx", g)
    for first in (_without(graph(), "io.inputs"), graph(), graph(**{"io.inputs.input_ids.shape": [-1, 512]})):
        found = _codes([config("onnx", "repo/a/1/model.onnx", first), second], [tok])
        assert found == [("DG216", "repo/b/1/model.onnx"), ("DG217", "repo/b/1/model.onnx")], first


def test_a_max_length_above_transformers_large_integer_is_no_truncation() -> None:
    # transformers tokenization_utils_base.py _get_padding_truncation_strategies: a model_max_length above
    # LARGE_INTEGER = int(1e20) means no truncation (and no padding to it)
    assert _dg217(2 * 10**30, {"input_ids": [-1, 128]}) == []
