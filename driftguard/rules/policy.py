"""DG3xx: policy on the values of one side: settings that are out of range, or that the engine silently
ignores (sampling parameters with ``do_sample`` false; temperature with a greedy ``top_k``/``top_p``)."""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping

from driftguard.engines import CANONICAL_RANGES, Range
from driftguard.model import Finding, Severity, Value
from driftguard.rules.base import Rule, RuleContext


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        return float(value)
    except OverflowError:  # an int beyond any float: no sampling setting, compare as infinite
        return math.inf if value > 0 else -math.inf


def _is(value: Value | None, target: float) -> bool:
    n = None if value is None else _number(value.value)
    return n is not None and math.isclose(n, target, rel_tol=1e-6, abs_tol=1e-12)


#: Sampling parameters (``rules.decoding.SAMPLING_KNOBS``, a test keeps the two equal) and the values at
#: which transformers' sampling warpers do nothing. top_k: HF's
#: GenerationConfig.validate() warns for any value but its default 50; 0 (disabled) is also inert.
_NEUTRAL: dict[str, tuple[float | None, ...]] = {
    "generation.temperature": (1.0,),
    "generation.top_p": (1.0,),
    "generation.top_k": (50.0, 0.0),
    "generation.typical_p": (1.0,),
    "generation.min_p": (None, 0.0),
}


def _active_sampling(merged: Mapping[str, Value], *, explicit_only: bool) -> list[tuple[str, Value]]:
    """Sampling parameters set to a value that would change the output if sampling happened."""
    out = []
    for key, neutral in _NEUTRAL.items():
        v = merged.get(key)
        if v is None or (explicit_only and not v.explicit) or v.engine_made:
            continue
        n = _number(v.value)
        if v.value is None or (n is not None and any(t is not None and math.isclose(n, t) for t in neutral)):
            continue
        out.append((key, v))
    return out


class SamplingWithoutDoSample(Rule):
    """Sampling parameters are set while ``do_sample`` is false.

    transformers decodes greedily (or by beam search) when ``do_sample`` is false and never applies
    temperature, top_p, top_k, typical_p or min_p; ``GenerationConfig.validate()`` warns about exactly this.
    Other engines read the same file differently: vLLM ignores ``do_sample`` and samples at the given
    temperature, and TGI samples whenever a warper is set. So the setting either does nothing or means
    something else elsewhere. Reported per parameter, for explicit values only (top_k 50 and 0 count as
    unset, as validate() treats 50). Not reported where the engine itself derived ``do_sample`` false from
    those very values (vLLM's ``temperature: 0``, TensorRT-LLM's ``top_k: 1``: that is how greedy is spelled
    there; DG302 covers a greedy limit that silences a temperature), nor for values the engine forced (the
    lmdeploy pipeline's top_k 1 under ``do_sample: false``).

    **Anti-pattern**

    ::

        generation_config.json   {"do_sample": false, "temperature": 0.6, "top_p": 0.9}

    Greedy in ``generate()``, sampling at 0.6 in vLLM.

    **Best practice**

    Say what you mean: ``{"do_sample": true, "temperature": 0.6, "top_p": 0.9}`` to sample, or drop the
    sampling parameters for greedy decoding (``{"do_sample": false}``).
    """

    code = "DG301"
    name = "policy.sampling-without-do-sample"
    severity = Severity.WARNING

    def check(self, ctx: RuleContext) -> Iterator[Finding]:
        for side in (ctx.training, ctx.deployed):
            do_sample = side.merged.get("generation.do_sample")
            if do_sample is None or do_sample.value is not False or do_sample.engine_made:
                continue
            for key, v in _active_sampling(side.merged, explicit_only=True):
                yield self.finding(
                    key, f"{side.name} side: {key} = {v.value!r} ({v.origin.location()}) is set while "
                         f"generation.do_sample is false ({do_sample.origin.location()}): transformers decodes "
                         f"greedily and ignores it; engines that ignore do_sample sample with it",
                    related=(v, do_sample))


