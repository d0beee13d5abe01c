"""DG1xx: drift between the training side and the deployment side of one model.

DG101 compares every key both sides have (tolerance-aware, order-insensitive where the key is a set, following
the decoding mode); DG102 takes the precision keys out of DG101 so that "trained in fp32, served in int8" has its
own code and can be gated separately; DG104 does the same for the decoding mode (greedy, sample, beam), so that a
switch is one finding and one approval; DG103 warns about a key set on one side only where the other side's
formats speak that key's language but documented no default to compare with.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from pathlib import PurePath

from driftguard.engines import EngineSpec, find
from driftguard.engines.spec import FROM_MODEL_FILES
from driftguard.equality import structured_delta
from driftguard.keys import spec_for
from driftguard.model import Finding, How, Severity, Value
from driftguard.rules.base import Rule, RuleContext, Side
from driftguard.rules.decoding import DECODING_KEY, MODE_INPUTS


def is_precision_key(key: str) -> bool:
    """Keys DG102 owns: element types (``precision.weights``, ``io.inputs.x.dtype``...) and the quantization
    scheme."""
    spec = spec_for(key)
    return spec is not None and (spec.type == "dtype" or key == "precision.quantization")


def _shown(value: object) -> str:
    return json.dumps(value) if isinstance(value, (bool, type(None))) else repr(value)


def _off(key: str, value: object) -> str:
    """`` (off)`` when the key's meaning names ``value`` as its off value (``top-k sampling (0: off...)``)."""
    spec = spec_for(key)
    m = re.search(r"\(([^():]+): off", spec.meaning) if spec is not None else None
    if m is None or isinstance(value, bool) or not isinstance(value, (int, float)):
        return ""
    try:
        return " (off)" if float(m.group(1)) == value else ""
    except ValueError:
        return ""


def default_reason(key: str, a: Value, b: Value) -> str:
    """Why two values differ when documented defaults supplied one or both of them, in one line built from
    the Values (``origin.source`` names the engine layer, the path the file that left the key unset): e.g.
    ``transformers 4.57.6 uses top_k=50 unless told otherwise (generation_config.json leaves it unset);
    vllm uses top_k=0 (off) unless told otherwise (request.json leaves it unset)``. Empty when both are
    explicit."""
    short = key.rsplit(".", 1)[-1]
    parts = []
    for v in (a, b):
        if v.explicit:
            continue
        source = v.origin.source or ""
        who = v.origin.default_of or ""
        said = f"{short}={_shown(v.value)}{_off(key, v.value)}"
        where = PurePath(v.origin.path).name or v.origin.path
        if who:
            parts.append(f"{who} uses {said} unless told otherwise ({where} leaves it unset)")
        else:
            parts.append(f"{said} is a documented default ({v.shown_note or source or 'no note'}; "
                         f"{where} leaves it unset)")
    return "; ".join(parts)


def _delta(key: str, a: Value, b: Value) -> object:
    spec = spec_for(key)
    return structured_delta(a.value, b.value, unordered=bool(spec and spec.unordered))


def _template_difference(key: str, ctx: RuleContext) -> str | None:
    """For two chat templates (compared by digest), the first line where their texts differ."""
    if key != "preprocessing.chat_template":
        return None
    texts = [side.merged.get("preprocessing.chat_template_text") for side in (ctx.training, ctx.deployed)]
    if not all(t is not None and isinstance(t.value, str) for t in texts):
        return None
    a, b = (str(t.value).splitlines() for t in texts if t is not None)
    for n, (x, y) in enumerate(zip(a, b, strict=False), 1):
        if x != y:
            return f"first difference at template line {n}: {_cut(x)!r} vs {_cut(y)!r}"
    n = min(len(a), len(b)) + 1
    longer = "training" if len(a) > len(b) else "deployed"
    return f"the {longer} template goes on at line {n}" if len(a) != len(b) else "the templates differ in whitespace"


def _cut(line: str, width: int = 80) -> str:
    return line if len(line) <= width else line[: width - 1] + "…"


