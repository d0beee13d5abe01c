"""Reporters for ``driftguard extract`` and ``driftguard diff``: text, JSON, YAML."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from typing import Any

from driftguard.model import EffectiveConfig, Finding, Value
from driftguard.reporters.table import render


def show(value: Any) -> str:
    """A value as one short line of JSON (strings unquoted)."""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))


def display_path(path: str) -> str:
    """A path relative to the working directory when that is shorter (what a person typed)."""
    try:
        rel = os.path.relpath(path)
    except ValueError:
        return path
    return rel if len(rel) < len(path) else path


def _where(v: Value) -> str:
    o = v.origin
    loc = display_path(o.path) + (f":{o.line}" if o.line is not None else "")
    if v.origin.source:
        loc += f" ({v.origin.source})"
    return loc


def extract_text(configs: Sequence[EffectiveConfig]) -> str:
    parts = []
    for cfg in configs:
        rows = []
        for key in sorted(cfg.values):
            v = cfg.values[key]
            rows.append([key, show(v.value), "explicit" if v.explicit else "default", _where(v)])
        parts.append(f"# {cfg.path} ({cfg.kind}): {len(rows)} keys\n"
                     + render(["key", "value", "set", "origin"], rows, keep_tail=(3,)))
    return "\n\n".join(parts) + "\n"


def extract_json(configs: Sequence[EffectiveConfig]) -> str:
    data: Any = [c.to_dict() for c in configs]
    return json.dumps(data[0] if len(data) == 1 else data, indent=2, ensure_ascii=False) + "\n"


def extract_yaml(configs: Sequence[EffectiveConfig]) -> str:
    import yaml

    data: Any = [c.to_dict() for c in configs]
    return str(yaml.safe_dump(data[0] if len(data) == 1 else data, sort_keys=False, allow_unicode=True))


def diff_text(training: EffectiveConfig, deployed: EffectiveConfig, findings: Sequence[Finding]) -> str:
    head = f"training: {training.path} ({training.kind})\ndeployed: {deployed.path} ({deployed.kind})\n"
    if not findings:
        return head + "no differences\n"
    rows = []
    for f in findings:
        t, d = f.training, f.deployed
        rows.append([f.key, show(t.value) if t else "-", show(d.value) if d else "-",
                     _where(t) if t else "-", _where(d) if d else "-"])
    body = render(["key", "training", "deployed", "training origin", "deployed origin"], rows, keep_tail=(3, 4))
    return f"{head}{body}\n{len(findings)} difference{'s' if len(findings) != 1 else ''}\n"


def diff_json(result_dict: dict[str, Any]) -> str:
    return json.dumps(result_dict, indent=2, ensure_ascii=False) + "\n"
