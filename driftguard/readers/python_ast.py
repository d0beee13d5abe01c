"""Python source read as data (the standard ``ast`` module): the calls a file makes, with their arguments folded
to values where the file alone fixes them. The file is never imported, compiled to code or executed.

Bounded (``readers.limits.Limits``): ``python_bytes`` (parsing costs about 500 bytes of memory per byte of
source, so the byte limit is what bounds memory), ``python_nodes`` (AST nodes) and ``python_depth`` (nesting).
A syntax error, a null byte or a nesting CPython's own parser refuses is an ``ExtractionError`` with the line.

What ``read`` gives (``Source``):

- ``imports``: local name -> the qualified name it binds (``from vllm import SamplingParams as SP`` binds
  ``SP`` to ``vllm.SamplingParams``; ``import vllm`` binds ``vllm``), from every import of the file, at any
  level; relative imports are the project's own code and bind nothing known.
- ``calls``: every call whose callee is known from the imports (``SP(...)``, ``vllm.LLM(...)``), from an
  instance a known call built (``llm = LLM(...)``; ``llm.generate(...)`` is ``vllm.LLM().generate``), or a
  method on a receiver the file does not tell (``model.generate(...)`` is ``?.generate``), each with its
  arguments (``Arg``) and its line.
- attribute assignments on such instances (``tokenizer.padding_side = "left"``) as calls named
  ``<instance>.<attribute>=`` with one argument.

Folding (``Arg.resolved``): literals; dicts, lists and tuples of them; names bound once in the whole file, at
module level, to a foldable expression (a module constant); ``+ - * / // % **`` on numbers, ``+`` on strings
and lists; f-strings of folded values; ``**{...}`` and ``**CONSTANT`` dicts in a call's keywords; ``torch.<dtype>``
attributes (their qualified name); ``args.NAME`` where ``args = parser.parse_args()`` of an
``argparse.ArgumentParser`` the file builds: the default its ``add_argument`` gives (noted: a command line may set
another value); ``args.NAME``, ``**asdict(args)`` and ``**vars(args)`` of an argument dataclass instance
``HfArgumentParser(...).parse_args_into_dataclasses()`` returns: the field's default, noted the same way
(``readers.python_dataclasses``). Anything else (a function's parameter, ``os.environ[...]``, a call) is
computed at run time: kept as the expression's source text with its line, ``resolved`` False, never guessed.
Folded values are bounded too (string length and value count), so ``A = "x" * 10**9`` stays unresolved.
"""

from __future__ import annotations

import ast
import io
import math
import operator
import tokenize
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from driftguard.errors import ExtractionError
from driftguard.model import Json
from driftguard.readers.limits import DEFAULT, Limits
from driftguard.readers.python_dataclasses import ArgClass, argument_instances

#: A receiver the file does not tell (``model.generate``: ``?.generate``).
UNKNOWN = "?"
#: The longest source text kept for an unresolved expression.
_SHOWN = 160
#: The largest folded string (characters) and container (values): larger ones stay unresolved.
_MAX_STR = 1 << 20
_MAX_VALUES = 100_000
_TORCH_DTYPES = frozenset(("float16", "half", "bfloat16", "float32", "float", "float64", "double", "int8", "uint8",
                           "float8_e4m3fn", "float8_e5m2", "int4", "int16", "int32", "int64"))


@dataclass(frozen=True)
class Arg:
    """One argument: its folded ``value`` (None when not ``resolved``), its ``source`` text as written, its line,
    how a name was resolved (``note``: ``MAX_TOKENS = 512 (line 3)``), and for a dict literal (or a constant bound
    to one) its members, each with its own line (``items``: a request body's fields)."""

    value: Json
    source: str
    line: int
    resolved: bool
    note: str | None = None
    items: tuple[tuple[str, Arg], ...] = ()


@dataclass(frozen=True)
class Call:
    """A call of a known callee: ``name`` qualified from the imports, its positional ``args``, its keyword
    arguments in order (``**{...}`` and ``**CONSTANT`` expanded), and the ``**x`` / ``*x`` it passes that do not
    fold (``opaque``). ``line``..``end_line``: the lines it spans."""

    name: str
    line: int
    end_line: int
    args: tuple[Arg, ...] = ()
    keywords: tuple[tuple[str, Arg], ...] = ()
    opaque: tuple[Arg, ...] = ()

    def keyword(self, name: str) -> Arg | None:
        """The last value given for keyword ``name`` (a later ``**dict`` overrides, as Python would refuse)."""
        found = [a for n, a in self.keywords if n == name]
        return found[-1] if found else None


