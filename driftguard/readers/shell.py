"""Shell text as the commands it runs: every simple command of a script, its words after quote removal and
expansion, and the environment it starts with, each word at its line (``readers.commands.Command``).

Parsed with tree-sitter's bash grammar (``tree-sitter`` + ``tree-sitter-bash``), never executed and never with
regular expressions. What is read:

- every simple command anywhere: inside ``if``/``case``, loops, functions, pipelines, ``&&``/``||`` lists,
  subshells and ``{ ...; }`` groups; the string of ``sh -c "..."``/``bash -c '...'`` is parsed as a script of
  its own (bounded depth) and its commands replace the ``sh -c`` one;
- words after quote removal (``'...'``, ``"..."``, ``$'...'``, backslashes), unquoted expansions split into
  fields as the shell does (``$EXTRA_ARGS`` holding ``--a 1`` is two words), each word at the line it is
  written on (a continued line keeps each word's own line);
- variables: assignments and ``export``/``declare``/``local``/``readonly``/``unset`` earlier in the script,
  plus the caller's environment (``env``: what a compose file or a Kubernetes container gives the process).
  ``$VAR``, ``${VAR}``, ``${#VAR}``, ``${VAR:-default}``, ``${VAR-default}``, ``${VAR:=default}``,
  ``${VAR=default}``, ``${VAR:+alt}``, ``${VAR+alt}`` and ``${VAR:?msg}`` are resolved from them. An assignment
  on one branch only (an ``if`` without ``else``, a loop body, the right of ``&&``) leaves the variable
  unresolved afterwards unless every path agrees. A variable the script never sets and the caller does not
  pass is unknown, except where the script writes its default (``${VAR:-4096}`` is ``4096``: what the file
  says runs when nothing overrides it);
- ``Command.env`` holds the exported variables only (and the ``A=1 cmd`` prefix), as the process sees them.

A word whose value the text does not fix (command substitution, arithmetic, an unknown variable, ``$1``,
``"$@"``, a glob, ``~``, brace expansion, pattern operators such as ``${X%.*}``) has ``Word.text`` None and keeps
its expression in ``Word.source``.

Bounds: the text is what the caller read through ``readers.files`` (``Limits.file_bytes``); the syntax tree may
hold at most ``Limits.objects`` nodes and nest at most ``Limits.depth`` deep (``LimitError`` with the line).
A line tree-sitter cannot parse is skipped when the rest then parses (``Script.errors`` keeps its line; at
most ``MAX_SKIPPED`` of them); a text that still does not parse is an ``ExtractionError`` naming the first
bad line.

Public API (for the launch readers of other formats):

- ``parse(text, path, limits, env=None, line=1) -> Script``: the commands plus the lines of skipped regions;
- ``commands(...)``: ``parse(...).commands``;
- ``split(text, path, limits, env=None, line=1) -> tuple[Word, ...]``: the words of a text that must be one
  simple command (a Dockerfile shell-form ``CMD``, a compose ``command:`` string run by a shell).

``line`` is the line of the file where ``text`` starts (1 for a whole script).
"""

from __future__ import annotations

import codecs
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import PurePosixPath
from typing import TYPE_CHECKING

from driftguard.errors import ExtractionError
from driftguard.readers.commands import Command, Word
from driftguard.readers.limits import DEFAULT, Limits

if TYPE_CHECKING:  # tree-sitter is imported when a script is parsed, not when driftguard is
    from tree_sitter import Node, Parser

#: Shells whose ``-c`` string is parsed as a script of its own.
SHELLS = frozenset(("sh", "bash", "dash", "ash", "zsh", "ksh"))
#: How many ``sh -c`` strings may nest in one another.
MAX_NESTED_SHELLS = 8
#: How many lines bash would reject may be skipped before a text is refused as not shell.
MAX_SKIPPED = 10

_GLOB = frozenset("*?[")
_IFS = " \t\n"


@dataclass(frozen=True)
class Script:
    """What ``parse`` found: the commands in text order, and the first line of each region skipped because
    tree-sitter could not parse it."""

    commands: tuple[Command, ...]
    errors: tuple[int, ...] = ()


