"""What a serving path is, as data: the fields it reads (names and aliases), the ranges it validates, the
layers its values come from, whether the model's generation_config.json applies, how it decides between greedy
decoding and sampling, and how it resolves a dtype.

A serving path is one way a request reaches a model (``vllm serve``, Triton's vllm_backend, TGI's router, the
TensorRT-LLM LLM API...); one engine may have several, because they apply different defaults to the same
request. Extractors read files and apply a spec; rules and the gate ask the spec what the engine does. Nothing
here reads a file.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from driftguard.keys import Default
from driftguard.model import EffectiveConfig, Json, Value

#: Keys a serving engine takes from the served model's own files (tokenizer_config.json, tokenizer.json,
#: generation_config.json, config.json) unless a file of its side states them: the token ids that end, start and
#: pad generation and the tokenizer's metadata. Every path loads the tokenizer from the model (vLLM
#: ``get_tokenizer(model)``, TGI's and SGLang's ``AutoTokenizer.from_pretrained(model_id)``, TensorRT-LLM's
#: ``tokenizer_dir``, lmdeploy's ``Tokenizer(model_path)``) and applies its chat template when none is given. On a
#: side holding the model's files they are read there; on one that does not, they are "from the model", not a
#: value the side leaves unset (DG103).
FROM_MODEL_FILES = frozenset((
    "generation.eos_token_id", "generation.bos_token_id", "generation.pad_token_id",
    "generation.decoder_start_token_id", "preprocessing.tokenizer_class", "preprocessing.add_bos_token",
    "preprocessing.add_eos_token", "preprocessing.model_input_names", "preprocessing.do_lower_case",
    "preprocessing.padding_side", "preprocessing.truncation_side", "preprocessing.chat_template",
))


@dataclass(frozen=True)
class Range:
    """An allowed numeric range; ``None`` bounds are open-ended."""

    low: float | None = None
    high: float | None = None
    low_open: bool = False  # low excluded
    high_open: bool = False  # high excluded
    each: bool = False  # the value is a list; check every element

    def ok(self, n: float) -> bool:
        if math.isnan(n):
            return False
        if self.low is not None and (n < self.low or (self.low_open and n == self.low)):
            return False
        return self.high is None or n < self.high or (n == self.high and not self.high_open)

    def text(self) -> str:
        lo = "-inf" if self.low is None else f"{self.low:g}"
        hi = "inf" if self.high is None else f"{self.high:g}"
        left = "(" if self.low_open or self.low is None else "["
        right = ")" if self.high_open or self.high is None else "]"
        return f"{left}{lo}, {hi}{right}"


@dataclass(frozen=True)
class Field:
    """One field a serving path reads: the canonical key it sets, its type (``float``, ``int``, ``bool``,
    ``strs``, ``ints``, ``json``), the range the engine accepts (outside it the engine rejects the request:
    an input error), and raw values the engine reads as another (vLLM ``top_k: -1`` is ``0``, off)."""

    key: str
    type: str = "float"
    range: Range | None = None
    replace: Mapping[Json, Json] = field(default_factory=dict)


@dataclass(frozen=True)
class Decision:
    """A serving path's decoding decision for one artifact: whether it samples, which value decided it
    (``anchor``, a canonical key), why (the engine rule, with its reference row), what it was derived from,
    and the values the rule forces (``forced``: key -> value, under ``force_rule``)."""

    samples: bool
    anchor: str
    why: str
    derived_from: tuple[str, ...] = ()
    forced: Mapping[str, Json] = field(default_factory=dict)
    force_rule: str = ""


#: A decoding-mode rule: the artifact's values so far -> its decision (None: the values do not decide).
DecodingRule = Callable[[Mapping[str, Value]], "Decision | None"]

#: What a serving path computes in when no artifact of the side states a dtype: one of its artifacts ->
#: (whether the rule applies to it, the dtype as a derived Value or None when the engine picks it at run time).
UnsetDtypeRule = Callable[[EffectiveConfig], "tuple[bool, Value | None]"]


@dataclass(frozen=True)
class GenerationConfigUse:
    """How a serving path applies the model's generation_config.json: which of its fields (HF name ->
    canonical key), under which engine setting, and whether values equal to transformers' class defaults are
    dropped first (vLLM reads it through ``to_diff_dict()``)."""

    fields: Mapping[str, str]
    setting: str
    drop_hf_defaults: bool = False
    why: str = ""


@dataclass(frozen=True)
class Endpoint:
    """An endpoint of a serving path, told apart by the request member that carries its input (``field``):
    whether the server builds the model's input with the chat template (``chat_template``, the value of
    ``preprocessing.chat_template_applied``), and the engine source that says so (``why``)."""

    path: str
    field: str
    chat_template: bool
    why: str
    #: A request member that, false, makes the endpoint take its input as given, and a member given as one
    #: string (not a message list) that does the same (lmdeploy's ``do_preprocess``, a string ``messages``);
    #: ``raw_why``: the engine source that says so.
    switch: str = ""
    string_is_raw: bool = False
    raw_why: str = ""
    #: Output fields whose neutral value differs on this endpoint (trtllm-serve's add_special_tokens: false for
    #: chat, whose template adds the special tokens, true for a completion).
    neutral: Mapping[str, Json] = dataclasses.field(default_factory=dict)


#: The OpenAI-compatible pair most servers speak: chat messages through the chat template, a completion's
#: prompt as given.
def openai_endpoints(why_chat: str, why_completions: str) -> tuple[Endpoint, ...]:
    return (Endpoint("/v1/chat/completions", "messages", True, why_chat),
            Endpoint("/v1/completions", "prompt", False, why_completions))


@dataclass(frozen=True)
class Layer:
    """A precedence layer of documented defaults: whose they are (``owner``: ``vllm``, ``triton vllm_backend``),
    named ``<owner> default`` as ``Origin.source`` shows it (``Origin.default_of`` keeps the owner)."""

    owner: str
    defaults: Mapping[str, Default]

    def __post_init__(self) -> None:
        # The old spelling Layer("vllm default", ...) would show as "vllm default default": say so at import.
        if self.owner.endswith(" default"):
            raise ValueError(f"Layer({self.owner!r}, ...): name the owner ({self.owner.removesuffix(' default')!r}); "
                             "the layer is shown as '<owner> default'")

    @property
    def source(self) -> str:
        """``<owner> default``: the layer as ``Origin.source`` names it."""
        return f"{self.owner} default"


@dataclass(frozen=True)
class EngineSpec:
    """One serving path.

    ``fields``: request / sampling field name -> Field (aliases are several names for one key).
    ``other_fields``: names the path accepts without a canonical key (kept under ``<namespace>.*``); any other
    name in a request is a field the engine ignores or rejects (``ignored_why``), reported by DG304.
    ``layers``: documented defaults, highest precedence first, below the request.
    ``generation_config``: None when the path never reads the model's generation_config.json.
    ``decoding``: the greedy / sample rule. ``dtypes``: the dtype values it takes; ``dtype_auto``: how
    ``auto`` resolves from the model's weight precision (empty: not documented, left as ``auto``).
    ``dtype_unset``: the compute dtype when nothing states one (None: not documented, left unknown).
    ``quantizations``: accepted quantization names (empty: not validated). ``truncation_side``: which end a
    request's truncation field cuts (None: the path does not truncate). ``generation_config_eos``: why the path
    stops on every eos id of the model's generation_config.json, besides the tokenizer's (the engine's source);
    empty where it stops on the tokenizer's or config.json's eos only, or where that is not documented (DG201).
    ``endpoints``: the endpoints a request body reaches, the first whose input member the body holds is the one
    it implies (``preprocessing.chat_template_applied``); empty for a path with no endpoint (SamplingParams).
    ``output_fields``: request fields without a canonical key that change what the model outputs (a logit bias,
    guided decoding, ``ignore_eos``), each with the value that changes nothing (None: unset, null or empty);
    kept under ``<namespace>.<name>`` and judged by DG108 wherever a side sets one to anything else.
    """

    name: str
    engine: str
    label: str
    namespace: str
    fields: Mapping[str, Field] = field(default_factory=dict)
    other_fields: frozenset[str] = frozenset()
    ignored_why: str = ""
    rejects: str = ""
    layers: tuple[Layer, ...] = ()
    generation_config: GenerationConfigUse | None = None
    decoding: DecodingRule | None = None
    dtypes: tuple[str, ...] = ()
    dtype_auto: Mapping[str, str] = field(default_factory=dict)
    dtype_unset: UnsetDtypeRule | None = None
    quantizations: tuple[str, ...] = ()
    truncation_side: str | None = None
    truncation_why: str = ""
    generation_config_eos: str = ""
    endpoints: tuple[Endpoint, ...] = ()
    output_fields: Mapping[str, Json] = field(default_factory=dict)

    def neutral(self, name: str, endpoint: Endpoint | None) -> Json:
        """The value of output field ``name`` that changes nothing, on ``endpoint`` where it has its own."""
        if endpoint is not None and name in endpoint.neutral:
            return endpoint.neutral[name]
        return self.output_fields[name]

    def endpoint_at(self, member: str) -> Endpoint | None:
        """The endpoint a request member implies (its input member, or the switch that turned it raw)."""
        return next((e for e in self.endpoints if member in (e.field, e.switch)), None)

    @property
    def known(self) -> frozenset[str]:
        """Every field name the path reads or accepts."""
        return frozenset(self.fields) | self.other_fields

    def check(self, name: str, value: Json) -> str | None:
        """The engine's rejection message for a field value outside its range, None when accepted."""
        f = self.fields.get(name)
        if f is None or f.range is None or isinstance(value, bool) or not isinstance(value, (int, float)):
            return None
        try:
            n = float(value)
        except OverflowError:  # an integer beyond any float: compare as infinite
            n = math.inf if value > 0 else -math.inf
        if f.range.ok(n):
            return None
        return f"must be in {f.range.text()}" + (f" ({self.rejects})" if self.rejects else "")

    def canonical(self, name: str, value: Json) -> Json:
        """The value as the engine reads it (``replace``: vLLM's -1 top_k is 0)."""
        f = self.fields.get(name)
        if f is None or not f.replace or isinstance(value, (list, dict)):
            return value
        return f.replace.get(value, value)

    def defaults(self) -> dict[str, tuple[Default, str]]:
        """Every documented default of the path: key -> (default, the layer's source), the highest layer's."""
        out: dict[str, tuple[Default, str]] = {}
        for layer in self.layers:
            for key, d in layer.defaults.items():
                out.setdefault(key, (d, layer.source))
        return out


def gt(low: float) -> Range:
    return Range(low, low_open=True)


def ge(low: float) -> Range:
    return Range(low)


def between(low: float, high: float, *, low_open: bool = False, high_open: bool = False) -> Range:
    return Range(low, high, low_open=low_open, high_open=high_open)
