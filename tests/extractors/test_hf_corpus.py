"""Every file of tests/corpus/hf: valid JSON extracts (exit 0), invalid JSON is one error line (exit 2)."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import pytest

from driftguard import api
from driftguard.errors import ExtractionError

CORPUS = Path(__file__).resolve().parents[1] / "corpus" / "hf"


def _rows() -> list[dict[str, str]]:
    with (CORPUS / "MANIFEST.tsv").open(newline="") as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


EXPECTED_KIND = {"generation_config.json": "hf-generation", "config.json": "hf-config",
                 "tokenizer_config.json": "hf-tokenizer", "adapter_config.json": "hf-config",
                 "quantize_config.json": "hf-config"}


@pytest.mark.parametrize("row", _rows(), ids=lambda r: r["saved_name"])
def test_library_extracts_every_file(row: dict[str, str]) -> None:
    path = CORPUS / row["saved_name"]
    if row["json_status"] != "valid_json":
        with pytest.raises(ExtractionError) as info:
            api.extract(str(path))
        assert info.value.line is not None
        return
    cfg = api.extract(str(path))
    assert cfg.kind == EXPECTED_KIND[row["kind"]]
    explicit = {v.origin.pointer or "": v for v in cfg.values.values() if v.explicit}
    assert explicit, "nothing extracted from the file"
    assert all(v.origin.path == str(path) and v.origin.line is not None for v in explicit.values())
    # Every top-level field the corpus MANIFEST lists with its value ("name=value") was read from the file.
    listed = [f.split("=", 1)[0] for f in row["features"].split(";") if "=" in f]
    missing = [n for n in listed if f"/{n}" not in explicit and not any(p.startswith(f"/{n}/") for p in explicit)]
    assert not missing, missing


def test_the_corpus_is_walked() -> None:
    rows = _rows()
    assert len(rows) == 42
    assert sorted(r["saved_name"] for r in rows) == sorted(p.name for p in CORPUS.glob("*.json"))
    assert {r["kind"] for r in rows} == set(EXPECTED_KIND)


def test_cli_on_a_few_files() -> None:
    names = ["HamZil__Llama-2-7b-hf__generation_config.json", "HamZil__Llama-2-7b-hf__tokenizer_config.json",
             "CoralReefFish__nb-whisper-small-beta__config.json",
             "Max-Lee-explore__MythTrans-llama31-8B__adapter_config.json",
             "Decentralised-AI__WizardCoder-15B-1.0-GPTQ__quantize_config.json"]
    proc = subprocess.run([sys.executable, "-m", "driftguard", "extract", "--format", "json",
                           *(str(CORPUS / n) for n in names)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr


def test_cli_invalid_json_is_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "generation_config.json"
    bad.write_text((CORPUS / "HamZil__Llama-2-7b-hf__generation_config.json").read_text()[:-3])
    proc = subprocess.run([sys.executable, "-m", "driftguard", "extract", str(bad)],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"driftguard: error: {bad}:")
    assert lines[0].split(f"{bad}:")[1].split(":")[0].isdigit()