@dataclass(frozen=True)
class _Var:
    """A shell variable as the script leaves it: ``word`` None when it is unset (``unset X``)."""

    word: Word | None
    exported: bool = False


#: name -> variable; a name absent is unknown (the caller's environment may set it at run time).
_State = dict[str, _Var]


@cache
def _parser() -> Parser:
    import tree_sitter_bash
    from tree_sitter import Language, Parser

    return Parser(Language(tree_sitter_bash.language()))


def parse(text: str, path: str, limits: Limits = DEFAULT, env: Mapping[str, Word] | None = None,
          line: int = 1) -> Script:
    """Every simple command of ``text`` (see the module docstring); ``env``: the caller's environment,
    exported; ``line``: the file line ``text`` starts on."""
    state: _State = {name: _Var(word, exported=True) for name, word in (env or {}).items()}
    walker = _Walker(path, limits, line - 1, 0)
    walker.program(text, state)
    return Script(tuple(walker.found), tuple(walker.errors))


def commands(text: str, path: str, limits: Limits = DEFAULT, env: Mapping[str, Word] | None = None,
             line: int = 1) -> list[Command]:
    """``parse(...).commands`` as a list."""
    return list(parse(text, path, limits, env, line).commands)


def split(text: str, path: str, limits: Limits = DEFAULT, env: Mapping[str, Word] | None = None,
          line: int = 1) -> tuple[Word, ...]:
    """The words of a text that is one simple command; ExtractionError when it is several or none."""
    found = parse(text, path, limits, env, line).commands
    if len(found) != 1:
        raise ExtractionError(f"expected one command, found {len(found)} in {text[:80]!r}", path, line)
    return found[0].words


