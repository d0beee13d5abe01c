"""Launch commands -> effective configs: match a ``readers.commands.Command`` to a launcher ``engines``
declares, parse its argv with that launcher's own flag semantics, and hand the arguments to the engine kind's
resolution (vLLM's serving path, TGI's launcher args), so a flag means exactly what the same name means in the
engine's config file.

API (for every launch reader: shell scripts, Dockerfiles, compose, Kubernetes):

- ``match(command) -> Match | None``: the launcher a command starts, wrappers skipped (``exec``, ``env A=1``,
  ``nohup``, ``time``, ``sudo``, ``nice``, ``uv run``, ``python -m``, leading ``VAR=value`` words, which join
  the environment, ``docker run [OPTIONS] IMAGE``, whose ``-e NAME=VALUE`` join it too, and program paths:
  ``/usr/bin/vllm`` is ``vllm``);
- ``parse(match, path) -> Parsed``: the arguments by dest, each with its word and line (``--flag=value``,
  ``--flag value``, short options, repeated flags: the last wins as in argparse; flags absent from the command
  line are read from the environment variables the launcher reads), unknown flags and unresolved words;
- ``resolve(match, path, options, kind) -> EffectiveConfig``: the effective config of one launch, its ``kind``
  the caller's, its ``serving`` the launcher's; every value keeps the file and line of its word (or of the
  ``--config`` file's key);
- ``resolve_all(commands, path, options, kind, what) -> EffectiveConfig``: the one serving launch of a file:
  an ExtractionError naming the known launchers when none, or listing them with lines when several disagree;
  the build steps of the file (``Launcher.builds``: ``trtllm-build``) join it (``_with_builds``).

What becomes of each argument: a launcher with an engine ``kind`` gives its arguments to that kind's
``extract_document`` (a ``Document`` whose data are the typed arguments by dest and whose lines are their
words' lines); a launcher without one maps each ``Flag.key`` itself (kept as ``<namespace>.<dest>`` when it has
none; a dtype in the vocabulary's spelling; a chat template flag as the template's digest or a built-in template's
name). The launcher's rule for flags that mean something together (``Launcher.derive``: llama-server's per-slot
context) then adds values, ``How.DERIVED`` from what the command wrote. An unknown flag is kept as
``<namespace>.unknown_flags.<name>`` (the launcher refuses to start with it) with the closest known spelling, and
DG304 reports it. A value written as an expression the files do not fix (``--max-model-len $LEN`` with ``LEN`` set
nowhere) is kept as the expression, ``How.UNRESOLVED``: shown, reported by DG304, never compared.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath

from driftguard import engines, keys
from driftguard.engines.launcher import Flag, Invocation, Launcher
from driftguard.errors import ExtractionError
from driftguard.extractors.base import ExtractOptions, ValueBuilder
from driftguard.model import EffectiveConfig, How, Json, Origin, Value
from driftguard.normalize import normalize_dtype, normalize_json
from driftguard.readers.commands import Command, Word
from driftguard.readers.documents import Document, escape, load_document, loads_json
from driftguard.readers.files import confine, read_text

#: The key segment unknown flags are kept under (``<namespace>.unknown_flags.<name>``); DG304 reports them.
UNKNOWN_FLAGS = "unknown_flags"

#: Wrappers that run the rest of their argv, with the options that take a value (skipped with it).
_WRAPPERS: dict[str, frozenset[str]] = {
    "exec": frozenset(("-a",)),
    "nohup": frozenset(),
    "time": frozenset(("-f", "-o", "--format", "--output")),
    "sudo": frozenset(("-u", "-g", "-h", "-p", "-C", "-D", "-r", "-t", "-U", "--user", "--group")),
    "nice": frozenset(("-n", "--adjustment")),
    "env": frozenset(("-u", "--unset", "-C", "--chdir", "-S", "--split-string")),
    "stdbuf": frozenset(("-i", "-o", "-e")),
    "tini": frozenset(), "dumb-init": frozenset(), "command": frozenset(), "builtin": frozenset(),
}
#: ``uv run``'s options that take a value (``uv run --with x vllm serve ...``).
_UV_RUN_VALUED = frozenset(("--with", "--with-editable", "--with-requirements", "--python", "-p", "--project",
                            "--directory", "--env-file", "--extra", "--group", "--package", "--index",
                            "--default-index", "--module", "-m", "--script", "--cache-dir", "--config-file"))
#: The interpreter's own options that take a value (``python -W ignore -m vllm...``).
_PYTHON_VALUED = frozenset(("-W", "-X", "-Q"))


@dataclass(frozen=True)
class Match:
    """A command that starts ``launcher`` through ``invocation``: ``args`` are the words after the program
    (and its subcommand), ``env`` the command's environment plus any ``VAR=value`` wrapper words."""

    launcher: Launcher
    invocation: Invocation
    command: Command
    args: tuple[Word, ...]
    env: Mapping[str, Word]

    @property
    def line(self) -> int | None:
        return self.command.line

    def shown(self) -> str:
        """``vllm serve (line 12)`` / ``... service "llm"``: how a message names the launch."""
        where = f" {self.command.where}" if self.command.where else ""
        return f"{self.invocation.shown()}{where}" + (f" (line {self.line})" if self.line is not None else "")


