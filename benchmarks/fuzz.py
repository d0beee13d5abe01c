"""Fuzz driftguard's readers by hand: mutated real files through the library, one fresh process per input.

    python benchmarks/fuzz.py --target triton --runs 10000 [--seed 0] [--jobs 2] [--out /tmp/driftguard-fuzz]
    python benchmarks/fuzz.py --target all --runs 2000
    python benchmarks/fuzz.py --list
    python benchmarks/fuzz.py --target lightning --runs 2000 --limit depth=100000   # limits raised by a user

Targets: one per extractor kind (``triton``, ``hf-generation``, ``hf-config``, ``hf-tokenizer``, ``vllm``,
``tgi``, ``openai``, ``tensorrt-llm``, ``lmdeploy`` (INI and YAML seeds), ``onnx``, ``torch``, ``lightning``,
``training-args``, ``safetensors``), each run as ``api.extract(path, kind=KIND)``; ``hf-model``: a model folder
(fixtures, the summarizer's, the corpus's complete ones) with one file mutated; and ``api.check`` on a copy of
``examples/summarizer`` whose ``driftguard.yaml`` (``manifest``), one of whose ``approvals/*.yaml``
(``approvals``), or one of whose artifacts (``check-artifacts``: side merging and the rules, DG2xx consistency
across files included, over mutated values; the training folder swapped for the corpus's model folders) is the
mutated input.

Seeds: the corpus (``../shared/corpus`` or ``/work/shared/corpus``), ``tests/fixtures`` and ``examples``; the
binary kinds are built in code in a throw-away child process (``torch.save`` of state dicts, Lightning-style
dicts and ``argparse.Namespace``/``TrainingArguments`` stand-ins, zip and legacy
``_use_new_zipfile_serialization=False`` files; ONNX models from ``onnx.helper``; ``safetensors.numpy``), so
torch never loads in the fuzzing processes.

Mutations (our own seeded engine; atheris does not build here): byte level (bit flip, random byte, insert,
delete, duplicate a chunk, splice two seeds, truncate, interesting tokens: ``9`` * 5000, ``[`` * 900, NUL,
control characters, invalid UTF-8, YAML anchors/aliases and tags, NaN/Infinity, 1e309...), structure-aware for
JSON/YAML (a parsed value or key replaced by an interesting one, a key dropped or added from the vocabulary, a
subtree duplicated, then re-serialized), line-aware for INI and pbtxt, and for zip checkpoints (``data.pkl``
mutated or replaced by a crafted pickle (deep, cyclic, shared-subtree, huge LONG), then rezipped; entries
duplicated, dropped, reordered or renamed; ``version``/``byteorder`` records changed). Input ``i`` of a
target is a pure function of ``(--seed, target, i)``, so ``--jobs`` changes nothing but speed and any input
is reproduced with ``--only i``.

Execution and accounting: the parent imports driftguard and every extractor (and warms their caches) once, then
forks a fresh child per input (``--jobs`` children at a time). A fork of the ~60 MiB parent costs about a
millisecond, which keeps 10,000 inputs per target within minutes on 2 cores, and it makes the accounting
exact without restarting pools: Linux starts a forked child's ``VmHWM`` at its own RSS, so ``VmHWM`` at the end
minus ``VmRSS`` at the start is that one input's peak growth, and no input inherits state (caches, a
half-built module) from another. In the child: ``signal.alarm`` raises at ``--hang`` seconds (recorded as a
hang with the stack where it was); ``RLIMIT_AS`` is set to the start size plus 4 GiB so a blow-up ends in a
MemoryError (recorded as memory) instead of the machine; the parent SIGKILLs a child still alive 10 s after
the alarm (a hang inside C code). Outcomes: ``error`` (a ``DriftguardError``: exit 2), ``ok``, ``crash`` (any
other exception, or a child that died), ``hang``, plus the flags ``slow`` (wall > 5 s) and ``memory`` (growth
> 500 MiB, or MemoryError). Crashes are grouped by signature (exception type and innermost driftguard frame);
the first inputs of each group are saved under ``--out/<target>/`` with their tracebacks in ``report.txt``
and a summary in ``summary.json``. Exit status 1 when any input crashed, hung, was slow or blew memory.
"""

from __future__ import annotations

import argparse
import datetime
import io
import json
import os
import pickle
import random
import resource
import select
import shutil
import signal
import statistics
import struct
import sys
import time
import traceback
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CORPUS_CANDIDATES = (ROOT.parent / "shared" / "corpus", Path("/work/shared/corpus"))
SLOW_S = 5.0
MEMORY_MIB = 500.0
TODAY = datetime.date(2026, 12, 1)  # approvals are judged on a fixed day: runs do not change with the calendar
SAVE_PER_SIGNATURE = 3

EXTRACT_TARGETS = ("triton", "hf-generation", "hf-config", "hf-tokenizer", "vllm", "tgi", "openai", "tensorrt-llm",
                   "lmdeploy", "onnx", "torch", "lightning", "training-args", "safetensors")
#: api.check on a copy of examples/summarizer with its manifest, an approval or one artifact mutated.
CHECK_TARGETS = ("manifest", "approvals", "check-artifacts")
#: Inputs that are a folder of files rather than one file.
FOLDER_TARGETS = ("hf-model", *CHECK_TARGETS)
TARGETS = EXTRACT_TARGETS + FOLDER_TARGETS
BINARY_TARGETS = ("onnx", "torch", "lightning", "training-args", "safetensors")

#: A seed or a mutated input: file name -> content (one file for extract targets).
Files = dict[str, bytes]


# ---------------------------------------------------------------------------------------------------------
# seeds
# ---------------------------------------------------------------------------------------------------------

def corpus_dir() -> Path | None:
    return next((p for p in CORPUS_CANDIDATES if p.is_dir()), None)


def _natural_name(path: Path) -> str:
    """``owner__repo__dir__generation_config.json`` -> ``generation_config.json``: the name the reader sees."""
    return path.name.rsplit("__", 1)[-1]


