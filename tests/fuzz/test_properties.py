"""Hostile input, as properties: a mutated seed file either extracts (or checks) or raises DriftguardError.

One property per extractor kind (``hf-model`` folders included), the manifest loader, the approvals loader and
``check`` over a mutated artifact (side merging and the rules). Seeds are the real files under
``tests/fixtures`` and ``examples/`` and, for the binary kinds, tiny artifacts built here (``torch.save``
zip and legacy files, ``onnx.helper`` models, ``safetensors.numpy``). Mutations are byte edits (flip, insert,
delete, duplicate, truncate, interesting tokens such as ``9`` * 5000 or ``[`` * 900), structural edits of JSON
and YAML (a value or key replaced, then re-serialized) and archive edits of zip checkpoints (``data.pkl``
mutated, entries duplicated, dropped or reordered). Derandomized: the same examples every run. The long runs
are ``benchmarks/fuzz.py``; this keeps the property in the suite, in seconds.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import datetime
import io
import json
import pickle
import shutil
import struct
import sys
import warnings
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from driftguard import api
from driftguard.errors import DriftguardError
from driftguard.readers.limits import Limits

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures"
SUMMARIZER = ROOT / "examples" / "summarizer"
TODAY = datetime.date(2026, 12, 1)

EXAMPLES = settings(derandomize=True, database=None, max_examples=30, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                           HealthCheck.data_too_large])

INTERESTING_BYTES = [
    b"9" * 5000, b"9" * 350, b"[" * 900, b"{" * 900, b'{"a":' * 900, b"- " * 300, b"\x00", b"\x01\x1b\x7f", b"\r",
    b"\xff\xfe",
    b"\xc3\x28", b"\xed\xa0\x80", b"\xef\xbb\xbf", b"NaN", b"-Infinity", b"1e309", b"18446744073709551616",
    b"&a [*a, *a]", b"*nope", b"!!python/object/apply:os.system ['true']", b"<<: *a", b"\n---\n", b"${x}", b"#NAME",
    b"\\ud800", b'"', b"'", b"[section]\n", b"=", b":", b"\xe2\x80\xa8",
]
INTERESTING_VALUES: list[Any] = [
    None, True, False, 0, -1, 2**63, 2**64, -(2**63) - 1, int("9" * 500), 10**350, 1e308, float("inf"), float("nan"),
    -0.0, 5e-324, "", "0", "true", "fp16", "float32", "x" * 5000, "\x00", "${x}", [], {}, [None], {"": None},
    list(range(100)),
]
VOCAB = ["temperature", "top_p", "top_k", "max_new_tokens", "max_tokens", "do_sample", "num_beams",
         "eos_token_id", "model_max_length", "padding_side", "max_length", "torch_dtype", "quantization_config",
         "architectures", "vocab_size", "num_labels", "parameters", "messages", "model", "stop", "version",
         "models", "training", "deployment", "path", "kind", "set", "rules", "tolerances", "severity", "limits",
         "approvals", "approvers", "approval_policy", "id", "key", "deployed", "reason", "expires", "approved_on",
         "allow_wildcard", "rule"]


def _deep(value: Any, depth: int) -> Any:
    for _ in range(depth):
        value = [value]
    return value


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20)
    | st.sampled_from(INTERESTING_VALUES),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.sampled_from(VOCAB) | st.text(max_size=8), inner,
                                                                 max_size=4),
    max_leaves=12,
) | st.builds(_deep, st.sampled_from([None, 1, "a", {}]), st.sampled_from([70, 200, 900]))


# ---------------------------------------------------------------------------------------------------------
# mutations as strategies
# ---------------------------------------------------------------------------------------------------------

@st.composite
def byte_edits(draw: st.DrawFn, data: bytes) -> bytes:
    buf = bytearray(data)
    for op, where, payload in draw(st.lists(st.tuples(
            st.integers(0, 6), st.floats(0, 1), st.sampled_from(INTERESTING_BYTES) | st.binary(min_size=1, max_size=8)),
            min_size=1, max_size=3)):
        pos = int(where * len(buf))
        if op == 0 and buf:
            buf[min(pos, len(buf) - 1)] ^= payload[0] | 1
        elif op == 1:
            buf[pos:pos] = payload
        elif op == 2:
            del buf[pos:pos + len(payload) * 8]
        elif op == 3:
            buf[pos:pos] = buf[pos:pos + 64] * 10
        elif op == 4:
            del buf[pos:]
        else:
            buf[pos:pos] = draw(st.sampled_from(INTERESTING_BYTES))
    return bytes(buf)


def _paths(doc: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(doc, dict):
        for k, v in doc.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            out += _paths(v, (*prefix, i))
    return out


@st.composite
def tree_edits(draw: st.DrawFn, doc: Any) -> Any:
    """A copy of a parsed document with one node replaced, dropped or renamed."""
    doc = copy.deepcopy(doc)
    path = draw(st.sampled_from(_paths(doc)))
    value = draw(json_values)
    if not path:
        return value
    parent = doc
    for step in path[:-1]:
        parent = parent[step]
    last = path[-1]
    op = draw(st.integers(0, 3))
    if op == 0:
        del parent[last]
    elif op == 1 and isinstance(parent, dict):
        parent[draw(st.sampled_from(VOCAB) | st.text(max_size=6))] = parent.pop(last)
    else:
        parent[last] = value
    return doc


@st.composite
def text_mutation(draw: st.DrawFn, name: str, data: bytes) -> bytes:
    if name.endswith((".json", ".yaml", ".yml")) and draw(st.booleans()):
        try:
            doc = json.loads(data) if name.endswith(".json") else yaml.safe_load(data)
        except (ValueError, yaml.YAMLError):
            doc = None
        if isinstance(doc, (dict, list)):
            new = draw(tree_edits(doc))
            try:
                if name.endswith(".json"):
                    return json.dumps(new).encode()
                return yaml.safe_dump(new, sort_keys=False, allow_unicode=True).encode("utf-8", "surrogatepass")
            except (ValueError, TypeError, RecursionError, yaml.YAMLError):
                pass
    return draw(byte_edits(data))


@st.composite
def zip_mutation(draw: st.DrawFn, data: bytes) -> bytes:
    if not data.startswith(b"PK"):
        return draw(byte_edits(data))
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        entries = [(i.filename, zf.read(i)) for i in zf.infolist()]
    op = draw(st.integers(0, 4))
    if op <= 1:
        i = next(i for i, (n, _) in enumerate(entries) if n.endswith("data.pkl"))
        entries[i] = (entries[i][0], draw(byte_edits(entries[i][1])))
    elif op == 2:
        entries.append(entries[draw(st.integers(0, len(entries) - 1))])
    elif op == 3:
        del entries[draw(st.integers(0, len(entries) - 1))]
    else:
        entries = draw(st.permutations(entries))
    out = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # duplicate names on purpose
        with zipfile.ZipFile(out, "w") as zf:
            for name, payload in entries:
                zf.writestr(name, payload)
    return out.getvalue()


@st.composite
def safetensors_mutation(draw: st.DrawFn, data: bytes) -> bytes:
    n = struct.unpack("<Q", data[:8])[0]
    header, body = data[8:8 + n], data[8 + n:]
    op = draw(st.integers(0, 2))
    if op == 0:
        new = json.dumps(draw(tree_edits(json.loads(header)))).encode()
        return struct.pack("<Q", len(new)) + new + body
    if op == 1:
        lie = draw(st.sampled_from([0, 1, n - 1, n + 1, 2**63, 2**64 - 1, 64 * 2**20]))
        return struct.pack("<Q", lie) + data[8:]
    return draw(byte_edits(data))


@st.composite
def gguf_mutation(draw: st.DrawFn, data: bytes) -> bytes:
    """A count, length or type of the header replaced by a lie (any 4 or 8 bytes past the magic), or byte edits."""
    if draw(st.booleans()):
        return draw(byte_edits(data))
    at = draw(st.integers(4, max(4, len(data) - 8)))
    lie = draw(st.sampled_from([0, 1, 9, 13, 2**31, 2**32 - 1, 2**62, 2**64 - 1, len(data), 64 * 2**20]))
    width = 4 if lie < 2**32 and draw(st.booleans()) else 8
    return data[:at] + lie.to_bytes(width, "little") + data[at + width:]


# ---------------------------------------------------------------------------------------------------------
# seeds
# ---------------------------------------------------------------------------------------------------------

def _files(*patterns: str) -> list[Path]:
    found = [p for pattern in patterns for p in sorted(ROOT.glob(pattern)) if p.is_file()]
    assert found, patterns
    return found


TEXT_SEEDS: dict[str, list[Path]] = {
    "triton": _files("tests/fixtures/triton/*/*", "examples/*/**/config.pbtxt"),
    "hf-generation": _files("tests/fixtures/hf-generation/*/**/*.json", "examples/*/training/generation_config.json"),
    "hf-config": _files("tests/fixtures/hf-config/*/**/*.json", "examples/*/training/config.json"),
    "hf-tokenizer": _files("tests/fixtures/hf-tokenizer/*/**/*.json", "examples/*/training/tokenizer_config.json"),
    "vllm": _files("tests/fixtures/vllm/*/**/*", "examples/summarizer/deployment/*.yaml",
                   "examples/summarizer/deployment/**/model.json"),
    "tgi": _files("tests/fixtures/tgi/*/*"),
    "openai": _files("tests/fixtures/openai/*/*"),
    "tensorrt-llm": _files("tests/fixtures/tensorrt-llm/*/*"),
    "lmdeploy": _files("tests/fixtures/lmdeploy/*/*"),
    "ollama": _files("tests/corpus/local/*.Modelfile"),
    "shell": _files("tests/fixtures/shell/*/*"),
    "llamafactory": _files("tests/corpus/finetune/hiyouga__*", "tests/corpus/finetune/QwenLM__*"),
    "axolotl": _files("tests/corpus/finetune/axolotl-ai-cloud__*", "tests/corpus/finetune/modal-labs__*"),
    "glm-finetune": _files("tests/corpus/finetune/THUDM__*"),
    "genai": _files("tests/fixtures/genai/good/*", "tests/corpus/runtime-configs/*genai_config.json"),
    "tensorrt-llm-engine": _files("tests/fixtures/tensorrt-llm-engine/good/*/config.json"),
    "hf-preprocessor": _files("tests/fixtures/hf-preprocessor/good/*",
                              "tests/corpus/runtime-configs/*preprocessor_config.json"),
    "dockerfile": _files("tests/corpus/manifests/*Dockerfile*"),
    "compose": _files("tests/corpus/manifests/*compose.yaml"),
    "kubernetes": _files("tests/corpus/manifests/GoogleCloudPlatform__*", "tests/corpus/manifests/kserve__*",
                         "tests/corpus/manifests/JanetVictorious__*", "tests/corpus/manifests/meta-llama__*"),
    "snapshot": _files("tests/fixtures/snapshot/*.snapshot.json"),
    "python": _files("tests/fixtures/python/*/*.py", "tests/corpus/python/*.py", "tests/corpus/python-args/*.py"),
}


def _torch_seeds(folder: Path) -> dict[str, list[Path]]:
    torch = pytest.importorskip("torch")
    model = torch.nn.Sequential(torch.nn.Embedding(10, 4), torch.nn.Linear(4, 2))
    sd = model.state_dict()
    seeds: dict[str, list[Path]] = {"torch": [], "lightning": [], "training-args": []}

    def save(kind: str, name: str, obj: Any, legacy: bool = False) -> None:
        path = folder / kind / name
        path.parent.mkdir(parents=True, exist_ok=True)
        torch.save(obj, path, _use_new_zipfile_serialization=not legacy)
        seeds[kind].append(path)

    ckpt = {"model_state_dict": sd, "epoch": 2, "config": {"max_length": 128, "num_labels": 2},
            "args": argparse.Namespace(lr=1e-3, fp16=True)}
    save("torch", "model.pt", sd)
    save("torch", "legacy.pt", ckpt, legacy=True)
    save("torch", "ckpt.pth", ckpt)
    lightning = {"epoch": 1, "global_step": 10, "pytorch-lightning_version": "2.4.0",
                 "state_dict": {f"model.{k}": v.half() for k, v in sd.items()}, "hparams_name": "kwargs",
                 "hyper_parameters": {"num_labels": 2, "precision": "bf16-mixed", "max_length": 64},
                 "datamodule_hyper_parameters": {"max_length": 64}, "optimizer_states": [], "lr_schedulers": []}
    save("lightning", "model.ckpt", lightning)
    save("lightning", "legacy.ckpt", lightning, legacy=True)
    args = argparse.Namespace(learning_rate=1e-3, max_seq_length=256, fp16=True, seed=1, output_dir="out")
    save("training-args", "training_args.bin", args)
    (folder / "training-args" / "legacy").mkdir()
    save("training-args", "legacy/training_args.bin", args, legacy=True)
    return seeds


def _onnx_seeds(folder: Path) -> list[Path]:
    pytest.importorskip("onnx")
    import numpy as np
    from onnx import TensorProto, helper, numpy_helper, save

    w = numpy_helper.from_array(np.ones((4, 2), dtype=np.float32), "W")
    graph = helper.make_graph([helper.make_node("MatMul", ["x", "W"], ["y"])], "g",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 4])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 2])], [w])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    helper.set_model_props(model, {"max_length": "128"})
    then_g = helper.make_graph([helper.make_node("Identity", ["x"], ["t"])], "then", [],
                               [helper.make_tensor_value_info("t", TensorProto.FLOAT, [4])])
    branchy = helper.make_graph([helper.make_node("If", ["c"], ["o"], then_branch=then_g, else_branch=then_g)],
                                "if", [helper.make_tensor_value_info("c", TensorProto.BOOL, [])],
                                [helper.make_tensor_value_info("o", TensorProto.FLOAT, [4])])
    out = []
    for name, m in (("model.onnx", model), ("if.onnx", helper.make_model(branchy))):
        save(m, str(folder / name))
        out.append(folder / name)
    return out


def _safetensors_seeds(folder: Path) -> list[Path]:
    pytest.importorskip("safetensors")
    import numpy as np
    from safetensors.numpy import save_file

    path = folder / "model.safetensors"
    save_file({"w": np.ones((4, 2), dtype=np.float32), "b": np.zeros(2, dtype=np.float16)}, str(path),
              metadata={"format": "pt"})
    return [path]


def _gguf_seeds(folder: Path) -> list[Path]:
    pytest.importorskip("gguf")
    import gguf
    import numpy as np

    path = folder / "model.gguf"
    w = gguf.GGUFWriter(str(path), "llama")
    w.add_context_length(4096)
    w.add_file_type(gguf.LlamaFileType.MOSTLY_F16)
    w.add_token_list(["<s>", "</s>", "a", "b"])
    w.add_token_scores([0.0, 0.0, -1.0, -2.0])
    w.add_array("nested", [[1, 2], [3]])
    w.add_eos_token_id(1)
    w.add_add_bos_token(True)
    w.add_chat_template("{{ messages }}")
    w.add_tensor("w", np.zeros((4, 2), dtype=np.float16))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return [path]


@pytest.fixture(scope="module")
def binary_seeds(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], list[Path]]:
    folder = tmp_path_factory.mktemp("seeds")
    cache: dict[str, list[Path]] = {}

    def get(kind: str) -> list[Path]:
        if kind not in cache:
            if kind in ("torch", "lightning", "training-args"):
                cache.update(_torch_seeds(folder / "torch"))
            elif kind == "onnx":
                (folder / "onnx").mkdir()
                cache["onnx"] = _onnx_seeds(folder / "onnx")
            elif kind == "gguf":
                (folder / "gguf").mkdir()
                cache["gguf"] = _gguf_seeds(folder / "gguf")
            else:
                (folder / "st").mkdir()
                cache["safetensors"] = _safetensors_seeds(folder / "st")
        return cache[kind]

    return get


def _only_driftguard_errors(call: Callable[[], object]) -> None:
    """The property: the call returns, or raises a DriftguardError (exit 2); anything else is a bug (exit 3)."""
    with contextlib.suppress(DriftguardError):
        call()


# ---------------------------------------------------------------------------------------------------------
# properties
# ---------------------------------------------------------------------------------------------------------

@pytest.mark.slow
@pytest.mark.parametrize("kind", sorted(TEXT_SEEDS))
@EXAMPLES
@given(data=st.data())
def test_mutated_text_artifact_extracts_or_is_an_input_error(kind: str, data: st.DataObject,
                                                              tmp_path_factory: pytest.TempPathFactory) -> None:
    seed = data.draw(st.sampled_from(TEXT_SEEDS[kind]), label="seed")
    mutated = data.draw(text_mutation(seed.name, seed.read_bytes()))
    folder = tmp_path_factory.mktemp(kind)
    path = folder / seed.name
    path.write_bytes(mutated)
    _only_driftguard_errors(lambda: api.extract(path, kind=kind))


@pytest.mark.parametrize("kind", ["torch", "lightning", "training-args", "onnx", "safetensors", "gguf"])
@EXAMPLES
@given(data=st.data())
def test_mutated_binary_artifact_extracts_or_is_an_input_error(kind: str, data: st.DataObject,
                                                                binary_seeds: Callable[[str], list[Path]],
                                                                tmp_path_factory: pytest.TempPathFactory) -> None:
    seed = data.draw(st.sampled_from(binary_seeds(kind)), label="seed")
    raw = seed.read_bytes()
    if kind == "safetensors":
        mutated = data.draw(safetensors_mutation(raw))
    elif kind == "gguf":
        mutated = data.draw(gguf_mutation(raw))
    elif kind == "onnx":
        mutated = data.draw(byte_edits(raw))
    else:
        mutated = data.draw(zip_mutation(raw))
    path = tmp_path_factory.mktemp(kind) / seed.name
    path.write_bytes(mutated)
    _only_driftguard_errors(lambda: api.extract(path, kind=kind))


def _summarizer_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("summarizer") / "summarizer"
    shutil.copytree(SUMMARIZER, folder)
    return folder


@EXAMPLES
@given(data=st.data())
def test_mutated_manifest_checks_or_is_an_input_error(data: st.DataObject,
                                                      tmp_path_factory: pytest.TempPathFactory) -> None:
    folder = _summarizer_copy(tmp_path_factory)
    manifest = folder / "driftguard.yaml"
    manifest.write_bytes(data.draw(text_mutation("driftguard.yaml", manifest.read_bytes())))
    _only_driftguard_errors(lambda: api.check(manifest, today=TODAY))


ARTIFACTS = sorted(str(p.relative_to(SUMMARIZER)) for p in SUMMARIZER.rglob("*")
                   if p.is_file() and p.name != "driftguard.yaml" and p.parent.name != "approvals")


@EXAMPLES
@given(data=st.data())
def test_mutated_artifact_of_a_manifest_checks_or_is_an_input_error(data: st.DataObject,
                                                                   tmp_path_factory: pytest.TempPathFactory) -> None:
    """Side merging and every rule (DG2xx across files included) over mutated values: never a RuleCrashed."""
    folder = _summarizer_copy(tmp_path_factory)
    artifact = folder / data.draw(st.sampled_from(ARTIFACTS), label="artifact")
    artifact.write_bytes(data.draw(text_mutation(artifact.name, artifact.read_bytes())))
    _only_driftguard_errors(lambda: api.check(folder / "driftguard.yaml", today=TODAY))


HF_MODEL_FOLDERS = sorted(p for p in (FIXTURES / "hf-model" / "good").iterdir() if p.is_dir())


@EXAMPLES
@given(data=st.data())
def test_mutated_hf_model_folder_extracts_or_is_an_input_error(data: st.DataObject,
                                                               tmp_path_factory: pytest.TempPathFactory) -> None:
    seed = data.draw(st.sampled_from([*HF_MODEL_FOLDERS, SUMMARIZER / "training"]), label="folder")
    folder = tmp_path_factory.mktemp("hf-model") / seed.name
    shutil.copytree(seed, folder)
    victim = folder / data.draw(st.sampled_from(sorted(p.name for p in folder.iterdir())), label="file")
    victim.write_bytes(data.draw(text_mutation(victim.name, victim.read_bytes())))
    _only_driftguard_errors(lambda: api.extract(folder, kind="hf-model"))


APPROVAL_SEEDS = [
    *sorted((SUMMARIZER / "approvals").glob("*.yaml")),
    ROOT / "examples" / "text-classifier" / "approvals" / "text-classifier-int8.yaml",
]


@EXAMPLES
@given(data=st.data())
def test_mutated_approval_checks_or_is_an_input_error(data: st.DataObject,
                                                      tmp_path_factory: pytest.TempPathFactory) -> None:
    folder = _summarizer_copy(tmp_path_factory)
    seed = data.draw(st.sampled_from(APPROVAL_SEEDS), label="seed")
    mutated = data.draw(text_mutation(seed.name, seed.read_bytes()))
    (folder / "approvals" / f"fuzz-{seed.name}").write_bytes(mutated)
    if data.draw(st.booleans(), label="duplicate"):  # the same approval twice: duplicate ids, conflicting pins
        (folder / "approvals" / "fuzz-copy.yaml").write_bytes(mutated)
    _only_driftguard_errors(lambda: api.check(folder / "driftguard.yaml", today=TODAY))


# ---------------------------------------------------------------------------------------------------------
# what the fuzzing found, each fixed: one reproducer each, asserting the one-line input error (exit 2), so a
# regression fails here (no xfail: a crash must never pass as a known bug)
# ---------------------------------------------------------------------------------------------------------

def _manifest(folder: Path, training_path: str, extra: str = "") -> Path:
    (folder / "training").mkdir()
    shutil.copy(SUMMARIZER / "training" / "generation_config.json", folder / "training")
    manifest = folder / "driftguard.yaml"
    manifest.write_text(f"version: 1\nmodels:\n  m:\n    training:\n      - path: {training_path}\n"
                        f"    deployment:\n      - path: training/generation_config.json\n{extra}")
    return manifest


#: Once OSError ENAMETOOLONG or ValueError 'embedded null byte' from pathlib (detect, extract, confine,
#: approvals/store.load_dir, manifest.load).
FOUND = {
    "artifact-path-too-long": ("training/" + "9" * 300 + ".json", ""),
    "artifact-path-nul": ('"training/\\0x.json"', ""),
    "approvals-folder-too-long": ("training/generation_config.json", "approvals: " + "a" * 300 + "\n"),
    "approvals-folder-nul": ("training/generation_config.json", 'approvals: "appr\\0"\n'),
}


@pytest.mark.parametrize("case", sorted(FOUND))
def test_fuzz_found_path_is_an_input_error(case: str, tmp_path: Path) -> None:
    training_path, extra = FOUND[case]
    with pytest.raises(DriftguardError):
        api.check(_manifest(tmp_path, training_path, extra), today=TODAY)


def test_fuzz_found_artifact_name_too_long_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(DriftguardError):  # once OSError ENAMETOOLONG from Path.exists() in extractors.extract
        api.extract(tmp_path / ("x" * 300 + ".json"), kind="vllm")


@pytest.mark.parametrize("kind", ["lightning", "torch"])
def test_fuzz_found_deep_pickle_with_raised_depth_is_an_input_error(kind: str, tmp_path: Path) -> None:
    """A user raising --limit depth past the interpreter's stack: the read must still end in one line (once a
    RecursionError in extractors/checkpoint_common.to_plain)."""
    deep: Any = 0
    for _ in range(2000):
        deep = [deep]
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(10_000)
    try:
        data = pickle.dumps({"hyper_parameters": {"x": deep}, "state_dict": {}}, protocol=2)
    finally:
        sys.setrecursionlimit(old)
    path = tmp_path / "deep.ckpt"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("archive/data.pkl", data)
        zf.writestr("archive/version", "3\n")
        zf.writestr("archive/byteorder", "little")
    with pytest.raises(DriftguardError):
        api.extract(path, kind=kind, limits=Limits(depth=1_000_000, objects=10**8))


def test_fuzz_found_huge_int_pin_against_a_float_is_not_a_crash(tmp_path: Path) -> None:
    """An approval pinning a 350-digit integer where the finding has a float (once OverflowError from float(int)
    in compare.values_equal): the pin does not match, so the finding stays unapproved: a failing check, no crash."""
    folder = tmp_path / "summarizer"
    shutil.copytree(SUMMARIZER, folder)
    approval = folder / "approvals" / "summarizer-top-p.yaml"
    approval.write_text(approval.read_text().replace("training: 0.92", "training: " + "9" * 350))
    report = api.check(folder / "driftguard.yaml", today=TODAY)
    assert not report.ok
    assert any(f.key == "generation.top_p" and f.status.value == "unapproved" for f in report.findings)


def test_fuzz_found_huge_int_against_a_float_diffs(tmp_path: Path) -> None:
    (tmp_path / "generation_config.json").write_text('{"temperature": ' + "9" * 350 + "}")
    (tmp_path / "request.json").write_text('{"temperature": 0.5}')
    result = api.diff(f"hf-generation:{tmp_path / 'generation_config.json'}", f"vllm:{tmp_path / 'request.json'}")
    # transformers' default is greedy, vLLM samples at 0.5: one finding on the decoding mode (DG104)
    assert any(f.key in ("generation.temperature", "generation.decoding") for f in result.findings)


BIG = "9" * 350  # within int_digits (400), past float range


@pytest.mark.parametrize(("kind", "text"), [
    ("vllm", f'{{"temperature": {BIG}}}'),
    ("tgi", f'{{"inputs": "x", "parameters": {{"temperature": {BIG}}}}}'),
    ("openai", f'{{"model": "m", "messages": [], "temperature": {BIG}}}'),
    ("tensorrt-llm", f'{{"temperature": {BIG}}}'),
    ("lmdeploy", f"[request]\ntemperature={BIG}\n"),
])
def test_fuzz_found_runtime_float_field_with_a_huge_int_is_an_input_error(kind: str, text: str,
                                                                         tmp_path: Path) -> None:
    path = tmp_path / ("request.ini" if kind == "lmdeploy" else "request.json")
    path.write_text(text)
    with pytest.raises(DriftguardError):  # once OverflowError from float(int) in runtime_common.number
        api.extract(path, kind=kind)


@pytest.mark.parametrize(("artifact", "old", "new"), [
    ("deployment/sampling-params.yaml", "max_tokens: 256", f"max_tokens: {BIG}"),  # DG303
    ("training/tokenizer_config.json", '"model_max_length": 1024', f'"model_max_length": {BIG}'),  # DG303
    ("deployment/sampling-params.yaml", "top_k: 40", f"top_k: {BIG}"),  # DG302
])
def test_fuzz_found_policy_rules_with_a_huge_int_do_not_crash(artifact: str, old: str, new: str,
                                                              tmp_path: Path) -> None:
    """Once DG302/DG303 crashed (RuleCrashed, exit 3) on OverflowError from float(int): now a verdict or an input
    error, never an internal error."""
    folder = tmp_path / "summarizer"
    shutil.copytree(SUMMARIZER, folder)
    path = folder / artifact
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))
    _only_driftguard_errors(lambda: api.check(folder / "driftguard.yaml", today=TODAY))


def test_fuzz_found_added_token_id_past_python_digit_limit_is_not_a_crash(tmp_path: Path) -> None:
    path = tmp_path / "tokenizer_config.json"
    path.write_text(json.dumps({"added_tokens_decoder": {"9" * 5000: {"content": "x"}}}))
    # once ValueError from int(key) past sys.get_int_max_str_digits(): now kept as written, or an input error
    _only_driftguard_errors(lambda: api.extract(path, kind="hf-tokenizer"))


def test_fuzz_found_file_bytes_limit_past_ssize_t_is_an_input_error(tmp_path: Path) -> None:
    folder = tmp_path / "summarizer"
    shutil.copytree(SUMMARIZER, folder)
    manifest = folder / "driftguard.yaml"
    manifest.write_text(manifest.read_text() + "limits: {file_bytes: 18446744073709551616}\n")
    with pytest.raises(DriftguardError):  # once OverflowError from fh.read(allowed + 1) in readers/files
        api.check(manifest, today=TODAY)


def test_fuzz_found_vllm_model_folder_name_too_long_is_an_input_error(tmp_path: Path) -> None:
    path = tmp_path / "serve-args.json"  # vllm serve reads the model folder's generation_config.json
    path.write_text(json.dumps({"model": "9" * 300}))
    _only_driftguard_errors(lambda: api.extract(path, kind="vllm"))  # once OSError ENAMETOOLONG from is_dir()


def test_fuzz_found_onnx_external_location_too_long_is_an_input_error(tmp_path: Path) -> None:
    pytest.importorskip("onnx")
    import numpy as np
    from onnx import TensorProto, helper, numpy_helper, save

    ext = numpy_helper.from_array(np.ones((2, 2), dtype=np.float32), "E")
    ext.ClearField("raw_data")
    ext.data_location = TensorProto.EXTERNAL
    for key, value in (("location", "9" * 300), ("offset", "0"), ("length", "16")):
        entry = ext.external_data.add()
        entry.key, entry.value = key, value
    graph = helper.make_graph([helper.make_node("Add", ["x", "E"], ["y"])], "ext",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 2])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 2])], [ext])
    path = tmp_path / "model.onnx"
    save(helper.make_model(graph), str(path))
    _only_driftguard_errors(lambda: api.extract(path, kind="onnx"))  # once OSError ENAMETOOLONG from exists()


def test_fuzz_found_torch_checkpoint_of_a_bare_int_is_an_input_error(tmp_path: Path) -> None:
    path = tmp_path / "model.pt"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("archive/data.pkl", pickle.dumps(5, protocol=2))
        zf.writestr("archive/version", "3\n")
        zf.writestr("archive/byteorder", "little")
    with pytest.raises(DriftguardError):  # once TypeError from readers/pickle.iter_tensors
        api.extract(path, kind="torch")


def test_fuzz_found_tensorrt_llm_empty_tensor_data_is_an_input_error(tmp_path: Path) -> None:
    path = tmp_path / "request.json"
    path.write_text(json.dumps({"request": [{"name": "temperature", "data": [[]], "dtype": "float32"}]}))
    with pytest.raises(DriftguardError):  # once IndexError from conv[0] in extractors/tensorrt_llm._tensors
        api.extract(path, kind="tensorrt-llm")


def test_fuzz_found_approve_with_an_over_long_id_is_an_input_error(tmp_path: Path,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    """Once exit 3 (OSError ENAMETOOLONG writing approvals/<id>.yaml)."""
    from driftguard.cli import run

    folder = tmp_path / "summarizer"
    shutil.copytree(SUMMARIZER, folder)
    rc = run(["approve", "summarizer", "preprocessing.max_length", "--reason", "r", "--expires", "2027-06-30",
              "--by", "ml-platform-oncall", "--id", "a" * 300, "--config", str(folder / "driftguard.yaml"),
              "--today", TODAY.isoformat()])  # not a later day: --expires would be what is refused
    err = capsys.readouterr().err
    assert rc == 2, err
    assert err.startswith("driftguard: error: id: "), err


# ---------------------------------------------------------------------------------------------------------
# launch commands: crafted hostile scripts (fast; the mutation property above covers the rest)
# ---------------------------------------------------------------------------------------------------------

_HOSTILE_SCRIPTS: dict[str, bytes] = {
    "huge": b"vllm serve m " + b"--seed 1 " * 40_000 + b"\n",
    "deep": b"{ " * 2_000 + b"vllm serve m" + b"; }" * 2_000 + b"\n",
    "deep-subshells": b"(" * 3_000 + b"vllm serve m" + b")" * 3_000 + b"\n",
    "nested-sh-c": b"sh -c " + b"\"sh -c '" * 4 + b"vllm serve m" + b"'\"" * 4 + b"\n",
    "not-shell": b"\x00\xff((( {{{ <<<\n" * 50,
    "garbage-lines": b"".join(b"vllm serve m\nif then fi fi (\n" for _ in range(30)),
    "bad-json": b"vllm serve m --override-generation-config '" + b"[" * 900 + b"'\n",
    "docker-options-only": b"docker run " + b"-v a:b -it " * 20_000 + b"\n",
    "huge-context": b"python -m sglang.launch_server --model-path m --context-length " + b"9" * 5_000 + b"k\n",
    "huge-ctx-size": b"llama-server -m m -np 4 -c " + b"9" * 5_000 + b"\n",
    "template-outside": b"llama-server -m m --chat-template-file /etc/passwd\n",
    "builds-disagree": b"".join(b"trtllm-build --checkpoint_dir c --max_batch_size %d\n" % i for i in range(500)),
}


@pytest.mark.parametrize("name", sorted(_HOSTILE_SCRIPTS))
def test_hostile_shell_scripts_extract_or_are_an_input_error(name: str, tmp_path: Path) -> None:
    script = tmp_path / "deploy.sh"
    script.write_bytes(_HOSTILE_SCRIPTS[name])
    _only_driftguard_errors(lambda: api.extract(script, kind="shell"))


def test_hostile_shell_script_is_exit_2_in_one_line(tmp_path: Path) -> None:
    import subprocess

    script = tmp_path / "deploy.sh"
    script.write_bytes(_HOSTILE_SCRIPTS["deep"])
    proc = subprocess.run([sys.executable, "-m", "driftguard", "extract", f"shell:{script}"], capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 2 and "depth limit" in proc.stderr and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
