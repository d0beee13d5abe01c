"""``driftguard init``: find the artifacts under a folder, tell the training side from the deployment side,
and write a commented manifest for them."""

from __future__ import annotations

from pathlib import Path

from driftguard import extractors
from driftguard.errors import ExtractionError, UsageError

#: Folders ``init`` never looks into.
_SKIP_DIRS = frozenset({".git", ".venv", "venv", "node_modules", "__pycache__", "approvals", ".tox"})
#: File names worth sniffing during discovery (anything else is skipped unread).
_DISCOVER_SUFFIXES = (".json", ".yaml", ".yml", ".pbtxt", ".onnx", ".safetensors", ".ckpt", ".pt", ".pth", ".bin")
_DEPLOY_HINTS = ("deploy", "serv", "model_repository", "triton", "inference", "prod")


def discover(folder: str | Path) -> dict[str, list[tuple[str, str]]]:
    """Artifacts under ``folder`` by side: ``{"training": [(kind, relpath)], "deployment": [...]}``.

    Kinds come from ``extractors.detect`` (name, then content); files it cannot place are skipped. A file goes
    to the side its kind declares (``KindInfo.role``: Triton, ONNX and serving engines' files are deployment,
    checkpoints and training arguments training); a kind that may be either (HF files, safetensors) goes to
    the deployment side when it sits under a folder named like deployment/serving/model_repository.
    """
    root = Path(folder)
    if not root.is_dir():
        raise UsageError("not a folder", str(root))
    out: dict[str, list[tuple[str, str]]] = {"training": [], "deployment": []}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if any(part in _SKIP_DIRS or part.startswith(".") for part in rel.parts[:-1]) or not path.is_file():
            continue
        if path.suffix.lower() not in _DISCOVER_SUFFIXES or path.name == "driftguard.yaml":
            continue
        try:
            kind = extractors.detect(path)
        except (UsageError, ExtractionError):
            continue
        lowered = str(rel.parent).lower()
        role = extractors.info(kind).role
        deploy = role == "deployment" or (role != "training" and any(h in lowered for h in _DEPLOY_HINTS))
        out["deployment" if deploy else "training"].append((kind, rel.as_posix()))
    return out


def init_manifest(folder: str | Path, model: str | None = None) -> str:
    """A commented ``driftguard.yaml`` for the artifacts ``discover`` finds under ``folder``."""
    root = Path(folder)
    found = discover(root)
    name = model or root.resolve().name or "model"
    lines = [
        "# driftguard manifest: `driftguard check` compares each model's training side with its deployment side.",
        "# Paths are relative to this file. `kind:` names the extractor (`driftguard extract --help` lists them);",
        "# it was filled in from what each file looked like - check it, especially for serving-engine files.",
        "# Schema: `driftguard schema manifest`.",
        "version: 1",
        "models:",
        f"  {name}:",
    ]
    for side in ("training", "deployment"):
        lines.append(f"    {side}:")
        if not found[side]:
            lines.append(f"      # nothing found for the {side} side: add at least one artifact")
            lines.append("      - path: CHANGE-ME")
        for kind, rel in found[side]:
            lines.append(f"      - path: {rel}")
            lines.append(f"        kind: {kind}")
    lines += [
        "# Rule options for every model (a model may have its own `rules:` too).",
        "rules:",
        "  ignore: []        # canonical keys (globs) never compared, e.g. serving.*",
        "  tolerances: []    # e.g. - {key: generation.temperature, abs: 0.01}",
        "  severity: {}      # e.g. DG103: error",
        "# Approvals: one YAML file per accepted difference (`driftguard approve MODEL KEY ...`).",
        "approvals: approvals",
        "approvers: []       # who may approve; empty: anyone",
        "approval_policy:",
        "  max_horizon_days: 365",
        "  warn_expiring_days: 30",
        "  fail_on_stale: false",
    ]
    return "\n".join(lines) + "\n"