@dataclass(frozen=True)
class Arg:
    """One parsed argument: its typed value (None when ``word`` is unresolved), the word it was read from, how
    it was written (``--max-model-len``, ``MAX_INPUT_TOKENS`` for an environment variable, a positional's
    dest), and where (``origin``; a ``--config`` file's key keeps that file's path and line)."""

    value: Json
    word: Word
    spelled: str
    origin: Origin

    @property
    def resolved(self) -> bool:
        return self.word.text is not None


@dataclass(frozen=True)
class Unknown:
    """A flag the launcher does not know, with its value word (None for none) and the closest known spelling."""

    spelled: str
    word: Word
    value: Word | None
    closest: str | None


@dataclass(frozen=True)
class Parsed:
    """The arguments of one launch by dest, the flags the launcher does not know, and words whose role cannot
    be told because their text is unresolved (``"$@"``)."""

    match: Match
    args: dict[str, Arg] = field(default_factory=dict)
    unknown: list[Unknown] = field(default_factory=list)
    opaque: list[Word] = field(default_factory=list)


# ---------------------------------------------------------------------------------------------------------
# Matching
# ---------------------------------------------------------------------------------------------------------

def match(command: Command, launchers: Sequence[Launcher] | None = None) -> Match | None:
    """The launcher ``command`` starts (wrappers skipped), None when it starts none of ``launchers`` (default:
    every registered one)."""
    words, env = _unwrap(list(command.words), dict(command.env))
    if not words or words[0].text is None:
        return None
    for launcher in launchers if launchers is not None else engines.launchers():
        for inv in launcher.invocations:
            rest = _invoked(inv, words)
            if rest is not None:
                return Match(launcher, inv, command, tuple(rest), env)
    return None


def _name(word: Word) -> str | None:
    return None if word.text is None else PurePosixPath(word.text).name


def _unwrap(words: list[Word], env: dict[str, Word]) -> tuple[list[Word], dict[str, Word]]:
    """Skip wrappers and ``VAR=value`` words (which join ``env``) in front of the program."""
    while words:
        head = words[0].text
        if head is None:
            break
        name = PurePosixPath(head).name
        if _assignment(head) and (name == head):
            key, _, value = head.partition("=")
            env[key] = Word(value, words[0].source, words[0].line)
            words = words[1:]
        elif name in _WRAPPERS:
            words = _skip_options(words[1:], _WRAPPERS[name])
            if name == "time" and words and words[0].text == "-p":
                words = words[1:]
        elif name in ("docker", "podman", "nvidia-docker") and len(words) > 1 and words[1].text == "run":
            words = _container_command(words[2:], env)
        elif name == "uv" and len(words) > 1 and words[1].text == "run":
            words = _skip_options(words[2:], _UV_RUN_VALUED)
        elif name in ("poetry", "pipenv", "conda", "micromamba", "pixi") and len(words) > 1 and words[1].text == "run":
            words = _skip_options(words[2:], frozenset(("-n", "--name", "-p", "--prefix", "-e", "--environment")))
        else:
            break
    return words, env


#: ``docker run`` / ``podman run`` options that take no value (every other option takes one, unless written
#: ``--opt=value``); short ones may be combined (``-it``, ``-dit``).
_CONTAINER_FLAGS = frozenset(("-d", "--detach", "-i", "--interactive", "-t", "--tty", "--rm", "--init",
                              "--privileged", "-P", "--publish-all", "--read-only", "--no-healthcheck",
                              "--oom-kill-disable", "--disable-content-trust", "-q", "--quiet", "--sig-proxy",
                              "--use-api-socket", "--help"))
