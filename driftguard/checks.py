"""What every documented finding code is: the one base of rules (DG1xx-DG4xx, ``rules.base.Rule``) and parity
checks (DG5xx, ``parity.codes.ParityCheck``).

A check is a class with a ``code`` (``DG101``), a dotted ``name``, a default ``severity`` and a docstring whose
first paragraph is its summary and whose body has an **Anti-pattern** and a **Best practice**. ``driftguard
explain`` prints ``explain_text``, reports describe it with ``info`` (SARIF ``tool.driver.rules``), and
``finding`` stamps a Finding with its code, name and severity. Which checks exist is each family's registry
(``rules.RULES``, ``parity.codes.CHECKS``); ``gate.catalog`` walks both as one list.

This module sits with the bottom records: it imports only ``model`` and ``report``, so the rules and the
parity stage (which may not import each other) both derive from it.
"""

from __future__ import annotations

import inspect
from typing import Any, ClassVar

from driftguard.model import Finding, Metric, Severity, Value, WeightMatch
from driftguard.report import RuleInfo


class Check:
    """A documented finding code. Subclasses set the class attributes and write the docstring."""

    code: ClassVar[str] = ""
    name: ClassVar[str] = ""
    severity: ClassVar[Severity] = Severity.ERROR
    #: True for checks that only run when enabled in the manifest (a rule that reads every weight).
    opt_in: ClassVar[bool] = False
    #: The stage that reports the code, when it is not the rules (``parity``): said in ``explain``'s header.
    stage: ClassVar[str | None] = None

    @classmethod
    def doc(cls) -> str:
        """The docstring, dedented ("" when there is none)."""
        return inspect.cleandoc(cls.__doc__ or "")

    @classmethod
    def explain_text(cls) -> str:
        """``CODE name (default severity: ...[, opt-in][, STAGE stage])``, a blank line and the docstring."""
        extra = (", opt-in" if cls.opt_in else "") + (f", {cls.stage} stage" if cls.stage else "")
        header = f"{cls.code} {cls.name} (default severity: {cls.severity}{extra})"
        return f"{header}\n\n{cls.doc() or '(no documentation)'}\n"

    @classmethod
    def describe_line(cls) -> str:
        """One line of ``driftguard explain``'s table: code, name, default severity, the first paragraph."""
        first = " ".join(cls.doc().split("\n\n", 1)[0].split())
        return f"{cls.code}  {cls.name:<40} {cls.severity:<8} {first}"

    @classmethod
    def info(cls) -> RuleInfo:
        """The check as reports describe it (SARIF ``tool.driver.rules``, JUnit case names)."""
        doc = cls.doc()
        return RuleInfo(cls.code, cls.name, cls.severity, doc.split("\n", 1)[0], doc, cls.opt_in)

    @classmethod
    def finding(cls, key: str, message: str, *, training: Value | None = None, deployed: Value | None = None,
                related: tuple[Value, ...] = (), delta: Any = None, severity: Severity | None = None,
                evidence: tuple[Metric, ...] = (), weights: WeightMatch | None = None) -> Finding:
        """A Finding stamped with this check's code, name and severity (``severity`` overrides it)."""
        return Finding(rule=cls.code, name=cls.name, key=key, message=message, severity=severity or cls.severity,
                       training=training, deployed=deployed, related=related, delta=delta, evidence=evidence,
                       weights=weights)