@dataclass(frozen=True)
class Source:
    """A Python file read as data: its imports and its known calls (see the module docstring)."""

    path: str
    imports: Mapping[str, str]
    calls: tuple[Call, ...] = field(default=())

    def imported(self, module: str) -> bool:
        """True when the file imports ``module`` or anything under it."""
        return any(q == module or q.startswith(module + ".") for q in self.imports.values())


def parse(text: str, path: str, limits: Limits = DEFAULT) -> ast.Module:
    """The module's AST within ``limits`` (bytes, nodes, depth); ExtractionError with the line for source the
    parser refuses. Nothing is compiled to code or run."""
    size = len(text.encode("utf-8", "surrogatepass"))
    limits.check("python_bytes", size, f"Python source of {size} bytes", path)
    try:
        tree = ast.parse(text, filename=path, type_comments=False)
    except SyntaxError as exc:
        raise ExtractionError(f"not valid Python: {exc.msg}", path, exc.lineno) from None
    except (ValueError, RecursionError, MemoryError) as exc:  # null bytes; a nesting the parser cannot hold
        raise ExtractionError(f"not valid Python: {type(exc).__name__}: {exc}", path, 1) from None
    _check_shape(tree, path, limits)
    return tree


def _check_shape(tree: ast.AST, path: str, limits: Limits) -> None:
    """Count nodes and measure depth without recursion (later walks recurse: depth must be bounded first)."""
    count = 0
    stack: list[tuple[ast.AST, int]] = [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        count += 1
        if count > limits.python_nodes:
            limits.check("python_nodes", count, "Python syntax tree nodes", path, getattr(node, "lineno", None))
        if depth > limits.python_depth:
            limits.check("python_depth", depth, "Python syntax tree nesting", path, getattr(node, "lineno", None))
        stack.extend((child, depth + 1) for child in ast.iter_child_nodes(node))


def imported_roots(head: bytes) -> set[str]:
    """The top-level modules the first bytes of a file import (``import vllm``, ``from transformers import``),
    read with Python's own tokenizer (cheap: for ``detect``; a truncated last line is ignored)."""
    roots: set[str] = set()
    words: list[str] = []
    try:
        for tok in tokenize.tokenize(io.BytesIO(head).readline):
            if tok.type in (tokenize.NEWLINE, tokenize.NL, tokenize.ENDMARKER):
                _import_roots(words, roots)
                words = []
            elif tok.type in (tokenize.NAME, tokenize.OP):
                words.append(tok.string)
    except (tokenize.TokenError, SyntaxError, UnicodeDecodeError, ValueError):
        pass
    return roots


def _import_roots(words: list[str], roots: set[str]) -> None:
    if words[:1] == ["from"] and len(words) > 1 and words[1] != ".":
        roots.add(words[1])
    elif words[:1] == ["import"]:
        names = " ".join(words[1:]).split(",")
        roots.update(n.split()[0] for n in names if n.split() and n.split()[0] != ".")


def read(text: str, path: str, limits: Limits = DEFAULT) -> Source:
    """The file's imports and known calls, arguments folded (see the module docstring)."""
    tree = parse(text, path, limits)
    imports = _imports(tree)
    folder = _Folder(text, tree, imports, limits)
    names = _Names(imports, folder)
    names.bind_instances(tree)
    folder.options, folder.parsed = _argparse(tree, names)
    folder.arguments = argument_instances(tree, names.qualify)
    calls = [c for node in ast.walk(tree) for c in names.calls_of(node)]
    calls.sort(key=lambda c: (c.line, c.end_line, c.name))
    return Source(path, imports, tuple(calls))


def _imports(tree: ast.Module) -> dict[str, str]:
    """Local name -> qualified name, from every absolute import of the file (a name imported two different
    ways is dropped: which one a call means is not known)."""
    out: dict[str, str] = {}
    clash: set[str] = set()

    def bind(local: str, qual: str) -> None:
        if out.get(local, qual) != qual:
            clash.add(local)
        out[local] = qual

    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    bind(alias.asname, alias.name)
                else:
                    root = alias.name.split(".", 1)[0]
                    bind(root, root)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            for alias in node.names:
                if alias.name != "*":
                    bind(alias.asname or alias.name, f"{node.module}.{alias.name}")
    return {k: v for k, v in out.items() if k not in clash}


def dotted(node: ast.expr) -> str | None:
    """``self.tokenizer`` for an attribute chain rooted at a name; None otherwise."""
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(node.id)
    return ".".join(reversed(parts))


class _Names:
    """Qualified names of callees: imports, then instances built by known calls (``llm = vllm.LLM(...)``)."""

    def __init__(self, imports: Mapping[str, str], folder: _Folder) -> None:
        self.imports = imports
        self.folder = folder
        self.instances: dict[str, str] = {}
        self._clash: set[str] = set()

    def qualify(self, node: ast.expr) -> str | None:
        """The qualified name of an expression used as a callee or receiver, None when the file does not tell."""
        if isinstance(node, ast.Name):
            return self.instances.get(node.id) or self.imports.get(node.id)
        if isinstance(node, ast.Attribute):
            name = dotted(node)
            if name is not None and name in self.instances:
                return self.instances[name]
            base = self.qualify(node.value)
            return None if base is None else f"{base}.{node.attr}"
        if isinstance(node, ast.Call):
            base = self.qualify(node.func)
            return None if base is None else f"{base}()"
        if isinstance(node, ast.Await):
            return self.qualify(node.value)
        return None

    def callee(self, func: ast.expr) -> str | None:
        """A call's name: qualified, or ``?.a.b`` for a method chain on a receiver the file does not tell."""
        known = self.qualify(func)
        if known is not None:
            return known
        attrs: list[str] = []
        node = func
        while isinstance(node, ast.Attribute):
            attrs.append(node.attr)
            node = node.value
            if self.qualify(node) is not None:
                return None  # a known object's attribute that qualify could not name: not a method we read
        return f"{UNKNOWN}." + ".".join(reversed(attrs)) if attrs else None

    def bind_instances(self, tree: ast.Module) -> None:
        """``x = Known(...)``, ``self.x = Known(...)``, ``with Known() as x``: ``x`` names ``Known()`` (two
        different known builders for one name: neither). Two passes, so that an instance built from another
        (``llm = LLM(...); tok = llm.get_tokenizer()``) is found in either order."""
        for _ in range(2):
            for node in ast.walk(tree):
                for target, value in _bindings(node):
                    name = dotted(target)
                    if name is None or not isinstance(value, ast.Call):
                        continue
                    qual = self.qualify(value.func)
                    if qual is None or name in self._clash:
                        continue
                    built = f"{qual}()"
                    if self.instances.get(name, built) != built:
                        self._clash.add(name)
                        self.instances.pop(name, None)
                    else:
                        self.instances[name] = built

    def calls_of(self, node: ast.AST) -> Iterator[Call]:
        """The known call ``node`` is (or the instance attribute it assigns), if any."""
        if isinstance(node, ast.Call):
            name = self.callee(node.func)
            if name is not None:
                yield self._call(name, node)
        elif isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Attribute):
            target = node.targets[0]
            base = self.qualify(target.value)
            if base is not None and base.endswith("()"):
                arg = self.folder.fold(node.value)
                yield Call(f"{base}.{target.attr}=", node.lineno, node.end_lineno or node.lineno, (arg,))

    def _call(self, name: str, node: ast.Call) -> Call:
        args: list[Arg] = []
        opaque: list[Arg] = []
        for a in node.args:
            if isinstance(a, ast.Starred):
                opaque.append(self._opaque(a.value, "*"))
            else:
                args.append(self.folder.fold_with_items(a))
        keywords: list[tuple[str, Arg]] = []
        for kw in node.keywords:
            if kw.arg is not None:
                keywords.append((kw.arg, self.folder.fold_with_items(kw.value)))
                continue
            expanded = self.folder.expand(kw.value)
            if expanded is None:
                opaque.append(self._opaque(kw.value, "**"))
            else:
                keywords.extend(expanded)
        return Call(name, node.lineno, node.end_lineno or node.lineno, tuple(args), tuple(keywords), tuple(opaque))

    def _opaque(self, node: ast.expr, prefix: str) -> Arg:
        """``*x``/``**x`` that does not fold; its note names what built ``x`` when a known call did
        (``built by transformers.AutoTokenizer.from_pretrained()()``: a tokenizer's output, model inputs)."""
        arg = self.folder.unresolved(node, prefix)
        name = dotted(node)
        built = None if name is None else self.instances.get(name)
        return arg if built is None else Arg(None, arg.source, arg.line, False, f"built by {built}")