_CONTAINER_ENV = frozenset(("-e", "--env"))


def _container_command(words: list[Word], env: dict[str, Word]) -> list[Word]:
    """The command ``docker run [OPTIONS] IMAGE [COMMAND...]`` runs in the container (empty when it gives
    none: the image's own entrypoint, which the script does not say); ``-e``/``--env NAME=VALUE`` join
    ``env``."""
    i = 0
    while i < len(words) and (t := words[i].text) is not None and t.startswith("-") and len(t) > 1:
        i += 1
        name, eq, value = t.partition("=")
        if t == "--":
            break
        short = not name.startswith("--") and len(name) > 2
        if short and not all(f"-{c}" in _CONTAINER_FLAGS for c in name[1:]):
            name, value, eq = name[:2], t[2:].removeprefix("="), "="  # -p8000:8000, -eKEY=VALUE
        if eq or name in _CONTAINER_FLAGS or short:
            given: Word | None = Word(value, words[i - 1].source, words[i - 1].line) if eq else None
        else:
            given = words[i] if i < len(words) else None
            i += 1
        if name in _CONTAINER_ENV and given is not None and given.text is not None and "=" in given.text:
            key, _, val = given.text.partition("=")
            env[key] = Word(val, given.source, given.line)
    return words[i + 1:]  # past the image


def _assignment(text: str) -> bool:
    key, eq, _ = text.partition("=")
    return bool(eq) and bool(key) and (key[0].isalpha() or key[0] == "_") and \
        all(c.isalnum() or c == "_" for c in key)


def _skip_options(words: list[Word], valued: frozenset[str]) -> list[Word]:
    """Drop a wrapper's leading options (and the values of those in ``valued``); ``--`` ends them."""
    i = 0
    while i < len(words) and (t := words[i].text) is not None and t.startswith("-") and len(t) > 1:
        i += 1
        if t == "--":
            break
        if t in valued and "=" not in t:
            i += 1
    return words[i:]


def _python(name: str) -> bool:
    """``python``, ``python3``, ``python3.11``."""
    rest = name.removeprefix("python")
    return rest != name and all(c.isdigit() or c == "." for c in rest)


def _invoked(inv: Invocation, words: list[Word]) -> list[Word] | None:
    """The words after ``inv``'s program (and subcommand) when ``words`` start it, else None."""
    first = _name(words[0])
    if inv.program is not None:
        if first != inv.program:
            return None
        return _after_subcommand(inv, words[1:])
    if first is None or not _python(first):
        if inv.script is not None and first == inv.script:
            return _after_subcommand(inv, words[1:])
        return None
    i = 1
    while i < len(words) and (t := words[i].text) is not None and t.startswith("-") and t != "-m":
        i += 2 if t in _PYTHON_VALUED else 1
    if i >= len(words):
        return None
    if inv.module is not None:
        if words[i].text == "-m" and i + 1 < len(words) and words[i + 1].text == inv.module:
            return _after_subcommand(inv, words[i + 2:])
        attached = words[i].text or ""
        if attached.startswith("-m") and attached[2:] == inv.module:
            return _after_subcommand(inv, words[i + 1:])
        return None
    if inv.script is not None and _name(words[i]) == inv.script:
        return _after_subcommand(inv, words[i + 1:])
    return None


def _after_subcommand(inv: Invocation, rest: list[Word]) -> list[Word] | None:
    n = len(inv.subcommand)
    if [w.text for w in rest[:n]] != list(inv.subcommand):
        return None
    return rest[n:]


# ---------------------------------------------------------------------------------------------------------
# Parsing
# ---------------------------------------------------------------------------------------------------------

