"""Compose files read as the Compose Specification says, down to each service's command and environment.

* Interpolation (spec, "Interpolation") of every string value: ``$$`` is a literal ``$``; ``$VAR`` and ``${VAR}``
  take the value from the project's ``.env`` (the file beside the compose file, read only inside the checked
  tree); ``${VAR:-default}``/``${VAR-default}`` give the default when the ``.env`` does not set the variable
  (``:-`` also when it sets it empty), defaults themselves interpolated; ``${VAR:?err}``/``${VAR?err}`` and
  ``${VAR:+alt}``/``${VAR+alt}`` with the variable not in the ``.env``, and ``$VAR`` not in it, depend on the
  shell that runs ``docker compose``: unresolved, never guessed.
* ``.env`` and ``env_file`` files are parsed with ``python-dotenv``'s parser (the same ``KEY=value`` syntax as
  compose's: quotes, escapes, ``export``, comments); their own ``${VAR}`` references are interpolated from the
  lines above them in the same file (a single-quoted value is literal), anything else is unresolved.
* A service's argv: ``entrypoint`` (string: split as compose does, like a POSIX shell's words without
  expansion, here ``shlex``; list: one word each) replaces the image's ENTRYPOINT and drops its CMD; ``command``
  replaces the CMD; the image is a known serving image (``engines.images``) or the Dockerfile its ``build``
  names (read with ``extractors.dockerfile_stages``), else unknown. Its environment: the image's ENV, then each
  ``env_file`` in order, then ``environment`` (map or ``KEY=value`` list; a key with no value is taken from
  the shell: unresolved).
"""

from __future__ import annotations

