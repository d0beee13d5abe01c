"""Reporters for ``driftguard extract`` and ``driftguard diff``: text, JSON, YAML.

Text shows every key, value and path through ``escape.for_terminal``; JSON and YAML keep the values exactly and
only spell the characters that would drive a terminal as escapes (see ``driftguard.reporters.escape``)."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from driftguard.model import EffectiveConfig, Finding, Value
from driftguard.reporters.escape import for_terminal, has_control, json_for_terminal
from driftguard.reporters.style import PLAIN, Style
from driftguard.reporters.table import render


def show(value: Any) -> str:
    """A value as one line of JSON (strings unquoted), safe for a terminal: a string through ``for_terminal``
    (a multi-line one as its first line, the line count and a short hash: a chat template stays one row),
    anything else as JSON with ``json_for_terminal``'s escapes."""
    if isinstance(value, str):
        if "\n" in value.strip("\n"):
            import hashlib

            lines = value.strip("\n").splitlines()
            digest = hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()[:8]
            return f"{for_terminal(lines[0])} … ({len(lines)} lines, sha256 {digest})"
        return for_terminal(value)
    return json_for_terminal(json.dumps(value, ensure_ascii=False, separators=(", ", ": ")))


@lru_cache(maxsize=256)  # one relpath per file, not per row: a config may have 100k values from one file
def display_path(path: str) -> str:
    """A path relative to the working directory when that is shorter (what a person typed)."""
    try:
        rel = os.path.relpath(path)
    except ValueError:
        return path
    return rel if len(rel) < len(path) else path


def _where(v: Value) -> str:
    o = v.origin
    loc = for_terminal(display_path(o.path)) + (f":{o.line}" if o.line is not None else "")
    if v.origin.source:
        loc += f" ({for_terminal(v.origin.source)})"
    return loc


def extract_text(configs: Sequence[EffectiveConfig], style: Style = PLAIN) -> str:
    parts = []
    for cfg in configs:
        rows = []
        for key in sorted(cfg.values):
            v = cfg.values[key]
            rows.append([for_terminal(key), show(v.value), str(v.how), _where(v)])
        served = f"; serving path {for_terminal(cfg.serving)}" if cfg.serving else ""
        parts.append(f"# {for_terminal(cfg.path)} ({for_terminal(cfg.kind)}{served}): {len(rows)} keys\n"
                     + render(["key", "value", "set", "origin"], rows, style.width, keep_tail=(3,),
                              whole=(0,)))
    return "\n\n".join(parts) + "\n"


def extract_json(configs: Sequence[EffectiveConfig]) -> str:
    data: Any = [c.to_dict() for c in configs]
    text = json.dumps(data[0] if len(data) == 1 else data, indent=2, ensure_ascii=False)
    return json_for_terminal(text) + "\n"


def extract_yaml(configs: Sequence[EffectiveConfig]) -> str:
    """The configs as YAML in which every string from input stays on the line of its key or list item: a
    string holding a line break or starting with ``:`` or ``#`` is double-quoted (``\\n`` escaped) and lines
    are never folded, so no line can start with input text (a log reader such as the Actions runner takes a
    line starting ``::add-mask::`` as a command)."""
    import yaml

    data: Any = [c.to_dict() for c in configs]
    data = data[0] if len(data) == 1 else data
    # Allowed unicode, PyYAML writes bidi controls and U+0085 raw: for such data it escapes all non-ASCII instead.
    raw = has_control(json.dumps(data, ensure_ascii=False))
    return str(yaml.dump(data, Dumper=_one_line_dumper(), sort_keys=False, allow_unicode=not raw, width=_NO_FOLD))


#: A line width no output reaches: PyYAML folds a long scalar onto lines that start with its text.
_NO_FOLD = 1 << 30
_LINE_BREAKS = ("\n", "\r", "\x85", "\u2028", "\u2029")


def _one_line_dumper() -> Any:
    """A ``yaml.SafeDumper`` that double-quotes strings with a line break or a leading ``:``/``#``."""
    import yaml

    class OneLine(yaml.SafeDumper):
        pass

    def string(dumper: yaml.SafeDumper, text: str) -> Any:
        risky = any(b in text for b in _LINE_BREAKS) or text.lstrip().startswith((":", "#"))
        return dumper.represent_scalar("tag:yaml.org,2002:str", text, style='"' if risky else None)

    OneLine.add_representer(str, string)
    return OneLine


def diff_text(training: EffectiveConfig, deployed: EffectiveConfig, findings: Sequence[Finding],
              style: Style = PLAIN) -> str:
    head = (f"training: {for_terminal(training.path)} ({for_terminal(training.kind)})\n"
            f"deployed: {for_terminal(deployed.path)} ({for_terminal(deployed.kind)})\n")
    if not findings:
        return head + "no differences\n"
    rows = []
    for f in findings:
        t, d = f.training, f.deployed
        rows.append([for_terminal(f.key), show(t.value) if t else "-", show(d.value) if d else "-",
                     _where(t) if t else "-", _where(d) if d else "-"])
    body = render(["key", "training", "deployed", "training origin", "deployed origin"], rows, style.width,
                  keep_tail=(3, 4), whole=(0,))
    return f"{head}{body}\n{len(findings)} difference{'s' if len(findings) != 1 else ''}\n"


def diff_json(result_dict: dict[str, Any]) -> str:
    return json_for_terminal(json.dumps(result_dict, indent=2, ensure_ascii=False)) + "\n"
