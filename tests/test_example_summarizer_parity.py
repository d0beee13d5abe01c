"""examples/summarizer under parity, end to end through the CLI: build.py makes a tiny stand-in language model
(random weights, seeded) and 16 golden articles of 601-1,001 tokens; `driftguard parity` runs it as evaluated
(top_p 0.92, the last 1,024 tokens) and as served (top_p 0.85, the last 512), and attribution names the
truncation first. Greedy decoding with the same length on both sides gives identical summaries."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.dates import EXAMPLES_TODAY_ISO

# Builds or runs real models (or starts a Ray cluster): deselected unless --slow (CI runs them).
pytestmark = pytest.mark.slow

for _extra in ("numpy", "torch", "transformers", "tokenizers"):
    pytest.importorskip(_extra)

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "summarizer"
TODAY = EXAMPLES_TODAY_ISO  # the shipped approvals are judged on a fixed day so the test does not age


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, *args], cwd=cwd, capture_output=True, text=True, timeout=600)


def parity(example: Path, *extra: str) -> tuple[int, dict[str, Any]]:
    proc = run("-m", "driftguard", *(extra or ("parity",)), "--today", TODAY, "--format", "json", "--device", "cpu",
               cwd=example)
    assert proc.returncode in (0, 1), proc.stderr
    return proc.returncode, json.loads(proc.stdout)


def findings(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {f["key"]: f for f in report["models"][0]["findings"]}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the example (without any local artifacts/) with its parity artifacts built by build.py."""
    dst = tmp_path_factory.mktemp("ex") / "summarizer"
    shutil.copytree(EXAMPLE, dst, ignore=shutil.ignore_patterns("artifacts", "__pycache__"))
    proc = run(str(dst / "build.py"), cwd=dst)
    assert proc.returncode == 0, proc.stderr
    assert (dst / "artifacts" / "tiny-summarizer" / "model.safetensors").is_file(), proc.stdout
    return dst


@pytest.fixture()
def example(built: Path, tmp_path: Path) -> Path:
    dst = tmp_path / "summarizer"
    shutil.copytree(built, dst)
    return dst


def test_golden_articles_are_longer_than_the_deployed_truncation(built: Path) -> None:
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(built / "artifacts" / "tiny-summarizer"), local_files_only=True)
    records = [json.loads(line) for line in (built / "artifacts" / "golden.jsonl").read_text().splitlines()]
    lengths = [len(tok(r["text"])["input_ids"]) for r in records]
    assert len(records) == 16 and min(lengths) > 512 and max(lengths) <= 1024, lengths
    assert tok.unk_token_id not in {i for r in records for i in tok(r["text"])["input_ids"]}


def test_the_incident_diverges_and_attribution_names_the_truncation_first(built: Path) -> None:
    code, report = parity(built)
    assert code == 1
    found = findings(report)
    assert set(found) == {"parity.sequences.exact_match", "parity.sequences.token_agreement"}, found
    agreement = found["parity.sequences.token_agreement"]
    assert agreement["rule"] == "DG501" and agreement["status"] == "unapproved"
    evidence = {e["name"]: e for e in agreement["evidence"]}
    assert evidence["token_agreement"]["value"] < 0.5 and evidence["token_agreement"]["bound"] == 0.99
    assert evidence["exact_match"]["value"] < 1.0 and evidence["exact_match"]["bound"] == 1.0
    assert "first divergence" in agreement["message"]
    attribution = agreement["delta"]["attribution"]
    assert attribution["inputs"] == 16 and attribution["diverging"] > 0
    # Same weights on both sides: the artifact under the other config never explains it, the config does.
    assert attribution["deployed_artifact_training_config"] == 0
    assert attribution["training_artifact_deployed_config"] == attribution["diverging"]
    keys = {k["key"]: k for k in attribution["keys"]}
    # min_p and the bfloat16 compute are set on the serving side only: reverted too (removed)
    assert set(keys) == {"preprocessing.max_length", "generation.top_p", "generation.min_p", "precision.compute"}
    first, top_p = attribution["keys"][0], keys["generation.top_p"]
    assert first["key"] == "preprocessing.max_length" and (first["training"], first["deployed"]) == (1024, 512)
    assert first["restores"] > top_p["restores"] >= 0
    assert re.search(r"reverting preprocessing\.max_length 512 -> 1024 restores [1-9]\d* of \d+; ",
                     agreement["message"])
    assert "reverting generation.top_p 0.85 -> 0.92 restores" in agreement["message"]
    # what neither restores alone, both together do (the pair, or the group of all where the pair leaves some)
    assert attribution["joint"]
    assert all({"preprocessing.max_length", "generation.top_p"} <= set(j["keys"]) for j in attribution["joint"])
    assert attribution["reruns"] <= attribution["budget"] == len(keys) + 3


def _greedy(example: Path, length: int) -> None:
    gen = example / "training" / "generation_config.json"
    gen.write_text(gen.read_text().replace('"do_sample": true', '"do_sample": false'))
    params = example / "deployment" / "sampling-params.yaml"
    text = params.read_text().replace("temperature: 0.7", "temperature: 0.0")  # vLLM: temperature 0 is greedy
    params.write_text(text.replace("truncate_prompt_tokens: 512 ", f"truncate_prompt_tokens: {length} "))


def test_greedy_decoding_with_the_same_length_gives_identical_summaries(example: Path) -> None:
    _greedy(example, 1024)
    code, report = parity(example)
    assert code == 0, report
    found = findings(report)
    assert set(found) == {"parity.sequences"}, found
    assert found["parity.sequences"]["rule"] == "DG500"
    evidence = {e["name"]: e["value"] for e in found["parity.sequences"]["evidence"]}
    assert evidence == {"exact_match": 1.0, "token_agreement": 1.0}


def test_greedy_decoding_still_diverges_on_the_truncation_alone(example: Path) -> None:
    _greedy(example, 512)
    code, report = parity(example)
    assert code == 1
    attribution = findings(report)["parity.sequences.token_agreement"]["delta"]["attribution"]
    key, *others = attribution["keys"]
    assert key["key"] == "preprocessing.max_length" and key["restores"] == key["of"] == attribution["diverging"]
    assert "generation.top_p" not in {k["key"] for k in others}  # greedy: top_p has no effect, is not reverted


def test_check_with_parity_is_one_report(built: Path) -> None:
    code, report = parity(built, "check", "--parity")
    assert code == 1
    status = {k: f["status"] for k, f in findings(report).items()}
    assert status == {"generation.top_p": "approved", "preprocessing.max_length": "unapproved",
                      "parity.sequences.exact_match": "unapproved", "parity.sequences.token_agreement": "unapproved"}
