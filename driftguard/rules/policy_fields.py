"""DG304: fields a file's reader ignores (a typo, a spelling only engine args accept, another product's name).

Every kind whose format has a closed field set (the serving engines' requests, and ``hf-generation``: a
GenerationConfig keeps unknown keys as attributes generate() never reads) keeps such a field as
``<namespace>.unknown_fields.<name>`` with a note naming the closest known field; this rule turns each into a
warning at the field's line.
"""

from __future__ import annotations

from collections.abc import Iterator

from driftguard.model import Finding, Severity
from driftguard.rules.base import Rule, RuleContext

#: The key segment the extractors record ignored fields under (``extractors.runtime_common.UNKNOWN_FIELDS``;
#: rules do not import extractors).
_SEGMENT = ".unknown_fields."


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
            for artifact in side.artifacts:
                for key in sorted(artifact.values):
                    if _SEGMENT not in key:
                        continue
                    v = artifact.values[key]
                    field = key.split(_SEGMENT, 1)[1]
                    why = v.shown_note or f"ignored by {artifact.kind}"
                    message = f"{side.name} side: '{field}' ({v.origin.location()}) is {why}"
                    if side is ctx.training:
                        yield self.finding(key, message, training=v)
                    else:
                        yield self.finding(key, message, deployed=v)
