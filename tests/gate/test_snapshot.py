"""``driftguard snapshot``: capture from real local servers answering with each server's recorded responses
(tests/fixtures/snapshot/README.md says where each comes from), through the library and the CLI; hostile
servers are exit 2 with one line; a ``check`` reads a snapshot as its deployment side."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Mapping
from datetime import datetime, timezone
from pathlib import Path

import pytest

from driftguard.errors import ExtractionError, UsageError
from driftguard.gate import snapshot
from tests.recorded_server import FIXTURES, LLAMA_CPP, SGLANG, TGI, TRITON, VLLM, Route, recorded, serving

NOW = datetime(2026, 12, 7, 13, 0, tzinfo=timezone.utc)
#: fixture name -> (routes, arguments, the URL the committed file names in place of the test server's)
CASES: dict[str, tuple[Mapping[str, Route], dict[str, str], str]] = {
    "triton": (TRITON, {"model": "no_config"}, "http://triton.example:8000"),
    "tgi": (TGI, {}, "http://tgi.example:8080"),
    "tgi-older": ({"/info": recorded("tgi", "info_older")}, {}, "http://tgi.example:8080"),
    "vllm": (VLLM, {}, "http://vllm.example:8000"),
    "llama-cpp": (LLAMA_CPP, {}, "http://llama.example:8080"),
    "sglang": (SGLANG, {}, "http://sglang.example:30000"),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_the_committed_snapshots_are_what_the_capture_writes(name: str, tmp_path: Path) -> None:
    """Each server recognised from its own answers (no --server), its snapshot byte for byte the committed one
    once the test server's URL is replaced by the one the fixture names."""
    routes, kwargs, url = CASES[name]
    with serving(routes) as server:
        taken = snapshot.take(server.url, now=NOW, **kwargs)
    written = snapshot.write(taken, tmp_path / "s.snapshot.json").read_text(encoding="utf-8")
    expected = (FIXTURES / f"{name}.snapshot.json").read_text(encoding="utf-8")
    assert written.replace(server.url, url) == expected


def test_a_named_server_reads_only_its_endpoints() -> None:
    with serving({**TRITON, **TGI}) as server:
        taken = snapshot.take(server.url, server="tgi", now=NOW)
    assert [p for p, _ in server.requests] == ["/info"]
    assert taken["server"] == "tgi" and taken["server_version"] == "0.5.0"


def test_the_model_name_is_quoted_into_the_path() -> None:
    routes = {"/v2": TRITON["/v2"], "/v2/models/a%2Fb%20c/config": TRITON["/v2/models/no_config/config"]}
    with serving(routes) as server:
        taken = snapshot.take(server.url + "/", server="triton", model="a/b c", now=NOW)
    assert taken["responses"][1]["request"] == f"GET {server.url}/v2/models/a%2Fb%20c/config"
    assert taken["url"] == server.url and taken["model"] == "a/b c"


def test_headers_go_with_every_request_and_nothing_else_is_sent() -> None:
    with serving(VLLM) as server:
        snapshot.take(server.url, server="vllm", headers={"Authorization": "Bearer k"}, now=NOW)
    assert [h.get("authorization") for _, h in server.requests] == ["Bearer k", "Bearer k"]
    assert all("cookie" not in h for _, h in server.requests)


def test_triton_needs_a_model() -> None:
    with serving(TRITON) as server, pytest.raises(UsageError, match="--model"):
        snapshot.take(server.url)


def test_a_server_it_cannot_recognise_is_named_as_such() -> None:
    with serving({"/v1/models": Route(b'{"object": "list", "data": [{"id": "m", "owned_by": "lmdeploy"}]}')}) \
            as server, pytest.raises(UsageError, match="cannot tell which server"):
        snapshot.take(server.url)


@pytest.mark.parametrize("url", ["http://h:1/?x=1", "http://h:1/#f", "ftp://h/", "http://u:p@h/"])
def test_bad_base_urls(url: str) -> None:
    with pytest.raises(UsageError):
        snapshot.take(url, server="tgi")


