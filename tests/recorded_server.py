"""A real local HTTP server (``http.server``, a thread, port 0) that answers with recorded responses, for the
snapshot tests: nothing of the HTTP client is mocked, requests go over a socket as they would to a real server.

``Route``: the status, body and headers one path answers with (a GET or a POST). The server records every request's
path and headers, and each POST's body, so tests can check what was sent."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "snapshot"


@dataclass(frozen=True)
class Route:
    body: bytes = b""
    status: int = 200
    headers: Mapping[str, str] = field(default_factory=lambda: {"Content-Type": "application/json"})


def recorded(server: str, name: str) -> Route:
    """The recorded body ``tests/fixtures/snapshot/<server>/<name>.json`` as a 200 JSON response."""
    return Route((FIXTURES / server / f"{name}.json").read_bytes())


#: The recorded responses of each server, by path.
TRITON = {"/v2": recorded("triton", "server_metadata"),
          "/v2/models/no_config/config": recorded("triton", "model_config")}
TGI = {"/info": recorded("tgi", "info")}
VLLM = {"/version": recorded("vllm", "version"), "/v1/models": recorded("vllm", "models")}


@dataclass
class Server:
    url: str
    requests: list[tuple[str, dict[str, str]]]
    #: each POST's path and body, in order
    posted: list[tuple[str, bytes]] = field(default_factory=list)


@contextmanager
def serving(routes: Mapping[str, Route]) -> Iterator[Server]:
    """Serve ``routes`` on 127.0.0.1 (any free port) for the block; a path without a route is a JSON 404."""
    seen: list[tuple[str, dict[str, str]]] = []
    posted: list[tuple[str, bytes]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            posted.append((self.path, self.rfile.read(int(self.headers.get("Content-Length") or 0))))
            self.do_GET()

        def do_GET(self) -> None:
            seen.append((self.path, {k.lower(): v for k, v in self.headers.items()}))
            route = routes.get(self.path, Route(b'{"error": "not found"}', 404))
            self.send_response(route.status)
            for name, value in route.headers.items():
                self.send_header(name, value)
            if "Content-Length" not in route.headers:
                self.send_header("Content-Length", str(len(route.body)))
            self.end_headers()
            # the client may stop reading (a body over its limit): what it should do
            with suppress(BrokenPipeError, ConnectionResetError):
                self.wfile.write(route.body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    # a short poll: shutdown() waits for the loop to look, 0.5 s a server by default
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield Server(f"http://127.0.0.1:{httpd.server_address[1]}", seen, posted)
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()
LLAMA_CPP = {"/props": recorded("llama-cpp", "props")}
SGLANG = {"/server_info": recorded("sglang", "server_info")}
