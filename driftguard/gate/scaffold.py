"""``driftguard init``: find the artifacts under a folder, tell the training side from the deployment side and
one model from another, and write a commented manifest for them.

The manifest is built as data and written with ``yaml.safe_dump`` (a folder named ``deploy #2`` or a model
named ``a: b`` stay what they are); comments are inserted between the dumped lines afterwards and the result is
read back and compared with the data before it is returned, so a comment can never change what the file says.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from driftguard import extractors
from driftguard.errors import DriftguardError, UsageError

#: Folders ``init`` never looks into (reported once each, as skipped): version control, environments,
#: dependencies, caches, and the approvals the manifest names. Hidden folders (``.name``) are not looked into either.
_SKIP_DIRS = frozenset({".git", ".venv", "venv", "node_modules", "__pycache__", "approvals", ".tox"})
#: The file ``init`` writes.
_MANIFEST = "driftguard.yaml"
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
    """Every file under ``folder`` (sorted), placed on a side of a model or skipped with a reason: not a known
    kind, ambiguous (``choices``: the kinds that claim it), unreadable, of no model, not a regular file, or inside
    a folder ``init`` does not look into (one entry for the folder, ``rel/``).

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
    files: list[tuple[Path, str, str | None, str | None, tuple[str, ...]]] = []  # path, rel, kind, why not, choices
    skipped: list[Found] = []
    for path, rel, why in _walk(root):
        if why is not None:
            skipped.append(Found(rel, skipped=why))
            continue
        try:
            kinds, footing = extractors.candidates(path)
        except DriftguardError as exc:
            files.append((path, rel, None, f"unreadable: {exc.message}", ()))
            continue
        if len(kinds) == 1:
            files.append((path, rel, kinds[0], None, ()))
        elif kinds:
            files.append((path, rel, None, f"ambiguous: {', '.join(kinds)} all claim it by {footing}: name its kind",
                          tuple(kinds)))
        else:
            files.append((path, rel, None, "no extractor recognizes it", ()))
    requests = request_kinds()
    triton = {Path(r).parent: Path(r).parent.name for _, r, kind, _, _ in files if kind == "triton"}
    names = sorted(set(triton.values())) or [default]
    out: list[Found] = []
    for path, relpath, kind, why, choices in files:
        if kind is None and choices:
            out.append(Found(relpath, skipped=why, choices=choices))
            continue
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
    return sorted(out + skipped, key=lambda f: f.path)


def _walk(root: Path) -> Iterator[tuple[Path, str, str | None]]:
    """Every entry under ``root``, sorted, as (path, relative path, why it is skipped or None): regular files
    to detect (a link to a file too: the Hugging Face cache links its files); a folder ``init`` does not look
    into or a link to a folder (no loops), once (``rel/``), with the reason; anything else (a FIFO, a device, a
    dangling link) with the reason. Folders are pruned, never walked: a virtualenv is not read to be skipped."""
    for entry in sorted(root.iterdir(), key=lambda p: p.name):
        rel = entry.relative_to(root).as_posix()
        yield from _entry(root, entry, rel)


def _entry(root: Path, entry: Path, rel: str) -> Iterator[tuple[Path, str, str | None]]:
    if entry.is_symlink() and entry.is_dir():
        yield entry, f"{rel}/", "a link to a folder: not followed (name the folder itself)"
    elif entry.is_dir():
        if entry.name in _SKIP_DIRS or entry.name.startswith("."):
            what = "a hidden folder" if entry.name.startswith(".") else \
                "a folder init does not look into (dependencies, version control, caches, approvals)"
            yield entry, f"{rel}/", f"{what}: nothing in it read"
            return
        for child in sorted(entry.iterdir(), key=lambda p: p.name):
            yield from _entry(root, child, child.relative_to(root).as_posix())
    elif not entry.is_file():
        yield entry, rel, "not a regular file"
    elif rel == _MANIFEST:
        yield entry, rel, "the manifest init writes"
    else:
        yield entry, rel, None


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
    graphs: dict[tuple[str, str], Found] = {}  # (model, side) -> its first ONNX graph
    for line in dumped.splitlines():
        stripped = line.lstrip()
        indent = " " * (len(line) - len(stripped))
        if stripped.startswith("- path: "):
            f = next(entries)
            if f.choices:
                lines.append(f"{indent}# {f.kind}: a guess. The engine that serves this file cannot be seen from "
                             f"it: one of {', '.join(f.choices)}; set the one that reads it.")
            lines.extend(_another_graph(f, graphs, indent))
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


def _another_graph(f: Found, first: dict[tuple[str, str], Found], indent: str) -> list[str]:
    """A comment marking a second ONNX graph on a side (an FP32 export beside the INT8 graph Triton serves):
    of variants of one model a side runs one, and which one is not decided by the order of the list (DG204
    fails the check where they differ). ``first`` remembers each side's first graph."""
    if f.kind is None or extractors.info(f.kind).weights != "onnx":
        return []
    seen = first.setdefault((f.model, f.side), f)
    if seen is f:
        return []
    return [f"{indent}# another ONNX graph on this side, beside {_comment(seen.path)}: if they are variants of one "
            f"model (an FP32 export, the served INT8 graph), keep the one the side runs (DG204 fails the check "
            f"where they differ)"]


def _comment(text: str) -> str:
    """Text safe inside a one-line YAML comment."""
    return " ".join(text.split())
