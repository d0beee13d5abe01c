"""What an approval file says (``approvals/*.yaml``), as a pydantic model; its JSON Schema is published."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from driftguard.model import Json

_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


class Approval(BaseModel):
    """One accepted difference: for ``model``, ``key`` may differ, with exactly these ``training`` and
    ``deployed`` values (pinned: any further change needs a new approval), for ``reason``, until ``expires``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=_ID.pattern, max_length=128,
                    description="unique id, named in reports (the file name by convention)")
    model: str = Field(min_length=1, description="model name from driftguard.yaml")
    key: str = Field(min_length=1, description="canonical key; a glob only with allow_wildcard: true")
    allow_wildcard: bool = Field(default=False, description="key is a glob matching several keys")
    rule: str | None = Field(default=None, description="only findings of this rule code (DG101...)")
    training: Json = Field(default=None, description="the training value accepted (null: unset on that side)")
    deployed: Json = Field(default=None, description="the deployed value accepted (null: unset on that side)")
    reason: str = Field(min_length=1, description="why the difference is acceptable")
    approved_by: str = Field(min_length=1, description="who approved (checked against the manifest's approvers); "
                             "required: an approval always names who approved it")
    approved_on: date | None = Field(default=None, description="when (YYYY-MM-DD)")
    expires: date = Field(description="last day the approval holds (YYYY-MM-DD)")
    evidence: str | None = Field(default=None, description="link or report path backing the decision")

    @field_validator("id", mode="before")
    @classmethod
    def _id(cls, v: Any) -> Any:
        if isinstance(v, str) and not _ID.fullmatch(v):
            raise ValueError(f"'{v}' is not an approval id: letters, digits, '.', '_' and '-', starting with a "
                             "letter or digit (it names the file approvals/<id>.yaml)")
        return v

    @field_validator("approved_on", "expires", mode="before")
    @classmethod
    def _iso_date(cls, v: Any) -> Any:
        # pydantic would read 1798761600 as a Unix time and '2027-01-31T00:00' as a date: a reviewer reads
        # neither at a glance, so only the calendar date itself is accepted.
        if v is None or (isinstance(v, date) and not isinstance(v, datetime)):
            return v
        if isinstance(v, str) and _DATE.fullmatch(v):
            return v
        raise ValueError(f"must be a date written YYYY-MM-DD, got {v!r}")

    @field_validator("reason", "approved_by")
    @classmethod
    def _not_blank(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("must not be blank")
        return v

    @model_validator(mode="before")
    @classmethod
    def _pinned(cls, data: Any) -> Any:
        # An exact-key approval must pin both values; leaving one out would approve any value silently.
        if isinstance(data, dict) and not data.get("allow_wildcard"):
            missing = [s for s in ("training", "deployed") if s not in data]
            if missing:
                raise ValueError(f"an approval pins the values it accepts: set {' and '.join(missing)}"
                                 " (null for a side where the key is unset)")
        return data

    @model_validator(mode="after")
    def _glob(self) -> Approval:
        if not self.allow_wildcard and any(c in self.key for c in "*?["):
            raise ValueError(f"key '{self.key}' is a glob: set allow_wildcard: true to approve several keys")
        if self.approved_on is not None and self.approved_on > self.expires:
            raise ValueError("approved_on is after expires")
        return self

    @property
    def pins_values(self) -> bool:
        """True when the values are pinned (always for exact keys; for globs only if both are given)."""
        return not self.allow_wildcard or {"training", "deployed"} <= self.model_fields_set