class ValueDrift(Rule):
    """A key both sides set has a different effective value.

    Compares the merged effective configs key by key: numbers within the key's tolerance (default: the
    float32 round trip, so 0.92 and 0.9200000166893005 are equal; per-key ``abs``/``rel`` tolerances in the
    manifest), lists whose order means nothing (``generation.eos_token_id``, ``generation.stop``...) as sets,
    everything else exactly. Keys on one side only are DG103's business; element types are DG102's; the
    decoding mode is DG104's.

    The comparison follows the decoding mode of each side (``generation.decoding``): sampling knobs
    (temperature, top_p, top_k, min_p, typical_p) and the seed only when both sides sample, beam-search knobs
    (num_beams, length_penalty, early_stopping) only when both run beam search, and nothing the mode decides
    when the modes differ (DG104 reports that once). Where a documented default supplied a value, the message
    says whose default it is and that the file left the key unset (unset ``top_k`` is 50 in transformers and
    off in vLLM).

    **Anti-pattern**

    The model was evaluated with one nucleus mass and is served with another::

        # training: generation_config.json
        {"do_sample": true, "top_p": 0.92}
        # deployment: runtime sampling parameters
        {"temperature": 1.0, "top_p": 0.85}

    ``generation.top_p: training 0.92 != deployed 0.85``.

    **Best practice**

    Serve with the values the model was evaluated with (``top_p: 0.92``), or, when the difference is
    intended, record an approval pinned to both values with the reason and an expiry date.
    """

    code = "DG101"
    name = "drift.value"
    severity = Severity.ERROR
    pairwise = True

    def check(self, ctx: RuleContext) -> Iterator[Finding]:
        for key, a, b in ctx.differences():
            if is_precision_key(key) or key == DECODING_KEY:
                continue
            reason = default_reason(key, a, b) or _template_difference(key, ctx)
            yield self.finding(key, f"{key}: training {a.value!r} != deployed {b.value!r}"
                                    + (f": {reason}" if reason else ""),
                               training=a, deployed=b, delta=_delta(key, a, b))


class PrecisionDrift(Rule):
    """The element type or quantization differs between training and deployment.

    Owns ``precision.*`` dtype keys, ``precision.quantization`` and every ``io.*.dtype``: a numeric format
    change is a different model, not a different setting, so it has its own code (gate it, approve it, or
    turn it off, separately from DG101). Dtypes are compared after normalization (``torch.float16``,
    ``TYPE_FP16`` and ``FLOAT16`` are all ``float16``).

    **Anti-pattern**

    Evaluated in fp32, quietly served int8-quantized::

        # training: config.json            {"torch_dtype": "float32"}
        # deployment: model.onnx            weights int8, QuantizeLinear/DequantizeLinear nodes

    ``precision.weights: trained in 'float32', deployed as 'int8'``.

    **Best practice**

    Deploy the precision that was evaluated, or evaluate the quantized artifact and approve the change with
    the parity report as evidence::

        key: precision.weights
        training: float32
        deployed: int8
        evidence: reports/int8-parity.json
    """

    code = "DG102"
    name = "drift.precision"
    severity = Severity.ERROR
    pairwise = True

    def check(self, ctx: RuleContext) -> Iterator[Finding]:
        for key, a, b in ctx.differences():
            # An engine's unresolved "auto" is not a dtype: DG105 resolves it the way the engine does.
            if is_precision_key(key) and "auto" not in (a.value, b.value):
                yield self.finding(key, f"{key}: trained in {a.value!r}, deployed as {b.value!r}",
                                   training=a, deployed=b, delta=_delta(key, a, b))


class DecodingDrift(Rule):
    """The decoding mode differs: one side decodes greedily, the other samples, or only one runs beam search.

    ``generation.decoding`` is derived per side from each engine's own rule (transformers ``do_sample``, vLLM
    and OpenAI ``temperature`` 0, TGI's warpers, TensorRT-LLM ``top_k`` 1, the lmdeploy pipeline, and
    ``num_beams`` > 1 for beam search), so greedy decoding spelled two engines' ways is no finding. A switch of
    mode is this one finding, not one per sampling knob: the knobs mean nothing on the side that does not
    sample, and DG101 compares them only when both sides do. One approval of ``generation.decoding`` accepts an
    intended switch. The message names what each side's mode was derived from.

    **Anti-pattern**

    Evaluated greedily, served sampling at vLLM's default temperature 1.0::

        # training: generation_config.json   {"do_sample": false, "max_new_tokens": 256}
        # deployment: vllm request.json      {"prompt": "...", "max_tokens": 256}

    ``generation.decoding: training 'greedy' != deployed 'sample'``.

    **Best practice**

    Say the mode the model was evaluated with, in the engine's own spelling (``"temperature": 0`` for vLLM,
    OpenAI and TGI without sampling parameters, ``"top_k": 1`` for TensorRT-LLM), or, when the switch is
    intended, approve ``generation.decoding`` pinned to both modes with the evaluation as evidence.
    """

    code = "DG104"
    name = "drift.decoding"
    severity = Severity.ERROR
    pairwise = True

    def check(self, ctx: RuleContext) -> Iterator[Finding]:
        for key, a, b in ctx.differences():
            if key == DECODING_KEY:
                yield self.finding(key, f"{key}: training {a.value!r} != deployed {b.value!r} "
                                        f"(training {_from(a)}; deployed {_from(b)})",
                                   training=a, deployed=b)


def _from(v: Value) -> str:
    return v.note or v.derivation or f"at {v.origin.location()}"


#: Only behaviour keys: structure (model.*, io.*) and precision differ in what each format can state at all.
_DG103_NAMESPACES = ("generation", "preprocessing", "batching", "serving")


def _namespace(key: str) -> str:
    return key.split(".", 1)[0]


