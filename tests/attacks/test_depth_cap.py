"""The depth cap holds for every reader: a document nested exactly ``MAX_DEPTH`` deep, with ``--limit
depth=MAX_DEPTH`` (the most it may be raised to), is extracted (exit 0) by every kind that reads a JSON/YAML
document or a checkpoint's pickle, and checked and rendered in every report format; one level deeper is the depth
limit's one line (exit 2). At 512, the old cap, every document reader here ended in a RecursionError (exit 3): the
values' walkers after the reader recurse, so the cap sits where all of them still fit the interpreter's stack.

The child runs every case through ``cli.run`` (what ``driftguard`` runs) in one process, so a crash shows as its
exit code 3, never as a pass."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from driftguard.readers.limits import MAX_DEPTH

CHILD = """
import json, sys
from driftguard.cli import run
print(json.dumps([run(argv) for argv in json.loads(sys.argv[1])]))
"""


def _nest(levels: int, leaf: Any = 1) -> Any:
    """``levels`` mappings, one inside the other, around ``leaf``."""
    value = leaf
    for _ in range(levels):
        value = {"a": value}
    return value


#: kind -> (file name, the document around a nested value ``x``: the document is the first level of the depth).
DOCUMENTS: dict[str, tuple[str, Callable[[Any], dict[str, Any]]]] = {
    "hf-config": ("config.json", lambda x: {"architectures": ["BertModel"], "model_type": "bert", "x": x}),
    "hf-generation": ("generation_config.json", lambda x: {"top_k": 5, "x": x}),
    "hf-tokenizer": ("tokenizer_config.json", lambda x: {"model_max_length": 5, "x": x}),
    "hf-preprocessor": ("preprocessor_config.json",
                        lambda x: {"do_resize": True, "image_processor_type": "X", "x": x}),
    "vllm": ("request.json", lambda x: {"prompt": "a", "max_tokens": 3, "x": x}),
    "openai": ("chat.json", lambda x: {"messages": [], "max_tokens": 3, "x": x}),
    "lmdeploy": ("gen.json", lambda x: {"top_k": 3, "x": x}),
    "tensorrt-llm": ("sampling.json", lambda x: {"top_k": 3, "x": x}),
    "axolotl": ("axolotl.yaml", lambda x: {"base_model": "m", "sequence_len": 5, "x": x}),
    "llamafactory": ("sft.yaml", lambda x: {"model_name_or_path": "m", "stage": "sft", "x": x}),
}


def _run(argvs: list[list[str]]) -> list[int]:
    out = subprocess.run([sys.executable, "-c", CHILD, json.dumps(argvs)], capture_output=True, text=True,
                         timeout=600, check=False)
    assert out.returncode == 0, out.stderr[-2000:]
    codes: list[int] = json.loads(out.stdout.strip().splitlines()[-1])
    return codes


def test_every_document_reader_at_the_cap_and_one_past_it(tmp_path: Path) -> None:
    argvs, expected = [], []
    for kind, (name, document) in DOCUMENTS.items():
        for depth, code in ((MAX_DEPTH, 0), (MAX_DEPTH + 1, 2)):
            folder = tmp_path / f"{kind}-{depth}"
            folder.mkdir()
            text = json.dumps(document(_nest(depth - 1)))  # the document and depth - 1 levels in it
            (folder / name).write_text(text)
            argvs.append(["extract", "--limit", f"depth={MAX_DEPTH}", "--format", "json", f"{kind}:{folder / name}"])
            expected.append(code)
    assert _run(argvs) == expected


def test_checkpoint_pickles_at_the_cap_and_one_past_it(tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    argvs = []
    for extra in (0, 1):  # the object tree exactly MAX_DEPTH deep, then one deeper
        pt, ckpt = tmp_path / f"model{extra}.pt", tmp_path / f"model{extra}.ckpt"
        torch.save({"w": torch.zeros(1), "x": _nest(MAX_DEPTH - 1 + extra)}, pt)
        torch.save({"state_dict": {"w": torch.zeros(1)}, "hyper_parameters": {"x": _nest(MAX_DEPTH - 2 + extra)}},
                   ckpt)
        argvs += [["extract", "--limit", f"depth={MAX_DEPTH}", "--format", "json", f"torch:{pt}"],
                  ["extract", "--limit", f"depth={MAX_DEPTH}", "--format", "json", f"lightning:{ckpt}"]]
    assert _run(argvs) == [0, 0, 2, 2]


def test_a_check_at_the_cap_renders_in_every_format(tmp_path: Path) -> None:
    """Both sides nested to the cap and differing at the bottom: normalization, comparison and every reporter walk
    the values."""
    (tmp_path / "generation_config.json").write_text(
        json.dumps({"top_k": 5, "temperature": 0.7, "do_sample": True, "x": _nest(MAX_DEPTH - 1, 1)}))
    (tmp_path / "request.json").write_text(
        json.dumps({"prompt": "a", "max_tokens": 3, "top_k": 7, "temperature": 0.7, "x": _nest(MAX_DEPTH - 1, 2)}))
    (tmp_path / "driftguard.yaml").write_text(
        "models:\n  m:\n    training:\n      - {path: generation_config.json, kind: hf-generation}\n"
        "    deployment:\n      - {path: request.json, kind: vllm}\n")
    argvs = [["check", "--config", str(tmp_path / "driftguard.yaml"), "--limit", f"depth={MAX_DEPTH}",
              "--no-step-summary", "--today", "2026-01-01", "--format", f"{fmt}={tmp_path / ('out.' + fmt)}"]
             for fmt in ("text", "json", "sarif", "markdown", "github", "junit")]
    assert _run(argvs) == [1] * 6  # top_k differs: drift, reported, in every format
