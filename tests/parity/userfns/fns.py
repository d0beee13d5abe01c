"""User functions the parity tests name in manifests (``tests/parity/userfns/fns.py:NAME``)."""

from __future__ import annotations

import time
from typing import Any

import numpy as np


def double(inputs: dict[str, Any], config: dict[str, Any]) -> dict[str, Any]:
    """A safe callable: each call only uses its own inputs."""
    return {"y": np.asarray(inputs["x"], dtype=np.float64) * 2.0}


def scaled(inputs: dict[str, Any], config: dict[str, Any]) -> dict[str, Any]:
    """Applies ``generation.temperature`` from its config (declared below)."""
    return {"y": np.asarray(inputs["x"], dtype=np.float64) / float(config.get("generation.temperature", 1.0))}


scaled.applies = ("generation.temperature",)  # type: ignore[attr-defined]

_shared: dict[str, Any] = {}  # state shared across calls: the bug concurrency parity exists to catch


def unsafe_double(inputs: dict[str, Any], config: dict[str, Any]) -> dict[str, Any]:
    """Thread-unsafe: stores the request in module state, yields, then reads it back."""
    _shared["x"] = np.asarray(inputs["x"], dtype=np.float64)
    time.sleep(0.002)
    return {"y": _shared["x"] * 2.0}


def per_batch_quantized(inputs: dict[str, Any], config: dict[str, Any]) -> dict[str, Any]:
    """Thread-safe but batch-dependent, as dynamic quantization is: inputs rounded to an int8 grid whose scale is
    the whole batch's largest magnitude, so a sample's answer depends on the samples beside it."""
    x = np.asarray(inputs["x"], dtype=np.float64)
    scale = max(float(np.abs(x).max()), 1e-12) / 127.0
    return {"y": np.round(x / scale) * scale * 2.0}


_tokenizer: list[Any] = []  # one tokenizer shared by every request, as a server that builds it once keeps it


def _shared_tokenizer() -> Any:
    from tokenizers import Tokenizer, models, pre_tokenizers

    if not _tokenizer:
        vocab = {w: i for i, w in enumerate(["[UNK]", *"abcdefghijklmnopqrstuvwxyz"])}
        tok = Tokenizer(models.WordLevel(vocab, unk_token="[UNK]"))
        tok.pre_tokenizer = pre_tokenizers.Split("", "isolated")
        _tokenizer.append(tok)
    return _tokenizer[0]


def shared_tokenizer(inputs: list[dict[str, Any]], config: dict[str, Any]) -> dict[str, Any]:
    """Thread-unsafe: sets the request's own truncation length on the one shared tokenizer, yields, then
    encodes; under threads a request is cut at another request's length. Output: letter counts per record."""
    tok = _shared_tokenizer()
    rows = []
    for record in inputs:
        tok.enable_truncation(max_length=int(record["max_tokens"]))
        time.sleep(0.002)
        rows.append(np.bincount(tok.encode(record["text"]).ids, minlength=27).astype(np.float64))
    return {"y": np.stack(rows)}


def raises(inputs: dict[str, Any], config: dict[str, Any]) -> dict[str, Any]:
    raise RuntimeError("the model server is down")


def hangs(inputs: dict[str, Any], config: dict[str, Any]) -> dict[str, Any]:
    time.sleep(5)
    return {"y": np.zeros(1)}


def nan(inputs: dict[str, Any], config: dict[str, Any]) -> dict[str, Any]:
    y = np.asarray(inputs["x"], dtype=np.float64) * 2.0
    y[0, 0] = np.nan
    return {"y": y}


def builder_raises(config: dict[str, Any]) -> Any:
    raise ValueError("no such architecture")


def outputs_from_config(inputs: dict[str, Any], config: dict[str, Any]) -> dict[str, Any]:
    """The case-file runner: returns the side's ``out.<name>`` config values as outputs, ignoring the inputs
    (so a case writes the reference's and the candidate's outputs as the two sides' configs)."""
    return {k.removeprefix("out."): np.asarray(v, dtype=np.int64 if k.endswith("tokens") else np.float64)
            for k, v in config.items() if k.startswith("out.")}


_calls = [0]


def noisy(inputs: dict[str, Any], config: dict[str, Any]) -> dict[str, Any]:
    """Nondeterministic: every call adds a little call-dependent noise."""
    _calls[0] += 1
    return {"y": np.asarray(inputs["x"], dtype=np.float64) * 2.0 + 1e-3 * _calls[0]}


def weighted_sum(inputs: dict[str, Any], config: dict[str, Any]) -> dict[str, Any]:
    """``x * (b + c)``: ``b`` and ``c`` each move the output, only both together bring it back; ``a`` is applied
    (declared) but changes nothing, as a no-op value would."""
    return {"y": np.asarray(inputs["x"]) * (float(config.get("b", 0)) + float(config.get("c", 0)))}


weighted_sum.applies = ("a", "b", "c")  # type: ignore[attr-defined]
