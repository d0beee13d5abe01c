"""The network reader against a real local server: JSON read, only http(s), only the named host, no redirect
elsewhere, bounded bodies, error statuses and non-JSON as one-line input errors, only the headers given."""

from __future__ import annotations

import pytest

from driftguard.errors import ExtractionError, LimitError, UsageError
from driftguard.readers import http
from driftguard.readers.limits import Limits
from tests.recorded_server import TGI, Route, serving


def test_reads_a_json_body_and_sends_only_the_headers_given() -> None:
    with serving(TGI) as server:
        reply = http.get_json(server.url + "/info", {"Authorization": "Bearer s3cret"})
    assert reply.status == 200 and reply.body["model_id"] == "bigscience/blomm-560m"
    [(path, headers)] = server.requests
    assert path == "/info"
    assert headers["authorization"] == "Bearer s3cret"
    assert set(headers) <= {"authorization", "host", "user-agent", "connection", "accept-encoding"}


def test_sends_no_credentials_it_was_not_given() -> None:
    with serving(TGI) as server:
        http.get_json(server.url + "/info")
    [(_, headers)] = server.requests
    assert "authorization" not in headers and "cookie" not in headers


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://example.com/x", "gopher://h/", "/info", "http://"])
def test_only_http_and_https_urls_with_a_host(url: str) -> None:
    with pytest.raises(UsageError):
        http.get_json(url)


def test_credentials_in_the_url_are_refused() -> None:
    with pytest.raises(UsageError, match="credentials"):
        http.get_json("http://user:pw@127.0.0.1:1/info")


@pytest.mark.parametrize("name", ["Bad Name", "X\r\nInjected", ""])
def test_header_names_are_tokens(name: str) -> None:
    with pytest.raises(UsageError):
        http.check_headers({name: "v"})


def test_header_values_hold_no_line_break() -> None:
    with pytest.raises(UsageError, match="line break"):
        http.check_headers({"X-Key": "a\r\nHost: elsewhere"})


def test_a_redirect_to_another_host_is_refused() -> None:
    away = Route(b"", 302, {"Location": "http://example.com/info"})
    with serving({"/info": away}) as server, pytest.raises(ExtractionError, match="refused a redirect"):
        http.get_json(server.url + "/info")
    assert [p for p, _ in server.requests] == ["/info"]


def test_a_redirect_to_another_port_of_the_same_host_is_refused() -> None:
    away = Route(b"", 307, {"Location": "http://127.0.0.1:1/info"})
    with serving({"/info": away}) as server, pytest.raises(ExtractionError, match="refused a redirect"):
        http.get_json(server.url + "/info")


def test_a_redirect_on_the_same_origin_is_followed() -> None:
    with serving({**TGI, "/old": Route(b"", 301, {"Location": "/info"})}) as server:
        reply = http.get_json(server.url + "/old")
    assert reply.url.endswith("/info") and reply.body["version"] == "0.5.0"


def test_a_redirect_loop_ends() -> None:
    loop = Route(b"", 302, {"Location": "/a"})
    with serving({"/a": loop}) as server, pytest.raises(ExtractionError):
        http.get_json(server.url + "/a")
    assert len(server.requests) <= http.MAX_REDIRECTS + 1


def test_a_body_over_the_limit_is_refused_by_its_declared_length() -> None:
    with serving({"/big": Route(b"[" + b"0," * 5000 + b"0]")}) as server, pytest.raises(LimitError) as info:
        http.get_json(server.url + "/big", limits=Limits(file_bytes=1000))
    assert "file_bytes" in str(info.value)


def test_a_body_over_the_limit_without_a_length_is_cut_while_read() -> None:
    huge = Route(b"[" + b"0," * 100_000 + b"0]", headers={"Content-Type": "application/json",
                                                         "Transfer-Encoding": "identity", "Content-Length": "x"})
    with serving({"/big": huge}) as server, pytest.raises(LimitError):
        http.get_json(server.url + "/big", limits=Limits(file_bytes=1000))


def test_a_body_that_is_not_json_is_an_input_error_naming_the_url() -> None:
    with serving({"/info": Route(b"<html>hello</html>", headers={"Content-Type": "text/html"})}) as server, \
            pytest.raises(ExtractionError) as info:
        http.get_json(server.url + "/info")
    assert server.url + "/info" in str(info.value)


def test_deep_nesting_is_refused_by_the_document_limits() -> None:
    deep = Route(b"[" * 5000 + b"]" * 5000)
    with serving({"/d": deep}) as server, pytest.raises(LimitError, match="depth"):
        http.get_json(server.url + "/d")


def test_an_error_status_names_the_status_and_quotes_the_body_shortly() -> None:
    with serving({}) as server, pytest.raises(ExtractionError) as info:
        http.get_json(server.url + "/v2/models/nope/config")
    assert "HTTP 404" in str(info.value) and "not found" in str(info.value)


def test_a_closed_port_is_an_input_error() -> None:
    with serving({}) as server:
        url = server.url
    with pytest.raises(ExtractionError, match=r"cannot reach|connection failed"):
        http.get_json(url + "/info", timeout=2)