import io
import shlex
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from driftguard.errors import ExtractionError
from driftguard.extractors import dockerfile_stages
from driftguard.extractors.base import ExtractOptions, KindInfo
from driftguard.extractors.container_common import (
    Grown,
    ImageConfig,
    argv,
    block_line,
    check_size,
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

Lookup = Callable[[str], "str | None"]

INFO = KindInfo(
    kind="compose",
    description="docker-compose file whose services start a server: command/entrypoint, environment, .env",
    role="deployment",
    rank=70,
    namespaces=("generation", "serving", "precision", "model", "batching", "preprocessing"),
    names=("docker-compose*.yml", "docker-compose*.yaml", "compose*.yml", "compose*.yaml"),
    launches=True,
)


def detect(path: Path, head: bytes) -> bool:
    """By name (``docker-compose*.yml``/``.yaml``, ``compose*.yml``/``.yaml``), or a YAML whose top-level
    ``services:`` holds a service with ``image``, ``build`` or ``command``."""
    name = path.name.lower()
    if not name.endswith((".yml", ".yaml")):
        return False
    if name.startswith(("docker-compose", "compose")):
        return True
    return _has_services(head.decode("utf-8", "replace").splitlines())


def _has_services(lines: list[str]) -> bool:
    """A top-level ``services:`` key whose first member has an ``image:``/``build:``/``command:`` key below it
    (the head of the file, read line by line: detection only, the file is parsed with the YAML reader)."""
    inside, member_indent = False, -1
    for line in lines:
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        indent = len(line) - len(line.lstrip())
        key = stripped.split(":", 1)[0].strip()
        if indent == 0:
            if inside:
                return False
            inside = stripped.split("#", 1)[0].rstrip() == "services:"
        elif inside:
            if member_indent < 0:
                member_indent = indent
            elif indent > member_indent and key in ("image", "build", "command"):
                return True
    return False


def extract(path: Path, options: ExtractOptions) -> EffectiveConfig:
    found = launches(path, options.root_for(path), options.limits)
    from driftguard.extractors import launch_common  # only to read a file: detection imports every kind

    return launch_common.resolve_all(found, path, options, INFO.kind, "compose file")


def launches(path: Path, root: Path, limits: Limits = DEFAULT) -> list[Command]:
    """``commands``, with each ``sh -c`` service replaced by the commands its script runs (a reference compose
    cannot resolve stays a reference the shell cannot resolve either)."""
    project, services = _load(path, root, limits)
    out: list[Command] = []
    for command in _commands(project, services):
        hidden: dict[str, Word] = {}
        at = script_index(command.words)
        if at is not None and command.words[at].text is None:
            script = command.words[at]
            try:
                shown, names = for_shell(script.source, project.lookup, limits)
            except Grown:
                raise too_long(limits, str(path), script.line) from None
            hidden = {n: Word(None, "${" + n + "}") for n in names}
            command = Command((*command.words[:at], Word(shown, script.source, script.line),
                               *command.words[at + 1:]), command.env, command.line, command.where)
        out.extend(scripts(command, path, limits, hidden))
    return out


class Unresolved(Exception):
    """A reference whose value the files do not give (internal: ``interpolate`` turns it into None)."""


def interpolate(raw: str, lookup: Lookup, limits: Limits = DEFAULT) -> str | None:
    """``raw`` with compose's interpolation applied; None when a reference is unresolved. ``lookup``: the
    variable's value from the ``.env``, None when it does not set it. ``Grown`` past ``limits.file_bytes``."""
    try:
        return _interpolate(raw, lookup, _unresolved, limits)
    except Unresolved:
        return None


def for_shell(raw: str, lookup: Lookup, limits: Limits = DEFAULT) -> tuple[str, set[str]]:
    """``raw`` interpolated for a shell that runs it (``sh -c``): each reference compose cannot resolve is left
    as ``${NAME}``, and the names are returned, for the shell to take as unknown (a malformed reference leaves
    the text as written)."""
    names: set[str] = set()

    def keep(name: str) -> str:
        names.add(name)
        return "${" + name + "}"

    try:
        return _interpolate(raw, lookup, keep, limits), names
    except Unresolved:
        return raw, names


def _unresolved(name: str) -> str:
    raise Unresolved


def _interpolate(raw: str, lookup: Lookup, unknown: Callable[[str], str], limits: Limits) -> str:
    """``unknown``: what a reference whose value depends on the shell running compose becomes (raise
    ``Unresolved``, or keep it)."""
    out: list[str] = []
    i, n, size = 0, len(raw), 0
    while i < n:
        c = raw[i]
        if c != "$" or i + 1 >= n:
            out.append(c)
            i += 1
        elif raw[i + 1] == "$":
            out.append("$")
            i += 2
        elif raw[i + 1] == "{":
            end = _closing(raw, i + 2)
            value = _braced(raw[i + 2:end], lookup, unknown, limits)
            size += len(value)
            check_size(size, limits)
            out.append(value)
            i = end + 1
        else:
            j = i + 1
            while j < n and (raw[j].isalnum() or raw[j] == "_"):
                j += 1
            if j == i + 1:
                out.append(c)
                i += 1
                continue
            found = lookup(raw[i + 1:j])
            value = unknown(raw[i + 1:j]) if found is None else found
            size += len(value)
            check_size(size, limits)
            out.append(value)
            i = j
    return "".join(out)


def _closing(raw: str, i: int) -> int:
    """The ``}`` closing a ``${`` whose body starts at ``i`` (nested ``${...}`` in defaults skipped)."""
    depth = 1
    while i < len(raw):
        if raw.startswith("${", i):
            depth += 1
            i += 2
            continue
        if raw[i] == "}":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    raise Unresolved  # compose refuses an unclosed ${: so does the value


def _braced(body: str, lookup: Lookup, unknown: Callable[[str], str], limits: Limits) -> str:
    name_end = 0
    while name_end < len(body) and (body[name_end].isalnum() or body[name_end] == "_"):
        name_end += 1
    name, rest = body[:name_end], body[name_end:]
    if not name:
        raise Unresolved
    value = lookup(name)
    if not rest:
        return unknown(name) if value is None else value
    for op in (":-", "-", ":?", "?", ":+", "+"):
        if rest.startswith(op):
            word = rest[len(op):]
            break
    else:
        raise Unresolved  # not a modifier compose knows
    unset = value is None or (op.startswith(":") and value == "")
    if op.endswith("-"):
        return _interpolate(word, lookup, unknown, limits) if unset else str(value)
    if value is None:
        return unknown(name)  # ?/+ with the variable unknown: it depends on the shell
    if op.endswith("?"):
        if unset:
            raise Unresolved
        return value
    return "" if unset else _interpolate(word, lookup, unknown, limits)


def dotenv(path: Path, limits: Limits) -> dict[str, Word]:
    """A ``KEY=value`` file's variables, each with its line (values interpolated from the lines above)."""
    from dotenv.parser import parse_stream  # here, not at import: every check imports this module to detect

    text = files.read_text(path, limits)
    out: dict[str, Word] = {}
    for count, binding in enumerate(parse_stream(io.StringIO(text)), 1):
        if count > limits.objects:
            raise ExtractionError(f"more than {limits.objects} lines of variables", str(path))
        original = binding.original
        line = original.line + original.string[: len(original.string) - len(original.string.lstrip())].count("\n")
        if binding.error:
            raise ExtractionError("not a KEY=value line", str(path), line)
        if binding.key is None:
            continue
        raw = binding.value
        if raw is None:  # a bare KEY: compose takes it from the shell
            out[binding.key] = Word(None, binding.key, line)
            continue
        literal = original.string.partition("=")[2].lstrip().startswith("'")
        try:
            text_value = raw if literal else interpolate(raw, lambda name: _text(out.get(name)), limits)
        except Grown:
            raise too_long(limits, str(path), line) from None
        out[binding.key] = Word(text_value, original.string.strip(), line)
    return out


def _text(word: Word | None) -> str | None:
    return None if word is None else word.text


@dataclass(frozen=True)
class _Node:
    """A value of the compose file with its span (for lines)."""

    value: Any
    span: Span | int | None

    @property
    def line(self) -> int | None:
        return None if self.span is None else yaml_doc.span_line(self.span)

    def member(self, key: str) -> _Node | None:
        if not isinstance(self.value, dict) or key not in self.value:
            return None
        found = yaml_doc.members(self.span).get(key)
        return _Node(self.value[key], found[1] if found else None)

    def items(self) -> list[_Node]:
        spans = self.span.items if isinstance(self.span, Span) else []
        return [_Node(v, spans[i] if i < len(spans) else None) for i, v in enumerate(self.value)]


@dataclass(frozen=True)
class Project:
    """What every service of one compose file shares: its path, the tree it may read, the ``.env`` variables."""

    path: Path
    root: Path
    limits: Limits
    variables: Mapping[str, Word]
    lines: list[str]

    def lookup(self, name: str) -> str | None:
        return _text(self.variables.get(name))

    def word(self, node: _Node | Any, line: int | None) -> Word:
        """A scalar as a word, interpolated (numbers and booleans as compose writes them)."""
        raw = node.value if isinstance(node, _Node) else node
        text = "true" if raw is True else "false" if raw is False else "" if raw is None else str(raw)
        try:
            return Word(interpolate(text, self.lookup, self.limits), text, line)
        except Grown:
            raise too_long(self.limits, str(self.path), line) from None

    def confined(self, name: str, line: int | None, what: str) -> Path:
        return files.confine(self.path.parent / name, self.root, what, origin=str(self.path), line=line)


def commands(path: Path, root: Path, limits: Limits = DEFAULT) -> list[Command]:
    """Every service that runs a command, in file order: its argv, environment, line and ``service "name"``."""
    return _commands(*_load(path, root, limits))


def _load(path: Path, root: Path, limits: Limits) -> tuple[Project, _Node]:
    """The project (its ``.env`` read when it is in the tree) and the ``services`` mapping."""
    text = files.read_text(path, limits)
    doc = yaml_doc.loads(text, str(path), ExtractionError, limits)
    top = _Node(doc.data, doc.node)
    services = top.member("services")
    if services is None or not isinstance(services.value, dict):
        raise ExtractionError("not a compose file: no services mapping", str(path), top.line)
    env_path = path.parent / ".env"
    variables = dotenv(files.confine(env_path, root, ".env", origin=str(path)), limits) \
        if files.exists(env_path) else {}
    return Project(path, root, limits, variables, text.splitlines()), services


def _commands(project: Project, services: _Node) -> list[Command]:
    out: list[Command] = []
    for name in services.value:
        service = services.member(str(name))
        if service is None or not isinstance(service.value, dict):
            continue
        command = _service(project, str(name), service)
        if command.words:
            out.append(command)
    return out


def _service(project: Project, name: str, service: _Node) -> Command:
    image = _image(project, service)
    entrypoint = _words(project, service.member("entrypoint"))
    args = _words(project, service.member("command"))
    env: dict[str, Word] = dict(image.env) if image is not None else {}
    env.update(_env_files(project, service.member("env_file")))
    env.update(_environment(project, service.member("environment")))
    return Command(argv(image, entrypoint, args), env, service.line, f'service "{name}"')


def _image(project: Project, service: _Node) -> ImageConfig | None:
    """The image the service starts: the Dockerfile its ``build`` names (when in the tree), else its ``image``
    when a known serving image."""
    build = service.member("build")
    if build is not None:
        context, dockerfile_name = build, None
        if isinstance(build.value, dict):
            context = build.member("context") or _Node(".", build.span)
            dockerfile_name = build.member("dockerfile")
        folder = project.word(context, context.line).text
        file = project.word(dockerfile_name, dockerfile_name.line).text if dockerfile_name else "Dockerfile"
        if folder is not None and file is not None and "://" not in folder:
            target = project.confined(str(Path(folder) / file), build.line, "build Dockerfile")
            if files.exists(target):
                return dockerfile_stages.image_config(target, project.limits)
    image = service.member("image")
    if image is None:
        return None
    reference = project.word(image, image.line).text
    return known_image(reference, image.line) if reference is not None else None


def _words(project: Project, node: _Node | None) -> tuple[Word, ...] | None:
    """``command``/``entrypoint``: a list (one word each) or a string split into words; None when absent."""
    if node is None or node.value is None:
        return None
    if isinstance(node.value, list):
        return tuple(project.word(item, item.line) for item in node.items())
    if isinstance(node.value, dict):
        raise ExtractionError("expected a string or a list of words", str(project.path), node.line)
    line = block_line(project.lines, node.line)
    word = project.word(node, line)
    if word.text is None:  # split as written; each part interpolated on its own
        return tuple(project.word(part, line) for part in _split(word.source, project, line))
    return tuple(Word(part, part, line) for part in _split(word.text, project, line))


def _split(text: str, project: Project, line: int | None) -> list[str]:
    try:
        return shlex.split(text)
    except ValueError as exc:
        raise ExtractionError(f"cannot split the command into words: {exc}", str(project.path), line) from None


def _environment(project: Project, node: _Node | None) -> dict[str, Word]:
    if node is None or node.value is None:
        return {}
    out: dict[str, Word] = {}
    if isinstance(node.value, dict):
        for key in node.value:
            member = node.member(str(key))
            assert member is not None
            line = member.line
            out[str(key)] = Word(None, str(key), line) if member.value is None else project.word(member, line)
        return out
    if not isinstance(node.value, list):
        raise ExtractionError("environment: expected a mapping or a list of KEY=value", str(project.path),
                              node.line)
    for item in node.items():
        key, eq, value = str(item.value).partition("=")
        out[key] = project.word(value, item.line) if eq else Word(None, key, item.line)
    return out


def _env_files(project: Project, node: _Node | None) -> dict[str, Word]:
    """The variables of each ``env_file`` in order (later files win); a required file missing from the tree is
    an error, as ``docker compose`` refuses to start without it."""
    if node is None or node.value is None:
        return {}
    entries = node.items() if isinstance(node.value, list) else [node]
    out: dict[str, Word] = {}
    for entry in entries:
        required, name_node = True, entry
        if isinstance(entry.value, dict):
            name_node = entry.member("path") or entry
            required = entry.value.get("required", True) is not False
        name = project.word(name_node, entry.line).text
        if name is None:
            raise ExtractionError("env_file: the path is unresolved", str(project.path), entry.line)
        target = project.confined(name, entry.line, "env_file")
        if not files.exists(target):
            if required:
                raise ExtractionError(f"env_file '{name}' is not in the checked tree (compose refuses to start "
                                      "without it; add it, or mark it required: false)", str(project.path),
                                      entry.line)
            continue
        out.update(dotenv(target, project.limits))
    return out
