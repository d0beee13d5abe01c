"""The README's CI section is real: its workflow is valid for GitHub and uses only the action's inputs, its
pre-commit hook exists, and the root manifest's approvals/ are the example's."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"


def blocks(lang: str) -> list[str]:
    section = README.read_text(encoding="utf-8").split("## In pull requests", 1)[1].split("\n## ", 1)[0]
    return re.findall(rf"^```{lang}\n(.*?)^```", section, re.M | re.S)


def test_readme_workflow_is_valid_and_uses_the_actions_inputs(tmp_path: Path) -> None:
    workflow, _ = blocks("yaml")
    path = tmp_path / "driftguard.yml"
    path.write_text(workflow, encoding="utf-8")
    exe = shutil.which("check-jsonschema", path=str(Path(sys.executable).parent)) or "check-jsonschema"
    proc = subprocess.run([exe, "--builtin-schema", "vendor.github-workflows", str(path)], capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    data: dict[str, Any] = yaml.safe_load(workflow)
    step = next(s for s in data["jobs"]["gate"]["steps"] if "/driftguard@" in s.get("uses", ""))
    action = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))
    assert set(step["with"]) <= set(action["inputs"])
    table = README.read_text(encoding="utf-8").split("| input | default | what |", 1)[1].split("\n\n", 1)[0]
    assert re.findall(r"^\| `([a-z-]+)` \|", table, re.M) == list(action["inputs"])


def test_readme_pre_commit_hook_exists() -> None:
    _, config = blocks("yaml")
    (repo,) = yaml.safe_load(config)["repos"]
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    assert [h["id"] for h in repo["hooks"]] == [h["id"] for h in hooks]


def test_root_approvals_are_the_examples() -> None:
    root, example = ROOT / "approvals", ROOT / "examples" / "summarizer" / "approvals"
    names = sorted(p.name for p in root.iterdir())
    assert names == sorted(p.name for p in example.iterdir()) != []
    for name in names:
        assert (root / name).read_bytes() == (example / name).read_bytes(), name
    manifest = yaml.safe_load((ROOT / "driftguard.yaml").read_text(encoding="utf-8"))
    assert manifest["approvals"] == "approvals"
