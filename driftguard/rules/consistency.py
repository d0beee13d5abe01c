"""DG2xx: contradictions within one side. A side's artifacts are merged with a documented precedence, but two
files of the same side that disagree about a fact (which token ends generation, how long an input may be) are
reported, never resolved silently. Each finding names every value it looked at in ``related``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import PurePath

from driftguard.engines import find
from driftguard.engines.transformers import HF_VERY_LARGE_INTEGER
from driftguard.equality import values_equal
from driftguard.keys import spec_for
from driftguard.model import Finding, How, Severity, Value
from driftguard.rules.base import Rule, RuleContext, Side

#: Where an end-of-sequence id can be declared, as the HF extractors name it.
EOS_KEYS = ("generation.eos_token_id", "hf.config.eos_token_id", "hf.tokenizer.eos_token_id")


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def eos_ids(value: object) -> frozenset[int] | None:
    """The ids an eos declaration names (int or list of ints); None when unset or not resolvable to ids
    (a tokenizer that names its eos token only by string)."""
    single = _int(value)
    if single is not None:
        return frozenset((single,))
    if isinstance(value, list) and value and all(_int(v) is not None for v in value):
        return frozenset(value)
    return None


def _label(v: Value) -> str:
    return PurePath(v.origin.path).name or v.origin.path


def _ids_text(ids: frozenset[int]) -> str:
    items = sorted(ids)
    return str(items[0]) if len(items) == 1 else str(items)


def _sides(ctx: RuleContext) -> tuple[Side, Side]:
    return ctx.training, ctx.deployed


class EosTokenConsistency(Rule):
    """The end-of-sequence token ids of one side disagree between its files.

    Looks at ``generation.eos_token_id`` (generation_config.json), ``hf.config.eos_token_id`` (config.json)
    and ``hf.tokenizer.eos_token_id`` (tokenizer_config.json, when the tokenizer's eos token resolves to an
    id) in every artifact of a side, and compares them as sets of ids. transformers' ``generate()`` stops on
    the generation config's ids; servers that read only the tokenizer or config.json stop on theirs.

    Severity: ``error`` when the sets differ. When generation_config.json lists every id the other files declare
    (Meta's Llama 3.1: ``[128001, 128008, 128009]`` there, one id in config.json or the tokenizer), what runs the
    side decides: transformers' ``generate()`` (a side with no serving engine's file), vLLM, TGI and lmdeploy
    stop on every id generation_config.json lists (``EngineSpec.generation_config_eos`` cites each), so there is
    no finding; on another serving path (TensorRT-LLM takes ``end_id`` from the tokenizer) it is a ``warning``.

    **Anti-pattern**

    Llama-3-8B-Instruct as first published (vllm-project/vllm#4180): the model ends a turn with
    ``<|eot_id|>`` (128009) but the tokenizer declares ``<|end_of_text|>``::

        generation_config.json   "eos_token_id": [128001, 128009]
        tokenizer_config.json    "eos_token": "<|end_of_text|>"      -> 128001

    A server that stops on the tokenizer's eos runs on past the end of the turn until ``max_tokens``.

    **Best practice**

    Declare the same ids everywhere (``"eos_token": "<|eot_id|>"``), or pass the missing ids as stop
    tokens on the serving side (``stop_token_ids: [128009]``) and approve the difference with that reason.
    """

    code = "DG201"
    name = "consistency.eos-token-id"
    severity = Severity.ERROR

    def check(self, ctx: RuleContext) -> Iterator[Finding]:
        for side in _sides(ctx):
            yield from self._side(side)

    def _side(self, side: Side) -> Iterator[Finding]:
        found: list[tuple[Value, frozenset[int]]] = []
        gen_ids: frozenset[int] = frozenset()  # what generate() stops on
        seen: set[tuple[str, str | None, str]] = set()
        for artifact in side.artifacts:
            for key in EOS_KEYS:
                v = artifact.get(key)
                ids = None if v is None else eos_ids(v.value)
                if v is None or ids is None:
                    continue
                ident = (v.origin.path, v.origin.pointer, key)
                if ident not in seen:  # the same file can reach a side twice (a folder and the file itself)
                    seen.add(ident)
                    found.append((v, ids))
                    if key == "generation.eos_token_id":
                        gen_ids |= ids
        if len({ids for _, ids in found}) <= 1:
            return
        superset = bool(gen_ids) and all(ids <= gen_ids for _, ids in found)
        if superset and _stops_on_generation_config(side):
            return  # Llama 3.1's layout: the path stops on every id generation_config.json lists
        listing = "; ".join(f"{_label(v)} {_ids_text(ids)}" for v, ids in found)
        if superset:
            message = (f"{side.name} side: eos token ids disagree ({listing}); generation_config.json lists them "
                       f"all, but engines that stop only on the tokenizer's or config.json's eos will not stop "
                       f"where generate() does")
            yield self.finding("generation.eos_token_id", message, related=tuple(v for v, _ in found),
                               severity=Severity.WARNING)
        else:
            message = f"{side.name} side: eos token ids disagree ({listing})"
            yield self.finding("generation.eos_token_id", message, related=tuple(v for v, _ in found))


def _stops_on_generation_config(side: Side) -> bool:
    """True when what runs the side stops on every eos id of generation_config.json: transformers' generate()
    (a side no serving engine's file is on) or a serving path documented to (``EngineSpec.generation_config_eos``:
    vLLM, TGI, lmdeploy)."""
    if side.serving is None:
        return True
    spec = find(side.serving)
    return spec is not None and bool(spec.generation_config_eos)


class MaxLengthConsistency(Rule):
    """The tokenizer truncates at more tokens than the model has positions for.

    ``preprocessing.max_length`` (tokenizer ``model_max_length``, or the serving side's truncation length)
    above ``model.max_position_embeddings`` of the same side: inputs between the two lengths either crash
    (index out of range in the position embeddings) or are silently cut elsewhere. The "no limit" sentinel
    transformers writes when a tokenizer has none (``VERY_LARGE_INTEGER`` = int(1e30)) is not a length and
    is skipped.

    **Anti-pattern**

    ::

        config.json              "max_position_embeddings": 512
        tokenizer_config.json    "model_max_length": 1024

    A classifier trained on 512-token inputs is fed 1024 (MinishLab/model2vec#374).

    **Best practice**

    ``"model_max_length": 512`` in tokenizer_config.json (or truncate explicitly at serving time to the
    length the model was trained with).
    """

    code = "DG202"
    name = "consistency.max-length"
    severity = Severity.ERROR

    def check(self, ctx: RuleContext) -> Iterator[Finding]:
        for side in _sides(ctx):
            length = side.merged.get("preprocessing.max_length")
            positions = side.merged.get("model.max_position_embeddings")
            if length is None or positions is None:
                continue
            n, limit = _int(length.value), _int(positions.value)
            if n is None or limit is None or n >= HF_VERY_LARGE_INTEGER:
                continue
            if n > limit:
                yield self.finding(
                    "preprocessing.max_length",
                    f"{side.name} side: preprocessing.max_length {n} ({length.origin.location()}) exceeds "
                    f"model.max_position_embeddings {limit} ({positions.origin.location()})",
                    related=(length, positions))


class GenerationLengthConsistency(Rule):
    """A generation length is longer than the context the model or engine allows.

    Within one side: ``generation.max_length`` (prompt plus output) or ``generation.max_new_tokens`` above
    ``serving.max_model_len`` (the engine's context) or, when the side has no engine limit,
    ``model.max_position_embeddings``. The request can never get what it asks for: engines reject it or cut
    the output short.

    **Anti-pattern**

    ::

        generation_config.json   "max_new_tokens": 8192
        vllm engine args         --max-model-len 4096

    **Best practice**

    Keep ``max_new_tokens`` (plus the longest prompt) within ``max_model_len``, e.g. ``"max_new_tokens": 1024``.
    """

    code = "DG203"
    name = "consistency.generation-length"
    severity = Severity.WARNING

    def check(self, ctx: RuleContext) -> Iterator[Finding]:
        for side in _sides(ctx):
            limit = side.merged.get("serving.max_model_len") or side.merged.get("model.max_position_embeddings")
            cap = None if limit is None else _int(limit.value)
            if limit is None or cap is None:
                continue
            limit_key = "serving.max_model_len" if "serving.max_model_len" in side.merged \
                else "model.max_position_embeddings"
            for key in ("generation.max_length", "generation.max_new_tokens"):
                v = side.merged.get(key)
                n = None if v is None else _int(v.value)
                if v is not None and n is not None and n > cap:
                    yield self.finding(
                        key, f"{side.name} side: {key} {n} ({v.origin.location()}) exceeds {limit_key} {cap} "
                             f"({limit.origin.location()})",
                        related=(v, limit))


#: Namespaces DG204 leaves out: the parts of one model (encoder, decoder graphs) differ in them by design. Keys
#: without a KeySpec (a format's own: ``onnx.*``, ``tgi.launcher.*``) are left out too.
_STRUCTURE = ("model", "io")


def _distinct(key: str, values: tuple[Value, ...]) -> list[Value]:
    """The values that differ from each other (the first of each meaning, in order), each file's value once."""
    spec = spec_for(key)
    unordered = bool(spec and spec.unordered)
    out: list[Value] = []
    for v in values:
        if v.how != How.UNRESOLVED and not any(values_equal(v.value, w.value, unordered=unordered) for w in out):
            out.append(v)
    return out


class SideContradiction(Rule):
    """Two artifacts of one side state different values for one key, and nothing but manifest order ranks them.

    A side's artifacts are merged with a documented precedence (see the README, "Side precedence"): a serving
    engine's value beats the model files', an explicit value beats a default, then the kind's rank. Where two
    artifacts tie on all three (two ONNX graphs of one model, two Triton configs, two requests of one engine),
    the later one in the manifest wins, a choice the server never made: which graph Triton serves is not
    decided by the order of a list. Every canonical key they state differently is one finding naming each
    value's file and line; the check does not pick one. Structure (``model.*``, ``io.*``) is left out: the
    parts of a model served as several graphs (an encoder and a decoder) differ in it by design, while
    variants of one graph differ in what they compute with (``precision.*``) or how they are served.

    **Anti-pattern**

    ``driftguard init`` on a tree holding an FP32 export beside the INT8 graph Triton serves puts both on the
    deployment side::

        deployment:
          - path: model_repository/m/1/model.onnx     # INT8: what Triton loads
          - path: onnx/model_fp32.onnx                # FP32 export, later in the list

    The merge keeps ``precision.weights: float32`` from the export, equal to the training side: the gate
    passes while Triton serves INT8.

    **Best practice**

    Keep on each side only what that side runs: the served graph on the deployment side, the export (if it is
    evaluated) on the training side or in a model of its own.
    """

    code = "DG204"
    name = "consistency.side-contradiction"
    severity = Severity.ERROR

    def check(self, ctx: RuleContext) -> Iterator[Finding]:
        for side in _sides(ctx):
            for key in sorted(side.tied):
                if spec_for(key) is None or key.split(".", 1)[0] in _STRUCTURE:
                    continue
                found = _distinct(key, side.tied[key])
                if len(found) > 1 and all(v.explicit for v in found):
                    listing = "; ".join(f"{v.value!r} ({v.origin.location()})" for v in found)
                    yield self.finding(key, f"{side.name} side: {key} differs between artifacts no documented "
                                            f"precedence orders: {listing}; keep on the side only what it runs",
                                       related=tuple(found))
