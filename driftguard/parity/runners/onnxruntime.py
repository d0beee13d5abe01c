"""ONNX Runtime runner: an ``.onnx`` file in an ``InferenceSession``, CUDA execution provider when present
(``device: auto``) else CPU; thread counts from the runner's ``intra_op_threads``/``inter_op_threads``.

Config adapter: the side's tokenizer settings (``preprocessing.max_length``, ``truncation_side``,
``padding_side``) are applied to the golden token arrays before they reach the graph (special tokens kept, as
the tokenizer keeps them). Text golden records go through the side's real tokenizer instead
(``runners.tokenizer``: ``tokenizer:``, else tokenizer files beside the artifact), padded to the graph's fixed
sequence width when it declares one.
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
    TextInputs,
)
from driftguard.readers import floors

#: ONNX element types as ONNX Runtime names them -> numpy.
_DTYPES = {"tensor(float)": "float32", "tensor(double)": "float64", "tensor(float16)": "float16",
           "tensor(int64)": "int64", "tensor(int32)": "int32", "tensor(int8)": "int8",
           "tensor(uint8)": "uint8", "tensor(bool)": "bool"}


class OnnxRuntimeSettings(RunnerSettings):
    """The onnxruntime runner's settings."""

    artifact: str | None = Field(default=None, description="the .onnx file, relative to the manifest")
    outputs: tuple[str, ...] = Field(default=(), description="output names to compare (default: every output)")
    intra_op_threads: int | None = Field(default=None, ge=1)
    inter_op_threads: int | None = Field(default=None, ge=1)
    tokenizer: str | None = Field(default=None, description="folder of the side's tokenizer, for text golden inputs "
                                                            "(default: the artifact's folder when it holds one)")


