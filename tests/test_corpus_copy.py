"""tests/corpus is the corpus the tests read, in the repository: every file each MANIFEST.tsv lists is there,
nothing else is, and SOURCES.tsv names the source repository, commit and license of each."""

from __future__ import annotations

import csv
from pathlib import Path

CORPUS = Path(__file__).resolve().parent / "corpus"
COUNTS = {"finetune": 26, "hf": 42, "runtime": 25, "triton": 74, "local": 12, "scripts": 12, "launchers": 14,
          "runtime-configs": 18, "manifests": 16,
          "python": 39, "python-args": 2}


def rows(folder: str) -> list[dict[str, str]]:
    with (CORPUS / folder / "MANIFEST.tsv").open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


def test_each_folder_holds_exactly_what_its_manifest_lists() -> None:
    for folder, count in COUNTS.items():
        listed = sorted(r["saved_name"] for r in rows(folder))
        present = sorted(p.name for p in (CORPUS / folder).iterdir() if p.name != "MANIFEST.tsv")
        assert listed == present, folder
        assert len(listed) == count, folder


def test_sources_name_repository_commit_and_license_of_every_file() -> None:
    with (CORPUS / "SOURCES.tsv").open(newline="", encoding="utf-8") as fh:
        sources = {r["file"]: r for r in csv.DictReader(fh, delimiter="\t")}
    expected = {f"{folder}/{r['saved_name']}": r for folder in COUNTS for r in rows(folder)}
    assert sorted(sources) == sorted(expected)
    for name, row in sources.items():
        assert (row["repository"], row["path"], row["commit"]) == (
            expected[name]["repo"], expected[name]["path"], expected[name]["commit"])
        assert len(row["commit"]) == 40 and row["license"]