def parse(m: Match, path: str) -> Parsed:
    """The arguments of a launch (see the module docstring); ExtractionError at the word's line for what the
    launcher itself rejects: a flag missing its value, a value of the wrong type, one outside its choices."""
    out = Parsed(m)
    launcher = m.launcher
    positionals: list[Word] = []
    words = list(m.args)
    i = 0
    only_positionals = False
    while i < len(words):
        w = words[i]
        i += 1
        t = w.text
        if t is None:  # unknown text: a positional while the invocation has one left (vllm serve $MODEL)
            (positionals if len(positionals) < len(m.invocation.positionals) else out.opaque).append(w)
            continue
        if only_positionals or not _is_option(t):
            positionals.append(w)
            continue
        if t == "--":
            only_positionals = True
            continue
        flag, spelled, attached = _lookup(launcher, t)
        if flag is None:
            value = None
            if attached is None and i < len(words) and (words[i].text is None or not _is_option(words[i].text or "")):
                value, i = words[i], i + 1
            elif attached is not None:
                value = Word(attached, w.source, w.line)
            out.unknown.append(Unknown(spelled, w, value, _closest(launcher, spelled)))
            continue
        i = _take(out, flag, spelled, attached, w, words, i, path)
    _positionals(out, positionals, path)
    _environment(out, path)
    return out


def _is_option(text: str) -> bool:
    """argparse: a word starting with '-' is an option unless it is '-' or a negative number."""
    if not text.startswith("-") or text == "-":
        return False
    try:
        float(text)
    except ValueError:
        return True
    return False


def _lookup(launcher: Launcher, text: str) -> tuple[Flag | None, str, str | None]:
    """(flag, spelling as written, value attached with '=' or to a short option)."""
    name, eq, value = text.partition("=")
    flag = launcher.flag(name)
    if flag is not None:
        return flag, name, value if eq else None
    if not text.startswith("--"):  # -O3, -tp2, -p8080: a short option with its value attached
        for n in range(len(text) - 1, 1, -1):
            f = launcher.flag(text[:n])
            if f is not None and f.takes_value:
                return f, text[:n], text[n:].removeprefix("=")
    return None, name, value if eq else None


def _closest(launcher: Launcher, spelled: str) -> str | None:
    probe = "--" + spelled.lstrip("-").replace("_", "-")
    close = difflib.get_close_matches(probe, sorted(set(launcher.spellings())), n=1, cutoff=0.6)
    return close[0] if close else None


def _take(out: Parsed, flag: Flag, spelled: str, attached: str | None, w: Word, words: list[Word], i: int,
          path: str) -> int:
    """Read one occurrence of ``flag``; returns the index of the next word."""
    action = flag.action
    negated = spelled.startswith("--no-") and spelled not in flag.spellings  # BooleanOptionalAction's --no-x
    if negated or action in ("store_true", "store_false", "bool_optional") or (
            action == "optional" and attached is None and (
            i >= len(words) or (words[i].text is not None and _is_option(words[i].text or "")))):
        if attached is not None and (negated or action != "optional"):
            raise ExtractionError(f"{spelled} takes no value (got {attached!r})", path, w.line)
        if negated:
            value: Json = False
        elif action == "optional":
            value = _convert(flag, flag.const or "", spelled, w, path)
        else:
            value = action in ("store_true", "bool_optional")
        _set(out, flag, Arg(value, w, spelled, _origin(path, w, flag, "command line")))
        return i
    if attached is not None:
        vw = Word(attached, w.source, w.line)
    elif i < len(words) and (words[i].text is None or not _is_option(words[i].text or "")):
        vw, i = words[i], i + 1
    else:
        raise ExtractionError(f"{spelled} expects a value ({out.match.launcher.name} refuses to start)", path, w.line)
    if action == "nargs":
        items = [vw]
        while i < len(words) and (words[i].text is None or not _is_option(words[i].text or "")):
            items.append(words[i])
            i += 1
        _set_list(out, flag, spelled, items, path, append=False)
        return i
    if action == "append":
        _set_list(out, flag, spelled, [vw], path, append=True)
        return i
    _set(out, flag, Arg(None if vw.text is None else _convert(flag, vw.text, spelled, vw, path), vw, spelled,
                        _origin(path, vw, flag, "command line")))
    return i


def _set(out: Parsed, flag: Flag, arg: Arg) -> None:
    out.args.pop(flag.dest, None)  # the last occurrence wins, and its line is the one shown
    out.args[flag.dest] = arg


