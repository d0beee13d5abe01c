"""Hugging Face runner: a model folder through transformers (the ``[hf]`` extra; imported only when used).

What it runs depends on the folder's ``config.json`` ``architectures``: a causal or sequence-to-sequence language
model (``*ForCausalLM``, ``*LMHeadModel``, ``*ForConditionalGeneration``) is run with ``generate`` and gives
``sequences``; a ``*ForSequenceClassification`` model is run forward and gives ``logits``; anything else is an
encoder run forward, giving ``embedding`` (the last hidden state averaged over the real tokens). The folder is
loaded with ``local_files_only=True`` and ``trust_remote_code=False`` (an artifact is untrusted: none of its code
runs). Golden ``.jsonl`` records go through the folder's tokenizer (``runners.tokenizer``: their ``text``, or their
``messages`` through its chat template); ``.npz`` golden arrays
(``input_ids``, ``attention_mask``) go straight to the model. CUDA when present (``device: auto``).

Config adapter (``settings``): the side's effective config becomes runner settings, and the runner applies
(``applies``) exactly the keys it used:

* ``preprocessing.max_length`` (truncation; unset or transformers' "very large" default: none),
  ``preprocessing.truncation_side`` and ``preprocessing.padding_side`` on the tokenizer (or, for ``.npz``
  arrays, as the tensor runners apply them);
* every ``generation.*`` key whose name ``generate()`` takes (``GenerationConfig``: do_sample, temperature,
  top_p, top_k, min_p, typical_p, max_new_tokens, min_new_tokens, num_beams, repetition_penalty,
  no_repeat_ngram_size, num_return_sequences, eos/pad/bos token ids, use_cache, ...), passed to ``generate``;
  keys that cannot have an effect are not applied: sampling keys under greedy or beam decoding, beam-search
  keys without beams, ``max_length``/``min_length`` beside ``max_new_tokens``/``min_new_tokens``.
  ``generation.decoding`` is applied with ``do_sample``/``num_beams``, which it is derived from. Keys
  ``generate()`` does not take (vLLM's ``presence_penalty``, ``frequency_penalty``, ``stop``) are not applied;
* ``precision.compute`` (else ``precision.weights``) as the torch dtype the model is loaded in (float32,
  float16, bfloat16); a quantization is not applied.

The folder's own ``generation_config.json`` is not used: generation runs under the side's effective config only
(token ids the side does not set come from the folder's ``config.json``).

Sampling is seeded: ``torch.manual_seed(seed)`` right before each batch's ``generate`` call, ``seed`` the side's
``generation.seed``, else ``DEFAULT_SEED`` (0). Two runs of the same golden set at the same batch size draw the
same tokens; the seed and the draw are held under one lock, so threads do not interleave their draws.

``sequences`` holds the generated tokens only (not the prompt, whose length the truncation changes):
``[samples, width]`` int64 (``[samples, num_return_sequences, width]`` when more than one), ``width`` the side's
``max_new_tokens`` (else ``max_length``); every position after a sequence's end-of-sequence token is ``-1``.
"""

from __future__ import annotations

import threading
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import Field

from driftguard.errors import MissingExtraError
from driftguard.parity.errors import ParityError
from driftguard.parity.runners.base import (
    Arrays,
    Batch,
    RunnerConfig,
    RunnerSettings,
    TensorPreprocessing,
    as_outputs,
    edge_token_ids,
    max_length_of,
    torch_device,
)
from driftguard.parity.runners.tokenizer import SideTokenizer

if TYPE_CHECKING:
    import numpy as np

DEFAULT_SEED = 0
#: Marks a position after the end of a generated sequence.
END = -1

