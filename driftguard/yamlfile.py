"""Reading the YAML files people write (the manifest, approvals) with line numbers for every error.

``load`` parses once with ``yaml.SafeLoader`` (dates stay strings, so pydantic reports a bad date with its
line instead of PyYAML raising a bare ``ValueError``) and keeps the composed node tree; ``line_of`` maps a
pydantic error location (``('models', 'summarizer', 'training', 0, 'kind')``) back to the YAML line through
the nodes' marks. This module imports nothing from driftguard but ``errors``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from driftguard.errors import DriftguardError


class _Loader(yaml.SafeLoader):
    """SafeLoader without the timestamp resolver: ``2027-01-31`` stays a string for pydantic to parse."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


@dataclass(frozen=True)
class YamlDoc:
    """A parsed YAML document: the plain data and the node tree it came from (None for an empty file)."""

    path: str
    data: Any
    node: yaml.Node | None


def load(path: Path, error: type[DriftguardError]) -> YamlDoc:
    """Parse one YAML file; unreadable files, syntax errors and duplicate keys raise ``error`` with the line."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise error("no such file", str(path)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise error(f"cannot read: {getattr(exc, 'strerror', None) or exc}", str(path)) from None
    return loads(text, str(path), error)


def loads(text: str, path: str, error: type[DriftguardError]) -> YamlDoc:
    """``load`` for text already read; ``path`` names it in errors."""
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is not None:
            _check_duplicate_keys(node, path, error)
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        if exc.context_mark is not None and exc.problem and "end of stream" in exc.problem:
            mark = exc.context_mark  # an unclosed quote or bracket: where it opened, not the end of the file
        problem = exc.problem or exc.context or "invalid YAML"
        line = mark.line + 1 if mark is not None else None
        col = mark.column + 1 if mark is not None else None
        raise error(f"invalid YAML: {problem}", path, line, col) from None
    except yaml.YAMLError as exc:
        raise error(f"invalid YAML: {exc}", path) from None
    finally:
        loader.dispose()
    return YamlDoc(path, data, node)


def _check_duplicate_keys(node: yaml.Node, path: str, error: type[DriftguardError]) -> None:
    # PyYAML keeps the last of two equal keys silently; a repeated key in a manifest is almost always a mistake.
    stack: list[yaml.Node] = [node]
    while stack:
        n = stack.pop()
        if isinstance(n, yaml.MappingNode):
            seen: dict[str, int] = {}
            for k, v in n.value:
                if isinstance(k, yaml.ScalarNode):
                    if k.value in seen:
                        raise error(f"duplicate key '{k.value}' (first at line {seen[k.value]})", path,
                                    k.start_mark.line + 1)
                    seen[k.value] = k.start_mark.line + 1
                stack.append(v)
        elif isinstance(n, yaml.SequenceNode):
            stack.extend(n.value)


def line_of(doc: YamlDoc, loc: Sequence[int | str], *, key: bool = False) -> int | None:
    """The 1-based line of the node at ``loc`` (the deepest node found; parts not in the tree, such as
    pydantic's union tags, are skipped). ``key``: the line of the last mapping key rather than its value."""
    node = doc.node
    if node is None:
        return None
    line = node.start_mark.line + 1
    for i, part in enumerate(loc):
        last = i == len(loc) - 1
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                if isinstance(k, yaml.ScalarNode) and k.value == str(part):
                    node = v
                    line = (k if key and last else v).start_mark.line + 1
                    break
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
            node = node.value[part]
            line = node.start_mark.line + 1
    return line


def dotted(loc: Sequence[int | str]) -> str:
    """``models.summarizer.training[0].kind`` for a pydantic location."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def raise_validation(doc: YamlDoc, exc: Any, error: type[DriftguardError]) -> None:
    """Turn a pydantic ``ValidationError`` into ``error`` for its first problem, at the right line."""
    errs = exc.errors(include_url=False)
    first = errs[0]
    loc = tuple(p for p in first["loc"] if isinstance(p, (int, str)))
    is_extra = first["type"] == "extra_forbidden"
    line = line_of(doc, loc, key=is_extra)
    msg = first["msg"]
    if is_extra:
        msg = "unknown field"
    elif first["type"] == "missing":
        msg = "required field is missing"
    elif first["type"] == "value_error":
        msg = msg.removeprefix("Value error, ")
    where = dotted(loc)
    more = f" (and {len(errs) - 1} more)" if len(errs) > 1 else ""
    raise error(f"{where}: {msg}{more}" if where else f"{msg}{more}", doc.path, line) from None
