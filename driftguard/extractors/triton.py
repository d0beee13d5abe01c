"""Triton ``config.pbtxt``: the serving side's batching, I/O, instances, precision and backend parameters.

Parsed with Triton's official ``ModelConfig`` schema (``triton_parse``); every value carries its line. Effective
values follow Triton's documented defaults and core normalisation (``shared/reference/defaults.md`` §7): no
``dynamic_batching`` means no dynamic batching, ``preferred_batch_size`` defaults to ``[max_batch_size]``, an
absent ``instance_group`` means one instance per GPU (two on CPU for ONNX Runtime and TensorFlow), the
sequence idle timeout defaults to 1 s. With ``max_batch_size > 0`` Triton adds an implicit batch dimension,
which ``io.*.shape`` makes explicit (``[-1, *dims]``).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from driftguard.errors import ExtractionError
from driftguard.extractors.base import ExtractOptions, KindInfo, ValueBuilder, read_text
from driftguard.extractors.triton_parse import Parsed, parse, placeholder_names
from driftguard.keys import Default
from driftguard.model import EffectiveConfig
from driftguard.normalize import normalize_dtype, parse_scalar

#: ModelConfig defaults every config.pbtxt gets (the other §7 field defaults are applied in code below).
_TRI = "defaults.md §7 Triton ModelConfig (TRI-PROTO, TRI-CORE)"
TRITON_DEFAULTS: dict[str, Default] = {
    "batching.max_batch_size": Default(0, _TRI + " max_batch_size"),
    "batching.dynamic": Default(False, _TRI + " scheduling_choice"),
    "batching.sequence": Default(False, _TRI + " scheduling_choice"),
    "serving.decoupled": Default(False, _TRI + " model_transaction_policy.decoupled"),
}

INFO = KindInfo(
    kind="triton",
    description="Triton model configuration (config.pbtxt)",
    role="deployment",
    rank=10,
    keeps=("triton",),
    defaults=TRITON_DEFAULTS,
    io="declared",
    names=("config.pbtxt", "*.pbtxt", "config.pbtxt.*", "*.pbtxt.template", "*.pbtxt.in"),
)

_SRC = "defaults.md §7 Triton ModelConfig"
_PLATFORM_BACKEND = {
    "onnxruntime_onnx": "onnxruntime",
    "tensorrt_plan": "tensorrt",
    "pytorch_libtorch": "pytorch",
    "torch_aoti": "pytorch",
    "tensorflow_graphdef": "tensorflow",
    "tensorflow_savedmodel": "tensorflow",
    "ensemble": "ensemble",
}
_DEFAULT_FILENAME = {  # defaults.md §7 default_model_filename (TRI-CORE constants.h)
    "tensorrt": "model.plan", "onnxruntime": "model.onnx", "pytorch": "model.pt", "python": "model.py",
    "openvino": "model.xml",
}
#: Model parameters that backends read as sampling defaults (Python-backend LLM models, FasterTransformer,
#: lmdeploy/TurboMind, TensorRT-LLM request-tensor names reused as parameters).
_GENERATION_PARAMETERS = {
    "temperature": "generation.temperature",
    "top_p": "generation.top_p", "runtime_top_p": "generation.top_p",
    "top_k": "generation.top_k", "runtime_top_k": "generation.top_k",
    "max_tokens": "generation.max_new_tokens", "max_new_tokens": "generation.max_new_tokens",
    "request_output_len": "generation.max_new_tokens",
    "min_tokens": "generation.min_new_tokens", "min_length": "generation.min_length",
    "repetition_penalty": "generation.repetition_penalty",
    "presence_penalty": "generation.presence_penalty", "frequency_penalty": "generation.frequency_penalty",
    "len_penalty": "generation.length_penalty", "length_penalty": "generation.length_penalty",
    "beam_width": "generation.num_beams", "num_beams": "generation.num_beams",
    "seed": "generation.seed", "random_seed": "generation.seed",
    "end_id": "generation.eos_token_id", "pad_id": "generation.pad_token_id",
    "num_return_sequences": "generation.num_return_sequences",
    "no_repeat_ngram_size": "generation.no_repeat_ngram_size",
}
#: Top-level fields this module maps itself; everything else is flattened under ``triton.*``.
_HANDLED = {"name", "platform", "backend", "max_batch_size", "input", "output", "dynamic_batching",
            "sequence_batching", "ensemble_scheduling", "instance_group", "parameters", "optimization",
            "model_transaction_policy", "default_model_filename", "version_policy"}

_NAME_RE = re.compile(r"(^|/)config\.pbtxt(\.(template|in|tmpl|j2))?$|\.pbtxt(\.(template|in))?$")


def detect(path: Path, head: bytes) -> bool:
    """``config.pbtxt`` (and ``*.pbtxt``/template variants), or text that opens like a ModelConfig."""
    if path.is_dir():
        return (path / "config.pbtxt").is_file()
    if _NAME_RE.search(path.name):
        return True
    if path.suffix.lower() in (".yaml", ".yml", ".json", ".ini", ".toml", ".py"):
        return False  # YAML such as TensorRT-LLM's model.yaml can look like pbtxt ("backend: ...")
    text = head.decode("utf-8", "ignore")
    code = "\n".join(line.split("#", 1)[0] for line in text.splitlines())
    return bool(re.search(r"^\s*(platform|backend)\s*:\s*\"", code, re.M)) and "max_batch_size" in code


def extract(path: Path, options: ExtractOptions) -> EffectiveConfig:
    """The effective config of a Triton model config (a ``config.pbtxt`` file or the model's folder)."""
    if path.is_dir():
        path = path / "config.pbtxt"
        if not path.is_file():
            raise ExtractionError("folder holds no config.pbtxt", str(path.parent))
    parsed = parse(read_text(path, options.limits), str(path), options.substitutions, options.limits)
    if not parsed.config.ListFields():
        # Every kind recognises a field of its format (extractors.base): an empty ModelConfig states nothing, and
        # Triton would fill it from the model itself (auto-complete), which is not read here.
        raise ExtractionError("a Triton config that sets no ModelConfig field: Triton would auto-complete it "
                              "from the model, which driftguard does not read; state the fields it serves with",
                              str(path), 1)
    return from_parsed(path, parsed)


def from_parsed(path: Path, parsed: Parsed) -> EffectiveConfig:
    """The effective config of a parsed ModelConfig whose field paths have lines in ``path``: the one mapping of
    a Triton config, which the snapshot kind reuses for the config a live server returns (its JSON form parsed
    into the same message), so a served config and a config.pbtxt mean the same keys."""
    return _Mapper(path, parsed).build()


def placeholders(path: Path, options: ExtractOptions) -> dict[str, tuple[int, ...]]:
    """The template placeholders ``--set`` can fill in a Triton config (file or model folder), ``{name: lines}``:
    ``${name}``, ``#NAME``, bare upper-case names, and bare value names ``options.substitutions`` names."""
    if path.is_dir():
        path = path / "config.pbtxt"
        if not path.is_file():
            return {}  # extraction names the problem
    return placeholder_names(read_text(path, options.limits), options.substitutions, options.limits, str(path))


class _Mapper:
    def __init__(self, path: Path, parsed: Parsed) -> None:
        self.cfg: Any = parsed.config
        self.lines = parsed.lines
        self.unfilled = parsed.unfilled
        self.out = ValueBuilder(INFO.kind, path)
        self.path = path
        from driftguard.extractors.triton_parse import model_config_pb2

        self.pb2 = model_config_pb2()

    # -- helpers -----------------------------------------------------------------------------------------
    def line(self, pointer: str) -> int | None:
        """The line of a field path, falling back to its closest recorded parent."""
        p = pointer
        while p:
            if p in self.lines:
                return self.lines[p]
            cut = max(p.rfind("."), p.rfind("["))
            p = p[:cut] if cut > 0 else ""
        return None

    def set(self, key: str, value: Any, pointer: str, note: str | None = None) -> None:
        self.out.set(key, value, self.line(pointer), pointer, note=note)

    def set_or_default(self, key: str, value: Any, pointer: str, default: Any, source: str) -> None:
        """Explicit when the field was written (or differs from its default), else the documented default."""
        if pointer in self.lines or value != default:
            self.set(key, value, pointer)
        else:
            self.out.set_default(key, Default(default, source))

    def enum_name(self, enum_type: Any, number: int) -> str:
        """An enum value's name from a descriptor or a generated enum wrapper (unknown numbers as digits)."""
        by_number = getattr(enum_type, "values_by_number", None)
        if by_number is None:
            by_number = enum_type.DESCRIPTOR.values_by_number
        v = by_number.get(number)
        return str(v.name) if v is not None else str(number)

    # -- mapping -----------------------------------------------------------------------------------------
    def build(self) -> EffectiveConfig:
        cfg = self.cfg
        backend = self.backend()
        self.out.fill_defaults(TRITON_DEFAULTS)
        if cfg.name:
            self.set("triton.name", cfg.name, "name")
        self.max_batch()
        self.tensors("input", cfg.input)
        self.tensors("output", cfg.output)
        self.scheduling()
        self.instances(backend)
        self.parameters()
        self.optimization(backend)
        if cfg.HasField("model_transaction_policy"):
            self.set("serving.decoupled", bool(cfg.model_transaction_policy.decoupled),
                     "model_transaction_policy.decoupled")
        filename = cfg.default_model_filename or _DEFAULT_FILENAME.get(backend or "")
        if cfg.default_model_filename:
            self.set("triton.default_model_filename", filename, "default_model_filename")
        elif filename:
            self.out.set_default("triton.default_model_filename", Default(filename, _SRC + " default_model_filename"))
        self.version_policy()
        for field, value in cfg.ListFields():
            if field.name not in _HANDLED:
                self.flatten(f"triton.{field.name}", field.name, field, value)
        if self.unfilled:
            first = min(self.unfilled.values())
            self.out.set("triton.template.unfilled", sorted(self.unfilled), first, None,
                         note="placeholders left in string values (Triton reads them literally)")
        return self.out.build()

    def backend(self) -> str | None:
        cfg = self.cfg
        if cfg.backend:
            backend = str(cfg.backend)
            self.set("serving.backend", backend, "backend")
        elif cfg.platform:
            backend = _PLATFORM_BACKEND.get(cfg.platform, cfg.platform)
            self.set("serving.backend", backend, "platform", note=f"platform {cfg.platform}")
            if backend == "tensorflow":
                self.set("triton.tensorflow_format", cfg.platform.rsplit("_", 1)[1], "platform")
        else:
            return None
        return backend

    def max_batch(self) -> None:
        if self.cfg.max_batch_size < 0:  # core src/model_config_utils.cc ValidateModelConfig: never loads
            raise ExtractionError(f"max_batch_size {self.cfg.max_batch_size}: Triton refuses to load this model "
                                  "('max_batch_size' must be non-negative value)", str(self.path),
                                  self.line("max_batch_size"))
        self.set_or_default("batching.max_batch_size", int(self.cfg.max_batch_size), "max_batch_size", 0,
                            _SRC + " max_batch_size")

    def valid_dims(self, tensor: str, field: str, dims: list[int], pointer: str) -> None:
        """``dims`` as Triton loads them: each at least 1, or -1 for a variable size (core src/model_config_utils.cc
        ``ValidateIOShape``); any other value fails the check, naming the line, as the model never loads."""
        bad = [d for d in dims if d < 1 and d != -1]
        if bad:
            raise ExtractionError(f"{tensor}: {field} {dims}: Triton refuses to load this model (a dimension must be "
                                  "an integer >= 1, or -1 for a variable size)", str(self.path), self.line(pointer))

    def tensors(self, which: str, items: Any) -> None:
        plural = "inputs" if which == "input" else "outputs"
        mbs = int(self.cfg.max_batch_size)
        names = []
        for i, t in enumerate(items):
            ptr = f"{which}[{i}]"
            name = str(t.name)
            names.append(name)
            base = f"io.{plural}.{name}"
            self.set(f"{base}.dtype", normalize_dtype(self.enum_name(self.pb2.DataType, t.data_type)) or "invalid",
                     f"{ptr}.data_type")
            dims = [int(d) for d in t.dims]
            self.valid_dims(f"{which} '{name}'", "dims", dims, f"{ptr}.dims")
            if t.HasField("reshape"):
                self.valid_dims(f"{which} '{name}'", "reshape", [int(d) for d in t.reshape.shape], f"{ptr}.reshape")
            shape = ([-1] if mbs > 0 else []) + [-1 if d < 0 else d for d in dims]
            note = "implicit batch dimension made explicit (max_batch_size > 0)" if mbs > 0 else None
            self.set(f"{base}.shape", shape, f"{ptr}.dims", note=note)
            self.set(f"triton.{plural}.{name}.dims", dims, f"{ptr}.dims")
            if t.HasField("reshape"):
                self.set(f"triton.{plural}.{name}.reshape", [int(d) for d in t.reshape.shape], f"{ptr}.reshape")
            for fd, value in t.ListFields():
                if fd.name in ("name", "data_type", "dims", "reshape"):
                    continue
                if fd.enum_type is not None:
                    value = self.enum_name(fd.enum_type, value)
                self.set(f"triton.{plural}.{name}.{fd.name}", value, f"{ptr}.{fd.name}")
        if names:
            self.set(f"io.{plural}", sorted(names), which)

    def scheduling(self) -> None:
        cfg = self.cfg
        mbs = int(cfg.max_batch_size)
        choice = cfg.WhichOneof("scheduling_choice")
        if choice == "dynamic_batching":
            db = cfg.dynamic_batching
            p = "dynamic_batching"
            self.set("batching.dynamic", True, p)
            self.set_or_default("batching.max_queue_delay_us", int(db.max_queue_delay_microseconds),
                                f"{p}.max_queue_delay_microseconds", 0, _SRC + " dynamic_batching")
            sizes = sorted(int(s) for s in db.preferred_batch_size)
            if sizes:
                self.set("batching.preferred_batch_sizes", sizes, f"{p}.preferred_batch_size")
            else:
                self.out.set_default("batching.preferred_batch_sizes", Default(
                    [mbs] if mbs > 0 else [], _SRC + " dynamic_batching.preferred_batch_size (TRI-CORE)"))
            self.set_or_default("batching.preserve_ordering", bool(db.preserve_ordering),
                                f"{p}.preserve_ordering", False, _SRC + " dynamic_batching")
            self.queue_policy(db.default_queue_policy, f"{p}.default_queue_policy",
                              "triton.dynamic_batching.default_queue_policy")
            for fd, value in db.ListFields():
                if fd.name in ("max_queue_delay_microseconds", "preferred_batch_size", "preserve_ordering",
                               "default_queue_policy"):
                    continue
                self.flatten(f"triton.dynamic_batching.{fd.name}", f"{p}.{fd.name}", fd, value)
        elif choice == "sequence_batching":
            sb = cfg.sequence_batching
            p = "sequence_batching"
            self.set("batching.sequence", True, p)
            idle = int(sb.max_sequence_idle_microseconds)
            if idle:
                self.set("batching.max_sequence_idle_us", idle, f"{p}.max_sequence_idle_microseconds")
            else:
                self.out.set_default("batching.max_sequence_idle_us", Default(
                    1_000_000, _SRC + " sequence_batching.max_sequence_idle_microseconds"))
            strategy = sb.WhichOneof("strategy_choice") or "direct"
            if sb.WhichOneof("strategy_choice"):
                self.set("triton.sequence_batching.strategy", strategy, f"{p}.{strategy}")
            else:
                self.out.set_default("triton.sequence_batching.strategy",
                                     Default("direct", _SRC + " sequence_batching strategy"))
            st = getattr(sb, strategy)
            sp = f"{p}.{strategy}"
            self.set_or_default("batching.max_queue_delay_us", int(st.max_queue_delay_microseconds),
                                f"{sp}.max_queue_delay_microseconds", 0, _SRC + " sequence_batching strategy")
            if strategy == "oldest":
                sizes = sorted(int(s) for s in st.preferred_batch_size)
                if sizes:
                    self.set("batching.preferred_batch_sizes", sizes, f"{sp}.preferred_batch_size")
                else:
                    self.out.set_default("batching.preferred_batch_sizes", Default(
                        [mbs] if mbs > 0 else [], _SRC + " sequence_batching.oldest.preferred_batch_size"))
            for fd, value in st.ListFields():
                if fd.name not in ("max_queue_delay_microseconds", "preferred_batch_size"):
                    self.flatten(f"triton.sequence_batching.{strategy}.{fd.name}", f"{sp}.{fd.name}", fd, value)
            for fd, value in sb.ListFields():
                if fd.name not in ("max_sequence_idle_microseconds", strategy):
                    self.flatten(f"triton.sequence_batching.{fd.name}", f"{p}.{fd.name}", fd, value)
        elif choice == "ensemble_scheduling":
            steps = []
            for step in cfg.ensemble_scheduling.step:
                steps.append({
                    "model_name": step.model_name,
                    "model_version": int(step.model_version),
                    "input_map": dict(sorted(step.input_map.items())),
                    "output_map": dict(sorted(step.output_map.items())),
                })
            self.set("triton.ensemble.steps", steps, "ensemble_scheduling.step")
            mir = int(cfg.ensemble_scheduling.max_inflight_requests)
            if mir:
                self.set("triton.ensemble.max_inflight_requests", mir, "ensemble_scheduling.max_inflight_requests")

    def queue_policy(self, qp: Any, pointer: str, key: str) -> None:
        defaults = {"timeout_action": "REJECT", "default_timeout_microseconds": 0,
                    "allow_timeout_override": False, "max_queue_size": 0}
        values = {
            "timeout_action": self.enum_name(qp.TimeoutAction, qp.timeout_action),
            "default_timeout_microseconds": int(qp.default_timeout_microseconds),
            "allow_timeout_override": bool(qp.allow_timeout_override),
            "max_queue_size": int(qp.max_queue_size),
        }
        for name, value in values.items():
            self.set_or_default(f"{key}.{name}", value, f"{pointer}.{name}", defaults[name],
                                _SRC + " ModelQueuePolicy")

    def instances(self, backend: str | None) -> None:
        cfg = self.cfg
        kind_enum = self.pb2.ModelInstanceGroup.Kind
        cpu_default = 2 if backend in ("onnxruntime", "tensorflow") else 1
        if not cfg.instance_group:
            src = _SRC + " instance_group (one group, KIND_AUTO; per GPU, else CPU)"
            self.out.set_default("serving.device_kind", Default("auto", src))
            self.out.set_default("serving.instance_count", Default(1, src))
            return
        kinds: set[str] = set()
        gpus: set[int] = set()
        total = 0
        for i, g in enumerate(cfg.instance_group):
            kind = self.enum_name(kind_enum, g.kind).removeprefix("KIND_").lower()
            kinds.add(kind)
            count = int(g.count) or (cpu_default if kind == "cpu" else 1)
            total += count
            gpus.update(int(x) for x in g.gpus)
            for fd, value in g.ListFields():
                if fd.name in ("count", "kind", "gpus"):
                    continue
                self.flatten(f"triton.instance_group[{i}].{fd.name}", f"instance_group[{i}].{fd.name}", fd, value)
        self.set("serving.device_kind", ",".join(sorted(kinds)), "instance_group")
        self.set("serving.instance_count", total, "instance_group")
        if gpus:
            self.set("serving.gpus", sorted(gpus), "instance_group")

    def parameters(self) -> None:
        for name in sorted(self.cfg.parameters):
            raw = str(self.cfg.parameters[name].string_value)
            ptr = f"parameters[{name}].value.string_value"
            placeholder = "${" in raw
            value: Any = raw if placeholder else parse_scalar(raw)
            self.set(f"triton.parameters.{name}", value, ptr,
                     note="unfilled template placeholder" if placeholder else None)
            key = _GENERATION_PARAMETERS.get(name) or _GENERATION_PARAMETERS.get(name.lower())
            if key and not placeholder and value is not None and not isinstance(value, str):
                if key == "generation.eos_token_id":
                    value = [value]
                if key == "generation.top_k" and isinstance(value, int) and value < 0:
                    value = 0
                self.set(key, value, ptr, note=f"from model parameter '{name}'")

    def optimization(self, backend: str | None) -> None:
        cfg = self.cfg
        opt = cfg.optimization
        accelerators: list[str] = []
        for group in ("gpu_execution_accelerator", "cpu_execution_accelerator"):
            for i, acc in enumerate(getattr(opt.execution_accelerators, group)):
                ptr = f"optimization.execution_accelerators.{group}[{i}]"
                accelerators.append(str(acc.name))
                for pname in sorted(acc.parameters):
                    pval = str(acc.parameters[pname])
                    pptr = f"{ptr}.parameters[{pname}]"
                    self.set(f"triton.accelerators.{acc.name}.{pname}", parse_scalar(pval), pptr)
                    if pname == "precision_mode":
                        dtype = normalize_dtype(pval)
                        if dtype:
                            self.set("precision.compute", dtype, pptr, note=f"{acc.name} precision_mode")
        if accelerators:
            self.set("serving.accelerators", sorted(accelerators), "optimization.execution_accelerators")
        not_ensemble = backend != "ensemble"
        for pin in ("input_pinned_memory", "output_pinned_memory"):
            ptr = f"optimization.{pin}"
            if opt.HasField(pin):
                self.set(f"triton.optimization.{pin}", bool(getattr(opt, pin).enable), f"{ptr}.enable")
            elif not_ensemble:
                self.out.set_default(f"triton.optimization.{pin}", Default(True, _SRC + f" optimization.{pin}"))
        for fd, value in opt.ListFields():
            if fd.name not in ("execution_accelerators", "input_pinned_memory", "output_pinned_memory"):
                self.flatten(f"triton.optimization.{fd.name}", f"optimization.{fd.name}", fd, value)

    def version_policy(self) -> None:
        cfg = self.cfg
        if not cfg.HasField("version_policy"):
            self.out.set_default("triton.version_policy", Default("latest:1", _SRC + " version_policy"))
            return
        vp = cfg.version_policy
        choice = vp.WhichOneof("policy_choice")
        if choice == "latest":
            value = f"latest:{int(vp.latest.num_versions) or 1}"
        elif choice == "specific":
            value = "specific:" + ",".join(str(v) for v in sorted(vp.specific.versions))
        else:
            value = str(choice or "latest:1")
        self.set("triton.version_policy", value, "version_policy")

    def flatten(self, key: str, pointer: str, field: Any, value: Any) -> None:
        """Keep a field the vocabulary does not map, as the schema spells it, under ``triton.*``."""
        fd_msg = field.message_type
        if fd_msg is not None and fd_msg.GetOptions().map_entry:
            value_field = fd_msg.fields_by_name["value"]
            for k in sorted(value, key=str):
                v = value[k]
                if value_field.message_type is not None:
                    for sub_fd, sub_v in v.ListFields():
                        self.flatten(f"{key}.{k}.{sub_fd.name}", f"{pointer}[{k}].value.{sub_fd.name}", sub_fd, sub_v)
                else:
                    self.set(f"{key}.{k}", v, f"{pointer}[{k}]")
            return
        if field.is_repeated:
            if fd_msg is not None:
                for i, item in enumerate(value):
                    for sub_fd, sub_v in item.ListFields():
                        self.flatten(f"{key}[{i}].{sub_fd.name}", f"{pointer}[{i}].{sub_fd.name}", sub_fd, sub_v)
            else:
                items = [self._scalar(field, v) for v in value]
                self.set(key, items, pointer)
            return
        if fd_msg is not None:
            fields = value.ListFields()
            if not fields:
                self.set(key, True, pointer, note="present, empty")
            for sub_fd, sub_v in fields:
                self.flatten(f"{key}.{sub_fd.name}", f"{pointer}.{sub_fd.name}", sub_fd, sub_v)
            return
        self.set(key, self._scalar(field, value), pointer)

    def _scalar(self, field: Any, value: Any) -> Any:
        if field.enum_type is not None:
            return self.enum_name(field.enum_type, value)
        if isinstance(value, bytes):
            return value.decode("utf-8", "replace")
        if isinstance(value, float):
            from driftguard.normalize import normalize_number

            return normalize_number(value)
        return value