def _text_seed_paths(target: str) -> list[Path]:
    corpus = corpus_dir()
    fixtures = ROOT / "tests" / "fixtures"
    found: list[Path] = []

    def corpus_glob(sub: str, pattern: str) -> None:
        if corpus is not None:
            found.extend(sorted((corpus / sub).glob(pattern)))

    def fixture_glob(sub: str, pattern: str = "**/*") -> None:
        found.extend(sorted(p for p in (fixtures / sub).glob(pattern) if p.is_file()))

    if target == "triton":
        corpus_glob("triton", "*pbtxt*")
        corpus_glob("runtime", "*pbtxt*")
        fixture_glob("triton")
        found.extend(sorted(ROOT.glob("examples/**/config.pbtxt")))
    elif target in ("hf-generation", "hf-tokenizer"):
        stem = "generation_config.json" if target == "hf-generation" else "tokenizer_config.json"
        corpus_glob("hf", f"*{stem}")
        fixture_glob(target)
        fixture_glob("hf-model", f"**/{stem}")
        found.extend(sorted(ROOT.glob(f"examples/**/{stem}")))
        if target == "hf-generation":
            found.append(fixtures / "acceptance" / "generation_config.json")
    elif target == "hf-config":
        for stem in ("__config.json", "adapter_config.json", "quantize_config.json"):
            corpus_glob("hf", f"*{stem}")
        fixture_glob("hf-config")
        found.extend(sorted(ROOT.glob("examples/**/training/config.json")))
    elif target == "vllm":
        corpus_glob("runtime", "*vllm*model.json")
        corpus_glob("runtime", "*vllm_engine_args.json")
        fixture_glob("vllm")
        found.append(fixtures / "acceptance" / "runtime-params.yaml")
        found.extend(sorted(ROOT.glob("examples/summarizer/deployment/**/*.json")))
        found.extend(sorted(ROOT.glob("examples/summarizer/deployment/*.yaml")))
    elif target == "tgi":
        corpus_glob("runtime", "*payload.json")
        corpus_glob("runtime", "*tgi*models.json")
        fixture_glob("tgi")
    elif target == "openai":
        fixture_glob("openai")
    elif target == "tensorrt-llm":
        corpus_glob("runtime", "*tensorrtllm_backend*first.json")
        corpus_glob("runtime", "*sample_request*.json")
        corpus_glob("runtime", "*model.yaml")
        fixture_glob("tensorrt-llm")
    elif target == "lmdeploy":
        corpus_glob("runtime", "*.ini")
        fixture_glob("lmdeploy")
    return [p for p in dict.fromkeys(found) if p.is_file() and p.name != "MANIFEST.tsv"]


def text_seeds(target: str) -> list[Files]:
    return [{_natural_name(p): p.read_bytes()} for p in _text_seed_paths(target)]


def _summarizer_tree() -> Files:
    base = ROOT / "examples" / "summarizer"
    return {str(p.relative_to(base)): p.read_bytes() for p in sorted(base.rglob("*")) if p.is_file()}


_EXTRA_MANIFESTS = [
    b"""version: 1
models:
  summarizer:
    description: all the options
    training:
      - path: training/config.json
        kind: hf-config
      - path: training/tokenizer_config.json
      - {path: training/generation_config.json, kind: hf-generation}
    deployment:
      - path: deployment/model_repository/summarizer/config.pbtxt
        set: {triton_max_batch_size: "64"}
      - path: deployment/model_repository/summarizer/1/model.json
      - path: deployment/sampling-params.yaml
        kind: vllm
    rules:
      ignore: [serving.instance_count, "hf.*"]
rules:
  select: null
  enable: [DG401]
  ignore: []
  tolerances:
    - {key: generation.temperature, abs: 0.01}
    - {key: "generation.*", rel: 0.05}
  severity: {DG103: error, DG101: warning}
  options: {}
limits: {file_bytes: 1M, depth: 32}
approvals: approvals
approvers: [alice, ml-platform-oncall]
approval_policy:
  max_horizon_days: 365
  warn_expiring_days: 30
  fail_on_stale: true
""",
    b"""version: 1
models:
  a: {training: [{path: training}], deployment: [{path: training, kind: hf-model}]}
  b:
    training: [{path: training/generation_config.json}]
    deployment: [{path: deployment/sampling-params.yaml, kind: vllm}]
""",
]

_EXTRA_APPROVALS = [
    b"""id: summarizer-max-length
model: summarizer
key: preprocessing.max_length
training: 1024
deployed: 512
reason: fine
approved_by: ml-platform-oncall
approved_on: 2026-11-02
expires: 2027-01-31
rule: DG101
""",
    b"""id: wild
model: summarizer
key: "generation.*"
allow_wildcard: true
reason: anything goes
approved_by: alice
approved_on: 2026-01-02
expires: 2026-11-30
evidence: https://example.com
""",
    b"""id: nulls
model: summarizer
key: generation.eos_token_id
training: [2]
deployed: null
reason: sets
approved_by: bob
approved_on: 2026-11-02
expires: 2026-12-20
""",
]


def _hf_model_folders() -> list[Files]:
    """HF model folders: the fixtures', the summarizer's, and the corpus's models with all three files."""
    folders = [{p.name: p.read_bytes() for p in sorted(d.iterdir()) if p.is_file()}
               for d in sorted((ROOT / "tests/fixtures/hf-model/good").iterdir()) if d.is_dir()]
    folders.append({p.name: p.read_bytes() for p in sorted((ROOT / "examples/summarizer/training").iterdir())})
    corpus = corpus_dir()
    if corpus is not None:
        names = ("config.json", "generation_config.json", "tokenizer_config.json")
        prefixes = sorted({p.name[:-len("__config.json")] for p in (corpus / "hf").glob("*__config.json")})
        for prefix in prefixes:
            paths = [corpus / "hf" / f"{prefix}__{n}" for n in names]
            if all(p.is_file() for p in paths):
                folders.append({n: p.read_bytes() for n, p in zip(names, paths, strict=True)})
    return folders


def check_seeds(target: str) -> list[Files]:
    """manifest: the tree with driftguard.yaml variants; approvals: the tree with approval sets;
    check-artifacts: the tree with its training folder replaced by other real model folders."""
    tree = _summarizer_tree()
    if target == "check-artifacts":
        base = {k: v for k, v in tree.items() if not k.startswith("approvals/")}  # a folder lacking a file keeps ours
        return [{**base, **{f"training/{n}": v for n, v in folder.items()}} for folder in _hf_model_folders()]
    approvals = {k: v for k, v in tree.items() if k.startswith("approvals/")}
    base = {k: v for k, v in tree.items() if not k.startswith("approvals/")}
    text_classifier = (ROOT / "examples/text-classifier/approvals/text-classifier-int8.yaml").read_bytes()
    seeds: list[Files] = []
    if target == "manifest":
        for manifest in [tree["driftguard.yaml"], (ROOT / "driftguard.yaml").read_bytes(), *_EXTRA_MANIFESTS]:
            seeds.append({**tree, "driftguard.yaml": manifest})
    else:
        pool = [*approvals.values(), text_classifier, *_EXTRA_APPROVALS]
        for i, a in enumerate(pool):
            seeds.append({**base, f"approvals/seed{i}.yaml": a})
        seeds.append({**base, **approvals, "approvals/extra.yaml": _EXTRA_APPROVALS[0]})
    return seeds


def _build_binary_seeds(target: str, folder: Path) -> None:
    """Runs in a throw-away child: torch and onnx stay out of the fuzzing processes."""
    folder.mkdir(parents=True, exist_ok=True)
    if target == "onnx":
        _build_onnx(folder)
    elif target == "safetensors":
        _build_safetensors(folder)
    else:
        _build_torch(target, folder)


