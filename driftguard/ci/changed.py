"""``check --base REF --changed-only``: the models a change can have affected, from the files it touched.

A model is checked when a file it reads changed, when an approval file naming it changed, or when its entry in
the manifest changed; a change to the manifest's shared settings (rules, approval policy, approvers, limits)
affects every model. The files it reads are its artifacts and the files inside artifact folders, and every file
its extraction actually opened or looked for (``reads``, recorded by ``readers.files.recording``): the file as
named, each symlink met on the way and the target, so a retargeted symlink, a file an artifact names by itself
(a vLLM model folder, a chat template) or reads beside it (``chat_template.jinja``), added, edited or deleted,
makes the model affected. The list of changed files comes from git (``git diff --name-only`` of the resolved
commit against the work tree, plus untracked files), never from a path the input gave.

``models_reading`` maps files someone names (``check FILE...``: the staged files a pre-commit hook is given)
to models the same way, without git: the manifest itself stands for every model, since its earlier text is not
at hand to compare with."""

from __future__ import annotations

import os
from collections.abc import Callable, Collection, Mapping
from pathlib import Path, PurePosixPath
from typing import Any

from driftguard.ci.gitref import open_repo
from driftguard.errors import DriftguardError
from driftguard.readers.files import read_text
from driftguard.readers.limits import DEFAULT, Limits
from driftguard.readers.yaml_doc import loads


def changed_files(root: Path, commit: str) -> set[str]:
    """Repository paths (``/``-separated) that differ between ``commit`` (a resolved commit id) and the work
    tree, untracked files included."""
    repo = open_repo(root)
    out = {p for p in repo.git.diff("--name-only", "-z", "--no-renames", commit, "--").split("\0") if p}
    out.update(repo.untracked_files)
    return out


def _under(path: PurePosixPath, changed: Collection[PurePosixPath]) -> bool:
    return any(c == path or path in c.parents for c in changed)


def _through(path: PurePosixPath, changed: Collection[PurePosixPath]) -> bool:
    """True when ``path`` or a folder on the way to it changed (a folder symlink retargeted)."""
    return path in changed or any(p in changed for p in path.parents)


def _approval_models(text: str | None, limits: Limits) -> set[str] | None:
    """The ``model:`` of each approval in an approval file's text (one approval, or ``driftguard baseline``'s
    list), read by the bounded reader; None when one has none or the text is not an approval file."""
    if text is None or len(text) > limits.file_bytes:
        return None
    try:
        data: Any = loads(text, "approval", DriftguardError, limits).data
    except DriftguardError:
        return None  # the approvals loader reports a malformed file; here it just names no model
    items = data if isinstance(data, list) else [data]
    models = {item.get("model") if isinstance(item, dict) else None for item in items}
    return None if not models or not all(isinstance(m, str) for m in models) else {str(m) for m in models}


def affected_models(head: Any, base: Any, *, repo: Path, commit: str, changed: set[str],
                    limits: Limits = DEFAULT, reads: Mapping[str, Collection[Path] | None] | None = None
                    ) -> list[str]:
    """The models of manifest ``head`` (``driftguard.manifest.Manifest``) the change can have affected;
    ``base`` is the manifest at ``commit`` (None when it did not exist). ``reads``: each model's files its
    extraction opened or looked for (absolute; None for a model whose extraction failed: affected, so the
    check reports it)."""
    names = list(head.models)
    if base is None:
        return names
    shared = ("rules", "approvals", "approvers", "approval_policy", "limits")
    if any(_plain(getattr(head, k)) != _plain(getattr(base, k)) for k in shared):
        return names
    root = repo.resolve()

    def rel(path: Path) -> PurePosixPath | None:
        try:
            return PurePosixPath(path.resolve().relative_to(root).as_posix())
        except ValueError:
            return None

    def as_named(path: Path) -> PurePosixPath | None:  # a link as named, not resolved
        for base_folder in (repo.absolute(), root):
            try:
                return PurePosixPath(Path(os.path.abspath(path)).relative_to(base_folder).as_posix())
            except ValueError:
                continue
        return None

    touched = {PurePosixPath(p) for p in changed}
    approvals = rel(head.base / head.approvals)
    named: set[str] = set()
    if approvals is not None:
        tree = open_repo(repo).commit(commit).tree
        for p in touched:
            if approvals not in p.parents or p.suffix not in (".yaml", ".yml"):
                continue
            named |= _approval_models(_text_or_none(root / Path(*p.parts), limits), limits) or set()
            try:
                blob = tree.join(str(p))
                if blob.size <= limits.file_bytes:
                    named |= _approval_models(blob.data_stream.read().decode("utf-8", "replace"), limits) or set()
            except KeyError:
                pass
    out = []
    for name in names:
        spec = head.models[name]
        # compared as data: the manifest's private bookkeeping (the lines its entries sit on) is not the model
        before = base.models.get(name)
        if name in named or before is None or before.model_dump() != spec.model_dump():
            out.append(name)
            continue
        paths = [rel(head.base / a.path) for a in (*spec.training, *spec.deployment)]
        if any(p is None or _under(p, touched) for p in paths) or _read_changed(reads, name, as_named, touched):
            out.append(name)
    return out


def _read_changed(reads: Mapping[str, Collection[Path] | None] | None, name: str,
                  named: Callable[[Path], PurePosixPath | None], touched: Collection[PurePosixPath]) -> bool:
    """Whether a file model ``name``'s extraction read (or looked for) changed; True when its reads are
    unknown (its extraction failed) or one lies outside the repository (git cannot say)."""
    if reads is None:
        return False
    if name not in reads or reads[name] is None:
        return True
    for path in reads[name] or ():
        p = named(path)
        if p is None or _through(p, touched):
            return True
    return False


def _plain(value: object) -> object:
    """A manifest field as data (pydantic models compare their private attributes too: the lines they sit on)."""
    dump = getattr(value, "model_dump", None)
    return dump() if callable(dump) else value


def models_reading(manifest: Any, paths: Collection[str | Path], limits: Limits = DEFAULT) -> list[str]:
    """The models of ``manifest`` (``driftguard.manifest.Manifest``) that the files ``paths`` (relative to the
    working folder) can affect: a model one of whose artifacts is such a file (or a folder holding one), or that
    an approval file among them names. Every model when the manifest itself is among them, or an approval file
    whose model cannot be read (the check then reports that file). A file no model reads affects none."""
    given = {Path(p).resolve() for p in paths}
    names = list(manifest.models)
    if Path(manifest.path).resolve() in given:
        return names
    approvals = (manifest.base / manifest.approvals).resolve()
    named: set[str] = set()
    for path in given:
        if approvals in path.parents and path.suffix in (".yaml", ".yml"):
            models = _approval_models(_text_or_none(path, limits), limits)
            if models is None:
                return names
            named |= models

    def reads(name: str) -> bool:
        spec = manifest.models[name]
        folders = [(manifest.base / a.path).resolve() for a in (*spec.training, *spec.deployment)]
        return any(p == f or f in p.parents for p in given for f in folders)

    return [name for name in names if name in named or reads(name)]


def _text_or_none(path: Path, limits: Limits) -> str | None:
    """A file's text read bounded, or None where it cannot be read (gone, too large, not text)."""
    try:
        return read_text(path, limits, "approval") if path.exists() else None
    except DriftguardError:
        return None
