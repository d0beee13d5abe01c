"""DG108: a request parameter that changes what the model outputs, set on one side only.

Serving engines take request fields the vocabulary has no canonical key for: a logit bias, the token ids a
response may use, guided decoding or a response format, ``ignore_eos``, stop token ids, special tokens kept in
the text. Each serving path lists the ones that change the output, with the value that changes nothing
(``EngineSpec.output_fields``); the extractors keep them under the engine's namespace (``vllm.logit_bias``). Where
both sides state one, DG101 compares them; where only one side does, this rule reports it, so none is dropped.
"""

from __future__ import annotations

from collections.abc import Iterator

from driftguard.engines import find
from driftguard.engines.spec import Endpoint, EngineSpec
from driftguard.equality import values_equal
from driftguard.model import EffectiveConfig, Finding, Json, Severity, Value
from driftguard.rules.base import Rule, RuleContext, Side


def stated(artifact: EffectiveConfig, key: str) -> tuple[Json, Value] | None:
    """The value an artifact gives ``key``, a mapping kept flattened (``vllm.logit_bias.50256``) rebuilt one level
    deep, and the first Value that states it; None when the artifact does not state it."""
    whole = artifact.get(key)
    if whole is not None:
        return whole.value, whole
    prefix = key + "."
    parts = {k[len(prefix):]: v for k, v in sorted((k, v) for k, v in artifact.values.items() if k.startswith(prefix))}
    if not parts:
        return None
    return {name: v.value for name, v in parts.items()}, next(iter(parts.values()))


def neutral(value: Json, unchanged: Json) -> bool:
    """True when ``value`` changes nothing: null (the engines' request models read a null as unset, so the
    field's default applies), equal to the field's neutral value, or empty where that is None."""
    if value is None:
        return True
    if unchanged is None:
        return value in ([], {}, "")
    return values_equal(value, unchanged)


class OutputParameter(Rule):
    """A request parameter that changes what the model outputs is set on one side only.

    Looks at every field a serving path lists as output-changing and has no canonical key for (vLLM:
    ``ignore_eos``, ``logit_bias``, ``allowed_token_ids``, ``bad_words``, guided decoding and ``response_format``,
    ``stop_token_ids``, ``best_of``, ``skip_special_tokens`` and the other text-rendering switches; each engine's
    list cites its source). A side that sets one to anything but its neutral value, where the other side does not
    state it, is a finding: the output is constrained, biased, cut or rendered in a way the other side never was.
    Both sides stating it: DG101 compares the values.

    **Anti-pattern**

    The deployment's request keeps generating past the end of sequence and bans a token the evaluation allowed::

        # training: generation_config.json   {"do_sample": false, "max_new_tokens": 256}
        # deployment: vllm request.json      {"prompt": "...", "temperature": 0, "max_tokens": 256,
        #                                     "ignore_eos": true, "logit_bias": {"50256": -100}}

    ``vllm.ignore_eos: deployment side sets True (request.json:1), which changes the output``.

    **Best practice**

    Serve without the constraint, or evaluate with it (and state it on the training side, where DG101 then
    compares the two), or approve the key with the evaluation that shows it is intended.
    """

    code = "DG108"
    name = "drift.output-parameter"
    severity = Severity.ERROR
    pairwise = True

    def check(self, ctx: RuleContext) -> Iterator[Finding]:
        yield from self._one_way(ctx, ctx.training, ctx.deployed)
        yield from self._one_way(ctx, ctx.deployed, ctx.training)

    def _one_way(self, ctx: RuleContext, here: Side, there: Side) -> Iterator[Finding]:
        seen: set[str] = set()
        for artifact in here.artifacts:
            spec = find(artifact.serving) if artifact.serving is not None else None
            if spec is None:
                continue
            endpoint = _endpoint(artifact, spec)
            for name in sorted(spec.output_fields):
                key = f"{spec.namespace}.{name}"
                got = stated(artifact, key)
                if got is None or key in seen or _states(there, key) or \
                        neutral(got[0], spec.neutral(name, endpoint)):
                    continue
                seen.add(key)
                value, origin = got
                message = (f"{key}: {here.name} side sets {value!r} ({origin.origin.location()}), which changes what "
                           f"the model outputs; the {there.name} side states no such setting")
                if here is ctx.training:
                    yield self.finding(key, message, training=origin)
                else:
                    yield self.finding(key, message, deployed=origin)


def _endpoint(artifact: EffectiveConfig, spec: EngineSpec) -> Endpoint | None:
    """The endpoint the artifact's request implies: the member ``preprocessing.chat_template_applied`` was read
    from (``extractors.runtime_common.endpoint``); None for a file that names no endpoint."""
    applied = artifact.get("preprocessing.chat_template_applied")
    if applied is None or not applied.explicit or not applied.origin.pointer:
        return None
    return spec.endpoint_at(applied.origin.pointer.lstrip("/").split("/")[-1])


def _states(side: Side, key: str) -> bool:
    """True when any artifact of ``side`` states ``key`` (DG101 compares it then)."""
    return any(stated(a, key) is not None for a in side.artifacts)