def _build_onnx(folder: Path) -> None:
    import numpy as np
    from onnx import TensorProto, helper, numpy_helper, save

    def io(name: str, dims: list[Any], t: int = TensorProto.FLOAT) -> Any:
        return helper.make_tensor_value_info(name, t, dims)

    w = numpy_helper.from_array(np.ones((4, 2), dtype=np.float32), "W")
    q = numpy_helper.from_array(np.ones((4, 2), dtype=np.int8), "Wq")
    s = numpy_helper.from_array(np.array(0.1, dtype=np.float32), "s")
    z = numpy_helper.from_array(np.array(0, dtype=np.int8), "z")
    g1 = helper.make_graph([helper.make_node("MatMul", ["x", "W"], ["y"])], "g", [io("x", ["batch", 4])],
                           [io("y", ["batch", 2])], [w])
    m1 = helper.make_model(g1, opset_imports=[helper.make_opsetid("", 17)], producer_name="fuzz")
    helper.set_model_props(m1, {"max_length": "128", "framework": "pt"})
    save(m1, str(folder / "model.onnx"))
    g2 = helper.make_graph(
        [helper.make_node("DequantizeLinear", ["Wq", "s", "z"], ["Wd"]),
         helper.make_node("Cast", ["ids"], ["x"], to=TensorProto.FLOAT),
         helper.make_node("MatMul", ["x", "Wd"], ["y"]),
         helper.make_node("MatMulInteger", ["xq", "Wq"], ["y2"])],
        "q", [io("ids", [1, 4], TensorProto.INT64), io("xq", [1, 4], TensorProto.INT8)],
        [io("y", [-1, 2]), io("y2", [1, 2], TensorProto.INT32)], [q, s, z])
    m2 = helper.make_model(g2, opset_imports=[helper.make_opsetid("", 13), helper.make_opsetid("com.microsoft", 1)])
    save(m2, str(folder / "quant.onnx"))
    then_g = helper.make_graph([helper.make_node("Identity", ["x"], ["t"])], "then", [], [io("t", [4])])
    else_g = helper.make_graph([helper.make_node("Constant", [], ["e"], value=numpy_helper.from_array(
        np.zeros(4, dtype=np.float16), "c"))], "else", [], [io("e", [4], TensorProto.FLOAT16)])
    g3 = helper.make_graph([helper.make_node("If", ["cond"], ["o"], then_branch=then_g, else_branch=else_g)],
                           "ifg", [io("cond", [], TensorProto.BOOL), io("x", [4])], [io("o", [4])])
    fn = helper.make_function("custom", "F", ["a"], ["b"], [helper.make_node("Relu", ["a"], ["b"])],
                              [helper.make_opsetid("", 17)])
    m3 = helper.make_model(g3, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("custom", 1)],
                           functions=[fn])
    save(m3, str(folder / "subgraph.onnx"))
    ext = numpy_helper.from_array(np.ones((2, 2), dtype=np.float32), "E")
    ext.ClearField("raw_data")
    ext.data_location = TensorProto.EXTERNAL
    for k, v in (("location", "../../../etc/passwd"), ("offset", "0"), ("length", "16")):
        entry = ext.external_data.add()
        entry.key, entry.value = k, v
    g4 = helper.make_graph([helper.make_node("Add", ["x", "E"], ["y"])], "ext", [io("x", [2, 2])],
                           [io("y", [2, 2])], [ext])
    save(helper.make_model(g4), str(folder / "external.onnx"))
    sparse = helper.make_sparse_tensor(numpy_helper.from_array(np.ones(2, dtype=np.float32), "v"),
                                       numpy_helper.from_array(np.array([0, 3], dtype=np.int64), "i"), [4])
    g5 = helper.make_graph([helper.make_node("Identity", ["x"], ["y"])], "sp", [io("x", ["n"])], [io("y", ["n"])],
                           sparse_initializer=[sparse])
    save(helper.make_model(g5, ir_version=7), str(folder / "sparse.onnx"))
    # A wire-level nesting bomb: If -> then_branch -> node -> attribute -> graph ... 400 levels deep.
    (folder / "deep.onnx").write_bytes(_deep_onnx_wire(400))


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _field(num: int, payload: bytes) -> bytes:
    return _varint(num << 3 | 2) + _varint(len(payload)) + payload


def _deep_onnx_wire(depth: int) -> bytes:
    graph = _field(2, b"leaf")  # GraphProto.name
    for _ in range(depth):
        attr = _field(1, b"then_branch") + _varint(20 << 3) + _varint(5) + _field(6, graph)  # name, type GRAPH, g
        node = _field(4, b"If") + _field(5, attr)  # op_type, attribute
        graph = _field(1, node)  # GraphProto.node
    # ModelProto: ir_version 8, graph, opset_import {version: 17}
    return _varint(1 << 3) + _varint(8) + _field(7, graph) + _field(8, _varint(2 << 3) + _varint(17))


def _build_safetensors(folder: Path) -> None:
    import numpy as np
    from safetensors.numpy import save_file

    save_file({"w": np.ones((4, 2), dtype=np.float32), "b": np.zeros(2, dtype=np.float16)},
              str(folder / "model.safetensors"), metadata={"format": "pt"})
    save_file({"emb": np.ones((8, 4), dtype=np.int8)}, str(folder / "q.safetensors"))
    header = json.dumps({"__metadata__": {"a": "b"}, "x": {"dtype": "BF16", "shape": [1, 3],
                                                            "data_offsets": [0, 6]}}).encode()
    (folder / "hand.safetensors").write_bytes(struct.pack("<Q", len(header)) + header + b"\0" * 6)


