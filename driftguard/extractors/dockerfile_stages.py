"""Dockerfile stages: the command the final image starts (``ENTRYPOINT`` + ``CMD``) and the environment it starts with
(shared by the dockerfile kind and by compose services that ``build`` one).

The file is split into instructions by ``dockerfile-parse`` (line continuations, comments, the ``escape``
directive); what Docker does with them is done here, following the Dockerfile reference:

* Stages: each ``FROM`` starts one; ``FROM <earlier stage>`` starts from that stage's ENV, SHELL, ENTRYPOINT and
  CMD; ``FROM`` a known serving image (``engines.images``) starts from that image's ENTRYPOINT and ENV; any other
  base image is taken as setting neither. The last stage is the image.
* ``ENTRYPOINT`` and ``CMD``: the last of each in the stage wins; an ENTRYPOINT resets a CMD inherited from the
  base. Exec form (a JSON array of strings) is the argv; anything else is shell form, run as
  ``SHELL`` (default ``/bin/sh -c``) followed by the text. The argv is ENTRYPOINT then CMD, except that a
  shell-form ENTRYPOINT ignores CMD.
* ``ENV`` (``k=v ...`` and the legacy ``ENV k v``) and ``ARG`` (``name[=default]``; an ARG before the first
  ``FROM`` is visible to ``FROM`` lines, and inside a stage only when declared again): values are substituted as
  the reference says (``$v``, ``${v}``, ``${v:-word}``, ``${v:+word}``, ``\\$`` escapes, nothing inside single
  quotes; ENV wins over ARG of the same name; a variable never declared is empty). An ARG declared without a
  default takes its value from ``--build-arg``, which the file does not say: it and everything built from it are
  unresolved. ENV values are the container's environment; ARG values are not (build time only).
  ``CMD``/``ENTRYPOINT`` are not substituted: a shell form's ``$VAR`` is the shell's at run time, from ENV.

Every word keeps the line it is written on; words an image supplies keep the line of the ``FROM`` naming it.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from driftguard.errors import ExtractionError
from driftguard.extractors.container_common import Grown, ImageConfig, check_size, known_image, too_long
from driftguard.readers import files
from driftguard.readers.commands import Command, Word
from driftguard.readers.limits import DEFAULT, Limits

_SH = (Word("/bin/sh", "/bin/sh"), Word("-c", "-c"))


@dataclass(frozen=True)
class Instruction:
    """One instruction: its keyword (upper case), its text after the keyword with continuations joined, the
    1-based line of its start, per character of ``text`` the line it is written on, and ``script``, the text
    with its line breaks kept as a shell's continuations."""

    keyword: str
    text: str
    line: int
    lines: tuple[int, ...]
    script: str

    def line_at(self, offset: int) -> int:
        return self.lines[offset] if 0 <= offset < len(self.lines) else self.line


@dataclass(frozen=True)
class _Form:
    """A CMD/ENTRYPOINT as written: exec form (``words`` is the argv) or shell form (``words`` is the text)."""

    words: tuple[Word, ...]
    shell: bool
    line: int


@dataclass
class _Stage:
    """What a stage has set so far."""

    line: int
    env: dict[str, Word] = field(default_factory=dict)
    args: dict[str, Word] = field(default_factory=dict)
    shell: tuple[Word, ...] = _SH
    entrypoint: _Form | None = None
    cmd: _Form | None = None

    def inherit(self, line: int) -> _Stage:
        """A stage built ``FROM`` this one: its config, not its ARGs (ARG scope ends with the stage)."""
        return _Stage(line, dict(self.env), {}, self.shell, self.entrypoint, self.cmd)


def _split(text: str) -> list[str]:
    """``dockerfile-parse``'s word splitting of an instruction's text, quotes kept."""
    from dockerfile_parse.util import WordSplitter

    return list(WordSplitter(text).split(dequote=False))