def _set_list(out: Parsed, flag: Flag, spelled: str, items: list[Word], path: str, *, append: bool) -> None:
    """``nargs``: this occurrence's words; ``append``: added to the earlier occurrences' (a delimiter splits
    each word)."""
    unresolved = next((w for w in items if w.text is None), None)
    before = out.args.get(flag.dest)
    if unresolved is not None or (append and before is not None and not before.resolved):
        w = unresolved or items[0]
        _set(out, flag, Arg(None, Word(None, " ".join(x.source for x in items), w.line), spelled,
                            _origin(path, w, flag, "command line")))
        return
    values: list[Json] = list(before.value) if append and before is not None and isinstance(before.value, list) else []
    for w in items:
        assert w.text is not None
        parts = w.text.split(flag.delimiter) if flag.delimiter else [w.text]
        values.extend(_convert(flag, p, spelled, w, path) for p in parts)
    last = items[-1]
    _set(out, flag, Arg(values, Word(" ".join(x.text or "" for x in items), last.source, last.line), spelled,
                        _origin(path, items[0], flag, "command line")))


_FALSEY = frozenset(("n", "no", "f", "false", "off", "0"))


def _convert(flag: Flag, text: str, spelled: str, w: Word, path: str) -> Json:
    """A word as the flag's type; ExtractionError at its line when the launcher would reject it."""
    if flag.choices and text not in flag.choices:
        raise ExtractionError(f"{spelled}: {text!r} is not one of {', '.join(flag.choices)}", path, w.line)
    try:
        if flag.type == "int":
            return int(text, 10)
        if flag.type == "float":
            return normalize_json(float(text))
        if flag.type == "bool":
            low = text.strip().lower()
            if low in ("true", "1", "yes", "on", "t", "y"):
                return True
            if low in _FALSEY or low == "":
                return False
            raise ValueError(text)
        if flag.type == "json":
            return normalize_json(loads_json(text, path))
    except ExtractionError as exc:
        raise ExtractionError(f"{spelled}: not valid JSON ({exc.message})", path, w.line) from None
    except ValueError:
        raise ExtractionError(f"{spelled}: {text!r} is not {'an' if flag.type == 'int' else 'a'} {flag.type}", path,
                              w.line) from None
    return text


def _origin(path: str, w: Word, flag: Flag, source: str) -> Origin:
    return Origin(path, w.line, f"/{escape(flag.dest)}", source)


def _positionals(out: Parsed, words: list[Word], path: str) -> None:
    """Positional arguments fill the invocation's dests in order (and win over the same dest given as a flag:
    ``vllm serve MODEL`` over ``--model``); the rest are arguments the launcher rejects."""
    launcher = out.match.launcher
    dests = out.match.invocation.positionals
    by_dest = launcher.by_dest()
    for k, w in enumerate(words):
        if k < len(dests):
            flag = by_dest.get(dests[k]) or Flag(dests[k], (f"--{dests[k]}",))
            value = None if w.text is None else _convert(flag, w.text, dests[k], w, path)
            _set(out, flag, Arg(value, w, dests[k], _origin(path, w, flag, "command line")))
        else:
            out.unknown.append(Unknown(w.text or w.source, w, None, None))


def _environment(out: Parsed, path: str) -> None:
    """Flags absent from the command line, read from the environment variables the launcher reads (TGI)."""
    for flag in out.match.launcher.flags:
        if flag.env is None or flag.dest in out.args or flag.env not in out.match.env:
            continue
        w = out.match.env[flag.env]
        if flag.action in ("store_true", "store_false", "bool_optional"):
            value: Json = None if w.text is None else w.text.strip().lower() not in _FALSEY
        elif w.text is None:
            value = None
        elif flag.action in ("append", "nargs"):
            parts = w.text.split(flag.delimiter) if flag.delimiter else [w.text]
            value = [_convert(flag, p, flag.env, w, path) for p in parts]
        else:
            value = _convert(flag, w.text, flag.env, w, path)
        out.args[flag.dest] = Arg(value, w, flag.env, _origin(path, w, flag, "environment"))


# ---------------------------------------------------------------------------------------------------------
# Resolution
# ---------------------------------------------------------------------------------------------------------