def _argparse(tree: ast.Module, names: _Names) -> tuple[dict[str, ast.Call], set[str]]:
    """The options ``argparse.ArgumentParser().add_argument`` defines (also through argument groups), by dest as
    argparse derives it (``--max-new-tokens`` is ``max_new_tokens``; an explicit ``dest``), a dest defined twice
    dropped; and the names bound to ``parse_args()``."""
    options: dict[str, ast.Call] = {}
    clash: set[str] = set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute) or \
                node.func.attr != "add_argument":
            continue
        base = names.qualify(node.func.value)
        if base is None or not base.startswith("argparse.ArgumentParser()"):
            continue
        dest = _dest(node)
        if dest is None or dest in options:
            clash.add(str(dest))
        else:
            options[dest] = node
    parsed = {n for n, q in names.instances.items()
              if q.startswith("argparse.ArgumentParser()") and q.endswith(".parse_args()")}
    return {d: c for d, c in options.items() if d not in clash}, parsed


def _dest(call: ast.Call) -> str | None:
    for kw in call.keywords:
        if kw.arg == "dest":
            return kw.value.value if isinstance(kw.value, ast.Constant) and isinstance(kw.value.value, str) else None
    flags = [a.value for a in call.args if isinstance(a, ast.Constant) and isinstance(a.value, str)]
    if not flags or len(flags) != len(call.args):
        return None
    long = next((f for f in flags if f.startswith("--")), None)
    name = long[2:] if long else flags[0].lstrip("-")
    return name.replace("-", "_") or None