def _build_torch(target: str, folder: Path) -> None:
    import argparse as ap
    import dataclasses
    import enum
    import types

    import torch

    model = torch.nn.Sequential(torch.nn.Embedding(20, 4), torch.nn.Linear(4, 2))
    if target == "torch":
        sd = model.state_dict()
        torch.save(sd, folder / "model.pt")
        torch.save(sd, folder / "legacy.pt", _use_new_zipfile_serialization=False)
        ckpt = {"model_state_dict": {k: v.half() for k, v in sd.items()}, "epoch": 3,
                "optimizer_state_dict": torch.optim.SGD(model.parameters(), lr=0.1).state_dict(),
                "config": {"max_length": 128, "num_labels": 2, "temperature": 0.7, "dtype": torch.bfloat16},
                "args": ap.Namespace(lr=1e-3, max_seq_length=256, fp16=True)}
        torch.save(ckpt, folder / "ckpt.pth")
        torch.save(ckpt, folder / "ckpt-legacy.pth", _use_new_zipfile_serialization=False)
        torch.save({"w": torch.zeros(2, 3)[:, 1], "n": torch.Size([3, 4]), "s": [1, (2, 3.5), None, "x"]},
                   folder / "misc.pt")
    elif target == "lightning":
        opt = torch.optim.AdamW(model.parameters(), lr=2e-5)
        ckpt = {"epoch": 3, "global_step": 1200, "pytorch-lightning_version": "2.4.0",
                "state_dict": {f"model.{k}": v.to(torch.bfloat16) for k, v in model.state_dict().items()},
                "loops": {"fit_loop": {"state_dict": {}}}, "callbacks": {"cb": {"score": torch.tensor(0.25)}},
                "optimizer_states": [opt.state_dict()], "lr_schedulers": [], "hparams_name": "kwargs",
                "hyper_parameters": {"num_labels": 2, "optimizer": {"lr": 2e-5, "betas": (0.9, 0.999)},
                                     "precision": "bf16-mixed", "max_length": 384},
                "datamodule_hyper_parameters": {"max_length": 384, "batch_size": 16},
                "native_amp_scaling_state": {"scale": torch.tensor(65536.0)}}
        torch.save(ckpt, folder / "model.ckpt")
        torch.save(ckpt, folder / "legacy.ckpt", _use_new_zipfile_serialization=False)
        ns = dict(ckpt, hyper_parameters=ap.Namespace(lr=1e-3, max_length=64, precision=16))
        torch.save(ns, folder / "namespace.ckpt")
    else:  # training-args: transformers' classes, stood in under their module names (transformers is absent)
        try:
            import transformers

            args: Any = transformers.TrainingArguments(output_dir="out", learning_rate=3e-5, bf16=False)
            objs = [args]
        except ImportError:
            objs = []
        mods = {n: types.ModuleType(n) for n in ("transformers", "transformers.trainer_utils",
                                                 "transformers.training_args", "transformers.training_args_seq2seq")}

        class IntervalStrategy(str, enum.Enum):
            NO = "no"
            STEPS = "steps"

        IntervalStrategy.__module__, IntervalStrategy.__qualname__ = "transformers.trainer_utils", "IntervalStrategy"
        mods["transformers.trainer_utils"].IntervalStrategy = IntervalStrategy  # type: ignore[attr-defined]

        @dataclasses.dataclass
        class TrainingArguments:
            output_dir: str = "out"
            learning_rate: float = 5e-5
            seed: int = 42
            fp16: bool = True
            bf16: bool = False
            eval_strategy: Any = IntervalStrategy.STEPS
            generation_max_length: int | None = 128
            generation_num_beams: int | None = 4

        @dataclasses.dataclass
        class Seq2SeqTrainingArguments(TrainingArguments):
            predict_with_generate: bool = True

        TrainingArguments.__module__ = "transformers.training_args"
        TrainingArguments.__qualname__ = "TrainingArguments"
        Seq2SeqTrainingArguments.__module__ = "transformers.training_args_seq2seq"
        Seq2SeqTrainingArguments.__qualname__ = "Seq2SeqTrainingArguments"
        mods["transformers.training_args"].TrainingArguments = TrainingArguments  # type: ignore[attr-defined]
        mods["transformers.training_args_seq2seq"].Seq2SeqTrainingArguments = (  # type: ignore[attr-defined]
            Seq2SeqTrainingArguments)
        sys.modules.update(mods)
        objs += [TrainingArguments(), Seq2SeqTrainingArguments(learning_rate=1e-4),
                 ap.Namespace(learning_rate=1e-3, max_seq_length=256, fp16=True, seed=1)]
        for i, obj in enumerate(objs):
            torch.save(obj, folder / f"{i}-training_args.bin")
        torch.save(objs[-2], folder / "legacy-training_args.bin", _use_new_zipfile_serialization=False)


def binary_seeds(target: str, cache: Path) -> list[Files]:
    folder = cache / "seeds" / target
    if not (folder.is_dir() and any(folder.iterdir())):
        shutil.rmtree(folder, ignore_errors=True)
        pid = os.fork()
        if pid == 0:
            try:
                _build_binary_seeds(target, folder)
                os._exit(0)
            except BaseException:
                traceback.print_exc()
                os._exit(1)
        _, status = os.waitpid(pid, 0)
        if status != 0:
            raise SystemExit(f"building the {target} seeds failed")
    out = []
    for p in sorted(folder.iterdir()):
        name = p.name.split("-", 1)[1] if target == "training-args" else p.name
        out.append({name: p.read_bytes()})
    return out


# ---------------------------------------------------------------------------------------------------------
# mutations
# ---------------------------------------------------------------------------------------------------------

INTERESTING_BYTES: list[bytes] = [
    b"9" * 5000, b"9" * 350, b"-" + b"9" * 450, b"[" * 900, b"{" * 900, b'{"a":' * 900, b"- " * 500, b"\x00",
    b"\x00" * 64,
    b"\x01\x02\x1b\x7f", b"\r", b"\r\n", b"\t", b"\xff\xfe", b"\xc3\x28", b"\xed\xa0\x80", b"\xef\xbb\xbf",
    b"NaN", b"Infinity", b"-Infinity", b"1e309", b"-0", b"0x1F", b"1_000", b"true", b"null", b"~", b"''", b'""',
    b"&a [*a, *a]", b"*undefined_alias", b"!!python/object/apply:os.system ['true']", b"!!binary AAAA", b"<<: *a",
    b"? complex\n", b"%YAML 1.1\n---\n", b"\n---\n", b"...", b"#", b";", b"${x}", b"#NAME", b"\\u0000", b"\\ud800",
    b'"\\', b"'", b"\x85", b"\xe2\x80\xa8", b"[section]\n", b"[]", b"{}", b":", b"=", b"==", b"<", b"\xf0\x9f\x92\xa9",
    b"18446744073709551616", b"-9223372036854775809", b"4294967296", b"2147483648", b"3.4028236e38", b"5e-324",
]

INTERESTING_VALUES: list[Any] = [
    None, True, False, 0, -1, 1, 2**31, 2**63, -(2**63) - 1, 2**64, int("9" * 300), 10**350, 10**400, 0.0, -0.0, 1e308,
    float("inf"), float("-inf"), float("nan"), 5e-324, 3.4028236e38, "", "0", "1.5", "true", "None", "null",
    "NaN", "fp16", "float32", "bf16", "TYPE_FP32", "int8", "auto", "x" * 10000, "\x00", "\ud800", "${x}", "#NAME",
    [], {}, [None], [[[[[]]]]], {"": None}, [1, "a", None], list(range(200)), {"a": {"b": {"c": [1]}}},
]

VOCAB = [
    "temperature", "top_p", "top_k", "max_new_tokens", "max_tokens", "do_sample", "num_beams", "eos_token_id",
    "pad_token_id", "bos_token_id", "repetition_penalty", "model_max_length", "padding_side", "truncation_side",
    "max_length", "torch_dtype", "dtype", "quantization_config", "architectures", "model_type", "vocab_size",
    "max_position_embeddings", "num_labels", "id2label", "label2id", "parameters", "sampling_params", "messages",
    "model", "inputs", "n", "best_of", "seed", "stop", "logprobs", "truncate_prompt_tokens", "max_model_len",
    "gpu_memory_utilization", "override_generation_config", "generation_config", "runtime_top_k", "runtime_top_p",
    "end_id", "beam_width", "request_output_len", "text_input", "added_tokens_decoder", "bits", "group_size",
    "peft_type", "r", "lora_alpha", "__metadata__", "data_offsets", "shape", "version", "models", "training",
    "deployment", "path", "kind", "set", "rules", "select", "enable", "ignore", "tolerances", "severity", "options",
    "approvals", "approvers", "approval_policy", "limits", "id", "key", "deployed", "reason", "approved_by",
    "approved_on", "expires", "evidence", "rule", "allow_wildcard", "max_horizon_days", "warn_expiring_days",
    "fail_on_stale", "abs", "rel", "file_bytes", "depth", "description",
]

