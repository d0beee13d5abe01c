"""Errors driftguard raises for bad input, kept apart from bugs.

A `DriftguardError` means the *user's* input is wrong (a file that cannot be read, a manifest with a typo):
the CLI prints it on one line as ``FILE:LINE: message`` and exits 2. Anything else that escapes is a bug
(exit 3). This module imports nothing from driftguard.
"""

from __future__ import annotations

from collections.abc import Iterable


def did_you_mean(name: str, known: Iterable[str], cutoff: float = 0.6) -> str:
    """``"; did you mean deployment?"`` when difflib finds a close name among ``known``, else ``""``: the hint
    every "unknown X" message ends with. Dotted keys share their namespace, which alone makes
    ``generation.top_p`` look like ``generation.temperature`` at 0.6: pass a higher ``cutoff`` for them."""
    import difflib

    names = sorted(set(known))
    close = difflib.get_close_matches(name, names, n=1, cutoff=cutoff)
    return f"; did you mean {close[0]}?" if close else ""


class DriftguardError(Exception):
    """A problem with the user's input, carrying the file and, where known, the line and column."""

    def __init__(
        self, message: str, path: str | None = None, line: int | None = None, column: int | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.path = path
        self.line = line
        self.column = column

    def location(self) -> str:
        """``path:line:column`` as far as known; empty when there is no file."""
        if not self.path:
            return ""
        loc = self.path
        if self.line is not None:
            loc += f":{self.line}"
            if self.column is not None:
                loc += f":{self.column}"
        return loc

    def __str__(self) -> str:
        loc = self.location()
        return f"{loc}: {self.message}" if loc else self.message

    def __reduce__(self) -> tuple[object, ...]:
        # Pickled whole (a parallel check raises it in a worker process): subclasses take other constructor
        # arguments, so rebuild from the state instead of calling __init__ with ``args``.
        return (_rebuild, (type(self), self.args, self.__dict__))


def _rebuild(cls: type[DriftguardError], args: tuple[object, ...], state: dict[str, object]) -> DriftguardError:
    exc = cls.__new__(cls)
    Exception.__init__(exc, *args)
    exc.__dict__.update(state)
    return exc


class ExtractionError(DriftguardError):
    """An artifact could not be read or understood."""


class TemplateError(ExtractionError):
    """A config still holds unfilled placeholders (``${name}``, ``#NAME`` or a bare name), or is a Jinja
    template. ``placeholder`` is the first as spelled in the file, ``names`` every unfilled name (for ``--set``)."""

    def __init__(self, message: str, placeholder: str, path: str | None = None, line: int | None = None,
                 column: int | None = None, names: tuple[str, ...] = ()) -> None:
        super().__init__(message, path, line, column)
        self.placeholder = placeholder
        self.names = names


class RefusedError(ExtractionError):
    """An artifact asked to run code (a pickle global outside the allowlist); nothing was executed."""

    def __init__(self, message: str, refused: str, path: str | None = None) -> None:
        super().__init__(message, path)
        self.refused = refused


class LimitError(ExtractionError):
    """An input is larger, deeper or more numerous than a reader's limit allows (``readers.limits.Limits``).

    ``limit`` is the limit's name, ``allowed`` its value; the message says how to raise it.
    """

    def __init__(self, limit: str, allowed: int, what: str, path: str | None = None,
                 line: int | None = None) -> None:
        super().__init__(
            f"{what}: exceeds the {limit} limit ({allowed}); if the file is genuine, raise it with "
            f"--limit {limit}=N (manifest: limits: {{{limit}: N}})",
            path, line,
        )
        self.limit = limit
        self.allowed = allowed


class MissingExtraError(DriftguardError):
    """A feature needs an optional dependency that is not installed. The message says how to install it with
    pip; ``for_pre_commit`` says it for a pre-commit hook, whose environment pre-commit builds from the hook's
    ``additional_dependencies`` (a ``pip install`` there is lost at the next rebuild)."""

    def __init__(self, feature: str, extra: str, module: str, path: str | None = None) -> None:
        self.feature, self.extra, self.module = feature, extra, module
        super().__init__(self._text(f"pip install 'driftguard-ml[{extra}]'"), path)

    def _text(self, fix: str) -> str:
        return f"{self.feature} needs the '{self.extra}' extra ({self.module} is not installed): {fix}"

    def for_pre_commit(self) -> str:
        """The error as ``str`` gives it, with the fix a pre-commit user makes: the extra in the hook's
        ``additional_dependencies``."""
        text = self._text(f"add additional_dependencies: [\"driftguard-ml[{self.extra}]\"] to the driftguard-check "
                          "hook in .pre-commit-config.yaml")
        return f"{self.location()}: {text}" if self.path else text


class DependencyError(DriftguardError):
    """An installed library is too old to load a hostile artifact safely (``readers.floors``)."""


class UsageError(DriftguardError):
    """The command line or API call itself is wrong (unknown kind, bad --set)."""


class ManifestError(DriftguardError):
    """driftguard.yaml is malformed."""


class ApprovalError(DriftguardError):
    """A file under approvals/ is malformed."""


class DriftDetected(Exception):
    """Raised by ``Report.raise_for_drift()`` when a check found unapproved drift."""

    def __init__(self, message: str, findings: list[object] | None = None) -> None:
        super().__init__(message)
        self.findings = findings or []