def _bindings(node: ast.AST) -> Iterator[tuple[ast.expr, ast.expr]]:
    if isinstance(node, ast.Assign):
        for t in node.targets:
            yield t, node.value
    elif isinstance(node, ast.AnnAssign) and node.value is not None:
        yield node.target, node.value
    elif isinstance(node, (ast.With, ast.AsyncWith)):
        for item in node.items:
            if item.optional_vars is not None:
                yield item.optional_vars, item.context_expr


class _Folder:
    """Folds expressions to values (see the module docstring); module constants are folded once each."""

    def __init__(self, text: str, tree: ast.Module, imports: Mapping[str, str], limits: Limits) -> None:
        self.text = text
        self.imports = imports
        self.limits = limits
        self.constants = _module_constants(tree)
        self._memo: dict[str, Arg] = {}
        self._folding: set[str] = set()
        #: argparse: each option's dest -> its add_argument call; the names bound to ``parse_args()``.
        self.options: dict[str, ast.Call] = {}
        self.parsed: set[str] = set()
        #: argument dataclasses: each instance ``parse_args_into_dataclasses()`` returns -> its class.
        self.arguments: dict[str, ArgClass] = {}

    def unresolved(self, node: ast.expr, prefix: str = "") -> Arg:
        """``node`` kept as its source text: computed at run time."""
        segment = ast.get_source_segment(self.text, node) or ast.unparse(node)
        shown = " ".join(segment.split())
        if len(shown) > _SHOWN:
            shown = shown[:_SHOWN - 3] + "..."
        return Arg(None, prefix + shown, node.lineno, False)

    def fold(self, node: ast.expr) -> Arg:
        """``node`` folded to a value, or kept unresolved."""
        value, note = self._value(node)
        if value is _NO:
            return self.unresolved(node)
        return Arg(value, self.unresolved(node).source, node.lineno, True, note)

    def fold_with_items(self, node: ast.expr) -> Arg:
        """``fold``, plus the members of a dict literal (or of a constant bound to one) with their lines."""
        arg = self.fold(node)
        items = self.expand(node)
        return arg if not items else Arg(arg.value, arg.source, arg.line, arg.resolved, arg.note, tuple(items))

    def expand(self, node: ast.expr) -> list[tuple[str, Arg]] | None:
        """``**node`` as keyword arguments (a dict literal or a module constant bound to one, string keys), each
        with the line of its value; None when it does not fold."""
        fields = self._expanded_fields(node)
        if fields is not None:
            return fields
        via = None
        if isinstance(node, ast.Name) and node.id in self.constants:
            via = f"**{node.id} (line {self.constants[node.id].lineno})"
            node = self.constants[node.id]
        if not isinstance(node, ast.Dict):
            return None
        out: list[tuple[str, Arg]] = []
        for k, v in zip(node.keys, node.values, strict=True):
            if k is None:
                inner = self.expand(v)
                if inner is None:
                    return None
                out.extend(inner)
                continue
            key, _ = self._value(k)
            if not isinstance(key, str):
                return None
            arg = self.fold_with_items(v)
            out.append((key, Arg(arg.value, arg.source, arg.line, arg.resolved, arg.note or via, arg.items)))
        return out

    def _expanded_fields(self, node: ast.expr) -> list[tuple[str, Arg]] | None:
        """``**asdict(args)`` / ``**vars(args)`` of an argument dataclass instance: every field, as keyword
        arguments, each at its declaration's line (a field without a known default unresolved)."""
        if not isinstance(node, ast.Call) or len(node.args) != 1 or node.keywords:
            return None
        fn = dotted(node.func) or ""
        head, _, rest = fn.partition(".")
        qualified = self.imports.get(head, "") + (f".{rest}" if rest else "")
        named = qualified == "dataclasses.asdict" or (fn == "vars" and "vars" not in self.imports)
        cls = self.arguments.get(dotted(node.args[0]) or "")
        if not named or cls is None:
            return None
        out = []
        for f in cls.fields:
            value, note = self._field(cls, f.name)
            source = f"{ast.unparse(node.args[0])}.{f.name}"
            out.append((f.name, Arg(value, source, f.line, True, note) if value is not _NO else
                        Arg(None, source, f.line, False)))
        return out

    def _value(self, node: ast.expr) -> tuple[Json, str | None]:
        """(value, note) or (_NO, None)."""
        try:
            value, note = self._fold(node)
        except (ArithmeticError, ValueError, TypeError, RecursionError):
            return _NO, None
        if value is not _NO and not self._small(value):
            return _NO, None
        return value, note

    def _fold(self, node: ast.expr) -> tuple[Json, str | None]:
        if isinstance(node, ast.Constant):
            v = node.value
            if isinstance(v, int) and not isinstance(v, bool) and \
                    v.bit_length() * 0.30103 > self.limits.int_digits:
                return _NO, None
            if isinstance(v, (bytes, complex)) or v is Ellipsis:
                return _NO, None
            if isinstance(v, float) and not math.isfinite(v):
                return _NO, None
            return v, None
        if isinstance(node, ast.Name):
            return self._constant(node.id)
        if isinstance(node, (ast.List, ast.Tuple)):
            items = [self._fold(e)[0] for e in node.elts]
            return (_NO, None) if any(i is _NO for i in items) else (items, None)
        if isinstance(node, ast.Dict):
            return self._dict(node), None
        if isinstance(node, ast.UnaryOp):
            return self._unary(node), None
        if isinstance(node, ast.BinOp):
            return self._binop(node), None
        if isinstance(node, ast.JoinedStr):
            return self._fstring(node), None
        if isinstance(node, ast.Attribute):
            owner = dotted(node.value)
            if owner in self.parsed:
                return self._option(node)
            if owner in self.arguments:
                return self._field(self.arguments[owner], node.attr)
            return self._torch_dtype(node), None
        return _NO, None

    def _field(self, cls: ArgClass, name: str) -> tuple[Json, str | None]:
        """``args.NAME`` of an argument dataclass instance: the field's default as written (folded), noted as
        such: a command line may set another value. A field without a default (given on the command line) or
        with a ``default_factory`` is unresolved."""
        found = cls.field(name)
        if found is None or found.default is None:
            return _NO, None
        value, _ = self._value(found.default)
        if value is _NO:
            return _NO, None
        return value, f"default of {cls.name}.{name} (line {found.line}); a command line may set another value"

    def _option(self, node: ast.Attribute) -> tuple[Json, str | None]:
        """``args.NAME`` where ``args = parser.parse_args()``: the default ``add_argument`` gives NAME (None when it
        gives none; ``store_true`` False, ``store_false`` True; a string default converted by ``type=int``/``float``,
        as argparse does), noted as such: a command line may set another value. A required option or a positional
        without a default is given on the command line: unresolved."""
        call = self.options.get(node.attr)
        if call is None:
            return _NO, None
        kw = {k.arg: k.value for k in call.keywords if k.arg}
        action = self._fold(kw["action"])[0] if "action" in kw else "store"
        if action not in ("store", "store_true", "store_false"):
            return _NO, None
        positional = not any(isinstance(a, ast.Constant) and str(a.value).startswith("-") for a in call.args)
        if ("required" in kw and self._fold(kw["required"])[0] is not False) or (positional and "default" not in kw):
            return _NO, None  # the command line gives it: not known from the file
        if "default" in kw:
            value, _ = self._fold(kw["default"])
        else:
            value = {"store_true": False, "store_false": True}.get(str(action))
        typ = kw.get("type")
        if isinstance(value, str) and isinstance(typ, ast.Name) and typ.id in ("int", "float"):
            value = int(value, 10) if typ.id == "int" else float(value)
        if value is _NO:
            return _NO, None
        flag = next((a.value for a in call.args if isinstance(a, ast.Constant) and isinstance(a.value, str)), node.attr)
        return value, f"argparse default of {flag} (line {call.lineno}); a command line may set another value"

    def _constant(self, name: str) -> tuple[Json, str | None]:
        node = self.constants.get(name)
        if node is None or name in self._folding:
            return _NO, None
        if name not in self._memo:
            self._folding.add(name)
            try:
                value, _ = self._value(node)
            finally:
                self._folding.discard(name)
            self._memo[name] = Arg(value, name, node.lineno, value is not _NO)
        hit = self._memo[name]
        if not hit.resolved:
            return _NO, None
        return hit.value, f"{name} = {_short(hit.value)} (line {hit.line})"

    def _dict(self, node: ast.Dict) -> Json:
        out: dict[str, Json] = {}
        for k, v in zip(node.keys, node.values, strict=True):
            if k is None:
                inner, _ = self._fold(v)
                if not isinstance(inner, dict):
                    return _NO
                out.update(inner)
                continue
            key, _ = self._fold(k)
            value, _ = self._fold(v)
            if not isinstance(key, str) or value is _NO:
                return _NO
            out[key] = value
        return out

    def _unary(self, node: ast.UnaryOp) -> Json:
        v, _ = self._fold(node.operand)
        if v is _NO:
            return _NO
        if isinstance(node.op, ast.Not):
            return not v
        if not _number(v):
            return _NO
        if isinstance(node.op, ast.USub):
            return -v
        if isinstance(node.op, ast.UAdd):
            return +v
        return _NO

    def _binop(self, node: ast.BinOp) -> Json:
        a, _ = self._fold(node.left)
        b, _ = self._fold(node.right)
        if a is _NO or b is _NO:
            return _NO
        op = node.op
        if isinstance(op, ast.Add) and type(a) is type(b) and isinstance(a, (str, list)):
            return a + b
        if isinstance(op, ast.Mult) and isinstance(a, (str, list)) != isinstance(b, (str, list)):
            seq, times = (a, b) if isinstance(a, (str, list)) else (b, a)
            if not isinstance(times, int) or isinstance(times, bool) or len(seq) * max(times, 0) > _MAX_STR:
                return _NO
            return seq * times
        if not (_number(a) and _number(b)):
            return _NO
        if not self._bounded(op, a, b):
            return _NO
        fn = _ARITHMETIC.get(type(op))
        out = _NO if fn is None else fn(a, b)
        if isinstance(out, float) and not math.isfinite(out):
            return _NO
        if isinstance(out, int) and out.bit_length() * 0.30103 > self.limits.int_digits:
            return _NO
        return out

    def _bounded(self, op: ast.operator, a: Json, b: Json) -> bool:
        """False when an integer result would exceed ``int_digits`` (checked before computing it)."""
        bits = self.limits.int_digits / 0.30103
        if isinstance(op, ast.Pow) and isinstance(a, int) and isinstance(b, int) and abs(a) > 1:
            return b * math.log2(abs(a)) <= bits
        if isinstance(op, ast.Mult) and isinstance(a, int) and isinstance(b, int):
            return a.bit_length() + b.bit_length() <= bits + 1
        return True

    def _fstring(self, node: ast.JoinedStr) -> Json:
        parts: list[str] = []
        for v in node.values:
            if isinstance(v, ast.Constant) and isinstance(v.value, str):
                parts.append(v.value)
                continue
            if not isinstance(v, ast.FormattedValue):
                return _NO
            value, _ = self._fold(v.value)
            spec = "" if v.format_spec is None else self._fstring(v.format_spec) if \
                isinstance(v.format_spec, ast.JoinedStr) else _NO
            if value is _NO or not isinstance(spec, str) or isinstance(value, (list, dict)):
                return _NO
            conv = {-1: value, 115: str(value), 114: repr(value), 97: ascii(value)}.get(v.conversion, _NO)
            parts.append(format(conv, spec))
        return "".join(parts)

    def _torch_dtype(self, node: ast.Attribute) -> Json:
        """``torch.float16`` (an imported torch): its qualified name, a dtype spelling normalize_dtype reads."""
        name = dotted(node)
        if name is None:
            return _NO
        root, _, rest = name.partition(".")
        qual = f"{self.imports.get(root, '')}.{rest}"
        return qual if qual.startswith("torch.") and qual[6:] in _TORCH_DTYPES else _NO

    def _small(self, value: Json) -> bool:
        """Within the folded-value bounds (string length, value count)."""
        count = 0
        stack = [value]
        while stack:
            v = stack.pop()
            count += 1
            if count > _MAX_VALUES or (isinstance(v, str) and len(v) > _MAX_STR):
                return False
            if isinstance(v, list):
                stack.extend(v)
            elif isinstance(v, dict):
                stack.extend(v.values())
        return True


