"""The decoding mode of one side (greedy, sample or beam) and which keys matter under it.

Engines spell greedy decoding differently (transformers ``do_sample: false``, vLLM and OpenAI ``temperature: 0``,
TGI no warper, TensorRT-LLM ``top_k: 1``, the lmdeploy pipeline ``do_sample: false``); each extractor already
resolves its engine's rule into ``generation.do_sample`` (a derived Value) and gives ``generation.num_beams``.
``generation.decoding`` is derived from those two per side, after the merge, so that comparisons follow the mode:
sampling knobs matter only when both sides sample, beam-search knobs only when both search beams, and a switch of
mode is one finding on ``generation.decoding`` (DG104) instead of one per knob. This module imports only the
bottom records, so the api (build_side, diff) and the rules share it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from driftguard.model import How, Value, basis_of

DECODING_KEY = "generation.decoding"
GREEDY, SAMPLE, BEAM = "greedy", "sample", "beam"

#: The knobs of the sampling warpers: they change the output only when the side samples.
SAMPLING_KNOBS = frozenset({"generation.temperature", "generation.top_p", "generation.top_k", "generation.min_p",
                            "generation.typical_p"})
#: Keys that matter only when both sides sample: the knobs, and the seed (greedy decoding draws nothing).
SAMPLING_ONLY = SAMPLING_KNOBS | {"generation.seed"}
#: Keys that matter only when both sides run beam search (num_beams itself: greedy/sample vs beam is the mode).
BEAM_ONLY = frozenset({"generation.num_beams", "generation.length_penalty", "generation.early_stopping",
                       "hf.generation.num_beam_groups", "hf.generation.diversity_penalty"})
#: Inputs of the mode: do_sample is the mode itself, except between two beam searches (beam vs beam sampling).
MODE_INPUTS = frozenset({"generation.do_sample"})


def _beams(v: Value | None) -> int | None:
    if v is None or isinstance(v.value, bool) or not isinstance(v.value, (int, float)):
        return None
    return int(v.value) if v.value == v.value and abs(v.value) != float("inf") else None


def _why(v: Value) -> str:
    """How an input of the mode came to be: the engine rule that derived it, its default, or its line."""
    if v.how == How.DERIVED:
        return v.note or v.derivation or "derived by the engine"
    if not v.explicit:
        return v.origin.source or v.shown_note or "a documented default"
    return f"set at {v.origin.location()}"


def derive_decoding(merged: Mapping[str, Value]) -> Value | None:
    """The side's ``generation.decoding`` Value: ``beam`` when ``generation.num_beams`` > 1, else ``greedy``
    when ``generation.do_sample`` is false, else ``sample``; None when the side does not say (no do_sample, or
    values that are not a bool/number). The origin is the value that decided it; ``explicit`` is that value's;
    the note names what it was derived from and why that value is what it is."""
    beams, ds = merged.get("generation.num_beams"), merged.get("generation.do_sample")
    n = _beams(beams)
    if beams is not None and n is not None and n > 1:
        also = "" if ds is None else f", do_sample={json.dumps(ds.value)}"
        return Value(BEAM, beams.origin, How.DERIVED, derived_from=("generation.num_beams",), basis=basis_of(beams),
                     derivation=f"from generation.num_beams={n} ({_why(beams)}){also}")
    if ds is None or not isinstance(ds.value, bool):
        return None
    return Value(SAMPLE if ds.value else GREEDY, ds.origin, How.DERIVED, derived_from=("generation.do_sample",),
                 basis=basis_of(ds), derivation=f"from generation.do_sample={json.dumps(ds.value)} ({_why(ds)})")


def with_decoding(merged: Mapping[str, Value]) -> Mapping[str, Value]:
    """``merged`` plus its derived ``generation.decoding`` (unchanged when present or not derivable)."""
    if DECODING_KEY in merged:
        return merged
    mode = derive_decoding(merged)
    return merged if mode is None else {**merged, DECODING_KEY: mode}


def samples(merged: Mapping[str, Value]) -> bool | None:
    """Whether the side draws tokens at random (sampling, or beam search with do_sample): None when unknown."""
    mode = merged.get(DECODING_KEY)
    if mode is None:
        return None
    if mode.value == BEAM:
        ds = merged.get("generation.do_sample")
        return ds.value if ds is not None and isinstance(ds.value, bool) else None
    return bool(mode.value == SAMPLE)


def irrelevant_keys(training: Mapping[str, Value], deployed: Mapping[str, Value]) -> frozenset[str]:
    """Keys whose difference means nothing under the two sides' decoding modes (both given with
    ``generation.decoding``; nothing is skipped where either side's mode is unknown):

    - when the modes differ, every key the mode decides (the difference is one finding, on the mode);
    - the mode's inputs (``do_sample``), unless both sides search beams (beam search vs beam sampling);
    - sampling knobs and the seed, unless both sides sample;
    - beam-search knobs (``num_beams``, length_penalty, early_stopping...), unless both sides search beams.
    """
    a, b = training.get(DECODING_KEY), deployed.get(DECODING_KEY)
    if a is None or b is None:
        return frozenset()
    if a.value != b.value:  # the mode differs: that is the one finding, its knobs mean different things
        return MODE_INPUTS | BEAM_ONLY | SAMPLING_ONLY
    skip: set[str] = set()
    if a.value != BEAM:
        skip |= MODE_INPUTS | BEAM_ONLY
    if not (samples(training) and samples(deployed)):
        skip |= SAMPLING_ONLY
    return frozenset(skip)