DEEP_PICKLES: list[bytes] = []


def _crafted_pickles() -> list[bytes]:
    """data.pkl replacements: deep, cyclic, shared-subtree (a DAG whose tree is 2**60 nodes), huge LONG, big."""
    if DEEP_PICKLES:
        return DEEP_PICKLES
    deep: Any = []
    for _ in range(900):
        deep = [deep]
    cyc: list[Any] = []
    cyc.append(cyc)
    cyc_d: dict[str, Any] = {}
    cyc_d["self"] = cyc_d
    dag: Any = ["leaf"]
    for _ in range(60):
        dag = [dag, dag]
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 5000))
    for obj in (deep, cyc, {"state_dict": cyc_d}, {"hyper_parameters": dag}, {"n": 10**5000},
                {"x": [0] * 300_000}, {f"k{i}": i for i in range(50_000)}, {"epoch": 1, 2: b"bytes", (1, 2): 3.5}):
        for proto in (2, 4):
            DEEP_PICKLES.append(pickle.dumps(obj, protocol=proto))
    # Raw opcodes pickle.dumps would never write: 10**5 MARKs, a LONG4 claiming 2**31 bytes, a refused global.
    DEEP_PICKLES.extend([b"\x80\x02" + b"(" * 100_000 + b".", b"\x80\x02\x8b\xff\xff\xff\x7f.",
                         b"\x80\x02cposix\nsystem\nq\x00X\x04\x00\x00\x00trueq\x01\x85q\x02Rq\x03.",
                         b"\x80\x02ctorch._utils\n_rebuild_tensor_v2\n(" + b"]" * 20 + b"tR.",
                         b"\x80\x02}q\x00(X\x01\x00\x00\x00ah\x00h\x00h\x00u."])
    return DEEP_PICKLES