class _No:
    """The marker of an expression that does not fold (None is a value)."""

    def __repr__(self) -> str:
        return "<unresolved>"


_NO: Json = _No()


def _number(v: Json) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


_ARITHMETIC: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod, ast.Pow: operator.pow,
}


def _short(value: Json) -> str:
    shown = repr(value)
    return shown if len(shown) <= 40 else shown[:37] + "..."


def _module_constants(tree: ast.Module) -> dict[str, ast.expr]:
    """Names bound exactly once in the whole file, by a module-level ``NAME = expr`` (or ``NAME: T = expr``):
    anywhere else a name may be rebound, shadowed by a parameter, or changed at run time."""
    counts: dict[str, int] = {}
    for node in ast.walk(tree):
        for name in _bound_names(node):
            counts[name] = counts.get(name, 0) + 1
    out: dict[str, ast.expr] = {}
    for stmt in tree.body:
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
            name, value = stmt.targets[0].id, stmt.value
        elif isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name) and stmt.value is not None:
            name, value = stmt.target.id, stmt.value
        else:
            continue
        if counts.get(name) == 1:
            out[name] = value
    return out


def _bound_names(node: ast.AST) -> Iterator[str]:
    """Every name ``node`` binds (assignment targets, parameters, imports, definitions, ``global``)."""
    if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
        yield node.id
    elif isinstance(node, ast.arg):
        yield node.arg
    elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        yield node.name
    elif isinstance(node, (ast.Import, ast.ImportFrom)):
        for alias in node.names:
            yield (alias.asname or alias.name).split(".", 1)[0]
    elif isinstance(node, (ast.Global, ast.Nonlocal)):
        yield from node.names
    elif isinstance(node, (ast.ExceptHandler, ast.MatchAs, ast.MatchStar)) and node.name:
        yield node.name
    elif isinstance(node, ast.MatchMapping) and node.rest:
        yield node.rest


__all__ = ["UNKNOWN", "Arg", "Call", "Source", "dotted", "imported_roots", "parse", "read"]
