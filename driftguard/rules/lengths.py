"""DG106: lengths across sides. Every length a file states is one of five quantities, each with its keys:

- **trained input length** (training side ``preprocessing.max_length``): the length training truncated inputs
  to: a tokenizer's ``model_max_length``, LLaMA-Factory ``cutoff_len``, axolotl ``sequence_len``, a GLM
  fine-tune's ``max_input_length + max_output_length + 1``, a checkpoint's ``max_length`` hyper-parameter;
- **served input limit** (deployment ``serving.max_input_length``): the longest prompt the server takes (TGI
  ``max_input_tokens``, TensorRT-LLM ``max_input_len``); the server's own truncation of a request
  (``truncate_prompt_tokens``, TGI ``truncate``) is ``preprocessing.max_length`` on that side, compared by DG101;
- **served context** (deployment ``serving.max_model_len``): prompt plus output (vLLM ``max_model_len``, TGI
  ``max_total_tokens``, TensorRT-LLM ``max_seq_len``, Ollama ``num_ctx``, GenAI ``context_length``);
- **generation budget**: ``generation.max_new_tokens`` (output only);
- **model positions**: ``model.max_position_embeddings`` (the deployment's model files first, else the
  training side's), scaled as vLLM scales them for a ``rope_scaling`` with a ``factor`` (``yarn``: its
  ``original_max_position_embeddings`` times the factor; ``llama3``, ``longrope``, ``su``: as stated).

Within one side DG202 relates a truncation to the positions and DG203 a generation length to the context; this
rule relates the two sides. The "no limit" sentinel of transformers (``VERY_LARGE_INTEGER``) is not a length.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from driftguard.engines.transformers import HF_VERY_LARGE_INTEGER
from driftguard.model import Finding, How, Severity, Value
from driftguard.rules.base import Rule, RuleContext

TRAINED = "preprocessing.max_length"
INPUT_LIMIT = "serving.max_input_length"
CONTEXT = "serving.max_model_len"
BUDGET = "generation.max_new_tokens"
POSITIONS = "model.max_position_embeddings"
#: Where a side's model config keeps its RoPE scaling (config.json ``rope_scaling``; ``rope_parameters`` in
#: transformers 5), and deployment keys that change the positions the server derives (vLLM ``--rope-scaling``,
#: ``--hf-overrides``): with one of those, the served positions are not the config's.
_ROPE = ("hf.config.rope_scaling", "hf.config.rope_parameters")
_SERVER_ROPE = ("vllm.rope_scaling", "vllm.hf_overrides")
#: RoPE types whose ``max_position_embeddings`` already is the scaled length (vLLM ``_get_and_verify_max_len``).
_STATED_ROPE = ("su", "longrope", "llama3")


def _length(v: Value | None) -> int | None:
    """A length in tokens: a positive int below the "no limit" sentinel, else None."""
    if v is None or isinstance(v.value, bool) or not isinstance(v.value, int):
        return None
    return v.value if 0 < v.value < HF_VERY_LARGE_INTEGER else None


def scaled_positions(positions: int, rope: object) -> int | None:
    """The positions a server derives from ``max_position_embeddings`` and a ``rope_scaling`` mapping, as vLLM's
    ``_get_and_verify_max_len`` does; None when the scaling cannot be read."""
    if rope is None:
        return positions
    if not isinstance(rope, Mapping):
        return None
    factor = rope.get("factor")
    kind = rope.get("rope_type", rope.get("type"))
    if factor is None or kind in _STATED_ROPE:
        return positions
    if isinstance(factor, bool) or not isinstance(factor, (int, float)):
        return None
    base = rope.get("original_max_position_embeddings", positions) if kind == "yarn" else positions
    return int(base * factor) if isinstance(base, int) and not isinstance(base, bool) else None


def _positions(ctx: RuleContext) -> tuple[Value, int] | None:
    """The model's positions as the server sees them: the deployment's model files first, else the training
    side's; None when unknown, or when the server overrides the RoPE scaling."""
    if any(key in ctx.deployed.merged for key in _SERVER_ROPE):
        return None
    for side in (ctx.deployed, ctx.training):
        v = side.merged.get(POSITIONS)
        n = _length(v)
        if v is None or n is None:
            continue
        rope = next((side.merged[k].value for k in _ROPE if k in side.merged), None)
        scaled = scaled_positions(n, rope)
        return (v, scaled) if scaled is not None else None
    return None


def _where(v: Value) -> str:
    return v.origin.location()