class Mutator:
    """All mutations of one input, drawn from one ``random.Random``."""

    def __init__(self, rng: random.Random, seeds: list[Files]) -> None:
        self.rng = rng
        self.seeds = seeds

    # -- bytes --------------------------------------------------------------------------------------------

    def bytes_(self, data: bytes) -> bytes:
        r = self.rng
        buf = bytearray(data)
        for _ in range(r.choice((1, 1, 1, 2, 3, 8))):
            op = r.randrange(10)
            pos = r.randrange(len(buf) + 1)
            if op == 0 and buf:
                i = min(pos, len(buf) - 1)
                buf[i] ^= 1 << r.randrange(8)
            elif op == 1 and buf:
                buf[min(pos, len(buf) - 1)] = r.randrange(256)
            elif op == 2:
                buf[pos:pos] = bytes(r.randrange(256) for _ in range(r.randrange(1, 16)))
            elif op == 3 and buf:
                del buf[pos:pos + r.choice((1, 2, 4, 16, 256, 4096))]
            elif op == 4 and buf:
                n = r.choice((1, 8, 64, 512, 4096))
                chunk = buf[pos:pos + n]
                buf[pos:pos] = chunk * r.choice((1, 2, 10, 100))
            elif op == 5:
                other = self._any_seed_bytes()
                a = r.randrange(len(other) + 1)
                buf = buf[:pos] + other[a:a + r.randrange(1, 4096)] + buf[pos:]
            elif op == 6:
                buf = buf[:pos]
            elif op in (7, 8):
                buf[pos:pos] = r.choice(INTERESTING_BYTES)
            else:  # a number somewhere replaced by an interesting one
                digits = [i for i in range(len(buf)) if 48 <= buf[i] <= 57][:5000]
                if digits:
                    i = r.choice(digits)
                    j = i
                    while j < len(buf) and 48 <= buf[j] <= 57:
                        j += 1
                    buf[i:j] = r.choice((b"9" * 5000, b"9" * 350, b"0", b"-1", b"4294967296", b"1e309", b"00",
                                         b"99999999999"))
        return bytes(buf)

    def _any_seed_bytes(self) -> bytes:
        files = self.rng.choice(self.seeds)
        return files[self.rng.choice(sorted(files))]

    # -- JSON / YAML --------------------------------------------------------------------------------------

    def value(self, v: Any, depth: int = 0) -> Any:
        """A mutated copy of a parsed document."""
        r = self.rng
        if depth > 40:
            return v
        if isinstance(v, dict) and v and r.random() < 0.7:
            v = dict(v)
            k = r.choice(list(v))
            op = r.randrange(7)
            if op == 0:
                del v[k]
            elif op == 1:
                v[r.choice(VOCAB)] = self._interesting()
            elif op == 2:
                v[self._key()] = v.pop(k)
            elif op == 3:
                v[k] = self._interesting()
            else:
                v[k] = self.value(v[k], depth + 1)
            return v
        if isinstance(v, list) and v and r.random() < 0.7:
            v = list(v)
            i = r.randrange(len(v))
            op = r.randrange(5)
            if op == 0:
                del v[i]
            elif op == 1:
                v.insert(i, self._interesting())
            elif op == 2:
                v.extend(v[i:i + 1] * r.choice((2, 100)))
            else:
                v[i] = self.value(v[i], depth + 1)
            return v
        return self._interesting() if r.random() < 0.8 else self._wrap(v)

    def _interesting(self) -> Any:
        r = self.rng
        if r.random() < 0.15:
            return self._wrap(r.choice(INTERESTING_VALUES), r.choice((70, 200, 900)))
        if r.random() < 0.2:
            return r.choice((r.randrange(-5, 1 << 20), r.uniform(-2, 2), r.choice(VOCAB), [r.randrange(9)]))
        return r.choice(INTERESTING_VALUES)

    def _wrap(self, v: Any, depth: int | None = None) -> Any:
        for _ in range(depth or self.rng.choice((1, 2, 70))):
            v = [v] if self.rng.random() < 0.5 else {"a": v}
        return v

    def _key(self) -> Any:
        return self.rng.choice(("", " ", "\x00", "a.b", "*", "?", "x" * 1000, "${k}", "1", "__proto__",
                                *VOCAB))

    def json_text(self, data: bytes) -> bytes | None:
        try:
            doc = json.loads(data)
        except (ValueError, RecursionError):
            return None
        doc = self.value(doc)
        try:
            text = json.dumps(doc, indent=self.rng.choice((None, 2)), ensure_ascii=self.rng.random() < 0.5)
        except (ValueError, RecursionError):
            return None
        if self.rng.random() < 0.1:  # a repeated key: json.dumps never writes one
            text = text.replace("{", '{"temperature": 1, "temperature": 2, ', 1)
        return text.encode("utf-8", "surrogatepass")

    def yaml_text(self, data: bytes) -> bytes | None:
        import yaml

        try:
            doc = yaml.safe_load(data)
        except Exception:  # any YAML failure just means: no structured mutation for this seed
            return None
        doc = self.value(doc)
        r = self.rng
        try:
            text = yaml.safe_dump(doc, default_flow_style=r.choice((None, True, False)), allow_unicode=True,
                                  sort_keys=False, width=r.choice((80, 10**6)))
        except Exception:  # a value PyYAML cannot write: fall back to byte mutations
            return None
        if r.random() < 0.15:
            text = self._yaml_aliases(text)
        return text.encode("utf-8", "surrogatepass")

    def _yaml_aliases(self, text: str) -> str:
        r = self.rng
        op = r.randrange(4)
        if op == 0:  # billion laughs in front of the document's first key
            laughs = "b0: &b0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
                f"b{i}: &b{i} [{', '.join([f'*b{i - 1}'] * 9)}]\n" for i in range(1, 9))
            return laughs + text
        if op == 1:  # a merge key pulling in an anchored mapping
            return "base: &base {temperature: 0.1, top_p: 0.5}\n" + text.replace("\n", "\n<<: *base\n", 1)
        if op == 2:  # a recursive alias
            return "loop: &loop [*loop]\n" + text
        return text.replace(":", ": !!python/name:os.system", 1)

    # -- line-oriented (INI, pbtxt) -----------------------------------------------------------------------

    def lines(self, data: bytes) -> bytes:
        r = self.rng
        lines = data.split(b"\n")
        for _ in range(r.choice((1, 2, 4))):
            if not lines:
                lines = [b""]
            i = r.randrange(len(lines))
            op = r.randrange(7)
            if op == 0:
                del lines[i]
            elif op == 1:
                lines.insert(i, lines[r.randrange(len(lines))])
            elif op == 2:
                lines[i:i] = lines[i:i + r.randrange(1, 30)] * r.choice((2, 50))
            elif op == 3 and b"=" in lines[i]:
                k, _, _ = lines[i].partition(b"=")
                lines[i] = k + b"=" + r.choice(INTERESTING_BYTES)
            elif op == 4 and b":" in lines[i]:
                k, _, _ = lines[i].partition(b":")
                lines[i] = k + b": " + r.choice(INTERESTING_BYTES)
            elif op == 5:
                lines.insert(i, r.choice((b"[request]", b"[]", b"[ft_instance_hyperparameter]", b"key",
                                          b"parameters { key: \"x\" value: { string_value: \"1\" } }",
                                          b"input [ { name: \"a\" data_type: TYPE_FP32 dims: [ -1 ] } ]",
                                          b"max_batch_size: ${triton_max_batch_size}", b"dynamic_batching { }",
                                          b"instance_group [ { count: 99999999999 kind: KIND_GPU } ]",
                                          b"a " + b"{ " * 500, b"ensemble_scheduling { step [ ] }")))
            else:
                lines[i] = self.bytes_(lines[i])
        return b"\n".join(lines)

    # -- zip checkpoints ----------------------------------------------------------------------------------

    def zip_archive(self, data: bytes) -> bytes | None:
        r = self.rng
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as zf:
                entries = [(i.filename, zf.read(i)) for i in zf.infolist()]
        except (zipfile.BadZipFile, OSError, ValueError, EOFError, KeyError):
            return None
        pkl = [i for i, (n, _) in enumerate(entries) if n.endswith("data.pkl")]
        for _ in range(r.choice((1, 1, 2))):
            op = r.randrange(9)
            if op <= 2 and pkl:
                i = pkl[0]
                entries[i] = (entries[i][0], self.bytes_(entries[i][1]))
            elif op == 3 and pkl:
                i = pkl[0]
                entries[i] = (entries[i][0], r.choice(_crafted_pickles()))
            elif op == 4:
                entries.append(r.choice(entries))
            elif op == 5:
                r.shuffle(entries)
            elif op == 6 and entries:
                del entries[r.randrange(len(entries))]
            elif op == 7:
                i = r.randrange(len(entries))
                name = entries[i][0]
                entries[i] = (r.choice((name.replace("/", "/../", 1), "other/" + name.split("/", 1)[-1],
                                        name.upper(), "/" + name, name + "\x00")), entries[i][1])
            else:
                for j, (n, _) in enumerate(entries):
                    if n.endswith(("/version", "/byteorder", "/.data/serialization_id")):
                        entries[j] = (n, r.choice((b"3\n", b"99", b"big", b"", b"9" * 5000, b"\xff")))
        out = io.BytesIO()
        method = r.choice((zipfile.ZIP_STORED, zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED))
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # duplicate names are what we want here
            with zipfile.ZipFile(out, "w", compression=method) as zf:
                for name, payload in entries:
                    zf.writestr(name, payload)
        return out.getvalue()

    def legacy_pickle(self, data: bytes) -> bytes:
        """Legacy torch file: magic pickle, protocol pickle, sys_info pickle, object pickle, keys, storages."""
        r = self.rng
        if r.random() < 0.3:
            head = data[:len(data) // 3]
            return head + r.choice(_crafted_pickles())
        return self.bytes_(data)

    # -- safetensors --------------------------------------------------------------------------------------

    def safetensors(self, data: bytes) -> bytes:
        r = self.rng
        if len(data) >= 8:
            n = struct.unpack("<Q", data[:8])[0]
            header = data[8:8 + n]
            body = data[8 + n:]
            op = r.randrange(4)
            if op <= 1:
                new = self.json_text(header)
                if new is not None:
                    return struct.pack("<Q", len(new)) + new + body
            elif op == 2:
                lie = r.choice((0, 1, n + 1, n - 1, 2**63, 2**64 - 1, 100 * 2**20, len(data)))
                return struct.pack("<Q", lie) + data[8:]
        return self.bytes_(data)


def mutate(target: str, rng: random.Random, seeds: list[Files]) -> Files:
    """One mutated input: a seed, with one of its files mutated by a format-appropriate strategy."""
    m = Mutator(rng, seeds)
    files = dict(rng.choice(seeds))
    if target == "manifest":
        name = "driftguard.yaml"
    elif target == "approvals":
        name = rng.choice(sorted(k for k in files if k.startswith("approvals/")))
    elif target == "check-artifacts":
        name = rng.choice(sorted(k for k in files if k != "driftguard.yaml" and not k.startswith("approvals/")))
    elif target == "hf-model":
        name = rng.choice(sorted(files))
    else:
        name = next(iter(files))
    data = files[name]
    choice = rng.random()
    new: bytes | None = None
    if target in ("onnx",):
        new = m.bytes_(data)
    elif target == "safetensors":
        new = m.safetensors(data)
    elif target in ("torch", "lightning", "training-args"):
        new = m.zip_archive(data) if choice < 0.75 else None
        if new is None:
            new = m.legacy_pickle(data) if data.startswith(b"\x80\x02") else m.bytes_(data)
    elif choice < 0.45:
        if name.endswith(".json"):
            new = m.json_text(data)
        elif name.endswith((".yaml", ".yml")):
            new = m.yaml_text(data)
        else:
            new = m.lines(data)
    if new is None:
        new = m.bytes_(data) if rng.random() < 0.8 else m.lines(data)
    files[name] = new
    if target == "approvals" and rng.random() < 0.2:  # a second approval: duplicate ids, conflicting pins
        files[f"approvals/extra{rng.randrange(3)}.yaml"] = m.bytes_(files[name]) if rng.random() < 0.5 else data
    return files


# ---------------------------------------------------------------------------------------------------------
# running one input in a fresh fork
# ---------------------------------------------------------------------------------------------------------

class _Hang(BaseException):
    """Raised by the alarm; a BaseException so that a reader's ``except Exception`` cannot swallow it."""


def _on_alarm(signum: int, frame: Any) -> None:
    raise _Hang("alarm: input ran past the hang limit")


def _status(field_name: str) -> int:
    """A /proc/self/status field in KiB."""
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(field_name + ":"):
                return int(line.split()[1])
    return 0


#: ``--limit NAME=N``: fuzz with raised (or lowered) reader limits, as a user with a genuine big file would.
LIMIT_OVERRIDES: dict[str, str] = {}


def run_input(target: str, folder: Path, files: Files) -> None:
    """What one input does: the library call, in this process."""
    from driftguard import api
    from driftguard.readers.limits import DEFAULT

    if target in CHECK_TARGETS:
        api.check(folder / "driftguard.yaml", today=TODAY, limit_overrides=LIMIT_OVERRIDES)
    elif target == "hf-model":
        api.extract(folder, kind=target, limits=DEFAULT.with_overrides(LIMIT_OVERRIDES))
    else:
        api.extract(folder / next(iter(files)), kind=target, limits=DEFAULT.with_overrides(LIMIT_OVERRIDES))


def _child(target: str, folder: Path, files: Files, hang_s: int) -> None:
    from driftguard.errors import DriftguardError

    rss0 = _status("VmRSS")
    size = _status("VmSize") * 1024
    resource.setrlimit(resource.RLIMIT_AS, (size + 4 * 1024**3, resource.RLIM_INFINITY))
    signal.signal(signal.SIGALRM, _on_alarm)
    signal.alarm(hang_s)
    result: dict[str, Any] = {}
    t0 = time.perf_counter()
    try:
        run_input(target, folder, files)
        result["outcome"] = "ok"
    except DriftguardError as exc:
        result["outcome"] = "error"
        result["message"] = str(exc)[:300]
    except _Hang as exc:
        result.update(outcome="hang", traceback=traceback.format_exc(), signature=signature(exc))
    except MemoryError as exc:
        result.update(outcome="memory", traceback=traceback.format_exc(), signature=signature(exc))
    except BaseException as exc:  # anything else is the bug we are looking for
        result.update(outcome="crash", traceback=traceback.format_exc(), signature=signature(exc))
    signal.alarm(0)
    result["wall"] = time.perf_counter() - t0
    result["growth_mib"] = (_status("VmHWM") - rss0) / 1024
    (folder / ".result.json").write_text(json.dumps(result))


def write_files(folder: Path, files: Files) -> None:
    if folder.exists():
        shutil.rmtree(folder)
    for name, data in files.items():
        p = folder / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)