def test_an_unknown_server_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="unknown server"):
        snapshot.take("http://127.0.0.1:1", server="ollama")


def test_an_error_from_the_server_names_the_request() -> None:
    with serving({"/v2": TRITON["/v2"]}) as server, pytest.raises(ExtractionError, match="HTTP 404") as info:
        snapshot.take(server.url, server="triton", model="missing")
    assert info.value.path == f"{server.url}/v2/models/missing/config"


def test_sglang_before_server_info_is_read_at_get_server_info() -> None:
    """SGLang servers older than ``/server_info`` answer the same handler at ``/get_server_info`` (the path the
    SGLang docs still show): the snapshot asks it when ``/server_info`` is not found, and names it as read."""
    with serving({"/get_server_info": SGLANG["/server_info"]}) as server:
        taken = snapshot.take(server.url, now=NOW)
    assert taken["server"] == "sglang" and taken["server_version"] == "0.0.0.dev1+gd02c515ee"
    assert taken["responses"][0]["request"] == f"GET {server.url}/get_server_info"
    assert taken["responses"][0]["endpoint"] == "server_info"


def test_sglang_answering_neither_path_names_the_current_one() -> None:
    with serving({}) as server, pytest.raises(ExtractionError, match="HTTP 404") as info:
        snapshot.take(server.url, server="sglang")
    assert info.value.path == f"{server.url}/server_info"
    assert [p for p, _ in server.requests] == ["/server_info", "/get_server_info"]


def test_an_error_other_than_not_found_is_not_retried_elsewhere() -> None:
    with serving({"/server_info": Route(b'{"error": "boom"}', 500)}) as server, \
            pytest.raises(ExtractionError, match="HTTP 500"):
        snapshot.take(server.url, server="sglang")
    assert [p for p, _ in server.requests] == ["/server_info"]


def test_write_replaces_the_file_whole(tmp_path: Path) -> None:
    target = tmp_path / "s.snapshot.json"
    target.write_text("old")
    snapshot.write({"format": "x"}, target)
    assert json.loads(target.read_text()) == {"format": "x"}
    assert [p.name for p in tmp_path.iterdir()] == ["s.snapshot.json"]


def test_write_into_a_missing_folder_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="cannot write"):
        snapshot.write({}, tmp_path / "no" / "s.snapshot.json")


# -- the CLI -------------------------------------------------------------------------------------------------

def _cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "driftguard", *args], capture_output=True, text=True, timeout=120,
                          cwd=cwd)