class LengthDrift(Rule):
    """The deployment's lengths do not hold what the model was trained on.

    Relates the training side's trained input length (``preprocessing.max_length``: the tokenizer's
    ``model_max_length``, a fine-tune's ``cutoff_len``/``sequence_len``) to the deployment's served input limit
    (``serving.max_input_length``), served context (``serving.max_model_len``) and generation budget
    (``generation.max_new_tokens``), and the served context to the model's positions
    (``model.max_position_embeddings``, RoPE scaling applied as vLLM does). Findings, each naming both keys and
    both files:

    - served input limit shorter than the trained input length (error): inputs training saw whole are refused
      or cut; without an input limit, the same for a served context shorter than it;
    - served context longer than the model's positions (error): positions the model never had;
    - the longest input (the served input limit, else the trained input length) plus the deployment's explicit
      generation budget past the served context (warning): a long input leaves fewer tokens than asked for.

    A trained input length at or past the model's positions is the tokenizer stating the model's capacity, not a
    cut training chose: serving a shorter context than the model supports is a deployment choice, not reported.

    **Anti-pattern**

    A fine-tune trained on 4096-token inputs, served by a TensorRT-LLM engine built with the default input limit::

        # training: LLaMA-Factory train YAML    cutoff_len: 4096
        # deployment: trtllm-build              (no --max_input_len: 1024)

    ``serving.max_input_length 1024 is shorter than the trained input length 4096``.

    **Best practice**

    Build or launch the server for the trained length (``--max_input_len 4096``, ``--max-model-len 8192``), or
    truncate the same way on both sides and approve the shorter limit with the evaluation that justifies it.
    """

    code = "DG106"
    name = "drift.length"
    pairwise = True
    severity = Severity.ERROR

    def check(self, ctx: RuleContext) -> Iterator[Finding]:
        positions = _positions(ctx)
        yield from self._shorter_than_trained(ctx, positions)
        yield from self._past_positions(ctx, positions)
        yield from self._budget(ctx)

    def _trained(self, ctx: RuleContext, positions: tuple[Value, int] | None) -> tuple[Value, int] | None:
        v = ctx.training.merged.get(TRAINED)
        n = _length(v)
        if v is None or n is None or (positions is not None and n >= positions[1]):
            return None
        return v, n

    def _shorter_than_trained(self, ctx: RuleContext, positions: tuple[Value, int] | None) -> Iterator[Finding]:
        trained = self._trained(ctx, positions)
        if trained is None:
            return
        t, n = trained
        key = INPUT_LIMIT if INPUT_LIMIT in ctx.deployed.merged else CONTEXT
        served = ctx.deployed.merged.get(key)
        m = _length(served)
        if served is None or m is None or m >= n:
            return
        what = "served input limit" if key == INPUT_LIMIT else "served context"
        yield self.finding(key, f"{key} {m} ({_where(served)}, the {what}) is shorter than the trained input "
                                f"length {TRAINED} {n} ({_where(t)}): inputs training saw whole are refused or "
                                f"cut", training=t, deployed=served)

    def _past_positions(self, ctx: RuleContext, positions: tuple[Value, int] | None) -> Iterator[Finding]:
        served = ctx.deployed.merged.get(CONTEXT)
        m = _length(served)
        if served is None or m is None or positions is None or m <= positions[1]:
            return
        p, limit = positions
        scaled = "" if limit == p.value else f", {limit} with its RoPE scaling"
        yield self.finding(CONTEXT, f"{CONTEXT} {m} ({_where(served)}, the served context) is longer than the "
                                    f"model's {POSITIONS} {p.value} ({_where(p)}{scaled}): positions the model "
                                    f"never had", training=p, deployed=served)

    def _budget(self, ctx: RuleContext) -> Iterator[Finding]:
        context, budget = ctx.deployed.merged.get(CONTEXT), ctx.deployed.merged.get(BUDGET)
        cap, out = _length(context), _length(budget)
        if context is None or budget is None or cap is None or out is None or budget.how == How.DEFAULT \
                or out > cap:  # a budget past the context on its own is DG203's
            return
        limit = ctx.deployed.merged.get(INPUT_LIMIT)
        related: tuple[Value, ...]
        if limit is not None and _length(limit) is not None:
            named, longest, training, related = INPUT_LIMIT, limit, None, (limit, context)
        else:
            trained = ctx.training.merged.get(TRAINED)
            if trained is None:
                return
            named, longest, training, related = f"the trained input length {TRAINED}", trained, trained, (context,)
        n = _length(longest)
        if n is None or n >= cap or n + out <= cap:  # an input past the context alone is reported above
            return
        yield self.finding(BUDGET, f"{named} {n} ({_where(longest)}) plus {BUDGET} {out} ({_where(budget)}) is "
                                   f"past {CONTEXT} {cap} ({_where(context)}): the longest input leaves {cap - n} "
                                   f"tokens to generate", training=training, deployed=budget, related=related,
                           severity=Severity.WARNING)
