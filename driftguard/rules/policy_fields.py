"""DG304: fields a file's reader ignores (a typo, a spelling only engine args accept, another product's name),
flags a launcher does not know, and values the files leave unresolved.

Every kind whose format has a closed field set (the serving engines' requests, and ``hf-generation``: a
GenerationConfig keeps unknown keys as attributes generate() never reads) keeps such a field as
``<namespace>.unknown_fields.<name>`` with a note naming the closest known field; the launch readers keep a flag
the launcher does not know as ``<namespace>.unknown_flags.<name>`` (the launcher refuses to start with it), and
a value written as an expression the files do not fix (``--max-model-len $LEN``) as ``How.UNRESOLVED``. This
rule turns each into a warning at its line.
"""

from __future__ import annotations

from collections.abc import Iterator

from driftguard.model import Finding, How, Severity, Value
from driftguard.rules.base import Rule, RuleContext, Side

#: The key segments the extractors record ignored fields and unknown flags under
#: (``extractors.base.UNKNOWN_FIELDS``, ``extractors.launch_common.UNKNOWN_FLAGS``; rules do not import
#: extractors).
_SEGMENTS = (".unknown_fields.", ".unknown_flags.")


class IgnoredRequestField(Rule):
    """A request, sampling-params or generation-config file carries a field its reader ignores.

    vLLM's OpenAI request models drop unknown fields with only a server log line, and its request bodies take
    no dashed spellings (``top-p`` is an engine-arg spelling: ``vllm serve --top-p`` does not exist, and a
    request's ``"top-p"`` is dropped). The request then runs with the engine's default where the author
    believes their value is active. Reported per field, with the closest known name.

    Why a warning and not an input error: the file is valid for the engine, which serves it; what is wrong is
    what its author believes it does, so it is a finding, judged like the others (``--strict`` fails on it, an
    approval can accept it). A file in which the engine recognizes *no* field is an input error instead (exit
    2): it is almost certainly another product's file given the wrong kind.

    **Anti-pattern**

    ::

        # vllm request.json
        {"messages": [...], "temprature": 0.2, "top-p": 0.9}

    Served at temperature 1.0 and top_p 1.0: vLLM ignores both fields.

    **Best practice**

    Spell the fields the way the request models do: ``{"messages": [...], "temperature": 0.2, "top_p": 0.9}``.
    """

    code = "DG304"
    name = "policy.ignored-request-field"
    severity = Severity.WARNING
    pairwise = True

    def check(self, ctx: RuleContext) -> Iterator[Finding]:
        for side in (ctx.training, ctx.deployed):
            yield from self._unseen_model(ctx, side)
            for artifact in side.artifacts:
                for key in sorted(artifact.values):
                    v = artifact.values[key]
                    segment = next((s for s in _SEGMENTS if s in key), None)
                    if from_unseen_model(v):
                        continue
                    if segment is not None:
                        field = key.split(segment, 1)[1]
                        why = v.shown_note or f"ignored by {artifact.kind}"
                        message = f"{side.name} side: '{field}' ({v.origin.location()}) is {why}"
                    elif v.how == How.UNRESOLVED:
                        message = (f"{side.name} side: {key} ({v.origin.location()}) is {v.value}, which the files "
                                   f"do not resolve: not compared" + (f" ({v.note})" if v.note else ""))
                    else:
                        continue
                    if side is ctx.training:
                        yield self.finding(key, message, training=v)
                    else:
                        yield self.finding(key, message, deployed=v)

    def _unseen_model(self, ctx: RuleContext, side: Side) -> Iterator[Finding]:
        """One warning per side whose engine takes values from a model the side holds no files of (a hub id with
        no folder beside it): it names the model and the keys left unknown, and says to add the folder."""
        unseen: dict[str, Value] = {}
        for artifact in side.artifacts:
            for key, v in artifact.values.items():
                if from_unseen_model(v) and key not in side.merged:  # not another artifact's to say
                    unseen.setdefault(key, v)
        if not unseen:
            return
        first = unseen[min(unseen)]
        model = side.merged.get("model.source") or first
        keys = ", ".join(sorted(unseen))
        message = (f"{side.name} side: the served model {model.value!r} ({first.origin.location()}) has no files on "
                   f"this side, so the values its engine takes from them are unknown and not compared ({keys}); "
                   f"add the model's folder (its generation_config.json and config.json) to the {side.name} side")
        if side is ctx.training:
            yield self.finding("model.source", message, training=model, related=tuple(unseen.values()))
        else:
            yield self.finding("model.source", message, deployed=model, related=tuple(unseen.values()))


def from_unseen_model(v: Value) -> bool:
    """A value an engine takes from the served model's files, which the side lacks: unresolved, depending on
    ``model.source`` (the vllm kind's hub-id models)."""
    return v.how == How.UNRESOLVED and v.derived_from == ("model.source",)
