"""The triton-http runner (``parity.runners.triton_http``).

Against a real local HTTP server answering recorded Triton responses (``tests/recorded_server.py``): tritonclient.http
talks to it over a socket, nothing of the client is mocked. What a Triton server answers, and what a request must
carry, by hand from the protocol, never from the runner:

* the KServe v2 / Open Inference Protocol REST spec (kserve/open-inference-protocol@d49cc23f89d7
  ``specification/protocol/inference_rest.md``): ``GET v2/models/<name>[/versions/<v>]/ready`` and
  ``GET v2/models/<name>[/versions/<v>]`` (``$metadata_model_response``: name, versions, platform, inputs and
  outputs as ``{name, datatype, shape}``), ``POST .../infer`` (``$inference_request``: inputs with name, shape and
  datatype, the requested outputs), errors as an HTTP error status with ``{"error": message}``, and the table of
  tensor data types with their sizes;
* Triton's binary tensor data extension (triton-inference-server/server@e1db8a603d86
  ``docs/protocol/extension_binary_data.md``): the JSON object, then each tensor's little-endian, row-major bytes in
  the order of the JSON, ``binary_data_size`` per tensor, ``Inference-Header-Content-Length`` giving the JSON's
  length, ``binary_data: true`` on a requested output; BOOL elements one byte 0 or 1;
* what the server does (server@e1db8a603d86 ``src/http_server.cc`` ``HandleModelReady``: a model that is not ready
  is HTTP 400 ``{"error": "Model version not ready"}``; triton-inference-server/core@73aad7c3348d
  ``src/tritonserver.cc`` ``TRITONSERVER_ServerModelMetadata``: ``-1`` first in each shape when the model batches).

And against a live Triton server (``TRITON_URL``, default ``localhost:8000``): skipped when none answers."""

from __future__ import annotations

import importlib
import json
import os
import socket
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from driftguard.cli import run
from driftguard.errors import MissingExtraError
from driftguard.parity.errors import ParityError
from driftguard.parity.runners import make
from driftguard.parity.runners.base import RunnerConfig
from driftguard.parity.runners.triton_http import TritonHttpRunner, TritonHttpSettings, _first_line
from tests.parity.conftest import np, write_manifest
from tests.recorded_server import Route, Server, serving

pytest.importorskip("tritonclient.http", exc_type=ImportError)

URL = os.environ.get("TRITON_URL", "localhost:8000")


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _live_models() -> list[str]:
    import tritonclient.http as http

    try:
        client = http.InferenceServerClient(url=URL, connection_timeout=2.0, network_timeout=5.0)
        if not client.is_server_live():
            return []
        return [m["name"] for m in client.get_model_repository_index() if m.get("state") == "READY"]
    except Exception:
        return []