def spoken_namespaces(kind: str, side: Side) -> set[str]:
    """Canonical namespaces an artifact kind can express, as the gate carries them on the side
    (``KindTraits.speaks``: those of the kind's documented defaults plus those its extractor declares,
    ``extractors.KindInfo.speaks``)."""
    return set(side.kinds[kind].speaks if kind in side.kinds else ())


#: transformers' prompt-plus-output length: a serving path without that field bounds the two by its context.
_TOTAL_LENGTH = "generation.max_length"


def _spoken_by(spec: EngineSpec) -> frozenset[str]:
    """The canonical keys a serving path's fields and default layers state."""
    return frozenset(f.key for f in spec.fields.values()) | frozenset(spec.defaults())


def _from_elsewhere(key: str, there: Side) -> bool:
    """True when the side leaving ``key`` unset does not leave it unset: its serving engine takes it from the
    model's own files (token ids, tokenizer metadata: ``engines.spec.FROM_MODEL_FILES``), has no per-request
    ``max_length`` (its context bounds prompt plus output), or its files state it as a value they do not resolve
    (DG304 reports that). A sampling feature the engine lacks (``no_repeat_ngram_size`` in vLLM) is still
    one-sided: the deployment cannot do what the evaluation did."""
    if there.serving is not None and key in FROM_MODEL_FILES:
        return True
    spec = find(there.serving) if there.serving is not None else None
    if spec is not None and key == _TOTAL_LENGTH and key not in _spoken_by(spec):
        return True  # no per-request max_length (vLLM): the served context bounds prompt plus output
    return any(v.how == How.UNRESOLVED for v in there.shadowed.get(key, ()))


class OneSidedKey(Rule):
    """A key is set explicitly on one side only, where the other side could have said it.

    DG101 compares keys both sides have; a key one side sets and the other leaves unset with no documented
    default has no value to compare with, so nothing would be reported. This rule warns instead, but only
    when all of these hold, so that it does not flood:

    - the key is canonical and in a behaviour namespace (``generation.*``, ``preprocessing.*``,
      ``batching.*``, ``serving.*``);
    - the value is explicit (written in a file, not a default);
    - the key is not an input of the decoding mode (``do_sample``: most engines have no such field; the mode
      each side derives is compared, DG104);
    - the other side has an artifact whose kind speaks that namespace: its documented defaults (its
      ``KindInfo.defaults``) cover the namespace (hf-generation, hf-tokenizer, triton), or it declares the
      namespace (the serving engines' kinds: vllm, tgi, openai, tensorrt-llm, lmdeploy; an HF model folder);
    - the key is not ignored by the manifest's ignore globs;
    - the other side does not take it from elsewhere: a serving engine reads token ids and tokenizer metadata
      from the model's own files (when the side holds them they are compared, when not they are "from the
      model"), a serving path without a per-request ``max_length`` (vLLM) bounds prompt plus output by its
      context, and a value its files state but do not resolve is DG304's (a hub-id model with no folder).

    **Anti-pattern**

    Training fixes the seed and the length; the deployment's request says nothing, and vLLM documents no
    default for either to compare with::

        # training: generation_config.json   {"seed": 1234, "max_new_tokens": 256}
        # deployment: vllm request.json      {"temperature": 0.7}

    ``generation.seed: set on the training side only (1234)``.

    **Best practice**

    State the value on both sides (``"seed": 1234, "max_tokens": 256`` in the request), or ignore the key in
    the manifest with a comment saying why it does not matter for this deployment.
    """

    code = "DG103"
    name = "drift.one-sided-key"
    severity = Severity.WARNING

    def check(self, ctx: RuleContext) -> Iterator[Finding]:
        yield from self._one_way(ctx, ctx.training, ctx.deployed, training_side=True)
        yield from self._one_way(ctx, ctx.deployed, ctx.training, training_side=False)

    def _one_way(self, ctx: RuleContext, here: Side, there: Side, *, training_side: bool) -> Iterator[Finding]:
        spoken: set[str] = set()
        for artifact in there.artifacts:
            spoken |= spoken_namespaces(artifact.kind, there)
        spoken &= set(_DG103_NAMESPACES)
        if not spoken:
            return
        other: Mapping[str, Value] = there.merged
        for key in sorted(here.merged):
            value = here.merged[key]
            if key in other or not value.explicit or _namespace(key) not in spoken or key == DECODING_KEY \
                    or key in MODE_INPUTS \
                    or _from_elsewhere(key, there):
                continue
            spec = spec_for(key)
            if spec is None or not spec.compared or ctx.compare.ignored(key):
                continue
            kinds = ", ".join(sorted({a.kind for a in there.artifacts}))
            message = (f"set on the {here.name} side only ({value.value!r}); the {there.name} side "
                       f"({kinds}) leaves it unset with no documented default to compare")
            if training_side:
                yield self.finding(key, message, training=value)
            else:
                yield self.finding(key, message, deployed=value)