@dataclass
class _Walker:
    """One walk over a parsed script: commands found, skipped regions, bounds."""

    path: str
    limits: Limits
    offset: int  # file line of the text's first line, minus one
    nested: int  # sh -c levels above this text
    found: list[Command] = field(default_factory=list)
    errors: list[int] = field(default_factory=list)
    _source: bytes = b""

    # -- structure ---------------------------------------------------------------------------------------

    def program(self, text: str, state: _State) -> None:
        source = text.encode("utf-8", "surrogateescape")
        tree = _parser().parse(source)
        for _ in range(MAX_SKIPPED):
            if not tree.root_node.has_error:
                break
            row = self._first_error(tree.root_node)
            self.errors.append(self.offset + row + 1)
            source = _blank_line(source, row)
            tree = _parser().parse(source)
        else:
            if tree.root_node.has_error:
                raise ExtractionError(f"cannot parse this shell script (bash would reject it; {MAX_SKIPPED} regions "
                                      "skipped and more remain)", self.path, self.errors[0] if self.errors else None)
        self._source = source
        root = tree.root_node
        self.limits.check("objects", root.descendant_count, "shell syntax tree nodes", self.path, self.offset + 1)
        self._block(root.children, state, 1)

    @staticmethod
    def _first_error(root: Node) -> int:
        """The row of the first innermost ERROR or MISSING node (an outer ERROR may span the whole text)."""
        n = root
        while True:
            bad = next((c for c in n.children if c.type == "ERROR" or c.is_missing or c.has_error), None)
            if bad is None:
                return n.start_point.row
            if bad.is_missing or (bad.type == "ERROR" and not any(c.has_error or c.is_missing for c in bad.children)):
                return bad.start_point.row
            n = bad

    def _line(self, node: Node) -> int:
        return self.offset + node.start_point.row + 1

    def _text(self, node: Node) -> str:
        return self._source[node.start_byte:node.end_byte].decode("utf-8", "surrogateescape")

    def _deeper(self, depth: int, node: Node) -> int:
        if depth > self.limits.depth:
            self.limits.check("depth", depth, "shell nesting depth", self.path, self._line(node))
        return depth + 1

    def _block(self, nodes: list[Node], state: _State, depth: int) -> None:
        for n in nodes:
            self._statement(n, state, depth)

    def _statement(self, node: Node, state: _State, depth: int) -> None:
        t = node.type
        if not node.is_named:
            return
        depth = self._deeper(depth, node)
        if t == "command":
            self._command(node, state, depth)
        elif t in ("variable_assignment", "variable_assignments"):
            for a in ([node] if t == "variable_assignment" else node.named_children):
                self._assign(a, state, exported=None)
        elif t == "declaration_command":
            self._declare(node, state)
        elif t == "unset_command":
            for c in node.named_children:
                if c.type == "variable_name":
                    state[self._text(c)] = _Var(None)
        elif t in ("program", "compound_statement", "do_group"):
            self._block(node.children, state, depth)
        elif t in ("redirected_statement", "negated_command"):
            first = next((c for c in node.named_children if not c.type.endswith("redirect")), None)
            if first is not None:
                self._statement(first, state, depth)
        elif t == "list":
            self._list(node, state, depth)
        elif t in ("pipeline", "subshell"):
            for c in node.named_children:
                self._statement(c, dict(state), depth)  # each runs in a subshell: nothing leaks
        elif t == "function_definition":
            body = node.child_by_field_name("body")
            if body is not None:
                self._statement(body, dict(state), depth)
        elif t == "if_statement":
            self._if(node, state, depth)
        elif t == "case_statement":
            self._case(node, state, depth)
        elif t in ("for_statement", "c_style_for_statement", "while_statement", "until_statement"):
            self._loop(node, state, depth)

    def _list(self, node: Node, state: _State, depth: int) -> None:
        """``a && b || c``: the first runs, the others may not; tree-sitter nests lists to the left, so the
        chain is flattened here (a long chain is not a deep one)."""
        parts: list[Node] = []
        n = node
        while n.type == "list":
            named = n.named_children
            parts[:0] = named[1:]
            n = named[0]
        self._statement(n, state, depth)
        for p in parts:
            branch = dict(state)
            self._statement(p, branch, depth)
            _merge(state, [state, branch], self._line(p))

    def _if(self, node: Node, state: _State, depth: int) -> None:
        branches: list[_State] = []
        cond_done = False
        current: _State | None = None
        exhaustive = False
        for c in node.children:
            if not cond_done:
                if c.type == "then":
                    cond_done, current = True, dict(state)
                else:
                    self._statement(c, state, depth)  # the condition runs
                continue
            if c.type in ("elif_clause", "else_clause"):
                if current is not None:
                    branches.append(current)
                    current = None
                b = dict(state)
                self._statement_children(c, b, depth)
                branches.append(b)
                exhaustive = exhaustive or c.type == "else_clause"
            elif current is not None:
                self._statement(c, current, depth)
        if current is not None:
            branches.append(current)
        _merge(state, branches if exhaustive else [*branches, dict(state)], self._line(node))

    def _statement_children(self, node: Node, state: _State, depth: int) -> None:
        for c in node.named_children:
            self._statement(c, state, depth)

    def _case(self, node: Node, state: _State, depth: int) -> None:
        branches: list[_State] = []
        exhaustive = False
        for item in node.named_children:
            if item.type != "case_item":
                continue
            patterns = [self._text(c) for c in item.children_by_field_name("value")]
            exhaustive = exhaustive or "*" in patterns
            b = dict(state)
            for c in item.named_children:
                if c not in item.children_by_field_name("value"):
                    self._statement(c, b, depth)
            branches.append(b)
        _merge(state, branches if exhaustive else [*branches, dict(state)], self._line(node))

    def _loop(self, node: Node, state: _State, depth: int) -> None:
        body = dict(state)
        for c in node.named_children:
            if c.type in ("do_group", "compound_statement") or node.type in ("while_statement", "until_statement"):
                self._statement(c, body, depth)
        var = node.child_by_field_name("variable")
        if var is not None:  # the loop variable takes values the text lists: not one value
            body[self._text(var)] = _Var(Word(None, f"${self._text(var)} (loop variable)", self._line(var)))
        _merge(state, [state, body], self._line(node))

    # -- assignments -------------------------------------------------------------------------------------

    def _assign(self, node: Node, state: _State, exported: bool | None) -> None:
        """``NAME=value`` / ``NAME+=value``; ``exported`` None keeps the variable's export flag."""
        name_node = node.child_by_field_name("name")
        if name_node is None:
            return
        if name_node.type != "variable_name":  # A[1]=x: arrays are not followed
            name = self._text(name_node).partition("[")[0]
            state[name] = _Var(Word(None, self._text(node), self._line(node)), bool(exported))
            return
        name = self._text(name_node)
        value_node = node.child_by_field_name("value")
        was = state.get(name)
        keep = was.exported if was is not None else False
        flag = keep if exported is None else exported
        if value_node is None:
            word = Word("", self._text(node), self._line(node))
        elif value_node.type == "array":
            word = Word(None, self._text(value_node), self._line(value_node))
        else:
            segs = self._expand(value_node, state, quoted=True)
            word = Word(_join(segs), self._text(value_node), self._line(value_node))
        if any(c.type == "+=" for c in node.children):
            # appending to an unknown variable gives an unknown value; to an unset one, the new text
            old = None if was is None else "" if was.word is None else was.word.text
            word = Word(None if old is None or word.text is None else old + word.text, self._text(node), word.line)
        state[name] = _Var(word, flag)

    def _declare(self, node: Node, state: _State) -> None:
        keyword = node.children[0].type if node.children else ""
        options = [self._text(c) for c in node.named_children if c.type == "word" and self._text(c).startswith("-")]
        export = keyword == "export" or any("x" in o for o in options)
        if any(o == "-n" for o in options) and keyword == "export":
            export = False
        for c in node.named_children:
            if c.type == "variable_assignment":
                self._assign(c, state, exported=export or None)
            elif c.type == "variable_name" and export:
                name = self._text(c)
                was = state.get(name)
                if was is not None:
                    state[name] = _Var(was.word, True)
                # exporting an unknown variable exports whatever the environment had: still unknown

    # -- commands ----------------------------------------------------------------------------------------

    def _command(self, node: Node, state: _State, depth: int) -> None:
        prefix: dict[str, Word] = {}
        words: list[Word] = []
        for c in node.named_children:
            if c.type == "variable_assignment" and not words:
                scratch: _State = dict(state)
                self._assign(c, scratch, exported=True)
                name_node = c.child_by_field_name("name")
                if name_node is not None:
                    var = scratch.get(self._text(name_node).partition("[")[0])
                    if var is not None and var.word is not None:
                        prefix[self._text(name_node)] = var.word
            elif c.type.endswith("redirect") or c.type == "herestring_redirect":
                continue
            elif c.type == "command_name":
                words.extend(self._fields(c.named_children[0] if c.named_children else c, state))
            else:
                words.extend(self._fields(c, state))
        if not words:
            for name, word in prefix.items():  # a bare ``A=1 B=2`` line is an assignment of the shell itself
                state[name] = _Var(word, state[name].exported if name in state else False)
            return
        env = {n: v.word for n, v in state.items() if v.exported and v.word is not None}
        env.update(prefix)
        if self._nested_shell(words, env, node):
            return
        self.found.append(Command(tuple(words), env, self._line(node)))

    def _nested_shell(self, words: list[Word], env: dict[str, Word], node: Node) -> bool:
        """``sh -c "script"``: parse the string as a script started with ``env``; True when done."""
        prog = words[0].text
        if prog is None or PurePosixPath(prog).name not in SHELLS:
            return False
        i = 1
        while i < len(words) and (w := words[i].text) is not None and w.startswith("-") and "c" not in w[1:]:
            i += 1
        if i + 1 >= len(words) or not (words[i].text or "").startswith("-"):
            return False
        script = words[i + 1]
        if script.text is None:
            return False
        if self.nested >= MAX_NESTED_SHELLS:
            raise ExtractionError(f"sh -c strings nested more than {MAX_NESTED_SHELLS} deep", self.path,
                                  self._line(node))
        inner = _Walker(self.path, self.limits, (script.line or self._line(node)) - 1, self.nested + 1)
        inner.program(script.text, {n: _Var(w, exported=True) for n, w in env.items()})
        self.found.extend(inner.found)
        self.errors.extend(inner.errors)
        return True

    # -- words -------------------------------------------------------------------------------------------

    def _fields(self, node: Node, state: _State) -> list[Word]:
        """The words one argument node expands to (unquoted expansions are split on blanks)."""
        segs = self._expand(node, state, quoted=False)
        line = self._line(node)
        source = self._text(node)
        if any(s.text is None for s in segs):
            return [Word(None, source, line)]
        out: list[Word] = []
        current: list[str] = []
        started = False
        for s in segs:
            assert s.text is not None
            if not s.split:
                current.append(s.text)
                started = True
                continue
            pieces = s.text.split(None) if s.text.strip(_IFS) else []
            if not pieces:
                continue
            if s.text[0] in _IFS and started:
                out.append(Word("".join(current), source, line))
                current, started = [], False
            for k, piece in enumerate(pieces):
                if k:
                    out.append(Word("".join(current), source, line))
                    current = []
                current.append(piece)
                started = True
            if s.text[-1] in _IFS:
                out.append(Word("".join(current), source, line))
                current, started = [], False
        if started:
            out.append(Word("".join(current), source, line))
        return out

    def _expand(self, node: Node, state: _State, *, quoted: bool) -> list[_Seg]:
        t = node.type
        if t in ("word", "number", "special_variable_name", "variable_name", "regex", "extglob_pattern"):
            return [self._literal(self._text(node), quoted)]
        if t == "raw_string":
            return [_Seg(self._text(node)[1:-1])]
        if t == "ansi_c_string":
            try:
                return [_Seg(codecs.decode(self._text(node)[2:-1], "unicode_escape"))]
            except UnicodeError:
                return [_Seg(None)]
        if t in ("string", "translated_string"):
            return self._double_quoted(node, state)
        if t == "concatenation":
            if any(c.type == "word" and self._text(c) == "{" for c in node.children):
                return [_Seg(None)]  # brace expansion: several words
            return self._range(node, node.start_byte, node.end_byte, state, quoted)
        if t == "simple_expansion":
            name = self._text(node)[1:]
            return [_Seg(_lookup(state, name), split=not quoted)]
        if t == "expansion":
            return [_Seg(self._parameter(node, state), split=not quoted)]
        return [_Seg(None)]  # command/process substitution, arithmetic, brace expansion...

    def _literal(self, raw: str, quoted: bool) -> _Seg:
        if quoted:
            return _Seg(raw)
        if raw.startswith("~") or any(ch in _GLOB for ch in raw.replace("\\*", "").replace("\\?", "")
                                      .replace("\\[", "")):
            return _Seg(None)
        out: list[str] = []
        i = 0
        while i < len(raw):
            ch = raw[i]
            if ch == "\\" and i + 1 < len(raw):
                if raw[i + 1] != "\n":
                    out.append(raw[i + 1])
                i += 2
                continue
            out.append(ch)
            i += 1
        return _Seg("".join(out))

    def _double_quoted(self, node: Node, state: _State) -> list[_Seg]:
        start, end = node.start_byte, node.end_byte
        opener = 2 if node.type == "translated_string" else 1
        return self._range(node, start + opener, end - 1, state, quoted=True, dq=True)

    def _range(self, node: Node, start: int, end: int, state: _State, quoted: bool, dq: bool = False) -> list[_Seg]:
        """The bytes ``start:end`` of ``node``: its named children expanded, the text between them literal (a
        quoted range is a word even when empty: ``""``)."""
        out: list[_Seg] = [_Seg("")] if quoted else []
        pos = start
        for c in node.named_children:
            if c.start_byte < start or c.end_byte > end or c.type == "string_content" or \
                    (dq and c.type in ("word", "number")):
                continue  # outside the range, or literal text: taken from the gaps below
            if c.start_byte > pos:
                out.append(self._gap(self._source[pos:c.start_byte].decode("utf-8", "surrogateescape"), quoted, dq))
            out.extend(self._expand(c, state, quoted=quoted))
            pos = c.end_byte
        if end > pos:
            out.append(self._gap(self._source[pos:end].decode("utf-8", "surrogateescape"), quoted, dq))
        return out

    def _gap(self, raw: str, quoted: bool, dq: bool) -> _Seg:
        if not dq:
            return self._literal(raw, quoted)
        out: list[str] = []
        i = 0
        while i < len(raw):
            ch = raw[i]
            if ch == "\\" and i + 1 < len(raw) and raw[i + 1] in '$`"\\\n':
                if raw[i + 1] != "\n":
                    out.append(raw[i + 1])
                i += 2
                continue
            out.append(ch)
            i += 1
        return _Seg("".join(out))

    def _parameter(self, node: Node, state: _State) -> str | None:
        """``${...}``: the forms the module docstring lists; None for the others."""
        kids = node.children
        if len(kids) < 3:
            return None
        body = kids[1:-1]
        if body[0].type == "#" and len(body) == 2 and body[1].type == "variable_name":
            value = _lookup(state, self._text(body[1]))
            return None if value is None else str(len(value))
        if body[0].type != "variable_name":
            return None
        name = self._text(body[0])
        if len(body) == 1:
            return _lookup(state, name)
        op = body[1].type
        if op not in (":-", "-", ":=", "=", ":+", "+", ":?", "?"):
            return None
        if len(body) > 2:
            words = self._range(node, body[2].start_byte, kids[-1].start_byte, state, quoted=True)
            alt = _join(words)
        else:
            alt = ""
        var = state.get(name)
        known = var is not None
        value = var.word.text if var is not None and var.word is not None else None
        if known and var is not None and var.word is not None and value is None:
            return None  # set, to something unresolved
        is_set = known and var is not None and var.word is not None
        nonempty = is_set and bool(value)
        use_value = nonempty if op.startswith(":") else is_set
        if op in (":-", "-", ":=", "="):
            if use_value:
                return value
            if op in (":=", "="):
                state[name] = _Var(Word(alt, self._text(node), self._line(node)),
                                   var.exported if var is not None else False)
            return alt
        if op in (":+", "+"):
            if not known:
                return None
            return alt if use_value else ""
        return value if use_value else None  # :? / ? stop the script when unset


