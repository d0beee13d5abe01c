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


def test_readme_workflows_are_valid(tmp_path: Path) -> None:
    workflows = [b for b in blocks("yaml") if b.startswith("# .github/workflows/")]
    assert len(workflows) == 2  # the action's, and the sharded matrix
    exe = shutil.which("check-jsonschema", path=str(Path(sys.executable).parent)) or "check-jsonschema"
    for i, workflow in enumerate(workflows):
        path = tmp_path / f"w{i}.yml"
        path.write_text(workflow, encoding="utf-8")
        proc = subprocess.run([exe, "--builtin-schema", "vendor.github-workflows", str(path)],
                              capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, proc.stdout + proc.stderr


def test_readme_matrix_workflow_runs_real_commands() -> None:
    matrix = next(b for b in blocks("yaml") if "matrix:" in b)
    runs = [s["run"] for job in yaml.safe_load(matrix)["jobs"].values() for s in job["steps"] if "run" in s]
    commands = [r for r in runs if r.startswith("driftguard ")]
    assert commands == ["driftguard check --shard ${{ matrix.shard }}/4 --format github --format "
                        "json=shard-${{ matrix.shard }}.json --no-step-summary",
                        "driftguard report shard-*.json --commit ${{ github.sha }} --format text --format "
                        "junit=driftguard-junit.xml"]
    from driftguard.cli import build_parser

    shard = commands[0].replace("${{ matrix.shard }}", "2").split()[1:]
    args = build_parser().parse_args(shard)
    assert (args.shard, args.format) == ("2/4", ["github", "json=shard-2.json"])
    args = build_parser().parse_args(["report", "shard-1.json", "shard-2.json", "--format", "text"])
    assert args.reports == ["shard-1.json", "shard-2.json"]


def test_readme_workflow_uses_the_actions_inputs() -> None:
    workflow = blocks("yaml")[0]
    data: dict[str, Any] = yaml.safe_load(workflow)
    step = next(s for s in data["jobs"]["gate"]["steps"] if "/driftguard@" in s.get("uses", ""))
    action = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))
    assert set(step["with"]) <= set(action["inputs"])
    table = README.read_text(encoding="utf-8").split("| input | default | what |", 1)[1].split("\n\n", 1)[0]
    assert re.findall(r"^\| `([a-z-]+)` \|", table, re.M) == list(action["inputs"])


def test_readme_pre_commit_hook_exists() -> None:
    config = next(b for b in blocks("yaml") if b.startswith("# .pre-commit-config.yaml"))
    (repo,) = yaml.safe_load(config)["repos"]
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    assert [h["id"] for h in repo["hooks"]] == [h["id"] for h in hooks]


def test_readme_pre_commit_dependencies_are_this_distributions_extras() -> None:
    """pre-commit runs `pip install . DEP...` in the hook's environment: each dependency the README shows must
    name this distribution (so pip takes the hook's own checkout, with the extras) and extras it has; the args
    are ones `driftguard check` takes."""
    import tomllib

    from driftguard.cli import build_parser

    config = next(b for b in blocks("yaml") if b.startswith("# .pre-commit-config.yaml"))
    (hook,) = yaml.safe_load(config)["repos"][0]["hooks"]
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    for dep in hook["additional_dependencies"]:
        name, _, extras = dep.partition("[")
        assert name == project["name"] and extras.endswith("]"), dep
        assert set(extras[:-1].split(",")) <= set(project["optional-dependencies"]), dep
    assert {"onnx"} <= {e for d in hook["additional_dependencies"] for e in d.partition("[")[2][:-1].split(",")}
    args = build_parser().parse_args(["check", *hook["args"], "some.json"])
    assert args.files == ["some.json"]


def test_root_approvals_are_the_examples() -> None:
    root, example = ROOT / "approvals", ROOT / "examples" / "summarizer" / "approvals"
    names = sorted(p.name for p in root.iterdir())
    assert names == sorted(p.name for p in example.iterdir()) != []
    for name in names:
        assert (root / name).read_bytes() == (example / name).read_bytes(), name
    manifest = yaml.safe_load((ROOT / "driftguard.yaml").read_text(encoding="utf-8"))
    assert manifest["approvals"] == "approvals"
