"""docs/defaults.md ships the defaults' sources: generated from the engine and extractor modules' tables, up
to date, and every ``defaults.md §N`` citation in notes and messages names a section of it."""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from driftguard import extractors

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "docs" / "defaults.md"


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen_defaults_doc", ROOT / "scripts" / "gen_defaults_doc.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_page_is_what_the_script_writes_from_the_tables() -> None:
    res = subprocess.run([sys.executable, "scripts/gen_defaults_doc.py", "--check"], cwd=ROOT, capture_output=True,
                         text=True, timeout=60)
    assert res.returncode == 0, res.stderr + "\nrun: python scripts/gen_defaults_doc.py"


def test_check_fails_on_a_stale_page(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    script = _script()
    stale = tmp_path / "defaults.md"
    stale.write_text(PAGE.read_text().replace("`0.8`", "`0.7`"))
    monkeypatch.setattr(script, "PAGE", stale)
    assert script.main(["--check"]) == 1


def test_every_default_is_a_row_with_its_value_and_citation() -> None:
    page = PAGE.read_text()
    for kind in extractors.available_kinds():
        for key, default in extractors.info(kind).defaults.items():
            row = f"| `{kind}` | every artifact of the kind | `{key}` | `{json.dumps(default.value)}` | " \
                  f"{default.source.replace('|', chr(92) + '|')} |"
            assert row in page, row


def test_source_keys_name_upstream_files_and_commits() -> None:
    page = PAGE.read_text()
    assert "| **VLLM-SP** | vllm-project/vllm `vllm/sampling_params.py` @ `00388f6573ccfcffad607b8c9ecdf341a4669ceb`" \
        in page
    assert "copied, with attribution" in page


def test_every_cited_section_is_a_heading_of_the_page() -> None:
    headings = set(re.findall(r"^#{2,3} (\d+(?:\.\d+)?)\.? ", PAGE.read_text(), re.M))
    cited: set[str] = set()
    for path in (ROOT / "driftguard").rglob("*.py"):
        cited.update(re.findall(r"defaults\.md §(\d+(?:\.\d+)?)", path.read_text()))
    assert cited and cited <= headings, sorted(cited - headings)


def test_readme_points_at_the_shipped_page() -> None:
    readme = (ROOT / "README.md").read_text()
    assert "shared/reference" not in readme
    assert "docs/defaults.md" in readme