def instructions(text: str, path: str) -> list[Instruction]:
    """The file's instructions (comments dropped), from ``dockerfile-parse``'s structure; each keeps its lines."""
    from dockerfile_parse import DockerfileParser  # here, not at import: every check imports this module to detect

    try:
        parser = DockerfileParser(fileobj=io.BytesIO(text.encode("utf-8")), cache_content=True)
        structure = parser.structure
    except (ValueError, OSError) as exc:  # the parser's own refusals
        raise ExtractionError(f"cannot parse the Dockerfile: {exc}", path) from None
    raw_lines = text.splitlines(keepends=True)
    out: list[Instruction] = []
    for insn in structure:
        keyword = insn["instruction"]
        if keyword == "COMMENT":
            continue
        out.append(_located(keyword, raw_lines, insn["startline"], insn["endline"]))
    return out


def _located(keyword: str, raw_lines: list[str], start: int, end: int) -> Instruction:
    """The instruction's text after its keyword as Docker joins it (each line's trailing continuation removed,
    comment lines inside it skipped), with the line of each character, and the same text as a shell reads it
    (``script``: its lines joined by a backslash-newline, which a shell removes, so words keep their lines)."""
    bodies: list[str] = []
    lines: list[int] = []
    for n in range(start, end + 1):
        line = raw_lines[n] if n < len(raw_lines) else ""
        if n > start and line.lstrip().startswith("#"):
            continue
        body = line.rstrip("\r\n")
        if n == start:
            body = body.lstrip()[len(keyword):].lstrip()
        if n < end and body.rstrip().endswith(("\\", "`")):
            body = body.rstrip()[:-1]
        bodies.append(body)
        lines.extend([n + 1] * len(body))
    while len(bodies) > 1 and not bodies[-1].strip():  # a continuation into a blank line ends there
        bodies.pop()
    text = "".join(bodies)
    stripped = len(text) - len(text.lstrip())
    script = "\\\n".join(bodies).strip()
    return Instruction(keyword, text.strip(), start + 1, tuple(lines[stripped:stripped + len(text.strip())]), script)


def expand(raw: str, lookup: Callable[[str], str | None], limits: Limits = DEFAULT) -> str | None:
    """A Dockerfile word after substitution and quote removal (the reference's "Environment replacement");
    None when a variable it uses is unresolved (``lookup`` returns None) or uses a modifier we do not follow.
    ``lookup``: the variable's value, "" for one never declared. ``Grown`` past ``limits.file_bytes``."""
    out: list[str] = []
    i, n, quote, size = 0, len(raw), "", 0
    while i < n:
        c = raw[i]
        if quote == "'":
            if c == "'":
                quote = ""
            else:
                out.append(c)
            i += 1
        elif c == "\\" and i + 1 < n and (not quote or raw[i + 1] in '"$\\'):
            out.append(raw[i + 1])
            i += 2
        elif c in "'\"" and (not quote or c == quote):
            quote = "" if quote else c
            i += 1
        elif c == "$" and i + 1 < n:
            value, i = _variable(raw, i + 1, lookup)
            if value is None:
                return None
            size += len(value)
            check_size(size, limits)
            out.append(value)
        else:
            out.append(c)
            i += 1
    return "".join(out)


def _variable(raw: str, i: int, lookup: Callable[[str], str | None]) -> tuple[str | None, int]:
    """The value of the variable reference starting after ``$`` at ``i``, and where it ends."""
    if raw[i] != "{":
        j = i
        while j < len(raw) and (raw[j].isalnum() or raw[j] == "_"):
            j += 1
        if j == i:
            return "$", i
        return lookup(raw[i:j]), j
    close = raw.find("}", i)
    if close < 0:
        return None, len(raw)
    body = raw[i + 1:close]
    name, op, word = body, "", ""
    for candidate in (":-", ":+"):
        if candidate in body:
            name, _, word = body.partition(candidate)
            op = candidate
            break
    if not name.replace("_", "a").isalnum():
        return None, close + 1  # another modifier (${v#p}, ${v/a/b}...): not followed
    value = lookup(name)
    if op == ":-":
        return (word if value == "" else value), close + 1
    if op == ":+":
        return (word if value else "" if value is not None else None), close + 1
    return value, close + 1


