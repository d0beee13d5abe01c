"""Approvals: documented, pinned, expiring exceptions to the gate (``approvals/*.yaml``).

``store`` reads and validates a folder (``load_dir``) and checks the manifest's policy, ``apply`` judges
findings against it (``Judged`` records), ``schema`` is the published JSON Schema of one approval file, and
``render`` and ``write`` write one (``driftguard approve``, decided by ``gate.approve``) or a list of them in one
file (``driftguard baseline``, decided by ``gate.approve_all``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from driftguard.approvals.apply import Outcome, apply, key_matches, values_match
from driftguard.approvals.schema import Approval
from driftguard.approvals.store import LoadedApproval, check_policy, load_dir, load_entries, load_file


def schema() -> dict[str, Any]:
    """The JSON Schema of one approval file: one approval, or a list of them (``driftguard baseline``'s)."""
    from pydantic import TypeAdapter

    out: dict[str, Any] = TypeAdapter(Approval | list[Approval]).json_schema()
    out["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    out["$id"] = "https://driftguard.dev/schemas/approvals.json"
    return out


def _fields(approval: Approval) -> dict[str, Any]:
    """An approval's fields as written: in schema order, the unset optional ones left out."""
    data = approval.model_dump(mode="json", exclude_defaults=False)
    keep = {"id", "model", "key", "training", "deployed", "reason", "expires"}
    return {k: v for k, v in data.items() if k in keep or (v is not None and v is not False)}


def render(approval: Approval) -> str:
    """An approval as the YAML file ``driftguard approve`` writes (fields in schema order, unset ones left out,
    text as typed, a long line folded at the first space past 100 columns)."""
    import yaml

    # Block style, one field a line: people review these files in pull requests.
    return str(yaml.safe_dump(_fields(approval), sort_keys=False, allow_unicode=True, default_flow_style=False,
                              width=100))


def render_list(approvals: Sequence[Approval]) -> str:
    """Approvals as items of a YAML list (``driftguard baseline``'s file), each as ``render`` writes one."""
    import yaml

    return str(yaml.safe_dump([_fields(a) for a in approvals], sort_keys=False, allow_unicode=True,
                              default_flow_style=False, width=100))


__all__ = ["Approval", "LoadedApproval", "Outcome", "apply", "check_policy", "key_matches", "load_dir",
           "load_entries", "load_file", "render", "render_list", "schema", "values_match"]
