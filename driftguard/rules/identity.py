"""DG107: the base a served add-on was trained on is not the model served under it.

An adapter (PEFT ``adapter_config.json`` ``base_model_name_or_path``) or speculative heads (Medusa's config) are
trained on one base checkpoint (``model.base``); the server loads a base (``model.source``) and applies them. A
LoRA trained on one base and applied to another computes nonsense without an error; Medusa heads trained on one
base propose tokens another never accepts. Only names that say which checkpoint they are, hub ids
(``org/name``), are compared: a local path says nothing about what it holds.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import PurePosixPath

from driftguard.model import Finding, Severity, Value
from driftguard.rules.base import Rule, RuleContext, Side

BASE = "model.base"
SOURCE = "model.source"
#: What a server applies on top of the model it loads (the deployment serves add-ons when it states one).
ADD_ONS = ("model.adapters", "model.speculative.num_heads", "model.speculative.model")


def hub_id(value: object) -> str | None:
    """``org/name`` lower-cased when ``value`` is written as a hub id (two non-empty parts, not a path that starts
    at a root, home or current folder, no URL scheme); None otherwise."""
    if not isinstance(value, str) or value.startswith(("/", ".", "~")) or ":" in value or "\\" in value:
        return None
    parts = PurePosixPath(value).parts
    return value.lower() if len(parts) == 2 and all(parts) else None


def _bases(side: Side) -> list[Value]:
    """Every ``model.base`` the side's artifacts state, each file's once, in order."""
    out: list[Value] = []
    for artifact in side.artifacts:
        v = artifact.get(BASE)
        if v is not None and all(v.origin != w.origin for w in out):
            out.append(v)
    return out


class BaseModelIdentity(Rule):
    """The base checkpoint an adapter or speculative heads were trained on is not the base the server loads.

    ``model.base`` comes from what the add-on's own files state (PEFT ``base_model_name_or_path``, a Medusa
    config's), on either side; ``model.source`` is the model the deployment's server loads (vLLM ``model``,
    TGI ``model_id``, a launch command's model). The two are related when the deployment serves add-ons (it
    names adapters or speculative heads, or holds the add-on's own config) and both are hub ids: a local path
    does not say which checkpoint it holds, so it is never compared (no finding).

    **Anti-pattern**

    A LoRA adapter trained on the 4-bit Unsloth build of Llama 3.1, served on Qwen::

        # training: adapter_config.json      "base_model_name_or_path": "unsloth/meta-llama-3.1-8b-bnb-4bit"
        # deployment: vllm serve Qwen/Qwen2.5-7B-Instruct --enable-lora --lora-modules myth=./adapter

    ``model.base 'unsloth/meta-llama-3.1-8b-bnb-4bit' (adapter_config.json:4) is not the served model.source
    'Qwen/Qwen2.5-7B-Instruct'``.

    **Best practice**

    Serve the add-on on the base it was trained on (``vllm serve unsloth/meta-llama-3.1-8b-bnb-4bit
    --lora-modules myth=./adapter``), or retrain it on the served base.
    """

    code = "DG107"
    name = "drift.base-model"
    severity = Severity.ERROR
    pairwise = True

    def check(self, ctx: RuleContext) -> Iterator[Finding]:
        served = ctx.deployed.merged.get(SOURCE)
        served_id = None if served is None else hub_id(served.value)
        if served is None or served_id is None or not self._serves_add_ons(ctx.deployed):
            return
        for side in (ctx.training, ctx.deployed):
            for base in _bases(side):
                base_id = hub_id(base.value)
                if base_id is None or base_id == served_id:
                    continue
                message = (f"{BASE} {base.value!r} ({base.origin.location()}, the base the {side.name} side's "
                           f"add-on was trained on) is not the served {SOURCE} {served.value!r} "
                           f"({served.origin.location()})")
                if side is ctx.training:
                    yield self.finding(BASE, message, training=base, deployed=served)
                else:
                    yield self.finding(BASE, message, deployed=base, related=(base, served))

    @staticmethod
    def _serves_add_ons(side: Side) -> bool:
        return any(key in side.merged for key in ADD_ONS) or bool(_bases(side))