def commands(path: Path, limits: Limits = DEFAULT) -> list[Command]:
    """The command the image starts, as a one-element list (empty when it sets no ENTRYPOINT or CMD)."""
    stage = _final_stage(path, limits)
    words, where, line = _argv(stage)
    return [Command(words, dict(stage.env), line, where)] if words else []


def image_config(path: Path, limits: Limits = DEFAULT) -> ImageConfig:
    """The image the Dockerfile builds, as a compose ``build:`` starts it: ENTRYPOINT and CMD as argv (shell
    forms run through SHELL), and ENV."""
    stage = _final_stage(path, limits)
    ep, cmd = stage.entrypoint, stage.cmd
    return ImageConfig(f"Dockerfile {path}", _words(stage, ep), _words(stage, cmd), dict(stage.env))


def _words(stage: _Stage, form: _Form | None) -> tuple[Word, ...] | None:
    """A CMD/ENTRYPOINT as argv: a shell form runs through SHELL, whose words stand on the form's line."""
    if form is None:
        return None
    if not form.shell:
        return form.words
    return (*(replace(w, line=form.line) for w in stage.shell), *form.words)


def _final_stage(file: Path, limits: Limits) -> _Stage:
    """The last stage of the Dockerfile at ``file``: what the image it builds starts with."""
    path = str(file)
    steps = instructions(files.read_text(file, limits), path)
    if not any(s.keyword == "FROM" for s in steps):
        raise ExtractionError("not a Dockerfile: no FROM instruction", path)
    stages: dict[str, _Stage] = {}
    global_args: dict[str, Word] = {}
    stage: _Stage | None = None
    for step in steps:
        try:
            stage = _step(step, stage, stages, global_args, path, limits)
        except Grown:
            raise too_long(limits, path, step.line) from None
    assert stage is not None  # checked above: there is a FROM
    return stage


def _step(step: Instruction, stage: _Stage | None, stages: dict[str, _Stage], global_args: dict[str, Word],
          path: str, limits: Limits) -> _Stage | None:
    """Apply one instruction; returns the stage it leaves current."""
    if step.keyword == "FROM":
        return _from(step, stages, global_args, path, limits)
    if step.keyword == "ARG":
        _arg(step, stage, global_args, limits)
    elif stage is None:
        pass  # only ARG (and parser directives) may come before the first FROM
    elif step.keyword == "ENV":
        _env(step, stage, path, limits)
    elif step.keyword in ("ENTRYPOINT", "CMD"):
        form = _form(step)
        if step.keyword == "ENTRYPOINT":  # resets a CMD inherited from the base, not one of this stage
            stage.entrypoint = form
            stage.cmd = stage.cmd if stage.cmd and stage.cmd.line >= stage.line else None
        else:
            stage.cmd = form
    elif step.keyword == "SHELL":
        form = _form(step)
        if not form.shell:
            stage.shell = form.words
    return stage


def _from(step: Instruction, stages: dict[str, _Stage], global_args: dict[str, Word], path: str,
          limits: Limits) -> _Stage:
    words = [w for w in _split(step.text) if not w.startswith("--")]
    if not words:
        raise ExtractionError("FROM names no image", path, step.line)
    ref = expand(words[0], lambda name: _text(global_args.get(name)), limits)
    if ref is not None and ref.lower() in stages:
        stage = stages[ref.lower()].inherit(step.line)
    else:
        stage = _Stage(step.line)
        known = known_image(ref, step.line) if ref is not None else None
        if known is not None and known.entrypoint is not None:
            stage.entrypoint = _Form(known.entrypoint, False, step.line)
            stage.env.update(known.env)
    if len(words) >= 3 and words[1].lower() == "as":
        stages[words[2].lower()] = stage
    return stage


