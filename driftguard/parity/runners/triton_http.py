"""Triton HTTP runner: a live Triton Inference Server (``tritonclient[http]``, the ``[triton]`` extra, imported
only here). ``url`` is the server (``localhost:8000``), ``model`` the served model's name (``model_version``
optional); inputs are sent by name in the datatypes the server's model metadata declares (cast to the numpy type
tritonclient gives each, as Triton's datatype table says), and every output the metadata lists (or ``outputs``)
comes back.

Config adapter: the side's tokenizer settings are applied to the golden token arrays before they are sent, as
for ONNX Runtime. The server runs the deployed model under its own config, so what that config embodies
(precision, the graph) is exercised too.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import Field

from driftguard.errors import MissingExtraError
from driftguard.parity.errors import ParityError
from driftguard.parity.runners.base import (
    PREPROCESSING_KEYS,
    Arrays,
    Batch,
    RunnerConfig,
    RunnerSettings,
    TensorPreprocessing,
)


class TritonHttpSettings(RunnerSettings):
    """The triton-http runner's settings."""

    url: str | None = Field(default=None, description="the server, host:port (e.g. localhost:8000)")
    model: str | None = Field(default=None, description="the served model's name")
    model_version: str | None = Field(default=None, description="the version (default: the server's)")
    outputs: tuple[str, ...] = Field(default=(), description="output names to compare (default: every output "
                                                             "the model's metadata lists)")


class TritonHttpRunner:
    Settings = TritonHttpSettings
    runs_artifact = True
    applies = PREPROCESSING_KEYS

    def __init__(self, cfg: RunnerConfig[TritonHttpSettings], config: Mapping[str, Any]) -> None:
        if not cfg.settings.url or not cfg.settings.model:
            raise ParityError("the triton-http runner needs 'url' (host:port) and 'model' (the served model's name)")
        self.cfg = cfg
        self.spec = cfg.settings
        self.prep = TensorPreprocessing.from_config(config)
        self.client: Any = None
        self.inputs: list[dict[str, Any]] = []
        self.outputs: list[str] = []

    def describe(self) -> str:
        return f"triton-http:{self.spec.url}/{self.spec.model}"

    def setup(self) -> None:
        try:
            import tritonclient.http as http
        except (ImportError, RuntimeError):  # tritonclient without its [http] part raises RuntimeError
            raise MissingExtraError("parity with a Triton server", "triton", "tritonclient[http]") from None
        version = self.spec.model_version or ""
        try:
            self.client = http.InferenceServerClient(url=str(self.spec.url), connection_timeout=10.0,
                                                     network_timeout=60.0)
            if not self.client.is_model_ready(str(self.spec.model), version):
                raise ParityError(f"{self.describe()}: the server is up but the model is not ready")
            meta = self.client.get_model_metadata(str(self.spec.model), version)
        except ParityError:
            raise
        except Exception as exc:  # connection refused, DNS, HTTP errors: tritonclient's and the socket's own
            raise ParityError(f"{self.describe()}: no answer from the Triton server ({type(exc).__name__}: "
                              f"{_first_line(exc)})") from None
        self.inputs = list(meta.get("inputs", ()))
        self.outputs = list(self.spec.outputs) or [o["name"] for o in meta.get("outputs", ())]

    def run(self, batch: Batch) -> Arrays:
        import numpy as np
        import tritonclient.http as http

        if not isinstance(batch, dict):
            raise ParityError("the triton-http runner takes .npz golden inputs (named arrays), not records")
        batch = self.prep.apply(batch)
        sent = []
        for spec in self.inputs:
            name = spec["name"]
            if name not in batch:
                raise ParityError(f"golden inputs have no '{name}' (the served model's inputs: "
                                  f"{', '.join(i['name'] for i in self.inputs)}; golden: {', '.join(sorted(batch))})")
            a = np.asarray(batch[name])
            datatype = spec.get("datatype") or http.np_to_triton_dtype(a.dtype)
            # tritonclient's own numpy type for each datatype (BF16: ml_dtypes' bfloat16 since r26.06); it refuses
            # an array of any other type, and an array that cannot be cast is the golden file's problem: one line
            want = http.triton_to_np_dtype(datatype)
            try:
                if want is not None and a.dtype != want:
                    a = a.astype(want)
                item = http.InferInput(name, list(a.shape), datatype)
                item.set_data_from_numpy(a, binary_data=True)
            except Exception as exc:
                raise ParityError(f"golden input '{name}' cannot be sent as {datatype}: {_first_line(exc)}") from None
            sent.append(item)
        wanted = [http.InferRequestedOutput(n, binary_data=True) for n in self.outputs]
        try:
            result = self.client.infer(str(self.spec.model), sent, model_version=self.spec.model_version or "",
                                       outputs=wanted)
        except Exception as exc:
            raise ParityError(f"{self.describe()} failed on the golden inputs: {_first_line(exc)}") from None
        out: Arrays = {}
        for n in self.outputs:
            array = result.as_numpy(n)  # None when the answer lacks it
            if array is None:
                raise ParityError(f"{self.describe()} answered without the output '{n}'")
            out[n] = np.asarray(array)
        return out

    def teardown(self) -> None:
        if self.client is not None:
            self.client.close()
            self.client = None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:300] if text else type(exc).__name__
