"""``driftguard init``: find the artifacts under a folder, tell the training side from the deployment side and
one model from another, and write a commented manifest for them.

The manifest is built as data and written with ``yaml.safe_dump`` (a folder named ``deploy #2`` or a model
named ``a: b`` stay what they are); comments are inserted between the dumped lines afterwards and the result is
read back and compared with the data before it is returned, so a comment can never change what the file says.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from driftguard import extractors
from driftguard.errors import DriftguardError, ExtractionError, UsageError

#: Folders ``init`` never looks into.
_SKIP_DIRS = frozenset({".git", ".venv", "venv", "node_modules", "__pycache__", "approvals", ".tox"})
#: File names worth sniffing during discovery (anything else is skipped unread).
_DISCOVER_SUFFIXES = (".json", ".yaml", ".yml", ".pbtxt", ".onnx", ".safetensors", ".ckpt", ".pt", ".pth", ".bin",
                      ".ini")
_DEPLOY_HINTS = ("deploy", "serv", "model_repository", "triton", "inference", "prod")
#: Field names that make a mapping look like sampling parameters (when no extractor claims the file).
_SAMPLING_HINTS = frozenset({"temperature", "top_p", "top_k", "max_tokens", "max_new_tokens", "repetition_penalty",
                             "sampling_params", "sampling_parameters", "parameters"})


@dataclass(frozen=True)
class Found:
    """One file ``init`` looked at: where it goes (``model``, ``side``, ``kind``) or why it was skipped.

    ``choices``: the kinds the file could be when its engine cannot be seen from it (``kind`` is the guess).
    """

    path: str
    side: str = ""
    model: str = ""
    kind: str | None = None
    choices: tuple[str, ...] = ()
    skipped: str | None = None


def scan(folder: str | Path, model: str | None = None) -> list[Found]:
    """Every candidate file under ``folder`` (sorted), placed on a side of a model or skipped with a reason.

    Models: every Triton model folder (the folder of a ``config.pbtxt``) is one model, named after it; a file
    whose path names a model's folder goes to that model; the other files go to the only model when there is
    one (or to a model named ``model``, else after ``folder``) and are skipped, with the models named, when there
    are several. Sides: the side the kind declares (``KindInfo.role``); a kind that may be either goes to the
    deployment side under a folder named like deployment/serving/model_repository.
    """
    root = Path(folder)
    if not root.is_dir():
        raise UsageError("not a folder", str(root))
    default = model or root.resolve().name or "model"
    files: list[tuple[Path, str, str | None, str | None]] = []  # path, rel, kind, why not
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if any(part in _SKIP_DIRS or part.startswith(".") for part in rel.parts[:-1]) or not path.is_file():
            continue
        if path.suffix.lower() not in _DISCOVER_SUFFIXES or path.name == "driftguard.yaml":
            continue
        try:
            files.append((path, rel.as_posix(), extractors.detect(path), None))
        except UsageError:
            files.append((path, rel.as_posix(), None, "no extractor recognizes it"))
        except (ExtractionError, DriftguardError) as exc:
            files.append((path, rel.as_posix(), None, f"unreadable: {exc.message}"))
    requests = request_kinds()
    triton = {Path(r).parent: Path(r).parent.name for _, r, kind, _ in files if kind == "triton"}
    names = sorted(set(triton.values())) or [default]
    out: list[Found] = []
    for path, relpath, kind, why in files:
        if kind is None:
            looks = _looks_like_sampling(path)
            out.append(Found(relpath, skipped=(
                f"{why}; it looks like sampling parameters: name the engine that reads them "
                f"(kind: one of {', '.join(requests)})" if looks else why),
                choices=requests if looks else ()))
            continue
        owner = _owner(Path(relpath), triton, names)
        if owner is None:
            out.append(Found(relpath, kind=kind, skipped=f"belongs to none of the models it found ({', '.join(names)}) "
                                                     "by its path: add it to the right one by hand"))
            continue
        info = extractors.info(kind)
        lowered = str(Path(relpath).parent).lower()
        deploy = info.role == "deployment" or (info.role != "training" and any(h in lowered for h in _DEPLOY_HINTS))
        out.append(Found(relpath, "deployment" if deploy else "training", owner, kind,
                         requests if info.runtime and not info.engine_shown else ()))
    return out


def request_kinds() -> tuple[str, ...]:
    """What a request body or sampling-parameter file may be read as: the serving engines' kinds
    (``KindInfo.engine`` set), those whose files show their engine first, then the shapes every engine speaks
    (``KindInfo.engine_shown`` False: the OpenAI body)."""
    engines = [extractors.info(k) for k in extractors.available_kinds() if extractors.info(k).engine is not None]
    return tuple([i.kind for i in engines if i.engine_shown] + [i.kind for i in engines if not i.engine_shown])


def _owner(rel: Path, triton: dict[Path, str], names: Sequence[str]) -> str | None:
    for folder, name in triton.items():
        if folder == rel.parent or folder in rel.parents:
            return name
    hits = [n for n in names if n in rel.parts[:-1]]
    if len(hits) == 1:
        return hits[0]
    return names[0] if len(names) == 1 else None


def _looks_like_sampling(path: Path) -> bool:
    from driftguard.readers.documents import sniff
    from driftguard.readers.files import head

    try:
        data = sniff(path, head(path))
    except (DriftguardError, OSError, ValueError):
        return False
    return isinstance(data, dict) and bool(_SAMPLING_HINTS & {str(k) for k in data})


def discover(folder: str | Path) -> dict[str, list[tuple[str, str]]]:
    """Artifacts under ``folder`` by side, every model together: ``{"training": [(kind, relpath)], ...}``."""
    out: dict[str, list[tuple[str, str]]] = {"training": [], "deployment": []}
    for f in scan(folder):
        if f.skipped is None and f.kind is not None:
            out[f.side].append((f.kind, f.path))
    return out


_HEADER = """\
# driftguard manifest: `driftguard check` compares each model's training side with its deployment side.
# Written by `driftguard init` from what each file looked like: check every `kind:` (`driftguard extract --help`
# lists them), especially for request bodies, whose engine the file does not show. Paths are relative to this file.
# Schema: `driftguard schema manifest`.
"""

_FOOTER = """\
# Rule options for every model (a model may have its own `rules:` too), e.g.
#   ignore_keys: [serving.*]                     # canonical keys (globs) never compared
#   tolerances: [{key: generation.temperature, abs: 0.01}]
#   severity: {DG103: error}                     # error | warning | info | off
# Approvals: one YAML file per accepted difference (`driftguard approve MODEL KEY ...`).
"""


def manifest_data(found: Sequence[Found]) -> dict[str, Any]:
    """The manifest ``init`` writes, as data."""
    models: dict[str, dict[str, list[dict[str, str]]]] = {}
    for f in found:
        if f.skipped is None and f.kind is not None:
            sides = models.setdefault(f.model, {"training": [], "deployment": []})
            sides[f.side].append({"path": f.path, "kind": f.kind})
    return {
        "version": 1,
        "models": models,
        "approvals": "approvals",
        "approvers": [],
        "approval_policy": {"max_horizon_days": 365, "warn_expiring_days": 30, "fail_on_stale": False},
    }


def init_manifest(folder: str | Path, model: str | None = None) -> str:
    """A commented ``driftguard.yaml`` for the artifacts ``scan`` finds under ``folder``."""
    return render(scan(folder, model))


def render(found: Sequence[Found]) -> str:
    """The manifest text: ``manifest_data`` through ``yaml.safe_dump``, with comments added between lines."""
    import yaml

    data = manifest_data(found)
    if not data["models"]:
        data["models"] = {"CHANGE-ME": {"training": [], "deployment": []}}
    dumped = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=1 << 16)
    placed = [f for f in found if f.skipped is None]
    order = [f for name in data["models"] for side in ("training", "deployment") for f in placed
             if f.model == name and f.side == side]
    lines: list[str] = []
    entries = iter(order)
    for line in dumped.splitlines():
        stripped = line.lstrip()
        indent = " " * (len(line) - len(stripped))
        if stripped.startswith("- path: "):
            f = next(entries)
            if f.choices:
                lines.append(f"{indent}# {f.kind}: a guess. The engine that serves this file cannot be seen from "
                             f"it: one of {', '.join(f.choices)}; set the one that reads it.")
        lines.append(line)
        if stripped in ("training: []", "deployment: []"):
            side = stripped.split(":")[0]
            lines.append(f"{indent}# nothing found for the {side} side: add at least one artifact")
    skipped = [f for f in found if f.skipped is not None]
    text = _HEADER + "\n".join(lines) + "\n" + _FOOTER
    if skipped:
        text += "# Not added (say which model and side each belongs to, and its kind, if it is an artifact):\n"
        text += "".join(f"#   {_comment(f.path)}: {_comment(f.skipped or '')}\n" for f in skipped)
    if yaml.safe_load(text) != data:  # the comments never change what the file says
        raise AssertionError("init: the commented manifest does not read back as the data it was made from")
    return text


def _comment(text: str) -> str:
    """Text safe inside a one-line YAML comment."""
    return " ".join(text.split())