def _blank_line(source: bytes, row: int) -> bytes:
    """``source`` with line ``row`` (0-based) replaced by spaces: byte offsets and line numbers stay put."""
    start = 0
    for _ in range(row):
        nl = source.find(b"\n", start)
        if nl < 0:
            return source
        start = nl + 1
    end = source.find(b"\n", start)
    end = len(source) if end < 0 else end
    return source[:start] + b" " * (end - start) + source[end:]


@dataclass(frozen=True)
class _Seg:
    """A piece of a word: its text (None: not known from the file) and whether field splitting applies."""

    text: str | None
    split: bool = False


def _join(segs: list[_Seg]) -> str | None:
    parts = [s.text for s in segs]
    return None if any(p is None for p in parts) else "".join(p for p in parts if p is not None)


def _lookup(state: _State, name: str) -> str | None:
    """A variable's value; None when unknown, unresolved, or special (``$1``, ``$@``, ``$$``...)."""
    var = state.get(name)
    if var is None:
        return None
    return "" if var.word is None else var.word.text


def _merge(state: _State, branches: list[_State], line: int) -> None:
    """After a construct with several paths: each variable the paths agree on keeps its value, the others
    become unresolved (their source says so)."""
    names = set().union(*branches)
    for name in names:
        vs = [b.get(name) for b in branches]
        first = vs[0]
        if all(_same(v, first) for v in vs[1:]):
            if first is None:
                state.pop(name, None)
            else:
                state[name] = first
            continue
        exported = any(v is not None and v.exported for v in vs)
        state[name] = _Var(Word(None, f"${name} (set on some paths only, line {line})", line), exported)


def _same(a: _Var | None, b: _Var | None) -> bool:
    """The same variable on two paths: untouched, or set to the same known text (or unset) on both."""
    if a is b:
        return True
    if a is None or b is None or a.exported != b.exported:
        return False
    if a.word is None or b.word is None:
        return a.word is b.word
    return a.word.text is not None and a.word.text == b.word.text

