"""Argument dataclasses in Python source read as data (``readers.python_ast`` folds with them): the
``@dataclass`` classes a file defines and passes to transformers' ``HfArgumentParser``, the instances
``parse_args_into_dataclasses()`` returns, and each field's default as written.

A field's default is what the instance holds unless the command line sets another value, as an argparse
option's is (transformers ``hf_argparser.py`` makes each field an option whose default is the field's). Only the
command-line parse gives defaults: ``parse_json_file``/``parse_yaml_file``/``parse_dict`` take the values from
elsewhere, so their instances are not read. A class counts only when the file hands it to an
``HfArgumentParser`` (the framework's own evidence that it is an argument class), never by its name or its
fields.

What ``argument_instances`` gives: instance name -> ``ArgClass`` (the class name, its fields in order, each
``Field``: the default expression or none, its line). Bound by ``a, b = parser.parse_args_into_dataclasses()``
(in the order of the classes the parser was given) or ``args = parser.parse_args_into_dataclasses()[0]``; a name
bound more than once in the file (a JSON branch beside the command-line one), a parser built twice with other
classes, or a class defined twice, is dropped: which one runs is not known from the file.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterator
from dataclasses import dataclass

#: The parsers whose ``parse_args_into_dataclasses`` turns fields into command-line options with their defaults.
PARSERS = frozenset(("transformers.HfArgumentParser", "transformers.hf_argparser.HfArgumentParser"))
_DATACLASS = "dataclasses.dataclass"
_FIELD = "dataclasses.field"
_PARSE = "parse_args_into_dataclasses"

Qualify = Callable[[ast.expr], "str | None"]


@dataclass(frozen=True)
class Field:
    """One field: its default expression (None: no default, or a ``default_factory`` built at run time) and the
    line it is declared on."""

    name: str
    default: ast.expr | None
    line: int


@dataclass(frozen=True)
class ArgClass:
    """An argument dataclass: its name and fields in declaration order."""

    name: str
    fields: tuple[Field, ...]

    def field(self, name: str) -> Field | None:
        return next((f for f in self.fields if f.name == name), None)


def argument_instances(tree: ast.Module, qualify: Qualify) -> dict[str, ArgClass]:
    """Instance name -> its argument class (module docstring)."""
    classes = _dataclasses(tree, qualify)
    parsers = _parsers(tree, qualify, classes)
    counts = _binding_counts(tree)
    out: dict[str, ArgClass] = {}
    for node in ast.walk(tree):
        if not isinstance(node, ast.Assign) or len(node.targets) != 1:
            continue
        for name, index, parser in _unpacked(node.targets[0], node.value):
            given = parsers.get(parser)
            if given is not None and counts.get(name) == 1 and 0 <= index < len(given):
                out[name] = given[index]
    return out


def _dataclasses(tree: ast.Module, qualify: Qualify) -> dict[str, ArgClass]:
    """The module-level ``@dataclass`` classes, by name (a name defined twice is dropped)."""
    found: dict[str, ArgClass] = {}
    twice: set[str] = set()
    for stmt in tree.body:
        if not isinstance(stmt, ast.ClassDef) or not any(_is(d, _DATACLASS, qualify) for d in stmt.decorator_list):
            continue
        if stmt.name in found:
            twice.add(stmt.name)
        found[stmt.name] = ArgClass(stmt.name, tuple(_fields(stmt, qualify)))
    return {n: c for n, c in found.items() if n not in twice}


def _is(node: ast.expr, qualified: str, qualify: Qualify) -> bool:
    """``node`` names ``qualified`` (``@dataclass`` or ``@dataclass(frozen=True)``)."""
    return qualify(node.func if isinstance(node, ast.Call) else node) == qualified


def _fields(cls: ast.ClassDef, qualify: Qualify) -> Iterator[Field]:
    """Annotated class attributes (``ClassVar`` ones are no fields) with their defaults: ``= value`` or
    ``= field(default=value)``; ``field(default_factory=...)`` or none: no default known from the file."""
    for stmt in cls.body:
        if not isinstance(stmt, ast.AnnAssign) or not isinstance(stmt.target, ast.Name) or \
                "ClassVar" in ast.unparse(stmt.annotation):
            continue
        default = stmt.value
        if isinstance(default, ast.Call) and qualify(default.func) == _FIELD:
            default = next((k.value for k in default.keywords if k.arg == "default"), None)
        yield Field(stmt.target.id, default, stmt.lineno)


def _parsers(tree: ast.Module, qualify: Qualify, classes: dict[str, ArgClass]) -> dict[str, tuple[ArgClass, ...]]:
    """Parser name -> the argument classes it was built with, when every one is a dataclass of the file."""
    found: dict[str, tuple[ArgClass, ...] | None] = {}
    for node in ast.walk(tree):
        if not isinstance(node, ast.Assign) or len(node.targets) != 1 or not isinstance(node.targets[0], ast.Name) \
                or not isinstance(node.value, ast.Call) or qualify(node.value.func) not in PARSERS:
            continue
        given = _classes_given(node.value, classes)
        name = node.targets[0].id
        found[name] = given if found.get(name, given) == given else None
    return {n: g for n, g in found.items() if g is not None}


def _classes_given(call: ast.Call, classes: dict[str, ArgClass]) -> tuple[ArgClass, ...] | None:
    arg = call.args[0] if call.args else next((k.value for k in call.keywords if k.arg == "dataclass_types"), None)
    names = arg.elts if isinstance(arg, (ast.Tuple, ast.List)) else [arg] if arg is not None else []
    picked = [classes.get(n.id) if isinstance(n, ast.Name) else None for n in names]
    return tuple(c for c in picked if c is not None) if picked and all(picked) else None


def _unpacked(target: ast.expr, value: ast.expr) -> Iterator[tuple[str, int, str]]:
    """(instance name, index in the parsed tuple, parser name) for ``a, b = p.parse_args_into_dataclasses()``
    and ``a = p.parse_args_into_dataclasses()[i]``."""
    index = None
    if isinstance(value, ast.Subscript) and isinstance(value.slice, ast.Constant) and \
            isinstance(value.slice.value, int) and not isinstance(value.slice.value, bool):
        index, value = value.slice.value, value.value
    if not isinstance(value, ast.Call) or not isinstance(value.func, ast.Attribute) or value.func.attr != _PARSE or \
            not isinstance(value.func.value, ast.Name):
        return
    parser = value.func.value.id
    if index is not None and isinstance(target, ast.Name):
        yield target.id, index, parser
    elif index is None and isinstance(target, (ast.Tuple, ast.List)):
        for i, elt in enumerate(target.elts):
            if isinstance(elt, ast.Name):
                yield elt.id, i, parser


def _binding_counts(tree: ast.Module) -> dict[str, int]:
    """How often each plain name is bound anywhere in the file (assignment targets, parameters, loop variables)."""
    counts: dict[str, int] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            counts[node.id] = counts.get(node.id, 0) + 1
        elif isinstance(node, ast.arg):
            counts[node.arg] = counts.get(node.arg, 0) + 1
    return counts


__all__ = ["PARSERS", "ArgClass", "Field", "argument_instances"]