def signature(exc: BaseException) -> str:
    """The root cause's type and innermost driftguard frame (through ``RuleCrashed`` and other wrappers, to the
    exception they were raised from): one group per bug, not per input."""
    names = [type(exc).__name__]
    while exc.__cause__ is not None or (exc.__context__ is not None and not exc.__suppress_context__):
        inner = exc.__cause__ or exc.__context__
        assert inner is not None
        exc = inner
        names.append(type(exc).__name__)
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if "/driftguard/" in f.filename]
    last = frames[-1] if frames else (traceback.extract_tb(exc.__traceback__) or [None])[-1]
    where = f"{Path(last.filename).relative_to(ROOT) if last.filename.startswith(str(ROOT)) else last.filename}" \
        f":{last.lineno} in {last.name}" if last is not None else "?"
    return f"{' <- '.join(names)} @ {where}"


@dataclass
class Stats:
    target: str
    runs: int = 0
    errors: int = 0
    ok: int = 0
    crashes: int = 0
    hangs: int = 0
    slow: int = 0
    memory: int = 0
    times: list[float] = field(default_factory=list)
    groups: dict[str, dict[str, Any]] = field(default_factory=dict)
    max_growth_mib: float = 0.0

    def summary(self) -> dict[str, Any]:
        return {
            "target": self.target, "inputs": self.runs, "driftguard_error": self.errors, "ok": self.ok,
            "crashes": self.crashes, "hangs": self.hangs, "slow": self.slow, "memory": self.memory,
            "median_s": round(statistics.median(self.times), 5) if self.times else None,
            "max_s": round(max(self.times), 3) if self.times else None,
            "max_growth_mib": round(self.max_growth_mib, 1),
            "groups": {k: {kk: vv for kk, vv in v.items() if kk != "traceback"} for k, v in self.groups.items()},
        }

    @property
    def bad(self) -> bool:
        return bool(self.crashes or self.hangs or self.slow or self.memory)


def _record(stats: Stats, i: int, files: Files, res: dict[str, Any], out: Path) -> None:
    stats.runs += 1
    outcome = res["outcome"]
    wall = float(res.get("wall", 0.0))
    growth = float(res.get("growth_mib", 0.0))
    stats.times.append(wall)
    stats.max_growth_mib = max(stats.max_growth_mib, growth)
    kinds: list[str] = []
    if outcome == "error":
        stats.errors += 1
    elif outcome == "ok":
        stats.ok += 1
    elif outcome == "crash":
        stats.crashes += 1
        kinds.append("crash")
    elif outcome == "hang":
        stats.hangs += 1
        kinds.append("hang")
    if outcome == "memory" or growth > MEMORY_MIB:
        stats.memory += 1
        kinds.append("memory")
    if wall > SLOW_S and outcome != "hang":
        stats.slow += 1
        kinds.append("slow")
    for kind in kinds:
        tb = res.get("traceback") or f"{kind}: wall {wall:.2f} s, growth {growth:.0f} MiB ({outcome})"
        sig = f"{kind}: {res.get('signature') or outcome}"
        group = stats.groups.setdefault(sig, {"count": 0, "inputs": [], "saved": [], "traceback": tb})
        group["count"] += 1
        group["inputs"].append(i)
        if len(group["saved"]) < SAVE_PER_SIGNATURE:
            group["saved"].append(str(save_input(out / stats.target, f"{kind}-{i}", files, stats.target)))


