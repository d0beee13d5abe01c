"""Reporters: pure functions from results to text. ``REPORTERS`` is the explicit registry of ``check``
output formats (``--format NAME``): format name -> module path exposing ``render_check(report) -> str``.
Third parties add formats through the ``driftguard.reporters`` entry point (``name = "package.module"``, a
module with the same function); a built-in name wins a clash. Modules are imported only when used."""

from __future__ import annotations

REPORTERS: dict[str, str] = {
    "text": "driftguard.reporters.check_text",
    "json": "driftguard.reporters.check_json",
    "markdown": "driftguard.reporters.check_markdown",
    "sarif": "driftguard.reporters.sarif",
    "github": "driftguard.reporters.github",
    "junit": "driftguard.reporters.junit",
}


class ReporterLoadError(Exception):
    """A ``driftguard.reporters`` entry point that cannot be loaded or renders nothing: a broken plug-in
    (exit 3), not the user's input."""


def available() -> dict[str, str]:
    """Every ``check`` format of this installation, name -> module path: ``REPORTERS`` plus entry points."""
    from driftguard.plugins import entry_points

    out = {ep.name: ep.value for ep in entry_points("driftguard.reporters")}
    out.update(REPORTERS)
    return dict(sorted(out.items()))


def render_check(fmt: str, report: object, style: object = None) -> str:
    """Render a ``check`` Report in format ``fmt`` (a key of ``available()``); ``style``
    (``reporters.style.Style``: width and colour) for the text format only."""
    import importlib

    path = REPORTERS.get(fmt) or available()[fmt]
    try:
        module = importlib.import_module(path)
        render = module.render_check
    except (ImportError, AttributeError) as exc:
        raise ReporterLoadError(f"driftguard.reporters entry point '{fmt} = {path}' failed to load: "
                                f"{type(exc).__name__}: {exc}") from exc
    if fmt == "text" and style is not None:
        return str(render(report, style))
    return str(render(report))