def resolve(m: Match, path: Path, options: ExtractOptions, kind: str) -> EffectiveConfig:
    """The effective config of one launch (see the module docstring)."""
    parsed = parse(m, str(path))
    launcher = m.launcher
    args = dict(parsed.args)
    from_file = _config_file(parsed, path, options, args)
    resolved = {d: a for d, a in args.items() if a.resolved}
    if launcher.kind is not None:
        cfg = _through_kind(launcher, resolved, path, options)
    else:
        cfg = _by_keys(launcher, resolved, path, kind, options)
    values = {k: _relocate(v, from_file, str(path)) for k, v in cfg.values.items()}
    b = ValueBuilder(kind, path)
    b.values.update(values)
    _derive(b, launcher, resolved)
    by_dest = launcher.by_dest()
    for dest, a in args.items():
        if not a.resolved:
            flag = by_dest.get(dest)
            kept = f"{launcher.namespace}.{dest}"
            keys = {kept} if flag is None or not flag.key else {flag.key, kept} if flag.also else {flag.key}
            for key in keys:  # every key the kind would have set: no other layer stands in for it
                b.values[key] = Value(a.word.source, a.origin, How.UNRESOLVED,
                                      f"{a.spelled} {a.word.source}: its value is not known from the files")
    for u in parsed.unknown:
        name = u.spelled.lstrip("-")
        hint = f"; did you mean {u.closest}?" if u.closest else ""
        value: Json = True if u.value is None else u.value.text if u.value.text is not None else u.value.source
        b.values[f"{launcher.namespace}.{UNKNOWN_FLAGS}.{name}"] = Value(
            value, Origin(str(path), u.word.line, None, "command line"), How.EXPLICIT,
            f"not a {m.invocation.shown()} argument: {launcher.name} refuses to start with it{hint}")
    if parsed.opaque:
        first = parsed.opaque[0]
        b.values[f"{launcher.namespace}.unresolved_arguments"] = Value(
            " ".join(w.source for w in parsed.opaque), Origin(str(path), first.line, None, "command line"),
            How.UNRESOLVED, "arguments whose words are not known from the files: their flags cannot be read")
    built = b.build()
    return replace(built, serving=launcher.serving or cfg.serving)


def _through_kind(launcher: Launcher, args: Mapping[str, Arg], path: Path, options: ExtractOptions) \
        -> EffectiveConfig:
    """The engine kind's own resolution of the arguments (``extract_document``)."""
    from driftguard import extractors

    assert launcher.kind is not None
    module = extractors.get(launcher.kind)
    fn: Callable[..., EffectiveConfig] | None = getattr(module, "extract_document", None)
    if fn is None:
        raise ExtractionError(f"launcher {launcher.name}: kind '{launcher.kind}' has no extract_document")
    data = {d: a.value for d, a in args.items()}
    lines = {f"/{escape(d)}": a.origin.line for d, a in args.items() if a.origin.line is not None}
    lines[""] = min(lines.values(), default=1)
    return fn(Document(path, data, lines), options, engine_args=True)


def _by_keys(launcher: Launcher, args: Mapping[str, Arg], path: Path, kind: str, options: ExtractOptions) \
        -> EffectiveConfig:
    """Each argument under its flag's canonical key, else ``<namespace>.<dest>``; documented defaults for the
    flags the command leaves unset. A dtype is written as the vocabulary spells it (``half`` is ``float16``;
    ``auto`` stays, for rule DG105 to resolve); a chat template flag gives the template's digest
    (``_chat_template``)."""
    b = ValueBuilder(kind, path)
    b.serving = launcher.serving
    by_dest = launcher.by_dest()
    for dest, a in args.items():
        flag = by_dest.get(dest)
        key = flag.key if flag is not None and flag.key else f"{launcher.namespace}.{dest}"
        if key == "preprocessing.chat_template" and flag is not None:
            _chat_template(b, launcher, flag, a, path, options)
            continue
        b.values[key] = Value(_canonical(key, a.value), a.origin, How.EXPLICIT)
    for flag in launcher.flags:
        if flag.default is not None and flag.key is not None:
            b.set_default(flag.key, flag.default, default_of=launcher.name)
    return b.build()


def _canonical(key: str, value: Json) -> Json:
    """A dtype key's value in the vocabulary's spelling (``half`` -> ``float16``); ``auto`` and spellings the
    vocabulary does not know stay as written."""
    spec = keys.spec_for(key)
    if spec is None or spec.type != "dtype" or not isinstance(value, str) or value.strip().lower() == "auto":
        return value
    return normalize_dtype(value) or value


#: A chat template value with any of these characters is the template itself (vLLM's load_chat_template and
#: llama.cpp's --chat-template take inline Jinja); a ``.json`` value is a launcher's own template config.
_JINJA_CHARS = "{}\n"
_TEMPLATE_SUFFIXES = (".jinja", ".jinja2", ".j2")