class GreedyBySamplingLimits(Rule):
    """``top_k == 1`` or ``top_p == 0`` makes decoding greedy, so the other sampling settings do nothing.

    With one candidate token left, temperature, top_p/top_k, typical_p and min_p cannot change the output:
    users who carry a temperature over from evaluation believe it is active (NVIDIA/TensorRT-LLM#1341, where
    the runtime defaults top_k 1 and top_p 0 made temperature "redundant"). The greedy-making value may be a
    default (TensorRT-LLM's C++ runtime top_p is 0.0); the ignored settings are reported alongside. Not
    reported when a file says ``do_sample`` false (DG301's case); reported when the engine derived it from
    these very limits.

    **Anti-pattern**

    ::

        # Triton tensorrtllm_backend request
        {"temperature": 0.7}            # runtime_top_k 0, runtime_top_p 0.0 (defaults) -> greedy

    **Best practice**

    Set the sampling limits the evaluation used: ``{"temperature": 0.7, "top_k": 0, "top_p": 0.92}``, or,
    for greedy decoding, say so (``temperature: 0`` / ``do_sample: false``) and drop the temperature.
    """

    code = "DG302"
    name = "policy.greedy-by-sampling-limits"
    severity = Severity.WARNING

    def check(self, ctx: RuleContext) -> Iterator[Finding]:
        for side in (ctx.training, ctx.deployed):
            merged = side.merged
            do_sample = merged.get("generation.do_sample")
            if do_sample is not None and do_sample.value is False and not do_sample.engine_made:
                continue
            greedy = [(k, v) for k, t in (("generation.top_k", 1.0), ("generation.top_p", 0.0))
                      if (v := merged.get(k)) is not None and _is(v, t)]
            if not greedy:
                continue
            key, trigger = greedy[0]
            # Only settings someone wrote down: a default temperature is not a belief that sampling is on.
            ignored = [(k, v) for k, v in _active_sampling(merged, explicit_only=True)
                       if k not in {g for g, _ in greedy}]
            if not ignored:
                continue
            names = ", ".join(f"{k.split('.', 1)[1]}={v.value!r}" for k, v in ignored)
            yield self.finding(
                key, f"{side.name} side: {key} = {trigger.value!r} ({trigger.origin.location()}) makes decoding "
                     f"greedy, so {names} have no effect",
                related=(trigger, *(v for _, v in ignored)))


#: The ranges DG303 checks, by canonical key (``engines.CANONICAL_RANGES``: transformers' and the serving
#: config's validation; shared/reference/defaults.md).
RANGES: Mapping[str, Range] = CANONICAL_RANGES


class ValueRange(Rule):
    """A value is outside the range its engine accepts.

    Checks explicit values only (a documented default is what the engine does, even TensorRT-LLM's top_p
    0.0): top_p and typical_p in (0, 1], min_p in [0, 1], temperature, top_k, min lengths, ngram size, batch
    sizes and queue delays >= 0, repetition_penalty, max_new_tokens, max_length and context lengths > 0,
    num_beams and num_return_sequences >= 1, each preferred batch size >= 1. A non-number where a number
    belongs is reported too.

    **Anti-pattern**

    ::

        {"top_p": 0.0, "temperature": -0.5, "max_new_tokens": 0}

    Engines reject these at request time (or, worse, clamp them silently).

    **Best practice**

    ::

        {"top_p": 0.92, "temperature": 0.7, "max_new_tokens": 256}
    """

    code = "DG303"
    name = "policy.value-range"
    severity = Severity.ERROR

    def check(self, ctx: RuleContext) -> Iterator[Finding]:
        for side in (ctx.training, ctx.deployed):
            for key in sorted(RANGES.keys() & side.merged.keys()):
                v, rng = side.merged[key], RANGES[key]
                if not v.explicit or v.value is None:
                    continue
                items = v.value if rng.each and isinstance(v.value, list) else [v.value]
                numbers = [_number(x) for x in items]
                if any(n is None for n in numbers):
                    problem = "is not a number"
                elif all(rng.ok(n) for n in numbers if n is not None):
                    continue
                else:
                    problem = f"is outside {rng.text()}"
                yield self.finding(key, f"{side.name} side: {key} = {v.value!r} ({v.origin.location()}) {problem}",
                                   related=(v,))
