"""What a launcher is, as data: the program people type to start a server (``vllm serve``,
``text-generation-launcher``, ``python -m vllm.entrypoints.openai.api_server``), the flags it takes with their
argument-parser semantics, the environment variables it reads, and what each means.

A launcher module (one per launcher family, registered in ``engines.LAUNCHERS``) declares
``LAUNCHERS: tuple[Launcher, ...]``. ``extractors.launch_common`` matches a ``readers.commands.Command``
against them and parses its argv with these records; nothing here reads a file or parses a command line.

The records, in the words of the parsers they encode:

- ``Flag``: one option. ``dest`` is the argument's own name (argparse ``dest``, clap field), which is also the
  name the engine kind's document resolution reads (``max_model_len``); ``spellings`` every way to write it
  (``--max-model-len``, ``-q``); ``action`` how it consumes words (``store``: one value; ``store_true`` /
  ``store_false``: none; ``optional``: an optional value, ``const`` when absent; ``bool_optional``:
  ``--x``/``--no-x``; ``append``: one value per occurrence, collected; ``nargs``: one or more values up to the
  next option); ``type`` what the value is (``str``, ``int``, ``float``, ``bool``, ``json``); ``choices``;
  ``env`` the environment variable the launcher reads it from when the flag is absent (clap ``env``);
  ``delimiter`` a clap ``value_delimiter``; ``key`` the key the value sets (None: kept as
  ``<namespace>.<dest>``, or left to the engine kind's resolution); ``also``: the engine kind keeps it under
  ``<namespace>.<dest>`` as well as under a canonical ``key`` (vLLM's ``model`` is ``model.source`` and
  ``vllm.model``); ``default``: the documented default; ``file``: the value is the path of a file whose text
  the key reads (``--chat-template-file``). A flag with no spellings is a positional argument's (``lmdeploy
  serve api_server MODEL``: its key, and no option spells it).
- ``Invocation``: one way to call the launcher: a ``program`` (basename of argv[0]) followed by
  ``subcommand`` words, a ``module`` run as ``python -m MODULE``, or a ``script`` run as ``python SCRIPT``
  (or directly); ``positionals`` the dests its positional arguments fill, in order (``vllm serve MODEL``).
- ``Launcher``: ``name``; ``engine`` and ``serving`` (the engine and serving path it starts, None for a build tool
  and for a server no ``engines`` spec describes: llama-server, SGLang, tritonserver); ``kind``: the extractor kind
  whose ``extract_document`` resolves the parsed arguments (the engine's own precedence: vLLM's
  generation_config.json layer, dtype auto...), None when the flags' ``key`` map values directly; ``namespace``
  where args without a canonical key are kept; ``parser``: ``argparse`` or ``clap`` (how options are written:
  argparse accepts ``--flag=value`` and, with ``underscores``, vLLM's ``--max_model_len`` spelling; clap accepts
  ``--flag=value`` and ``-fVALUE``); ``abbreviations``: a long option may be written as a prefix of one flag's
  spelling only (argparse ``allow_abbrev``, getopt_long); ``config_flag``: the dest of a flag naming a file of more
  arguments (``vllm serve --config FILE``; the command line wins over the file); ``derive``: the launcher's rule for
  what several arguments mean together (llama-server's per-slot context from ``-c`` and ``-np``), values that
  replace what the arguments set alone; ``builds``: for a build step (``trtllm-build``), the dest of what it writes
  (``output_dir``): its values join those of the server started in the same file, which may load what it wrote;
  ``source``: where the table was read from (repository@commit path, symbol).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Literal

from driftguard.keys import Default
from driftguard.model import Json

Action = Literal["store", "store_true", "store_false", "optional", "bool_optional", "append", "nargs"]
ArgType = Literal["str", "int", "float", "bool", "json"]
ParserStyle = Literal["argparse", "clap"]

_ACTIONS = ("store", "store_true", "store_false", "optional", "bool_optional", "append", "nargs")
_TYPES = ("str", "int", "float", "bool", "json")


@dataclass(frozen=True)
class Flag:
    """One option of a launcher (see the module docstring)."""

    dest: str
    spellings: tuple[str, ...]
    action: Action = "store"
    type: ArgType = "str"
    choices: tuple[str, ...] = ()
    env: str | None = None
    delimiter: str | None = None
    key: str | None = None
    default: Default | None = None
    const: str | None = None
    file: bool = False
    also: bool = False

    def __post_init__(self) -> None:
        if self.action not in _ACTIONS or self.type not in _TYPES or \
                not all(s.startswith("-") for s in self.spellings):
            raise ValueError(f"Flag {self.dest!r}: action {self.action!r}, type {self.type!r} and spellings "
                             f"{self.spellings!r} (each starting with '-') must be valid")

    @property
    def takes_value(self) -> bool:
        """True when the flag consumes the next word (unless written ``--flag=value``)."""
        return self.action in ("store", "append", "nargs")


@dataclass(frozen=True)
class Derived:
    """A value a launcher computes from several of its arguments (``Launcher.derive``): the canonical ``key``,
    its ``value``, the dests it is computed from (the first one present gives its origin) and ``why``, the
    launcher's rule with its source."""

    key: str
    value: Json
    sources: tuple[str, ...]
    why: str