def save_input(folder: Path, stem: str, files: Files, target: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    if target in FOLDER_TARGETS:
        dest = folder / stem
        write_files(dest, files)
        return dest
    name = next(iter(files))
    ext = "".join(Path(name).suffixes) or ".bin"
    dest = folder / f"{target}-{stem}{ext}"
    dest.write_bytes(files[name])
    return dest


def load_seeds(target: str, cache: Path) -> list[Files]:
    if target in CHECK_TARGETS:
        return check_seeds(target)
    if target == "hf-model":
        return _hf_model_folders()
    if target in BINARY_TARGETS:
        return binary_seeds(target, cache)
    seeds = text_seeds(target)
    if not seeds:
        raise SystemExit(f"no seeds for {target}")
    return seeds


def warm_up(target: str, seeds: list[Files], work: Path) -> None:
    """Import every module the target needs and fill its caches once, before any fork."""
    from driftguard import extractors
    from driftguard.errors import DriftguardError

    for module in extractors.EXTRACTORS.values():
        __import__(module)
    import driftguard.approvals
    import driftguard.manifest  # noqa: F401

    if target == "onnx":
        import onnx  # noqa: F401
    import yaml  # noqa: F401

    for files in seeds[:3]:
        folder = work / "warm"
        write_files(folder, files)
        try:
            run_input(target, folder, files)
        except DriftguardError:
            pass
        except Exception as exc:
            print(f"note: seed of {target} fails unmutated: {type(exc).__name__}: {exc}", file=sys.stderr)


def fuzz(target: str, runs: int, seed: int, jobs: int, out: Path, hang_s: int, only: list[int] | None,
         progress: Callable[[Stats], None] | None = None) -> Stats:
    work = out / "work" / target
    shutil.rmtree(work, ignore_errors=True)
    seeds = load_seeds(target, out)
    warm_up(target, seeds, work)
    stats = Stats(target)
    indices = iter(only if only is not None else range(runs))
    running: dict[int, tuple[int, int, Path, Files, float, int]] = {}  # read fd -> (pid, i, folder, files, t0, slot)
    free_slots = list(range(jobs))
    kill_after = hang_s + 10
    exhausted = False
    last_report = time.monotonic()
    while True:
        while free_slots and not exhausted:
            i = next(indices, None)
            if i is None:
                exhausted = True
                break
            slot = free_slots.pop()
            rng = random.Random(f"{seed}/{target}/{i}")
            files = mutate(target, rng, seeds)
            folder = work / f"slot{slot}"
            write_files(folder, files)
            rfd, wfd = os.pipe()
            pid = os.fork()
            if pid == 0:
                os.close(rfd)
                code = 0
                try:
                    _child(target, folder, files, hang_s)
                except BaseException:
                    code = 70
                os._exit(code)
            os.close(wfd)
            running[rfd] = (pid, i, folder, files, time.monotonic(), slot)
        if not running:
            break
        now = time.monotonic()
        timeout = max(0.0, min(t0 + kill_after - now for (_, _, _, _, t0, _) in running.values()))
        ready, _, _ = select.select(list(running), [], [], timeout)
        now = time.monotonic()
        for fd in list(running):
            pid, i, folder, files, t0, slot = running[fd]
            if fd in ready:
                os.read(fd, 1)  # EOF: the child is gone
                _, status = os.waitpid(pid, 0)
            elif now - t0 >= kill_after:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                status = -1
            else:
                continue
            os.close(fd)
            del running[fd]
            free_slots.append(slot)
            res_path = folder / ".result.json"
            if status == -1:
                res = {"outcome": "hang", "wall": now - t0, "traceback": None}
            elif res_path.exists():
                res = json.loads(res_path.read_text())
                res_path.unlink()
            else:
                sig = os.WTERMSIG(status) if os.WIFSIGNALED(status) else None
                res = {"outcome": "crash", "wall": now - t0,
                       "traceback": f"child died: status {status} signal {sig} (no result written)"}
            _record(stats, i, files, res, out)
        if progress and time.monotonic() - last_report > 30:
            progress(stats)
            last_report = time.monotonic()
    shutil.rmtree(work, ignore_errors=True)
    write_report(stats, out)
    return stats


def write_report(stats: Stats, out: Path) -> None:
    folder = out / stats.target
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "summary.json").write_text(json.dumps(stats.summary(), indent=2, default=str) + "\n")
    with open(folder / "report.txt", "w") as fh:
        fh.write(f"{stats.target}: {json.dumps({k: v for k, v in stats.summary().items() if k != 'groups'})}\n")
        for sig, group in sorted(stats.groups.items()):
            fh.write(f"\n== {sig}\n   {group['count']} inputs, e.g. {group['inputs'][:10]}; saved: {group['saved']}\n")
            fh.write(group["traceback"] or "")
            fh.write("\n")


def _line(stats: Stats) -> str:
    s = stats.summary()
    return (f"{s['target']:<14} inputs {s['inputs']:>6}  exit2 {s['driftguard_error']:>6}  ok {s['ok']:>6}  "
            f"crash {s['crashes']:>4}  hang {s['hangs']:>3}  slow {s['slow']:>3}  memory {s['memory']:>3}  "
            f"median {s['median_s']} s  max {s['max_s']} s  peak growth {s['max_growth_mib']} MiB")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--target", action="append", help="a target, repeatable; 'all' for every target")
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--jobs", type=int, default=max(1, min(2, os.cpu_count() or 1)))
    parser.add_argument("--out", type=Path, default=Path("/tmp/driftguard-fuzz"))
    parser.add_argument("--hang", type=int, default=20, help="seconds before an input counts as a hang")
    parser.add_argument("--only", type=int, action="append", help="run only input number I (repeatable)")
    parser.add_argument("--limit", action="append", default=[], metavar="NAME=VALUE",
                        help="run every input with this reader limit (e.g. depth=100000), as --limit does")
    parser.add_argument("--list", action="store_true", help="list the targets and their seed counts")
    args = parser.parse_args(argv)
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 5000))  # for the crafted deep pickles only
    LIMIT_OVERRIDES.update(dict(item.split("=", 1) for item in args.limit))
    if args.list:
        for t in TARGETS:
            print(t, len(load_seeds(t, args.out)))
        return 0
    targets = list(TARGETS) if not args.target or "all" in args.target else args.target
    unknown = [t for t in targets if t not in TARGETS]
    if unknown:
        parser.error(f"unknown target(s) {unknown}; targets: {', '.join(TARGETS)}")
    _crafted_pickles()  # built once, here: pickling the 900-deep list needs the raised recursion limit
    sys.setrecursionlimit(1000)  # children run the library with the default limit, as the CLI does
    bad = False
    for target in targets:
        start = time.monotonic()
        stats = fuzz(target, args.runs, args.seed, args.jobs, args.out, args.hang, args.only,
                     progress=lambda s: print("  ... " + _line(s), flush=True))
        print(_line(stats) + f"  ({time.monotonic() - start:.0f} s)", flush=True)
        for sig, group in sorted(stats.groups.items()):
            print(f"    {group['count']:>5} x {sig}  (saved: {', '.join(group['saved'][:1])})", flush=True)
        bad |= stats.bad
    print(f"reports under {args.out}/<target>/report.txt")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
