"""The README's "Extending driftguard" example is true: its rule module and its entry point, installed as a
distribution on the path the way pip installs one, are explained, run by ``check`` with the finding the README
quotes, take their option from the manifest, and refuse a misspelled option with its line."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _block(name: str) -> str:
    """The fenced block right after ``<!-- extending-example: NAME -->``."""
    m = re.search(rf"<!-- extending-example: {re.escape(name)} -->\n```\w*\n(.*?)```", README, re.S)
    assert m, f"README lost its extending example {name}"
    return m.group(1)


@pytest.fixture
def site(tmp_path: Path) -> Path:
    """``acme_driftguard`` as pip would install it: the package, and a dist-info whose entry points are the
    README's ``[project.entry-points."driftguard.rules"]`` table."""
    site = tmp_path / "site"
    pkg = site / "acme_driftguard"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "rules.py").write_text(_block("acme_driftguard/rules.py"))
    toml = _block("pyproject.toml")
    group = re.search(r'\[project\.entry-points\."([^"]+)"\]', toml)
    assert group is not None
    entries = [line.replace('"', "") for line in toml.splitlines()[1:] if "=" in line]
    info = site / "acme_driftguard-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-driftguard\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(f"[{group.group(1)}]\n" + "\n".join(entries) + "\n")
    return site


def _project(folder: Path, options: str) -> Path:
    folder.mkdir(exist_ok=True)
    (folder / "generation_config.json").write_text('{"do_sample": true, "temperature": 0.7, "max_new_tokens": 512}')
    (folder / "request.json").write_text('{"temperature": 0.7, "max_tokens": 2048}')
    (folder / "driftguard.yaml").write_text(
        "version: 1\nmodels:\n  chat:\n    training:\n      - path: generation_config.json\n"
        "    deployment:\n      - path: request.json\n        kind: vllm\n" + options)
    return folder


def _run(site: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(site)}
    return subprocess.run([sys.executable, "-m", "driftguard", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=120)


def test_explain_prints_the_plug_in_rules_docstring(site: Path, tmp_path: Path) -> None:
    out = _run(site, tmp_path, "explain", "ACM101")
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("ACM101 acme.max-new-tokens-cap (default severity: error)\n")
    assert "Anti-pattern" in out.stdout


def test_check_runs_it_with_the_finding_the_readme_quotes(site: Path, tmp_path: Path) -> None:
    project = _project(tmp_path / "p", "")
    out = _run(site, project, "check")
    assert out.returncode == 1, out.stderr
    quoted = ("ACM101 generation.max_new_tokens: deployed max_new_tokens 2048 (request.json:1) is over the cap "
              "of 1024")
    assert quoted in " ".join(out.stdout.split())
    assert quoted.replace(" ", "") in README.replace("`", "").replace("\n", "").replace(" ", "")


def test_the_option_comes_from_the_manifest_and_a_typo_is_refused_with_its_line(site: Path, tmp_path: Path) -> None:
    raised = _run(site, _project(tmp_path / "raised", "rules:\n  options:\n    ACM101: {cap: 4096}\n"),
                  "check", "--format", "json")
    assert "ACM101" not in raised.stdout
    typo = _run(site, _project(tmp_path / "typo", "rules:\n  options:\n    ACM101: {cpa: 4096}\n"), "check")
    assert typo.returncode == 2
    assert typo.stderr.strip() == ("driftguard: error: driftguard.yaml:11: rules.options.ACM101: cpa: Extra inputs "
                                   "are not permitted")
