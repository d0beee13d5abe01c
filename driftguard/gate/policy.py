"""What a gate run trusts, and what is the pull request's.

In a pull-request gate (``check --base REF``, the Action with ``base-ref``) the working tree is the PR author's:
its manifest, artifacts and approvals are what is being judged, so none of them may decide how the judging is
bounded. Three kinds of manifest settings are the safety rails rather than the subject, and a gate run takes
them from the reviewed side only, the base revision's manifest or the command line:

* ``limits:``, every reader's bound (bytes, values, depth, ...): the run reads both revisions within the base
  revision's ``limits:`` (the built-in defaults where it has no manifest), ``--limit NAME=N`` on top;
* user code, the parity runners' ``runner``, ``builder`` and ``function`` (``module:function`` or ``file.py``
  the parity stage imports and runs);
* network targets, the parity runners' ``url`` (a server the parity stage connects to).

A gate run never runs the parity stage (``gate.check`` refuses ``--parity`` with ``--base``), so the PR's user code
and network targets are never used by it; the PR's ``limits:`` are ignored. Whatever the PR changes in these is
reported as a DG601 finding (``gate.untrusted-setting``, a warning: the reviewed values were used, so nothing the
PR wrote lifted a rail, but a reviewer should see that the next run on the default branch will use the new ones).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from driftguard.checks import Check
from driftguard.model import Finding, Origin, Severity, Value
from driftguard.readers.limits import DEFAULT, Limits

if TYPE_CHECKING:
    from driftguard.manifest import Manifest

#: Parity runner settings that name code the parity stage imports and runs.
USER_CODE = ("runner", "builder", "function")
#: Parity runner settings that name a server the parity stage connects to.
NETWORK = ("url",)
ROLES = ("reference", "candidate")


class UntrustedSetting(Check):
    """A pull request changes a setting that a gate run takes from the base revision: a reader limit, the code
    the parity stage imports (a runner's ``runner``, ``builder`` or ``function``) or a server it connects to
    (``url``).

    In a gate run (``check --base``) these come from the base revision's manifest or the command line, never from
    the change under review, so the run used the base revision's values; the finding says what the change would
    set once merged. The training value is the base revision's, the deployed value the change's.

    **Anti-pattern**: a pull request that adds ``limits: {file_bytes: 4G, objects: 100000000}`` or points
    ``builder:`` at a new ``file.py`` and passes the gate because the gate obeyed it.

    **Best practice**: change limits, parity code and servers in a change of their own, reviewed as code, or pass
    limits on the command line of the CI job (``--limit NAME=N``), which the pull request cannot edit.
    """

    code = "DG601"
    name = "gate.untrusted-setting"
    severity = Severity.WARNING


CHECKS: tuple[type[Check], ...] = (UntrustedSetting,)


@dataclass(frozen=True)
class Changed:
    """One trusted setting the change edits: the model (None: the whole manifest), the setting's dotted name in
    the manifest, the base revision's value and the change's (None: unset)."""

    model: str | None
    setting: str
    base: object
    head: object


@dataclass(frozen=True)
class GatePolicy:
    """What one gate run trusts: the limits every read is bounded by, and what the change edits among the
    settings it does not take from the change."""

    limits: Limits
    changed: tuple[Changed, ...]

    def findings(self, model: str, first: bool, manifest: str) -> list[Finding]:
        """The DG601 findings of ``model``: its own changed parity settings, and the manifest-wide ones (limits)
        on the ``first`` model of the run only (one finding per change, not one per model). ``manifest``: the
        changed manifest's path, their origin."""
        out = []
        for c in self.changed:
            if c.model == model or (c.model is None and first):
                where = "the manifest" if c.model is None else f"model {model}"
                out.append(UntrustedSetting.finding(
                    c.setting, f"the change sets {c.setting} of {where} to {_shown(c.head)} (base revision: "
                               f"{_shown(c.base)}); a gate run takes it from the base revision, so the base "
                               "revision's value was used",
                    training=Value(_json(c.base), Origin(manifest, source="base revision")),
                    deployed=Value(_json(c.head), Origin(manifest, source="change"))))
        return out


def for_base(head: Manifest, base: Manifest | None, given: Limits | None,
             overrides: Mapping[str, object]) -> GatePolicy:
    """The policy of a run of ``head`` (the change's manifest) judged against ``base`` (the base revision's; None
    where it has none): the limits the caller gave (``given``: the library's ``limits=``), else the base
    revision's, with the command line's ``overrides`` on top; and every trusted setting ``head`` changes."""
    trusted = given if given is not None else base.effective_limits() if base is not None else DEFAULT
    return GatePolicy(trusted.with_overrides(overrides), tuple(changes(head, base)))


def changes(head: Manifest, base: Manifest | None) -> Iterator[Changed]:
    """Every trusted setting whose value in ``head`` differs from ``base`` (every one ``head`` sets, where there
    is no ``base``): limits first, then each model's parity settings, in model order."""
    old = settings(base) if base is not None else {}
    new = settings(head)
    for where in sorted(new.keys() | old.keys(), key=lambda w: (w[0] is not None, w[0] or "", w[1])):
        if new.get(where) != old.get(where):
            yield Changed(where[0], where[1], old.get(where), new.get(where))


def settings(m: Manifest) -> dict[tuple[str | None, str], object]:
    """The trusted settings ``m`` writes: ``(None, "limits.NAME")`` for each limit it sets (as its effective
    value) and ``(model, "parity.ROLE.SETTING")`` for each user-code or network setting of a parity runner."""
    limits = m.effective_limits()
    out: dict[tuple[str | None, str], object] = {(None, f"limits.{name}"): getattr(limits, name) for name in m.limits}
    for model, spec in m.models.items():
        if spec.parity is None:
            continue
        for role in ROLES:
            runner = getattr(spec.parity, role)
            for name in (*USER_CODE, *NETWORK):
                value = runner.runner if name == "runner" else runner.setting(name)
                if value is not None:
                    out[(model, f"parity.{role}.{name}")] = value
    return out


def _shown(value: object) -> str:
    return "unset" if value is None else repr(value)


def _json(value: object) -> str | int | None:
    return value if value is None or isinstance(value, (str, int)) else str(value)
