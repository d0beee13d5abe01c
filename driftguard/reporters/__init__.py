"""Reporters: pure functions from results to text. ``REPORTERS`` is the explicit registry of ``check``
output formats (``--format NAME``): format name -> module path exposing ``render_check(report) -> str``.
Modules are imported only when used."""

from __future__ import annotations

REPORTERS: dict[str, str] = {
    "text": "driftguard.reporters.check_text",
    "json": "driftguard.reporters.check_json",
    "markdown": "driftguard.reporters.check_markdown",
}


def render_check(fmt: str, report: object, style: object = None) -> str:
    """Render a ``check`` Report in format ``fmt`` (a key of ``REPORTERS``); ``style`` (``reporters.style.Style``:
    width and colour) for the text format only."""
    import importlib

    module = importlib.import_module(REPORTERS[fmt])
    if fmt == "text" and style is not None:
        return str(module.render_check(report, style))
    return str(module.render_check(report))