def _text(word: Word | None) -> str | None:
    return "" if word is None else word.text


def _lookup(stage: _Stage) -> Callable[[str], str | None]:
    def value(name: str) -> str | None:
        return _text(stage.env[name] if name in stage.env else stage.args.get(name))
    return value


def _arg(step: Instruction, stage: _Stage | None, global_args: dict[str, Word], limits: Limits) -> None:
    for raw, line in _placed(step, _split(step.text)):
        name, eq, default = raw.partition("=")
        if stage is None:
            value = expand(default, lambda n: _text(global_args.get(n)), limits) if eq else None
            global_args[name] = Word(value, raw, line)
        elif eq:
            stage.args[name] = Word(expand(default, _lookup(stage), limits), raw, line)
        elif name in global_args:
            stage.args[name] = replace(global_args[name], line=line)
        else:
            stage.args[name] = Word(None, raw, line)


def _env(step: Instruction, stage: _Stage, path: str, limits: Limits) -> None:
    words = _split(step.text)
    if not words:
        raise ExtractionError("ENV sets nothing", path, step.line)
    if "=" not in words[0]:  # legacy form: ENV name the rest of the line
        name, rest = (*step.text.split(None, 1), "")[:2]
        stage.env[name] = Word(expand(rest, _lookup(stage), limits), step.text, step.line)
        return
    lookup = _lookup(stage)  # every pair of one ENV line sees the values from before it
    pairs: dict[str, Word] = {}
    for raw, line in _placed(step, words):
        name, eq, value = raw.partition("=")
        if not eq:
            raise ExtractionError(f"ENV {raw!r}: expected name=value", path, line)
        pairs[name] = Word(expand(value, lookup, limits), raw, line)
    stage.env.update(pairs)


def _placed(step: Instruction, words: list[str]) -> list[tuple[str, int]]:
    """Each word of the instruction (as the splitter returned it, verbatim) with the line it is written on."""
    out: list[tuple[str, int]] = []
    at = 0
    for raw in words:
        found = step.text.find(raw, at)
        if found >= 0:
            at = found + len(raw)
        out.append((raw, step.line_at(found)))
    return out


def _form(step: Instruction) -> _Form:
    """Exec form when the text is a JSON array of strings (each word on its own line), else shell form."""
    text = step.text
    if text.startswith("["):
        try:
            argv = json.loads(text)
        except ValueError:
            argv = None
        if isinstance(argv, list) and all(isinstance(w, str) for w in argv):
            at = _offsets(text)
            return _Form(tuple(Word(w, json.dumps(w), step.line_at(i)) for w, i in zip(argv, at, strict=True)),
                         False, step.line)
    return _Form((Word(step.script, step.script, step.line),), True, step.line)


def _offsets(text: str) -> list[int]:
    """Where each member of a JSON array starts (``json`` gives no positions: decode member by member)."""
    decoder = json.JSONDecoder()
    out: list[int] = []
    i = text.index("[") + 1
    while i < len(text):
        while i < len(text) and text[i] in " \t\r\n,":
            i += 1
        if i >= len(text) or text[i] == "]":
            break
        out.append(i)
        _, i = decoder.raw_decode(text, i)
    return out


def _argv(stage: _Stage) -> tuple[tuple[Word, ...], str, int | None]:
    """ENTRYPOINT and CMD combined as Docker does: (argv, which instructions, the line of the first)."""
    ep, cmd = stage.entrypoint, stage.cmd
    if ep is not None and ep.shell:
        return _words(stage, ep) or (), "ENTRYPOINT", ep.line
    words = (*(_words(stage, ep) or ()), *(_words(stage, cmd) or ()))
    where = " + ".join(n for n, f in (("ENTRYPOINT", ep), ("CMD", cmd)) if f is not None)
    first = ep if ep is not None else cmd
    return words, where, first.line if first is not None else None