_GENERATE_ARCHS = ("ForCausalLM", "LMHeadModel", "ForConditionalGeneration")
_SAMPLING = frozenset({"temperature", "top_p", "top_k", "min_p", "typical_p", "epsilon_cutoff", "eta_cutoff"})
_BEAMS = frozenset({"length_penalty", "early_stopping", "num_beam_groups", "diversity_penalty"})
_DTYPES = {"float32": "float32", "fp32": "float32", "float": "float32",
           "float16": "float16", "fp16": "float16", "half": "float16",
           "bfloat16": "bfloat16", "bf16": "bfloat16"}
#: Canonical key names whose GenerationConfig attribute differs (none today; kept for the vocabulary's sake).
_RENAMED: dict[str, str] = {}

_DRAW = threading.Lock()


@dataclass(frozen=True)
class HfSettings:
    """What the runner does with a side's effective config (see the module docstring)."""

    max_length: int | None = None
    truncation_side: str | None = None
    padding_side: str | None = None
    generate: dict[str, Any] = field(default_factory=dict)
    dtype: str | None = None
    seed: int = DEFAULT_SEED
    applies: frozenset[str] = frozenset()

    def width(self) -> int | None:
        """Positions ``sequences`` holds per sample: ``max_new_tokens``, else ``max_length``."""
        for name in ("max_new_tokens", "max_length"):
            v = self.generate.get(name)
            if isinstance(v, int) and not isinstance(v, bool):
                return v
        return None