def _chat_template(b: ValueBuilder, launcher: Launcher, flag: Flag, a: Arg, path: Path,
                   options: ExtractOptions) -> None:
    """A chat template flag: a file (``Flag.file``, or a value with a template suffix or a path separator)
    is read inside the checked tree and digested; an inline template is digested; a ``.json`` config stays
    under the launcher's namespace; any other value is the name of a built-in template
    (``preprocessing.chat_template_name``)."""
    raw = a.value
    if not isinstance(raw, str):
        raise ExtractionError(f"{a.spelled}: expected a template, a file or a name", str(path), a.word.line)
    inline = any(c in raw for c in _JINJA_CHARS)
    if flag.file or (not inline and (raw.endswith(_TEMPLATE_SUFFIXES) or "/" in raw)):
        file = Path(raw) if Path(raw).is_absolute() else path.parent / raw
        confine(file, options.root_for(path), "chat template", origin=str(path), line=a.word.line)
        text = read_text(file, options.limits, "chat template")
        note = f"sha256 of {a.spelled} {raw} (it replaces the model's own template)"
        b.values["preprocessing.chat_template_text"] = Value(text, a.origin, How.EXPLICIT)
    elif inline:
        text = raw
        note = f"sha256 of the inline {a.spelled} (it replaces the model's own template)"
        b.values["preprocessing.chat_template_text"] = Value(text, a.origin, How.EXPLICIT)
    elif raw.endswith(".json"):
        b.values[f"{launcher.namespace}.{flag.dest}"] = Value(raw, a.origin, How.EXPLICIT)
        return
    else:
        b.values["preprocessing.chat_template_name"] = Value(raw, a.origin, How.EXPLICIT,
                                                             f"{a.spelled} names a built-in template")
        return
    b.values["preprocessing.chat_template"] = Value(keys.chat_template_digest(text), a.origin, How.EXPLICIT, note)


def _derive(b: ValueBuilder, launcher: Launcher, args: Mapping[str, Arg]) -> None:
    """The launcher's rule for what its arguments mean together (``Launcher.derive``): each value it gives
    replaces what the arguments set alone, at the line of the first of its arguments the command gives."""
    if launcher.derive is None:
        return
    by_dest = launcher.by_dest()
    for d in launcher.derive({dest: a.value for dest, a in args.items()}):
        present = [args[s] for s in d.sources if s in args]
        anchor = present[0].origin if present else Origin(str(b.path))
        keys_of = tuple(f.key if (f := by_dest.get(s)) is not None and f.key else f"{launcher.namespace}.{s}"
                        for s in d.sources if s in args)
        b.derive(d.key, d.value, anchor, d.why, keys_of, explicit=True)


def _config_file(parsed: Parsed, path: Path, options: ExtractOptions, args: dict[str, Arg]) -> dict[str, Origin]:
    """``--config FILE``: its arguments join ``args`` where the command line does not give them (the command
    line wins); returns pointer -> the file's origin, to relocate the values read from it."""
    launcher = parsed.match.launcher
    if launcher.config_flag is None or launcher.config_flag not in args:
        return {}
    a = args.pop(launcher.config_flag)
    if not a.resolved or not isinstance(a.value, str):
        args[launcher.config_flag] = a
        return {}
    file = Path(a.value) if Path(a.value).is_absolute() else path.parent / a.value
    confine(file, options.root_for(path), "config file", origin=str(path), line=a.word.line)
    doc = load_document(file, options.limits)
    if not isinstance(doc.data, dict):
        raise ExtractionError(f"{a.spelled} {a.value}: expected a mapping of arguments", str(file), doc.line("") or 1)
    out: dict[str, Origin] = {}
    for raw_name, raw in doc.data.items():
        name = str(raw_name)
        flag = launcher.flag("--" + name.replace("_", "-")) or launcher.flag("--" + name)
        dest = flag.dest if flag is not None else name.replace("-", "_")
        if dest in args:
            continue
        ptr = f"/{escape(name)}"
        origin = Origin(str(file), doc.line(ptr), ptr, "config file")
        out[f"/{escape(dest)}"] = origin
        args[dest] = Arg(normalize_json(raw), Word(json.dumps(raw), name, origin.line), name, origin)
    return out