class OnnxRuntimeRunner:
    Settings = OnnxRuntimeSettings
    runs_artifact = True
    applies = PREPROCESSING_KEYS

    def __init__(self, cfg: RunnerConfig[OnnxRuntimeSettings], config: Mapping[str, Any]) -> None:
        if cfg.settings.artifact is None:
            raise ParityError("the onnxruntime runner needs an 'artifact' (.onnx file)")
        self.cfg = cfg
        self.spec = cfg.settings
        self.artifact = cfg.path(cfg.settings.artifact)
        self.text = TextInputs(cfg.path(cfg.settings.tokenizer), self.artifact, config, "onnxruntime")
        self.prep = TensorPreprocessing.for_side(config, self.text.folder)
        self.session: Any = None

    def describe(self) -> str:
        return f"onnxruntime:{self.artifact}"

    @staticmethod
    def execution(cfg: RunnerConfig[Any]) -> str:
        """The execution provider a session of ``cfg`` runs on: the first ``providers`` picks (decided from the
        device asked and what onnxruntime has here, so every executor reports the same)."""
        import onnxruntime as ort

        return _first_provider(cfg.device, ort.get_available_providers())

    def providers(self) -> list[str]:
        import onnxruntime as ort

        return _providers(self.cfg.device, ort.get_available_providers())

    def setup(self) -> None:
        try:
            import onnxruntime as ort
        except ImportError:
            raise MissingExtraError("parity with ONNX Runtime", "parity", "onnxruntime") from None
        floors.check("onnxruntime", ort.__version__)  # before a session reads the model's external data
        opts = ort.SessionOptions()
        if self.spec.intra_op_threads:
            opts.intra_op_num_threads = self.spec.intra_op_threads
        if self.spec.inter_op_threads:
            opts.inter_op_num_threads = self.spec.inter_op_threads
        opts.log_severity_level = 3
        # Worker threads sleep between operators instead of spinning: parity runs whole batches, where a spin
        # saves nothing, and on a shared CI machine the spinning burns a third of the run's CPU (measured on
        # all-MiniLM-L6-v2, benchmarks/bench_parity.py) that the other processes, and this one, need.
        opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
        assert self.artifact is not None
        model = self.cfg.vetted_file(self.artifact, "ONNX model")
        # the metadata reader's limits first: onnxruntime must not be the first to parse a crafted graph
        from driftguard.readers import onnx_wire

        onnx_wire.index(model, self.cfg.limits)
        try:
            self.session = ort.InferenceSession(str(model), sess_options=opts,
                                                providers=self.providers())
        except Exception as exc:  # onnxruntime raises its own Fail/InvalidGraph/... types
            raise ParityError(f"onnxruntime cannot load the model: {_first_line(exc)}",
                              str(self.artifact)) from None

    def run(self, batch: Batch) -> Arrays:
        import numpy as np

        batch = self.text.encode(batch, self._width()) if isinstance(batch, list) else self.prep.apply(batch)
        feeds: dict[str, Any] = {}
        for inp in self.session.get_inputs():
            if inp.name not in batch:
                raise ParityError(f"golden inputs have no '{inp.name}' (the graph's inputs: "
                                  f"{', '.join(i.name for i in self.session.get_inputs())}; golden: "
                                  f"{', '.join(sorted(batch))})", str(self.artifact))
            a = np.asarray(batch[inp.name])
            want = _DTYPES.get(inp.type)
            if want is not None and a.dtype != want:
                a = a.astype(want)
            _check_shape(inp.name, a.shape, inp.shape, str(self.artifact))
            feeds[inp.name] = a
        names = [o.name for o in self.session.get_outputs()]
        try:
            values = self.session.run(names, feeds)
        except Exception as exc:
            raise ParityError(f"onnxruntime failed on the golden inputs: {_first_line(exc)}",
                              str(self.artifact)) from None
        outs = dict(zip(names, (np.asarray(v) for v in values), strict=True))
        if self.spec.outputs:
            missing = [n for n in self.spec.outputs if n not in outs]
            if missing:
                raise ParityError(f"the graph has no output {', '.join(missing)} (it has {', '.join(names)})",
                                  str(self.artifact))
            outs = {n: outs[n] for n in self.spec.outputs}
        return outs

    def _width(self) -> int | None:
        """The graph's fixed sequence width (``input_ids``' second axis), None when it is dynamic."""
        for inp in self.session.get_inputs():
            if inp.name == "input_ids" and len(inp.shape) == 2 and isinstance(inp.shape[1], int):
                return int(inp.shape[1])
        return None

    def teardown(self) -> None:
        self.session = None


def _check_shape(name: str, got: tuple[int, ...], declared: list[Any], where: str) -> None:
    """The golden array must fit the graph's declared input shape (symbolic dims take anything)."""
    if len(got) != len(declared):
        raise ParityError(f"golden input '{name}' has shape {list(got)}, the graph expects rank {len(declared)} "
                          f"{_shown(declared)}", where)
    for g, d in zip(got, declared, strict=True):
        if isinstance(d, int) and d >= 0 and g != d:
            raise ParityError(f"golden input '{name}' has shape {list(got)}, the graph expects {_shown(declared)}",
                              where)


def _shown(dims: list[Any]) -> str:
    return "[" + ", ".join(str(d) if isinstance(d, int) else (d or "?") for d in dims) + "]"


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:300] if text else type(exc).__name__


def _first_provider(device: str, available: list[str]) -> str:
    """The provider a session for ``device`` runs on: the first of ``_providers``, the others its fallbacks."""
    return _providers(device, available)[0]


def _providers(device: str, available: list[str]) -> list[str]:
    """The execution providers a session takes for ``device`` where onnxruntime has the ``available`` ones
    (``get_available_providers()``; auto: CUDA when it is there)."""
    if device == "cuda":
        if "CUDAExecutionProvider" not in available:
            raise ParityError("--device cuda: onnxruntime has no CUDAExecutionProvider here "
                              f"(available: {', '.join(available)})")
        return ["CUDAExecutionProvider", "CPUExecutionProvider"]
    if device == "auto" and "CUDAExecutionProvider" in available:
        return ["CUDAExecutionProvider", "CPUExecutionProvider"]
    return ["CPUExecutionProvider"]
