"""``driftguard snapshot URL -o FILE``: read a running server's effective config and write it as a snapshot file
(``extractors.snapshot``: the format, and which endpoints each server has).

Every request goes through ``readers.http`` (http/https only, the named host only, no redirect elsewhere, no
proxy, timeouts, bounded bodies, only the headers given). The server is named (``server=``) or recognised from
its own answers, in this order: Triton (``GET /v2`` says ``"name": "triton"``), TGI (``GET /info`` has a
``model_id``), llama.cpp (``GET /props`` has ``default_generation_settings``), SGLang (``GET /server_info``, or
the older ``/get_server_info``, has a ``model_path`` and a ``tp_size``), vLLM (``GET /v1/models`` lists a card
``owned_by`` vLLM); nothing else is guessed. The responses are written unchanged, so the snapshot's mapping
can be re-read by a later driftguard.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from driftguard.errors import DriftguardError, UsageError
from driftguard.extractors.snapshot import ENDPOINTS, FALLBACKS, FORMAT, NEEDS_MODEL, SERVERS, VERSION, VERSION_AT
from driftguard.readers import files, http
from driftguard.readers.limits import DEFAULT, Limits

Fetch = Callable[[str], http.Response]


def take(url: str, *, server: str | None = None, model: str | None = None,
         headers: Mapping[str, str] | None = None, timeout: float = 10.0, limits: Limits = DEFAULT,
         now: datetime | None = None) -> dict[str, Any]:
    """The snapshot of the server at ``url`` as a JSON-ready dict (``extractors.snapshot`` documents it).
    ``server``: one of ``SERVERS``, else recognised; ``model``: the model whose config is read (Triton needs
    it); ``headers``: sent with every request (an API key); ``now``: the capture time (default: the clock, UTC).
    UsageError for a bad URL or argument, ExtractionError naming the URL for what the server answered."""
    base = _base(url)
    if server is not None and server not in ENDPOINTS:
        raise UsageError(f"unknown server '{server}'; one of {', '.join(SERVERS)}")
    sent = http.check_headers(headers or {})
    cache: dict[str, http.Response] = {}

    def fetch(path: str) -> http.Response:
        """The answer at ``path``, or at an older spelling of it (``FALLBACKS``) when the server has no such
        path (HTTP 404); the current path's error when none answers."""
        if path not in cache:
            cache[path] = http.get_json(base + path, sent, timeout=timeout, limits=limits,
                                        older=[base + p for p in FALLBACKS.get(path, ())])
        return cache[path]

    server = server or _recognise(base, fetch)
    if server in NEEDS_MODEL and not model:
        raise UsageError(f"a {server} snapshot reads one model's config: name it with --model NAME")
    responses = []
    for endpoint, template in ENDPOINTS[server]:
        path = template.format(model=quote(model or "", safe=""))
        reply = fetch(path)
        responses.append({"endpoint": endpoint, "request": f"GET {reply.url}", "body": reply.body})
    return {
        "format": FORMAT,
        "version": VERSION,
        "captured_at": (now or datetime.now(timezone.utc)).isoformat(timespec="seconds"),
        "url": base,
        "server": server,
        "server_version": _server_version(server, responses),
        "model": model if server in NEEDS_MODEL else None,
        "responses": responses,
    }


def write(snapshot: Mapping[str, Any], output: str | Path) -> Path:
    """Write ``snapshot`` as indented JSON (one field a line, so every value has its own line) to ``output``, a
    path named on the command line, as a fresh file (``readers.files.write_output``: a stale file or a symlink
    there is replaced, never followed). Returns the path."""
    text = json.dumps(snapshot, indent=2, ensure_ascii=False) + "\n"
    return files.write_output(output, text, what="snapshot -o")


def _base(url: str) -> str:
    """The base URL without a trailing slash; UsageError for a non-http(s) URL, credentials, a query or a
    fragment (endpoint paths are appended to it)."""
    http.origin_of(url)
    parts = urlsplit(url)
    if parts.query or parts.fragment:
        raise UsageError(f"the server URL takes no query or fragment: {url}")
    return url.rstrip("/")


def _recognise(base: str, fetch: Fetch) -> str:
    """Which server answers at ``base``, from its own answers (module docstring); UsageError when none does."""
    probes: tuple[tuple[str, str, Callable[[Any], bool]], ...] = (
        ("triton", "/v2", lambda b: isinstance(b, dict) and b.get("name") == "triton"),
        ("tgi", "/info", lambda b: isinstance(b, dict) and isinstance(b.get("model_id"), str)),
        ("llama-cpp", "/props", lambda b: isinstance(b, dict) and isinstance(b.get("default_generation_settings"),
                                                                             dict)),
        ("sglang", "/server_info", lambda b: isinstance(b, dict) and isinstance(b.get("model_path"), str)
         and "tp_size" in b),
        ("vllm", "/v1/models", _is_vllm_listing),
    )
    for server, path, says in probes:
        try:
            if says(fetch(path).body):
                return server
        except DriftguardError:
            continue
    tried = ", ".join(f"GET {path}" for _, path, _ in probes)
    raise UsageError(f"cannot tell which server answers at {base} (tried {tried}); name it with --server "
                     f"({', '.join(SERVERS)})")


def _is_vllm_listing(body: Any) -> bool:
    cards = body.get("data") if isinstance(body, dict) else None
    return isinstance(cards, list) and any(isinstance(c, dict) and c.get("owned_by") == "vllm" for c in cards)


def _server_version(server: str, responses: list[dict[str, Any]]) -> str | None:
    """The version the server reports (``VERSION_AT``), None when it reports none."""
    endpoint, member = VERSION_AT[server]
    for r in responses:
        if r["endpoint"] == endpoint and isinstance(r["body"], dict):
            version = r["body"].get(member)
            if version is not None and not isinstance(version, (dict, list)):
                return str(version)
    return None
