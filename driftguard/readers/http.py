"""Bounded HTTP GET of a JSON document from a server the user names: the one network reader (``driftguard
snapshot``).

A live server is input like any file, so the same discipline holds, plus what a network adds:

* **Only where the user said.** ``http`` and ``https`` URLs only; no proxy from the environment (a proxy is
  another host); a redirect is followed only to the same scheme, host and port (at most ``MAX_REDIRECTS``), any
  other is refused: a server must not be able to send driftguard, and the headers it was given, elsewhere.
* **Only the headers it was given.** urllib's own (``Host``, ``User-Agent``, ``Connection: close``) and the
  caller's; no cookies, no ``.netrc``, no credentials from the URL (``user:pass@`` is refused, so a secret
  is never written into a snapshot's provenance).
* **Bounded.** ``timeout`` seconds for the connection and for each read, and ``DEADLINE_FACTOR`` times it for
  the whole body; at most ``Limits.file_bytes`` of body (a larger ``Content-Length`` is refused before reading);
  the body is parsed by ``documents.loads_json`` (values, nesting depth and integer digits bounded).
* **One line on failure.** Every problem is an ``ExtractionError`` naming the URL (exit 2), never a traceback.
"""

from __future__ import annotations

import http.client
import ssl
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import IO, Any
from urllib.parse import urlsplit

from driftguard.errors import ExtractionError, UsageError
from driftguard.readers.documents import loads_json
from driftguard.readers.limits import DEFAULT, Limits

#: Same-origin redirects followed before giving up (a server redirecting ``/v1/models`` to ``/v1/models/``).
MAX_REDIRECTS = 3
#: The whole body must arrive within this many ``timeout``s (a server dripping one byte per ``timeout`` would
#: otherwise hold the reader for hours while staying under the per-read timeout).
DEADLINE_FACTOR = 4
_CHUNK = 64 * 1024
#: Bytes of an error response's body quoted in the message.
_QUOTED = 200


@dataclass(frozen=True)
class Response:
    """A JSON response: the URL it was read from (after same-origin redirects), its status and parsed body."""

    url: str
    status: int
    body: Any


def origin_of(url: str) -> tuple[str, str, int]:
    """``(scheme, host, port)`` of an ``http``/``https`` URL; UsageError for any other URL, one that carries
    credentials, or one without a host."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UsageError(f"not a valid URL: {url} ({exc})") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise UsageError(f"only http and https URLs are read, not '{scheme or url}'")
    if parts.username is not None or parts.password is not None:
        raise UsageError("the URL carries credentials (user:password@); pass them as a --header instead")
    if not parts.hostname:
        raise UsageError(f"the URL names no host: {url}")
    return scheme, parts.hostname.lower(), port or (443 if scheme == "https" else 80)


def check_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """The caller's headers, each a token name and a value without line breaks (UsageError otherwise)."""
    out: dict[str, str] = {}
    for name, value in headers.items():
        if not name or not all(c.isalnum() or c in "!#$%&'*+-.^_`|~" for c in name):
            raise UsageError(f"not a valid header name: {name!r}")
        if any(c in value for c in "\r\n\0"):
            raise UsageError(f"header {name}: the value holds a line break")
        out[name] = value
    return out


class _SameOrigin(urllib.request.HTTPRedirectHandler):
    """Follows a redirect only to the origin the user named, and at most ``MAX_REDIRECTS`` times."""

    max_redirections = max_repeats = MAX_REDIRECTS

    def __init__(self, origin: tuple[str, str, int]) -> None:
        self.origin = origin

    def redirect_request(self, req: urllib.request.Request, fp: IO[bytes], code: int, msg: str,
                         headers: http.client.HTTPMessage, newurl: str) -> urllib.request.Request | None:
        try:
            target = origin_of(newurl)
        except UsageError:
            target = None
        if target != self.origin:
            raise ExtractionError(f"refused a redirect ({code}) to another place: {newurl}", req.full_url)
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def get_json(url: str, headers: Mapping[str, str] | None = None, *, timeout: float = 10.0,
             limits: Limits = DEFAULT, older: Sequence[str] = ()) -> Response:
    """GET ``url`` and parse its body as JSON, under the rules of this module. ``headers``: sent as given
    (``check_headers``). ``older``: URLs of older spellings of the same endpoint, asked in turn while the server
    answers 404 (no such path), and only then. ExtractionError (with the URL) for a refused redirect, an HTTP
    error status, a timeout, a connection failure or a body that is not JSON (the error of ``url`` itself when
    every spelling is 404); LimitError for a body over ``limits.file_bytes``."""
    try:
        return _get_json(url, headers, timeout, limits)
    except _NotFound as missing:
        for other in older:
            try:
                return _get_json(other, headers, timeout, limits)
            except _NotFound:
                continue
        raise ExtractionError(str(missing), url) from None


class _NotFound(Exception):
    """HTTP 404, told apart only inside this module (``get_json``'s ``older``); never leaves it."""


def _get_json(url: str, headers: Mapping[str, str] | None, timeout: float, limits: Limits) -> Response:
    origin = origin_of(url)
    request = urllib.request.Request(url, headers=check_headers(headers or {}), method="GET")
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), _SameOrigin(origin),
                                         urllib.request.HTTPSHandler(context=ssl.create_default_context()))
    started = time.monotonic()
    try:
        with opener.open(request, timeout=timeout) as reply:
            body = _read(reply, url, limits, started + DEADLINE_FACTOR * timeout)
            final, status = reply.geturl(), int(reply.status)
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            raise _NotFound(_http_error(exc)) from None
        raise ExtractionError(_http_error(exc), url) from None
    except urllib.error.URLError as exc:
        raise ExtractionError(f"cannot reach the server: {_reason(exc.reason)}", url) from None
    except (TimeoutError, OSError, http.client.HTTPException) as exc:
        raise ExtractionError(f"the connection failed: {_reason(exc)}", url) from None
    text = body.decode("utf-8", "replace")
    return Response(final, status, loads_json(text, url, limits))


def _read(reply: Any, url: str, limits: Limits, deadline: float) -> bytes:
    """The body, at most ``limits.file_bytes`` of it (LimitError past that), before ``deadline``."""
    declared = reply.headers.get("Content-Length")
    if declared is not None and declared.strip().isdigit():
        limits.check("file_bytes", int(declared), "bytes of response body", url)
    chunks: list[bytes] = []
    total = 0
    while True:
        if time.monotonic() > deadline:
            raise ExtractionError("the response did not arrive in time (the body came too slowly)", url)
        chunk = reply.read(_CHUNK)
        if not chunk:
            return b"".join(chunks)
        total += len(chunk)
        limits.check("file_bytes", total, "bytes of response body", url)
        chunks.append(chunk)


def _http_error(exc: urllib.error.HTTPError) -> str:
    """``HTTP 404 Not Found: <start of the body>``, the body quoted shortly (servers explain errors there)."""
    try:
        quoted = exc.read(_QUOTED + 1).decode("utf-8", "replace")
    except (OSError, http.client.HTTPException):
        quoted = ""
    quoted = " ".join(quoted.split())
    if len(quoted) > _QUOTED:
        quoted = quoted[:_QUOTED] + "..."
    return f"HTTP {exc.code} {exc.reason}" + (f": {quoted}" if quoted else "")


def _reason(reason: object) -> str:
    """A socket or SSL failure in words ("timed out", "Connection refused")."""
    if isinstance(reason, OSError) and reason.strerror:
        return str(reason.strerror)
    return str(reason) or type(reason).__name__
