"""Kubernetes and KServe manifests: each container's command, arguments and environment, as the kubelet starts it.

* Documents: every ``---`` separated document of the file (``readers.yaml_doc.load_all``, limits over the whole
  file), and the ``items`` of a ``kind: List`` (or ``*List``).
* Workloads: Deployment, StatefulSet, DaemonSet, ReplicaSet, Job (``spec.template.spec``), CronJob
  (``spec.jobTemplate.spec.template.spec``) and Pod (``spec``): their ``containers`` (init containers do not
  serve).
* KServe: an InferenceService's ``spec.predictor.containers``, and its ``spec.predictor.model``, which runs on
  the ServingRuntime / ClusterServingRuntime its ``runtime`` names when that runtime is in the same file (the
  runtime's first container, the model's ``args`` after the runtime's, its ``env`` over the runtime's, its
  ``command``/``image`` when set; ``{{.Name}}`` in the runtime is the InferenceService's name, as KServe fills
  it); a runtime no InferenceService of the file uses is read on its own.
* A container's argv: ``command`` replaces the image's ENTRYPOINT (a known serving image's, ``engines.images``),
  ``args`` its CMD. ``$(VAR)`` in ``command``, ``args`` and ``env`` values is replaced by the container's
  variable (``env`` entries above it for an ``env`` value), ``$$(VAR)`` is a literal ``$(VAR)``, a ``$(VAR)``
  the container does not define stays as written (unresolved when ``envFrom`` may define it). An ``env`` entry
  with ``valueFrom`` is unresolved, its source named (``secretKeyRef hf/token``).
* Helm chart templates (``{{ ... }}``) are refused with their line: render the chart first (``helm template``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from driftguard.errors import ExtractionError
from driftguard.extractors.base import ExtractOptions, KindInfo
from driftguard.extractors.container_common import (
    Grown,
    argv,
    block_line,
    known_image,
    script_index,
    scripts,
    too_long,
)
from driftguard.model import EffectiveConfig
from driftguard.readers import files, yaml_doc
from driftguard.readers.commands import Command, Word
from driftguard.readers.limits import DEFAULT, Limits
from driftguard.readers.yaml_doc import Span

#: Workload kinds -> where their pod spec sits.
WORKLOADS: dict[str, tuple[str, ...]] = {
    "Deployment": ("spec", "template", "spec"),
    "StatefulSet": ("spec", "template", "spec"),
    "DaemonSet": ("spec", "template", "spec"),
    "ReplicaSet": ("spec", "template", "spec"),
    "Job": ("spec", "template", "spec"),
    "CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
    "Pod": ("spec",),
}
RUNTIMES = ("ServingRuntime", "ClusterServingRuntime")
#: Every kind whose containers this reads.
KINDS = (*WORKLOADS, "InferenceService", *RUNTIMES)
#: KServe's own placeholder in a ServingRuntime (the model's name), not a Helm template.
_KSERVE_NAME = "{{.Name}}"

INFO = KindInfo(
    kind="kubernetes",
    description="Kubernetes/KServe manifest whose containers start a server: command/args/env ($(VAR))",
    role="deployment",
    rank=70,
    namespaces=("generation", "serving", "precision", "model", "batching", "preprocessing"),
    launches=True,
)


def detect(path: Path, head: bytes) -> bool:
    """A ``.yaml``/``.yml`` file whose head has an ``apiVersion`` and a ``kind`` of one of ``KINDS`` (a List's
    items included), read line by line: detection only, the file is parsed with the YAML reader."""
    if not path.name.lower().endswith((".yaml", ".yml")):
        return False
    api, kinds = False, set()
    for line in head.decode("utf-8", "replace").splitlines():
        stripped = line.strip().removeprefix("- ").strip()
        key, sep, value = stripped.partition(":")
        if not sep:
            continue
        if key == "apiVersion" and value.strip():
            api = True
        elif key == "kind":
            kinds.add(value.split("#", 1)[0].strip().strip("'\""))
    return api and bool(kinds & set(KINDS))


def extract(path: Path, options: ExtractOptions) -> EffectiveConfig:
    found = [c for command in commands(path, options.limits) for c in scripts(command, path, options.limits)]
    from driftguard.extractors import launch_common  # only to read a file: detection imports every kind

    return launch_common.resolve_all(found, path, options, INFO.kind, "manifest")


@dataclass(frozen=True)
class Node:
    """A value of the manifest with its span (for lines)."""

    value: Any
    span: Span | int | None

    @property
    def line(self) -> int | None:
        return None if self.span is None else yaml_doc.span_line(self.span)

    def member(self, *keys: str) -> Node | None:
        node: Node | None = self
        for key in keys:
            if node is None or not isinstance(node.value, dict) or key not in node.value:
                return None
            found = yaml_doc.members(node.span).get(key)
            node = Node(node.value[key], found[1] if found else None)
        return node

    def items(self) -> list[Node]:
        if not isinstance(self.value, list):
            return []
        spans = self.span.items if isinstance(self.span, Span) else []
        return [Node(v, spans[i] if i < len(spans) else None) for i, v in enumerate(self.value)]

    def text(self, key: str) -> str:
        value = self.value.get(key) if isinstance(self.value, dict) else None
        return value if isinstance(value, str) else ""


def refuse_templates(text: str, path: str) -> None:
    """ExtractionError at the first Helm template expression (``{{``), KServe's ``{{.Name}}`` excepted."""
    for number, line in enumerate(text.splitlines(), 1):
        if "{{" in line.replace(_KSERVE_NAME, ""):
            raise ExtractionError("a Helm chart template ({{ ... }}): render the chart first (helm template "
                                  "<chart> > manifest.yaml) and check the rendered manifest", path, number)


def resources(path: Path, text: str, limits: Limits) -> list[Node]:
    """Every resource of the file (its ``text``): each document, the items of a List."""
    refuse_templates(text, str(path))
    out: list[Node] = []
    for doc in yaml_doc.loads_all(text, str(path), ExtractionError, limits):
        node = Node(doc.data, doc.node)
        kind = node.text("kind")
        items = node.member("items")
        if kind.endswith("List") and items is not None:
            out.extend(item for item in items.items() if isinstance(item.value, dict))
        elif isinstance(node.value, dict):
            out.append(node)
    return out


def commands(path: Path, limits: Limits = DEFAULT) -> list[Command]:
    """Every container of the file's workloads and KServe resources, in file order; a word written as a literal
    block (``- |``) stands on the block's first line."""
    text = files.read_text(path, limits)
    lines = text.splitlines()
    try:
        found = _commands(path, text, limits)
    except Grown as grown:
        raise too_long(limits, str(path), grown.line) from None
    return [Command(tuple(_placed(w, lines) for w in c.words), {k: _placed(w, lines) for k, w in c.env.items()},
                    c.line, c.where) for c in found]


def _placed(word: Word, lines: list[str]) -> Word:
    line = block_line(lines, word.line)
    return word if line == word.line else Word(word.text, word.source, line)


def _commands(path: Path, text: str, limits: Limits) -> list[Command]:
    found = resources(path, text, limits)
    runtimes = {_name(r): r for r in found if r.text("kind") in RUNTIMES}
    used: set[str] = set()
    out: list[Command] = []
    for resource in found:
        kind = resource.text("kind")
        label = f"{kind}/{_name(resource)}"
        if kind in WORKLOADS:
            pod = resource.member(*WORKLOADS[kind])
            out.extend(_containers(pod.member("containers") if pod else None, label, str(path), limits))
        elif kind == "InferenceService":
            predictor = resource.member("spec", "predictor")
            out.extend(_containers(predictor.member("containers") if predictor else None, label, str(path),
                                       limits))
            model = predictor.member("model") if predictor else None
            if model is not None:
                runtime_name = model.text("runtime")
                runtime = runtimes.get(runtime_name)
                if runtime is not None:
                    used.add(runtime_name)
                out.append(_model(model, runtime, label, _name(resource), str(path), limits))
    for runtime_name, runtime in runtimes.items():
        if runtime_name not in used:
            label = f"{runtime.text('kind')}/{runtime_name}"
            out.extend(_containers(runtime.member("spec", "containers"), label, str(path), limits))
    return out


def _name(resource: Node) -> str:
    metadata = resource.member("metadata")
    return metadata.text("name") if metadata is not None else ""


def _containers(node: Node | None, label: str, path: str, limits: Limits) -> list[Command]:
    if node is None:
        return []
    return [_container(c, f'{label} container "{c.text("name")}"', path, limits) for c in node.items()
            if isinstance(c.value, dict)]


def _container(c: Node, where: str, path: str, limits: Limits) -> Command:
    env, open_ended = environment(c.member("env"), bool(c.value.get("envFrom")), path, limits, None)
    image = c.member("image")
    base = known_image(image.value, image.line) if image is not None and isinstance(image.value, str) else None
    command = _words(c.member("command"), env, open_ended, path, limits, None)
    args = _words(c.member("args"), env, open_ended, path, limits, None)
    full_env = {**(base.env if base else {}), **env}
    return Command(_scripted(argv(base, command, args), env, open_ended, limits, None), full_env, c.line, where)


def _model(model: Node, runtime: Node | None, label: str, isvc: str, path: str, limits: Limits) -> Command:
    """The predictor's model on its runtime's first container (KServe's merge), or alone when the runtime is
    not in this file."""
    where = f'{label} predictor model (runtime "{model.text("runtime")}"' + \
        (")" if runtime is not None else " not in this file)")
    listed = runtime.member("spec", "containers") if runtime is not None else None
    containers = [c for c in listed.items() if isinstance(c.value, dict)] if listed is not None else []
    if not containers:
        return _container(model, where, path, limits)
    return _merged(containers[0], model, where, path, limits, isvc)


def _merged(base: Node, model: Node, where: str, path: str, limits: Limits, isvc: str) -> Command:
    """KServe's merge of the runtime container ``base`` with the predictor's ``model`` fields."""
    env_base, open_base = environment(base.member("env"), bool(base.value.get("envFrom")), path, limits, isvc)
    env_model, open_model = environment(model.member("env"), bool(model.value.get("envFrom")), path, limits, isvc,
                                        dict(env_base))
    env = {**env_base, **env_model}
    open_ended = open_base or open_model
    image_node = model.member("image") or base.member("image")
    image = image_node.value if image_node is not None else None
    known = known_image(image, image_node.line) if isinstance(image, str) and image_node is not None else None
    command_node = model.member("command") or base.member("command")
    command = _words(command_node, env, open_ended, path, limits, isvc)
    base_args = _words(base.member("args"), env, open_ended, path, limits, isvc)
    model_args = _words(model.member("args"), env, open_ended, path, limits, isvc)
    args = None if base_args is None and model_args is None else (*(base_args or ()), *(model_args or ()))
    words = _scripted(argv(known, command, args), env, open_ended, limits, isvc)
    return Command(words, {**(known.env if known else {}), **env}, model.line, where)


def _scripted(words: tuple[Word, ...], env: Mapping[str, Word], open_ended: bool, limits: Limits,
              isvc: str | None) -> tuple[Word, ...]:
    """The argv with the script of ``sh -c SCRIPT`` expanded for the shell: a reference Kubernetes cannot resolve
    (a ``valueFrom``) becomes the shell variable ``${NAME}``, which the container's environment leaves
    unresolved, instead of making the whole script unknown."""
    at = script_index(words)
    if at is None or words[at].text is not None:
        return words
    script = words[at]
    text = _expand(script.source, env, open_ended, script.line, limits, isvc, script=True)
    return (*words[:at], text, *words[at + 1:])


def environment(node: Node | None, open_ended: bool, path: str, limits: Limits, isvc: str | None,
                before: Mapping[str, Word] | None = None) -> tuple[dict[str, Word], bool]:
    """A container's ``env`` (name -> word, ``$(VAR)`` expanded from the entries above) and whether names may
    come from elsewhere (``envFrom``)."""
    env: dict[str, Word] = dict(before or {})
    out: dict[str, Word] = {}
    for item in node.items() if node is not None else []:
        if not isinstance(item.value, dict) or not isinstance(item.value.get("name"), str):
            raise ExtractionError("env: each entry needs a name", path, item.line)
        key = item.value["name"]
        if "valueFrom" in item.value:
            word = Word(None, f"valueFrom {_source(item.value['valueFrom'])}", item.line)
        else:
            value = item.member("value")
            word = _expand(_scalar(item.value.get("value")), env, open_ended,
                           value.line if value is not None else item.line, limits, isvc)
        env[key] = out[key] = word
    return out, open_ended


def _source(value_from: Any) -> str:
    """``secretKeyRef hf-secret/token``, ``fieldRef status.podIP``: what a ``valueFrom`` reads."""
    if not isinstance(value_from, dict) or not value_from:
        return "(unknown)"
    kind, ref = next(iter(value_from.items()))
    if isinstance(ref, dict):
        what = "/".join(str(ref[k]) for k in ("name", "key", "fieldPath", "resource") if k in ref)
        return f"{kind} {what}".strip()
    return str(kind)


def _scalar(raw: Any) -> str:
    return "" if raw is None else "true" if raw is True else "false" if raw is False else str(raw)


def _words(node: Node | None, env: Mapping[str, Word], open_ended: bool, path: str, limits: Limits,
           isvc: str | None) -> tuple[Word, ...] | None:
    if node is None or node.value is None:
        return None
    if not isinstance(node.value, list):
        raise ExtractionError("expected a list of strings", path, node.line)
    return tuple(_expand(_scalar(item.value), env, open_ended, item.line, limits, isvc) for item in node.items())


def _expand(raw: str, env: Mapping[str, Word], open_ended: bool, line: int | None, limits: Limits,
            isvc: str | None, *,
            script: bool = False) -> Word:
    """Kubernetes' ``$(VAR)`` expansion of one string (and KServe's ``{{.Name}}`` when the model is known).
    ``script``: the string is a shell script, where an unresolved reference is left as ``${NAME}``."""
    text = raw
    if _KSERVE_NAME in text:
        if isvc is None:
            return Word(None, raw, line)
        text = text.replace(_KSERVE_NAME, isvc)
    out: list[str] = []
    i, n, size = 0, len(text), 0
    while i < n:
        if text[i] != "$" or i + 1 >= n:
            out.append(text[i])
            i += 1
            continue
        if text[i + 1] == "$":
            out.append("$")
            i += 2
            continue
        end = text.find(")", i + 2) if text[i + 1] == "(" else -1
        if end < 0:
            out.append(text[i])
            i += 1
            continue
        name = text[i + 2:end]
        found = env.get(name)
        if (found is not None and found.text is None) or (found is None and open_ended):
            if not (script and name.isidentifier()):
                return Word(None, raw, line)
            value = "${" + name + "}"
        else:
            value = found.text if found is not None and found.text is not None else f"$({name})"
        size += len(value)
        if size > limits.file_bytes:
            raise Grown(line)
        out.append(value)
        i = end + 1
    return Word("".join(out), raw, line)