def test_cli_snapshot_then_extract(tmp_path: Path) -> None:
    out = tmp_path / "served.snapshot.json"
    with serving(TRITON) as server:
        proc = _cli("snapshot", server.url, "--model", "no_config", "-o", str(out), "--header", "X-Key: v")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == f"wrote {out}"
    assert [h.get("x-key") for _, h in server.requests] == ["v", "v"]
    proc = _cli("extract", str(out), "--format", "json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["values"]["batching.max_batch_size"]["value"] == 4


HOSTILE: dict[str, tuple[Route, str]] = {
    "huge": (Route(b"[" + b"0," * 600_000 + b"0]"), "file_bytes"),
    "not JSON": (Route(b"<html>Welcome to nginx!</html>", headers={"Content-Type": "text/html"}), "invalid JSON"),
    "deep": (Route(b"[" * 10_000 + b"]" * 10_000), "depth"),
    "redirect elsewhere": (Route(b"", 302, {"Location": "http://example.com/info"}), "refused a redirect"),
    "error status": (Route(b'{"error": "overloaded"}', 503), "HTTP 503"),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_cli_a_hostile_server_is_exit_2_with_one_line(case: str, tmp_path: Path) -> None:
    route, expected = HOSTILE[case]
    out = tmp_path / "s.snapshot.json"
    with serving({"/info": route}) as server:
        proc = _cli("snapshot", server.url, "--server", "tgi", "-o", str(out), "--limit", "file_bytes=1M")
    assert proc.returncode == 2, proc.stderr
    [line] = proc.stderr.splitlines()
    assert line.startswith("driftguard: error: ") and expected in line, line
    assert not out.exists()


def test_cli_a_closed_port_is_exit_2(tmp_path: Path) -> None:
    with serving({}) as server:
        url = server.url
    proc = _cli("snapshot", url, "--server", "vllm", "-o", str(tmp_path / "s.json"), "--timeout", "3")
    assert proc.returncode == 2 and len(proc.stderr.splitlines()) == 1, proc.stderr


def test_cli_check_with_a_snapshot_as_the_deployment_side(tmp_path: Path) -> None:
    """The repository's config.pbtxt says max_batch_size 8; the server runs the auto-completed config with 4:
    the finding's deployed origin is the snapshot's line, its source the request."""
    (tmp_path / "repo" / "no_config").mkdir(parents=True)
    (tmp_path / "repo" / "no_config" / "config.pbtxt").write_text(
        'name: "no_config"\nplatform: "onnxruntime_onnx"\nmax_batch_size: 8\ndynamic_batching { }\n')
    (tmp_path / "served.snapshot.json").write_bytes((FIXTURES / "triton.snapshot.json").read_bytes())
    (tmp_path / "driftguard.yaml").write_text(
        "version: 1\nmodels:\n  m:\n    training:\n      - path: repo/no_config/config.pbtxt\n"
        "    deployment:\n      - path: served.snapshot.json\n")
    proc = _cli("check", "--format", "json", cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr
    report = json.loads(proc.stdout)
    (model,) = report["models"] if isinstance(report["models"], list) else report["models"].values()
    found = {f["key"]: f for f in model["findings"]}
    mbs = found["batching.max_batch_size"]
    assert (mbs["training"], mbs["deployed"]) == (8, 4)
    line = next(i for i, text in enumerate((FIXTURES / "triton.snapshot.json").read_text().splitlines(), 1)
                if '"max_batch_size": 4' in text)
    assert mbs["deployed_origin"]["path"] == "served.snapshot.json" and mbs["deployed_origin"]["line"] == line
    assert mbs["deployed_origin"]["source"] == "GET http://triton.example:8000/v2/models/no_config/config"


def test_a_triton_cpu_model_as_auto_complete_left_it(tmp_path: Path) -> None:
    """Triton's qa cpu_instance expected config: the instance group left without a count got 2 (ONNX Runtime on
    CPU), FP16 tensors of dims [-1, -1] with max_batch_size 8."""
    from driftguard import extractors

    routes = {"/v2": TRITON["/v2"], "/v2/models/cpu_instance/config": recorded("triton", "cpu_instance_config")}
    with serving(routes) as server:
        taken = snapshot.take(server.url, server="triton", model="cpu_instance", now=NOW)
    v = extractors.extract(snapshot.write(taken, tmp_path / "c.snapshot.json")).values
    assert (v["serving.device_kind"].value, v["serving.instance_count"].value) == ("cpu", 2)
    assert v["io.inputs.INPUT0.dtype"].value == "float16" and v["io.inputs.INPUT0.shape"].value == [-1, -1, -1]
    assert v["batching.max_batch_size"].value == 8 and v["batching.dynamic"].value is False


def test_the_cli_offers_every_server_the_snapshot_reads() -> None:
    """``--server``'s choices are spelled out in the CLI (it imports no extractor at start-up): they must be
    ``SERVERS``, so a server added there can be named."""
    from driftguard.cli import build_parser
    from driftguard.extractors.snapshot import SERVERS

    parser = build_parser()
    sub = next(a for a in parser._actions if a.choices and "snapshot" in a.choices)
    server = next(a for a in sub.choices["snapshot"]._actions if "--server" in a.option_strings)
    assert tuple(server.choices) == SERVERS


# -- what the module's docstring and the README promise, each expected value written out by hand --------------


@pytest.mark.parametrize("routes", [
    {"/v2": Route(b'{"name": "a"}')},  # a name, not triton's (sorting before it)
    {"/v2": Route(b'{"name": "z"}')},  # ... and after it
    {p: Route(b"{}") for p in ("/v2", "/info", "/props", "/server_info", "/v1/models")},  # mappings, no member
    {"/info": Route(b'{"model_id": 3}')},  # a model_id that is not a string
    {"/props": Route(b'{"default_generation_settings": "x"}')},  # settings that are not a mapping
    {"/server_info": Route(b'{"tp_size": 1}')},  # tp_size without model_path
    {"/server_info": Route(b'{"model_path": "m"}')},  # model_path without tp_size
    {"/v1/models": Route(b'{"data": [{"id": "m", "owned_by": "zeta"}]}')},  # a card owned by another
], ids=["name-a", "name-z", "empty-mappings", "model_id-int", "settings-str", "tp_size-only", "model_path-only",
        "owned-by-zeta"])
def test_only_what_the_docstring_names_recognises_a_server(routes: Mapping[str, Route]) -> None:
    """Triton: /v2 says "name": "triton"; TGI: /info has a model_id (a string); llama.cpp: /props has
    default_generation_settings (a mapping); SGLang: /server_info has a model_path and a tp_size; vLLM:
    /v1/models lists a card owned_by vllm. Nothing else is guessed."""
    with serving(routes) as server, pytest.raises(UsageError, match="cannot tell which server"):
        snapshot.take(server.url, now=NOW)


@pytest.mark.parametrize(("body", "version"), [
    (b'{"model_id": "m", "version": null}', None),
    (b'{"model_id": "m", "version": {"major": 2}}', None),
    (b'{"model_id": "m", "version": ["2"]}', None),
    (b'{"model_id": "m", "version": 2}', "2"),
])
def test_the_version_is_a_scalar_the_server_reports(body: bytes, version: str | None) -> None:
    with serving({"/info": Route(body)}) as server:
        assert snapshot.take(server.url, now=NOW)["server_version"] == version


def test_the_version_is_read_at_its_own_endpoint_only() -> None:
    """vLLM reports its version at /version; a "version" member of the /v1/models listing is not it."""
    listing = b'{"object": "list", "data": [{"id": "m", "owned_by": "vllm"}], "version": "not this"}'
    with serving({"/version": Route(b"{}"), "/v1/models": Route(listing)}) as server:
        taken = snapshot.take(server.url, now=NOW)
    assert (taken["server"], taken["server_version"]) == ("vllm", None)


def test_the_snapshot_is_written_unchanged_not_escaped(tmp_path: Path) -> None:
    text = snapshot.write({"model": "modèle-日本"}, tmp_path / "s.snapshot.json").read_text(encoding="utf-8")
    assert text == '{\n  "model": "modèle-日本"\n}\n'


def test_ten_seconds_by_default_and_the_options_are_named(monkeypatch: pytest.MonkeyPatch) -> None:
    """README: `--timeout` seconds (default 10); everything after the URL is named."""
    from driftguard.readers import http

    asked: list[float] = []

    def get_json(url: str, headers: Mapping[str, str], *, timeout: float, **kwargs: object) -> http.Response:
        asked.append(timeout)
        return http.Response(url, 200, {"model_id": "m", "version": "1"})

    monkeypatch.setattr(http, "get_json", get_json)
    assert snapshot.take("http://tgi.example:8080", server="tgi", now=NOW)["server_version"] == "1"
    snapshot.take("http://tgi.example:8080", server="tgi", timeout=2.5, now=NOW)
    assert asked == [10.0, 2.5]
    with pytest.raises(TypeError):
        snapshot.take("http://tgi.example:8080", "tgi")  # type: ignore[misc]