def test_unreachable_server_is_one_line_exit_2(pair: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    spec = ("      golden: golden.npz\n      reference: {runner: onnxruntime, artifact: ref.onnx}\n"
            f"      candidate: {{runner: triton-http, url: '127.0.0.1:{_closed_port()}', model: linear}}\n")
    assert run(["parity", "--config", str(write_manifest(pair["dir"], spec))]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no answer from the Triton server" in err[0] and "triton-http:127.0.0.1:" in err[0]


def test_url_and_model_are_required(pair: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    spec = ("      golden: golden.npz\n      reference: {runner: onnxruntime, artifact: ref.onnx}\n"
            "      candidate: {runner: triton-http, url: 'localhost:8000'}\n")
    assert run(["parity", "--config", str(write_manifest(pair["dir"], spec))]) == 2
    assert "needs 'url' (host:port) and 'model'" in capsys.readouterr().err


def test_a_served_model_against_itself_passes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """With a live server: its first ready model, on golden inputs shaped from its metadata, agrees with itself."""
    models = _live_models()
    if not models:
        pytest.skip(f"no Triton server answers at {URL} (set TRITON_URL)")
    import tritonclient.http as http

    meta = http.InferenceServerClient(url=URL).get_model_metadata(models[0])
    rng = np.random.default_rng(0)
    arrays = {}
    for spec in meta["inputs"]:
        shape = [4 if int(d) < 0 else int(d) for d in spec["shape"]]
        dtype = {"FP32": np.float32, "FP16": np.float16, "INT64": np.int64, "INT32": np.int32}.get(spec["datatype"])
        if dtype is None:
            pytest.skip(f"input {spec['name']} is {spec['datatype']}")
        arrays[spec["name"]] = (rng.standard_normal(shape) if dtype in (np.float32, np.float16)
                                else rng.integers(0, 2, shape)).astype(dtype)
    np.savez(tmp_path / "golden.npz", **arrays)
    (tmp_path / "a.json").write_text("{}", encoding="utf-8")
    served = f"{{runner: triton-http, url: '{URL}', model: {models[0]}, batch_size: 4}}"
    spec = f"      golden: golden.npz\n      reference: {served}\n      candidate: {served}\n"
    code = run(["parity", "--config", str(write_manifest(tmp_path, spec, training="a.json", deployment="a.json"))])
    assert code == 0, capsys.readouterr()


# Against recorded responses


#: The protocol's tensor data types (inference_rest.md "Tensor Data Types") as little-endian numpy types of the size
#: the table gives; BOOL is one byte, 0 or 1 (extension_binary_data.md).
WIRE = {"BOOL": "|b1", "UINT8": "|u1", "UINT16": "<u2", "UINT32": "<u4", "UINT64": "<u8", "INT8": "|i1",
        "INT16": "<i2", "INT32": "<i4", "INT64": "<i8", "FP16": "<f2", "FP32": "<f4", "FP64": "<f8"}

#: A model as Triton's metadata describes one that batches (max_batch_size >= 1: -1 first in each shape).
METADATA = {"name": "linear", "versions": ["1"], "platform": "onnxruntime_onnx",
            "inputs": [{"name": "x", "datatype": "FP32", "shape": [-1, 3]},
                       {"name": "ids", "datatype": "INT64", "shape": [-1, 2]}],
            "outputs": [{"name": "logits", "datatype": "FP32", "shape": [-1, 2]},
                        {"name": "label", "datatype": "INT64", "shape": [-1]}]}

LOGITS = np.asarray([[0.5, -1.25], [2.0, 3.5]], dtype="<f4")
LABEL = np.asarray([7, -2], dtype="<i8")


def json_route(body: Any, status: int = 200) -> Route:
    return Route(json.dumps(body).encode(), status)


def binary_response(outputs: dict[str, tuple[str, Any]], model: str = "linear") -> Route:
    """An inference response with every output as binary data (extension_binary_data.md): the JSON object, each
    output's ``binary_data_size``, then the bytes in the order of the JSON."""
    header = {"model_name": model, "model_version": "1",
              "outputs": [{"name": n, "datatype": dt, "shape": list(np.shape(a)),
                           "parameters": {"binary_data_size": np.asarray(a, WIRE[dt]).nbytes}}
                          for n, (dt, a) in outputs.items()]}
    head = json.dumps(header).encode()
    data = b"".join(np.asarray(a, WIRE[dt]).tobytes() for dt, a in outputs.values())
    return Route(head + data, 200, {"Content-Type": "application/octet-stream",
                                     "Inference-Header-Content-Length": str(len(head))})


def routes(metadata: Any = METADATA, answer: Route | None = None, model: str = "linear",
           at: str = "") -> dict[str, Route]:
    base = f"/v2/models/{model}{at}"
    return {f"{base}/ready": Route(b""), base: json_route(metadata),
            f"{base}/infer": answer or binary_response({"logits": ("FP32", LOGITS), "label": ("INT64", LABEL)})}


def host(server: Server) -> str:
    return server.url.removeprefix("http://")


def runner(server: Server, config: dict[str, Any] | None = None, **settings: Any) -> Any:
    settings.setdefault("model", "linear")
    return make(RunnerConfig("triton-http", TritonHttpSettings(url=host(server), **settings)), config or {})


@pytest.fixture()
def served() -> Iterator[Server]:
    with serving(routes()) as server:
        yield server


def sent(server: Server) -> tuple[str, dict[str, Any], dict[str, bytes]]:
    """The last inference request: its path, its JSON object and each input's bytes, cut as the binary extension
    lays them out (the JSON's length from Inference-Header-Content-Length, then each binary_data_size in order)."""
    path, body = server.posted[-1]
    headers = next(h for p, h in reversed(server.requests) if p == path)
    size = int(headers["inference-header-content-length"])
    request = json.loads(body[:size])
    tensors, at = {}, size
    for item in request["inputs"]:
        n = item["parameters"]["binary_data_size"]
        tensors[item["name"]] = body[at:at + n]
        at += n
    assert at == len(body)
    return path, request, tensors


def test_the_class_declares_what_it_runs_and_applies() -> None:
    assert TritonHttpRunner.runs_artifact is True
    assert TritonHttpRunner.applies == frozenset({"preprocessing.max_length", "preprocessing.truncation_side",
                                                 "preprocessing.padding_side"})
    assert TritonHttpRunner.Settings is TritonHttpSettings


@pytest.mark.parametrize("settings", [{"url": "localhost:8000"}, {"model": "linear"},
                                      {"url": "", "model": "linear"}, {"url": "localhost:8000", "model": ""}])
def test_both_url_and_model_are_needed(settings: dict[str, str]) -> None:
    with pytest.raises(ParityError, match=r"^the triton-http runner needs 'url' \(host:port\) and 'model' \(the "
                                          r"served model's name\)$"):
        TritonHttpRunner(RunnerConfig("triton-http", TritonHttpSettings(**settings)), {})


def test_setup_checks_readiness_then_reads_the_metadata(served: Server) -> None:
    r = runner(served)
    assert r.describe() == f"triton-http:{host(served)}/linear"
    r.setup()
    assert [p for p, _ in served.requests] == ["/v2/models/linear/ready", "/v2/models/linear"]
    assert r.inputs == METADATA["inputs"]
    assert r.outputs == ["logits", "label"]
    r.teardown()


def test_a_model_version_is_asked_for_by_its_path() -> None:
    with serving(routes(at="/versions/2")) as server:
        r = runner(server, model_version="2")
        r.setup()
        out = r.run({"x": np.zeros((2, 3)), "ids": np.zeros((2, 2))})
        r.teardown()
    assert [p for p, _ in server.requests] == ["/v2/models/linear/versions/2/ready", "/v2/models/linear/versions/2",
                                               "/v2/models/linear/versions/2/infer"]
    np.testing.assert_array_equal(out["logits"], LOGITS)


def test_a_model_that_is_not_ready_is_one_line() -> None:
    not_ready = {**routes(), "/v2/models/linear/ready": json_route({"error": "Model version not ready"}, 400)}
    with serving(not_ready) as server:
        r = runner(server)
        with pytest.raises(ParityError) as info:
            r.setup()
    assert str(info.value) == f"triton-http:{host(server)}/linear: the server is up but the model is not ready"
    assert [p for p, _ in server.requests] == ["/v2/models/linear/ready"]  # no metadata asked for


def test_a_metadata_error_is_the_servers_message_on_one_line() -> None:
    error = {**routes(), "/v2/models/linear": json_route({"error": "failed to stat file\nsecond line"}, 400)}
    with serving(error) as server, pytest.raises(ParityError) as info:
        runner(server).setup()
    assert str(info.value) == (f"triton-http:{host(server)}/linear: no answer from the Triton server "
                               "(InferenceServerException: [400] failed to stat file)")


def test_the_inputs_go_in_the_declared_datatypes_and_the_outputs_come_back(served: Server) -> None:
    r = runner(served)
    r.setup()
    x = np.asarray([[1.5, -2.0, 0.25], [3.0, 0.0, -1.0]])  # float64 golden, FP32 declared
    ids = np.asarray([[5, 6], [7, 8]], dtype=np.int32)  # int32 golden, INT64 declared
    out = r.run({"ids": ids, "x": x, "labels": np.asarray([0, 1])})
    path, request, tensors = sent(served)
    assert path == "/v2/models/linear/infer"
    assert [(i["name"], i["shape"], i["datatype"]) for i in request["inputs"]] == [("x", [2, 3], "FP32"),
                                                                                    ("ids", [2, 2], "INT64")]
    assert tensors == {"x": x.astype("<f4").tobytes(), "ids": ids.astype("<i8").tobytes()}
    assert request["outputs"] == [{"name": "logits", "parameters": {"binary_data": True}},
                                  {"name": "label", "parameters": {"binary_data": True}}]
    assert list(out) == ["logits", "label"]
    assert out["logits"].dtype == np.float32 and out["label"].dtype == np.int64
    np.testing.assert_array_equal(out["logits"], LOGITS)
    np.testing.assert_array_equal(out["label"], LABEL)


def test_outputs_names_what_is_asked_for() -> None:
    with serving(routes(answer=binary_response({"label": ("INT64", LABEL)}))) as server:
        r = runner(server, outputs=("label",))
        r.setup()
        out = r.run({"x": np.zeros((2, 3)), "ids": np.zeros((2, 2))})
    assert sent(server)[1]["outputs"] == [{"name": "label", "parameters": {"binary_data": True}}]
    assert list(out) == ["label"]
    np.testing.assert_array_equal(out["label"], LABEL)


@pytest.mark.parametrize("datatype", sorted(WIRE))
def test_each_datatype_is_sent_in_its_size(datatype: str) -> None:
    """Every fixed-size type of the protocol's table, UINT16/32/64 included (a model that takes them was a raw
    tritonclient error, exit 3, before)."""
    meta = {**METADATA, "inputs": [{"name": "x", "datatype": datatype, "shape": [-1, 3]}]}
    golden = np.asarray([[0.0, 1.0, 2.0], [3.0, 1.0, 0.0]])
    with serving(routes(meta)) as server:
        r = runner(server)
        r.setup()
        r.run({"x": golden})
    _, request, tensors = sent(server)
    assert request["inputs"][0]["datatype"] == datatype
    assert tensors["x"] == golden.astype(WIRE[datatype]).tobytes()


def test_bf16_is_sent_as_the_top_half_of_each_float32() -> None:
    """Triton's BF16 (server@e1db8a603d86 docs/user_guide/model_configuration.md "Datatypes": numpy has none):
    bfloat16 keeps float32's sign, exponent and top 7 mantissa bits, the float32 pattern's upper 16 bits, exact for
    these values. It was a raw tritonclient error, exit 3, before."""
    meta = {**METADATA, "inputs": [{"name": "x", "datatype": "BF16", "shape": [-1, 3]}]}
    golden = np.asarray([[0.0, 1.0, -2.5], [3.0, 0.15625, 256.0]])
    with serving(routes(meta)) as server:
        r = runner(server)
        r.setup()
        r.run({"x": golden})
    _, request, tensors = sent(server)
    assert request["inputs"][0]["datatype"] == "BF16" and request["inputs"][0]["parameters"]["binary_data_size"] == 12
    assert tensors["x"] == (golden.astype("<f4").view("<u4") >> 16).astype("<u2").tobytes()


def test_a_golden_array_that_cannot_be_sent_as_declared_is_one_line(served: Server) -> None:
    r = runner(served)
    r.setup()
    with pytest.raises(ParityError) as info:
        r.run({"x": np.asarray([["a", "b", "c"]]), "ids": np.zeros((1, 2))})
    assert str(info.value).startswith("golden input 'x' cannot be sent as FP32: could not convert string to float")
    assert served.posted == []


def test_a_datatype_the_client_does_not_know_is_one_line_naming_the_golden_arrays_own() -> None:
    """A datatype outside Triton's table (as a newer server might declare): the array is sent as it is, and
    tritonclient's refusal names both types (the golden float32, not a cast of it)."""
    meta = {**METADATA, "inputs": [{"name": "x", "datatype": "FP8", "shape": [-1, 3]}]}
    with serving(routes(meta)) as server:
        r = runner(server)
        r.setup()
        with pytest.raises(ParityError) as info:
            r.run({"x": np.zeros((1, 3), dtype=np.float32)})
    assert str(info.value) == ("golden input 'x' cannot be sent as FP8: got unexpected datatype FP32 from numpy array, "
                               "expected FP8.")
    assert server.posted == []


def test_an_answer_without_a_requested_output_is_one_line() -> None:
    with serving(routes(answer=binary_response({"logits": ("FP32", LOGITS)}))) as server:
        r = runner(server)
        r.setup()
        with pytest.raises(ParityError) as info:
            r.run({"x": np.zeros((2, 3)), "ids": np.zeros((2, 2))})
    assert str(info.value) == f"triton-http:{host(server)}/linear answered without the output 'label'"


def test_an_input_without_a_datatype_goes_as_the_golden_array_is() -> None:
    meta = {**METADATA, "inputs": [{"name": "x", "shape": [-1, 3]}]}
    golden = np.asarray([[0.5, 1.0, 2.0]])
    with serving(routes(meta)) as server:
        r = runner(server)
        r.setup()
        r.run({"x": golden})
    _, request, tensors = sent(server)
    assert request["inputs"][0]["datatype"] == "FP64" and tensors["x"] == golden.astype("<f8").tobytes()


def test_the_sides_max_length_cuts_token_arrays_before_they_are_sent() -> None:
    meta = {**METADATA, "inputs": [{"name": "input_ids", "datatype": "INT64", "shape": [-1, -1]}]}
    with serving(routes(meta)) as server:
        r = runner(server, {"preprocessing.max_length": 2})
        r.setup()
        r.run({"input_ids": np.asarray([[4, 5, 6]])})
    assert sent(server)[2]["input_ids"] == np.asarray([[4, 5, 0]], dtype="<i8").tobytes()


def test_a_golden_set_without_a_served_input_is_one_line(served: Server) -> None:
    r = runner(served)
    r.setup()
    with pytest.raises(ParityError) as info:
        r.run({"x": np.zeros((1, 3)), "labels": np.zeros(1)})
    assert str(info.value) == "golden inputs have no 'ids' (the served model's inputs: x, ids; golden: labels, x)"
    assert served.posted == []


def test_text_records_are_refused(served: Server) -> None:
    r = runner(served)
    r.setup()
    with pytest.raises(ParityError, match=r"^the triton-http runner takes \.npz golden inputs \(named arrays\), "
                                          r"not records$"):
        r.run([{"text": "hello"}])


def test_an_inference_error_is_the_servers_message_on_one_line() -> None:
    refused = json_route({"error": "unexpected shape for input 'x'\nmore"}, 400)
    with serving(routes(answer=refused)) as server:
        r = runner(server)
        r.setup()
        with pytest.raises(ParityError) as info:
            r.run({"x": np.zeros((2, 3)), "ids": np.zeros((2, 2))})
    assert str(info.value) == (f"triton-http:{host(server)}/linear failed on the golden inputs: [400] unexpected "
                               "shape for input 'x'")


def test_a_model_that_is_not_ready_stops_the_cli_with_one_line(pair: dict[str, Path],
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    not_ready = {**routes(), "/v2/models/linear/ready": json_route({"error": "Model version not ready"}, 400)}
    with serving(not_ready) as server:
        spec = ("      golden: golden.npz\n      reference: {runner: onnxruntime, artifact: ref.onnx}\n"
                f"      candidate: {{runner: triton-http, url: '{host(server)}', model: linear}}\n")
        assert run(["parity", "--config", str(write_manifest(pair["dir"], spec))]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].endswith(f"triton-http:{host(server)}/linear: the server is up but the model is "
                                             "not ready"), err


def test_teardown_closes_the_client_once(served: Server) -> None:
    r = runner(served)
    r.teardown()  # never set up: nothing to close
    r.setup()
    client = r.client
    r.teardown()
    assert r.client is None
    with pytest.raises(Exception, match="closed"):
        client.is_model_ready("linear")
    r.teardown()


MISSING = ("parity with a Triton server needs the 'triton' extra (tritonclient[http] is not installed): pip install "
           "'driftguard-ml[triton]'")


def test_without_tritonclient_http_setup_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "tritonclient.http", None)  # what an environment without it gives the import
    r = TritonHttpRunner(RunnerConfig("triton-http", TritonHttpSettings(url="localhost:1", model="m")), {})
    with pytest.raises(MissingExtraError) as info:
        r.setup()
    assert str(info.value) == MISSING


def test_tritonclient_without_its_http_part_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    """tritonclient installed without [http] (no geventhttpclient): its tritonclient.http raises RuntimeError."""
    for name in [n for n in sys.modules if n == "tritonclient.http" or n.startswith("tritonclient.http.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "geventhttpclient", None)
    with pytest.raises(RuntimeError, match="does not include http support"):
        importlib.import_module("tritonclient.http")
    r = TritonHttpRunner(RunnerConfig("triton-http", TritonHttpSettings(url="localhost:1", model="m")), {})
    with pytest.raises(MissingExtraError) as info:
        r.setup()
    assert str(info.value) == MISSING


def test_first_line() -> None:
    assert _first_line(ValueError("\n  one\ntwo  ")) == "one"
    assert _first_line(KeyError()) == "KeyError"
    assert _first_line(ValueError("y" * 301)) == "y" * 300