def _int(v: Any) -> int | None:
    return int(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else None


def settings(config: Mapping[str, Any], generating: bool, accepted: Collection[str]) -> HfSettings:
    """The runner settings for ``config`` (``{canonical key: value}``). ``generating``: the model is run with
    ``generate``; ``accepted``: the names ``generate()`` takes (``GenerationConfig``'s attributes)."""
    applies: set[str] = set()
    max_length = max_length_of(config)
    if "preprocessing.max_length" in config:
        applies.add("preprocessing.max_length")
    sides: dict[str, str | None] = {}
    for side in ("truncation_side", "padding_side"):
        v = config.get(f"preprocessing.{side}")
        sides[side] = str(v) if v in ("left", "right") else None
        if sides[side] is not None:
            applies.add(f"preprocessing.{side}")
    dtype = None
    for key in ("precision.compute", "precision.weights"):
        name = _DTYPES.get(str(config.get(key, "")).lower())
        if name is not None:
            dtype = name
            applies.add(key)
            break
    params: dict[str, Any] = {}
    seed = DEFAULT_SEED
    if generating:
        given = {k.removeprefix("generation."): v for k, v in config.items()
                 if k.startswith("generation.") and v is not None}
        do_sample = bool(given.get("do_sample", False))
        beams = _int(given.get("num_beams")) or 1
        for name, value in sorted(given.items()):
            attr = _RENAMED.get(name, name)
            if attr not in accepted:
                continue
            if (name in _SAMPLING and not do_sample) or (name in _BEAMS and beams <= 1):
                continue  # no effect under this decoding mode
            if (name == "max_length" and "max_new_tokens" in given) or \
                    (name == "min_length" and "min_new_tokens" in given):
                continue  # the *_new_tokens key decides
            params[attr] = list(value) if isinstance(value, (list, tuple)) else value
            applies.add(f"generation.{name}")
        if "do_sample" in params or "num_beams" in params:
            applies.add("generation.decoding")
        if do_sample and _int(given.get("seed")) is not None:
            seed = int(given["seed"])
            applies.add("generation.seed")
    return HfSettings(max_length, sides["truncation_side"], sides["padding_side"], params, dtype, seed,
                      frozenset(applies))


def task_of(architectures: Collection[str], is_encoder_decoder: bool) -> str:
    """``generate``, ``classify`` or ``encode`` for a config's ``architectures``."""
    if is_encoder_decoder or any(a.endswith(_GENERATE_ARCHS) for a in architectures):
        return "generate"
    if any(a.endswith("ForSequenceClassification") for a in architectures):
        return "classify"
    return "encode"


def end_sequences(new: np.ndarray[Any, Any], eos: Collection[int], width: int | None) -> np.ndarray[Any, Any]:
    """Generated tokens ``[rows, t]`` with every position after a row's first end-of-sequence token set to
    ``END``, padded with ``END`` to ``width`` positions."""
    import numpy as np

    out = np.asarray(new, dtype=np.int64).copy()
    if eos and out.size:
        is_eos = np.isin(out, np.asarray(sorted(eos), dtype=np.int64))
        after = np.cumsum(is_eos, axis=1) - is_eos > 0
        out[after] = END
    if width is not None and out.shape[1] < width:
        out = np.concatenate([out, np.full((out.shape[0], width - out.shape[1]), END, dtype=np.int64)], axis=1)
    return out


class HfRunnerSettings(RunnerSettings):
    """The hf runner's settings."""

    artifact: str | None = Field(default=None, description="the Hugging Face model folder, relative to the "
                                                           "manifest")
    intra_op_threads: int | None = Field(default=None, ge=1, description="torch threads (process-wide)")


class HfRunner:
    Settings = HfRunnerSettings
    runs_artifact = True
    def __init__(self, cfg: RunnerConfig[HfRunnerSettings], config: Mapping[str, Any]) -> None:
        if cfg.settings.artifact is None:
            raise ParityError("the hf runner needs an 'artifact' (a Hugging Face model folder)")
        self.cfg = cfg
        self.spec = cfg.settings
        self.artifact = cfg.path(cfg.settings.artifact)
        self.config = dict(config)
        self.applies: frozenset[str] = frozenset()
        self.settings = HfSettings()
        self.task = "encode"
        self.model: Any = None
        self.tokenizer: Any = None
        self.device = "cpu"

    def describe(self) -> str:
        return f"hf:{self.artifact}"

    @staticmethod
    def execution(cfg: RunnerConfig[Any]) -> str:
        """The torch device a module of ``cfg`` runs on (``device: auto``: CUDA when torch sees it); ``setup``
        moves the model there, so what every executor reports is where it ran."""
        import torch

        return torch_device(cfg.device, torch.cuda.is_available())

    def setup(self) -> None:
        try:
            import torch
            import transformers as _transformers
        except ImportError:
            raise MissingExtraError("parity with Hugging Face models", "hf", "transformers") from None
        from driftguard.readers import floors  # here: a check validates this runner's settings, runs nothing

        floors.check("torch", torch.__version__)  # transformers reads .bin weights with torch.load
        transformers: Any = _transformers  # partly typed; used through its documented Auto* API only
        assert self.artifact is not None
        # transformers opens the folder's files itself: each one checked first (inside the tree, regular)
        folder = self.cfg.vetted_folder(self.artifact, "model folder")
        if not (folder / "config.json").is_file():
            raise ParityError("not a Hugging Face model folder (no config.json)", str(folder))
        if self.cfg.device == "cuda" and not torch.cuda.is_available():
            raise ParityError("--device cuda: torch sees no CUDA device")
        self.device = self.execution(self.cfg)
        if self.spec.intra_op_threads:
            torch.set_num_threads(self.spec.intra_op_threads)  # process-wide, as torch has it
        transformers.logging.disable_progress_bar()  # "Loading weights" bars, once per run, on stderr
        model_config = self._load("config", transformers.AutoConfig.from_pretrained, folder)
        archs = list(getattr(model_config, "architectures", None) or [])
        self.task = task_of(archs, bool(getattr(model_config, "is_encoder_decoder", False)))
        accepted = set(transformers.GenerationConfig().to_dict())
        self.settings = settings(self.config, self.task == "generate", accepted)
        self.applies = self.settings.applies
        auto = {"generate": transformers.AutoModelForSeq2SeqLM if getattr(model_config, "is_encoder_decoder", False)
                else transformers.AutoModelForCausalLM,
                "classify": transformers.AutoModelForSequenceClassification,
                "encode": transformers.AutoModel}[self.task]
        dtype = getattr(torch, self.settings.dtype) if self.settings.dtype else torch.float32
        model = self._load("model", auto.from_pretrained, folder, dtype=dtype)
        if self.task == "generate":
            # Only the side's effective config drives generate(): not the folder's generation_config.json.
            model.generation_config = transformers.GenerationConfig(
                **{k: getattr(model_config, k) for k in ("bos_token_id", "eos_token_id", "pad_token_id",
                                                         "decoder_start_token_id")
                   if getattr(model_config, k, None) is not None})
        self.model = model.to(self.device).eval()
        if any(folder.glob("tokenizer*")) or (folder / "vocab.txt").is_file():
            side = SideTokenizer(folder, self.config)
            side.load()
            self.tokenizer = side

    def _load(self, what: str, loader: Any, folder: Path, **kwargs: Any) -> Any:
        try:
            return loader(str(folder), local_files_only=True, trust_remote_code=False, **kwargs)
        except Exception as exc:  # transformers raises OSError, ValueError, KeyError... for a bad folder
            raise ParityError(f"transformers cannot load the {what}: {type(exc).__name__}: {_first_line(exc)}",
                              str(folder)) from None

    def _encode(self, batch: Batch) -> dict[str, Any]:
        import numpy as np
        import torch

        if isinstance(batch, dict):
            prep = TensorPreprocessing(self.settings.max_length, self.settings.truncation_side or "right",
                                       self.settings.padding_side or "right", edge_token_ids(self.config))
            arrays = prep.apply(batch)
            return {k: torch.from_numpy(np.asarray(v).copy()).to(self.device) for k, v in arrays.items()}
        if self.tokenizer is None:
            raise ParityError("golden records (.jsonl) need a tokenizer in the model folder", str(self.artifact))
        arrays = self.tokenizer.encode(batch)
        return {k: torch.from_numpy(v).to(self.device) for k, v in arrays.items()}

    def run(self, batch: Batch) -> Arrays:
        import torch

        feeds = self._encode(batch)
        try:
            with torch.inference_mode():
                if self.task == "generate":
                    return {"sequences": self._generate(feeds)}
                out = self.model(**feeds)
        except Exception as exc:
            raise ParityError(f"the model failed on the golden inputs: {type(exc).__name__}: {_first_line(exc)}",
                              str(self.artifact)) from None
        if self.task == "classify":
            return as_outputs({"logits": out.logits}, (), self.describe())
        hidden = out.last_hidden_state
        mask = feeds.get("attention_mask")
        m = (mask if mask is not None else torch.ones(hidden.shape[:2], device=hidden.device)).unsqueeze(-1)
        pooled = (hidden.float() * m).sum(1) / m.sum(1).clamp(min=1)
        return as_outputs({"embedding": pooled}, (), self.describe())

    def _generate(self, feeds: dict[str, Any]) -> np.ndarray[Any, Any]:
        import torch

        with _DRAW:
            torch.manual_seed(self.settings.seed)
            out = self.model.generate(**feeds, **self.settings.generate)
        seqs = out.sequences if hasattr(out, "sequences") else out
        # Decoder-only models return the prompt first; encoder-decoders the decoder start token.
        start = 1 if self.model.config.is_encoder_decoder else int(feeds["input_ids"].shape[1])
        new = seqs[:, start:].detach().cpu().numpy()
        eos = self.settings.generate.get("eos_token_id", self.model.generation_config.eos_token_id)
        eos_ids = {int(e) for e in (eos if isinstance(eos, (list, tuple)) else [eos]) if e is not None}
        result = end_sequences(new, eos_ids, self.settings.width())
        returns = _int(self.settings.generate.get("num_return_sequences")) or 1
        rows = int(feeds["input_ids"].shape[0])
        return result.reshape(rows, returns, -1) if returns > 1 else result

    def teardown(self) -> None:
        self.model = None
        self.tokenizer = None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:300] if text else "(no message)"