def _relocate(v: Value, from_file: Mapping[str, Origin], path: str) -> Value:
    """A value the kind resolved from an argument that came from the ``--config`` file: its origin is that
    file's key, not the script's line."""
    o = v.origin
    hit = from_file.get(o.pointer or "") if o.path == path else None
    replaced = None if v.replaced is None else _relocate(v.replaced, from_file, path)
    if hit is None and replaced is v.replaced:
        return v
    origin = o if hit is None else Origin(hit.path, hit.line, hit.pointer, o.source, o.default_of)
    return replace(v, origin=origin, replaced=replaced)


def resolve_all(commands: Sequence[Command], path: Path, options: ExtractOptions, kind: str,
                what: str = "file") -> EffectiveConfig:
    """The one serving launch among ``commands`` (see the module docstring), with what the build steps
    before it fix (``_with_builds``)."""
    matches = [m for c in commands if (m := match(c)) is not None]
    if not matches:
        known = ", ".join(dict.fromkeys(x.shown() for x in engines.launchers()))
        raise ExtractionError(f"no known launcher is started in this {what}; known: {known}", str(path),
                              commands[0].line if commands else 1)
    resolved = [(m, resolve(m, path, options, kind)) for m in matches]
    servers = [(m, c) for m, c in resolved if m.launcher.builds is None] or resolved[:1]
    first = servers[0][1]
    for m, cfg in servers[1:]:
        differ = _disagreement(first, cfg)
        if differ:
            shown = "; ".join(f"{mm.shown()}" for mm, _ in servers)
            raise ExtractionError(f"this {what} starts several servers that disagree ({differ}): {shown}; "
                                  "give each its own file", str(path), m.line)
    builds = [(m, c) for m, c in resolved if m.launcher.builds is not None and c is not first]
    return _with_builds(first, servers[0][0], builds, path, what) if builds else first


def _with_builds(server: EffectiveConfig, served: Match, builds: Sequence[tuple[Match, EffectiveConfig]],
                 path: Path, what: str) -> EffectiveConfig:
    """A build step's values join the server's (``trtllm-build --max_input_len`` is a limit of the engine
    ``trtllm-serve`` runs): a key only one of them states is taken from it, a stated value wins over a
    default, and two stated values that differ are an input error, except where the server loads what a
    build step wrote (``trtllm-serve ENGINE_DIR`` after ``trtllm-build --output_dir ENGINE_DIR``): then the
    build chain's ``model.source``, the model it was built from, is the deployment's."""
    values = dict(server.values)
    outputs = {str(v.value) for m, c in builds
               if (v := c.values.get(f"{m.launcher.namespace}.{m.launcher.builds}")) is not None}
    loads_built = (src := values.get("model.source")) is not None and str(src.value) in outputs
    if loads_built:
        values.pop("model.source")
    for m, cfg in builds:
        for key, v in cfg.values.items():
            have = values.get(key)
            if have is None or (have.how == How.DEFAULT and v.how != How.DEFAULT):
                values[key] = v
            elif v.how != How.DEFAULT and have.how != How.DEFAULT and have.value != v.value:
                raise ExtractionError(f"this {what} builds and serves with different values of {key}: "
                                      f"{_shown(v)} ({m.shown()}) vs {_shown(have)} ({served.shown()})",
                                      str(path), m.line)
    return replace(server, values=values)


def _disagreement(a: EffectiveConfig, b: EffectiveConfig) -> str:
    """The first key two launches state differently ("" when they agree), for the error message."""
    if a.serving != b.serving:
        return f"serving path {a.serving} vs {b.serving}"
    stated = [k for k in sorted(set(a.values) | set(b.values))
              if any(v is not None and v.how in (How.EXPLICIT, How.UNRESOLVED) for v in (a.get(k), b.get(k)))]
    for key in stated:
        va, vb = a.get(key), b.get(key)
        if va is None or vb is None or va.value != vb.value:
            return f"{key}: {_shown(va)} vs {_shown(vb)}"
    return ""


def _shown(v: Value | None) -> str:
    return "unset" if v is None else json.dumps(v.value) if not isinstance(v.value, str) else v.value


__all__ = ["UNKNOWN_FLAGS", "Arg", "Match", "Parsed", "Unknown", "match", "parse", "resolve",
           "resolve_all"]
