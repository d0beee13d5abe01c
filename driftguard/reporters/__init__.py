"""Reporters: pure functions from results to text. ``REPORTERS`` is the registry of ``check`` output formats
(``--format NAME``, ``registry.Registry``): format name -> a module exposing ``render_check(report) -> str``,
imported only when used. Third parties add formats through the ``driftguard.reporters`` entry point group
(``name = "package.module"``, a module with the same function); a built-in name wins a clash. Adding a format is
its module and one line here."""

from __future__ import annotations

from types import ModuleType

from driftguard.registry import Registry, module_with

REPORTERS: Registry[ModuleType] = Registry("driftguard.reporters", {
    "text": "driftguard.reporters.text",
    "json": "driftguard.reporters.json",
    "markdown": "driftguard.reporters.markdown",
    "sarif": "driftguard.reporters.sarif",
    "github": "driftguard.reporters.github",
    "junit": "driftguard.reporters.junit",
}, module_with("render_check"))


def available() -> list[str]:
    """Every ``check`` format of this installation, sorted: the built-ins and the entry points."""
    return sorted(REPORTERS.names())


def render_check(fmt: str, report: object, style: object = None) -> str:
    """Render a ``check`` Report in format ``fmt`` (one of ``available()``); ``style``
    (``reporters.style.Style``: width and colour) for the text format only. Raises ``registry.PluginLoadError``
    for a format whose module cannot be loaded or has no ``render_check``."""
    render = REPORTERS.load(fmt).render_check
    if fmt == "text" and style is not None:
        return str(render(report, style))
    return str(render(report))
