"""Approvals: documented, pinned, expiring exceptions to the gate (``approvals/*.yaml``).

``store`` reads and validates a folder (``load_dir``) and checks the manifest's policy, ``apply`` judges
findings against it (``Judged`` records), ``schema`` is the published JSON Schema of one approval file, and
``render`` and ``write`` write one (``driftguard approve``, decided by ``gate.approve``).
"""

from __future__ import annotations

from typing import Any

from driftguard.approvals.apply import Outcome, apply, key_matches, values_match
from driftguard.approvals.schema import Approval
from driftguard.approvals.store import LoadedApproval, check_policy, load_dir, load_file


def schema() -> dict[str, Any]:
    """The JSON Schema of one approval file."""
    out = Approval.model_json_schema()
    out["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    out["$id"] = "https://driftguard.dev/schemas/approvals.json"
    return out


def render(approval: Approval) -> str:
    """An approval as the YAML file ``driftguard approve`` writes (fields in schema order, unset ones left out)."""
    import yaml

    data = approval.model_dump(mode="json", exclude_defaults=False)
    keep = {"id", "model", "key", "training", "deployed", "reason", "expires"}
    body = {k: v for k, v in data.items() if k in keep or (v is not None and v is not False)}
    # Block style, one field a line: people review these files in pull requests.
    return str(yaml.safe_dump(body, sort_keys=False, allow_unicode=True, default_flow_style=False, width=100))


__all__ = ["Approval", "LoadedApproval", "Outcome", "apply", "check_policy", "key_matches", "load_dir",
           "load_file", "render", "schema", "values_match"]