#: A launcher's rule for what its arguments mean together: parsed arguments (dest -> typed value, only those
#: the command line or the environment gives) -> the values they imply.
Derive = Callable[[Mapping[str, Json]], tuple[Derived, ...]]


@dataclass(frozen=True)
class Invocation:
    """One way to start a launcher (exactly one of ``program``, ``module``, ``script``)."""

    program: str | None = None
    subcommand: tuple[str, ...] = ()
    module: str | None = None
    script: str | None = None
    positionals: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if sum(x is not None for x in (self.program, self.module, self.script)) != 1:
            raise ValueError("Invocation: give exactly one of program, module, script")

    def shown(self) -> str:
        """As a person types it: ``vllm serve``, ``python -m vllm.entrypoints.openai.api_server``."""
        head = f"python -m {self.module}" if self.module is not None else self.program or f"python {self.script}"
        return " ".join((head, *self.subcommand))


@dataclass(frozen=True)
class Launcher:
    """A launcher and everything its command line can say (see the module docstring)."""

    name: str
    invocations: tuple[Invocation, ...]
    flags: tuple[Flag, ...]
    source: str
    namespace: str
    engine: str | None = None
    serving: str | None = None
    kind: str | None = None
    parser: ParserStyle = "argparse"
    underscores: bool = False
    config_flag: str | None = None
    derive: Derive | None = None
    builds: str | None = None
    abbreviations: bool = False
    _by_spelling: dict[str, Flag] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.invocations:
            raise ValueError(f"Launcher {self.name!r}: no invocation")
        table: dict[str, Flag] = {}
        for f in self.flags:
            for s in f.spellings:
                if s in table:
                    raise ValueError(f"Launcher {self.name!r}: {s} is spelled by both {table[s].dest} and {f.dest}")
                table[s] = f
        self._by_spelling.update(table)

    def flag(self, spelling: str) -> Flag | None:
        """The flag written as ``spelling`` (``--max-model-len``; with ``underscores``, ``--max_model_len``;
        for a ``bool_optional`` flag or an optional boolean, ``--no-<name>`` too); None when the launcher has
        none."""
        hit = self._by_spelling.get(spelling)
        if hit is None and self.underscores and spelling.startswith("--"):
            hit = self._by_spelling.get("--" + spelling[2:].replace("_", "-"))
        if hit is None and spelling.startswith("--no-"):
            base = self.flag("--" + spelling[5:])
            negatable = base is not None and (base.action == "bool_optional" or (base.action == "optional" and
                                                                                 base.type == "bool"))
            hit = base if negatable else None
        if hit is None and self.abbreviations and spelling.startswith("--") and len(spelling) > 2:
            hit = self._abbreviated(spelling)
        return hit

    def _abbreviated(self, prefix: str) -> Flag | None:
        """argparse's ``allow_abbrev`` (and getopt_long's): a long option may be written as a prefix that
        starts one flag's spellings only (``--tp`` for ``--tp-size``); a prefix of several is no flag (the
        parser calls it ambiguous)."""
        probe = "--" + prefix[2:].replace("_", "-") if self.underscores else prefix
        found = {id(f): f for s, f in self._by_spelling.items() if s.startswith(probe) or s.startswith(prefix)}
        return next(iter(found.values())) if len(found) == 1 else None

    def spellings(self) -> list[str]:
        """Every long spelling, for 'did you mean' messages."""
        return [s for f in self.flags for s in f.spellings if s.startswith("--")]

    def by_dest(self) -> dict[str, Flag]:
        return {f.dest: f for f in self.flags}

    def shown(self) -> str:
        """``vllm serve`` / ``python -m vllm.entrypoints.openai.api_server``: how people start it."""
        return " or ".join(i.shown() for i in self.invocations)
