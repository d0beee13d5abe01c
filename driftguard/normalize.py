"""One spelling per concept: dtypes, shapes, durations, numbers, booleans.

Every extractor funnels its raw values through here so that ``TYPE_FP32`` (Triton), ``FLOAT`` (ONNX),
``torch.float32`` and ``"float32"`` (Hugging Face) all become ``float32``. The table follows
``shared/reference/defaults.md`` §8 (Type mapping); map by name, never by enum number, since the numbers
differ between formats. This module imports nothing from driftguard.
"""

from __future__ import annotations

import math
import re
from typing import Any

#: Canonical dtype names (numpy/torch attribute spelling), plus ``string`` for Triton BYTES / ONNX STRING.
CANONICAL_DTYPES = (
    "bool", "uint8", "uint16", "uint32", "uint64", "int8", "int16", "int32", "int64",
    "float16", "float32", "float64", "bfloat16", "string", "complex64", "complex128",
    "float8_e4m3fn", "float8_e4m3fnuz", "float8_e5m2", "float8_e5m2fnuz", "float8_e8m0fnu",
    "float4_e2m1fn", "int4", "uint4", "int2", "uint2",
)

#: The floating-point element types (canonical names): what counts as a weight's precision.
FLOAT_DTYPES = frozenset({
    "float16", "bfloat16", "float32", "float64", "float8_e4m3fn", "float8_e4m3fnuz", "float8_e5m2",
    "float8_e5m2fnuz", "float8_e8m0fnu", "float4_e2m1fn",
})

# Aliases by format (defaults.md §8). Keys are matched case-insensitively after stripping prefixes.
_ALIASES: dict[str, str] = {
    # Triton config (TYPE_*) and Triton API / wire names
    "fp16": "float16", "fp32": "float32", "fp64": "float64", "bf16": "bfloat16", "bytes": "string",
    # ONNX TensorProto names
    "float": "float32", "double": "float64", "float16": "float16", "bfloat16": "bfloat16",
    "float8e4m3fn": "float8_e4m3fn", "float8e4m3fnuz": "float8_e4m3fnuz", "float8e5m2": "float8_e5m2",
    "float8e5m2fnuz": "float8_e5m2fnuz", "float8e8m0": "float8_e8m0fnu", "float4e2m1": "float4_e2m1fn",
    # safetensors dtype strings
    "u8": "uint8", "u16": "uint16", "u32": "uint32", "u64": "uint64", "i8": "int8", "i16": "int16",
    "i32": "int32", "i64": "int64", "f16": "float16", "f32": "float32", "f64": "float64",
    "f8_e4m3": "float8_e4m3fn", "f8_e4m3fnuz": "float8_e4m3fnuz", "f8_e5m2": "float8_e5m2",
    "f8_e5m2fnuz": "float8_e5m2fnuz", "f8_e8m0": "float8_e8m0fnu", "f4": "float4_e2m1fn",
    "c64": "complex64", "c128": "complex128",
    # torch attribute names and short forms
    "half": "float16", "long": "int64", "int": "int32", "short": "int16", "byte": "uint8", "char": "int8",
    "cfloat": "complex64", "cdouble": "complex128", "float8_e8m0fnu": "float8_e8m0fnu",
    "float4_e2m1fn_x2": "float4_e2m1fn",
    # TensorRT DataType names (kHALF, kFLOAT, ...)
    "khalf": "float16", "kfloat": "float32", "kint8": "int8", "kint32": "int32", "kint64": "int64",
    "kbool": "bool", "kuint8": "uint8", "kbf16": "bfloat16", "kfp8": "float8_e4m3fn", "kint4": "int4",
    "ke8m0": "float8_e8m0fnu", "kfp4": "float4_e2m1fn",
    # precision words used by training frameworks (Lightning "16-mixed", "bf16-mixed", TensorRT "FP16")
    "16": "float16", "32": "float32", "64": "float64", "16-mixed": "float16", "bf16-mixed": "bfloat16",
    "16-true": "float16", "bf16-true": "bfloat16", "32-true": "float32", "64-true": "float64",
    "int8": "int8", "string": "string", "str": "string", "object": "string",
}


def normalize_dtype(raw: object) -> str | None:
    """Map any format's spelling of an element type to the canonical name; None when unknown.

    >>> normalize_dtype("TYPE_FP32"), normalize_dtype("torch.bfloat16"), normalize_dtype("FLOAT")
    ('float32', 'bfloat16', 'float32')
    """
    if raw is None:
        return None
    text = str(raw).strip()
    low = text.lower()
    for prefix in ("type_", "torch.", "tensorproto.", "datatype.", "np.", "numpy."):
        if low.startswith(prefix):
            low = low[len(prefix):]
    if low in CANONICAL_DTYPES:
        return low
    return _ALIASES.get(low)


def normalize_shape(dims: object) -> list[int | str]:
    """A shape as a list: ints stay, dynamic dims (-1, None, '?', symbolic names) become -1.

    Symbolic names are dropped here; extractors that know them keep them under a separate key.
    """
    if dims is None:
        return []
    if not isinstance(dims, (list, tuple)):
        raise TypeError(f"shape must be a list, got {type(dims).__name__}")
    out: list[int | str] = []
    for d in dims:
        if isinstance(d, bool):
            raise TypeError("shape dims must be ints")
        if isinstance(d, int):
            out.append(-1 if d < 0 else d)
        elif d is None or isinstance(d, str):
            out.append(-1)
        else:
            raise TypeError(f"shape dims must be ints, got {type(d).__name__}")
    return out


_DURATION_US = {"us": 1, "µs": 1, "ms": 1000, "s": 1_000_000, "ns": 0.001, "min": 60_000_000}


#: Quantization scheme spellings that name the same scheme as another (``precision.quantization``): the engines
#: and Hugging Face configs write bitsandbytes (vLLM ``quantization``, TGI ``--quantize``, HF ``quant_method``);
#: LLaMA-Factory's ``quantization_method`` writes ``bnb`` (``bitsandbytes`` in its older releases).
_QUANTIZATION_ALIASES: dict[str, str] = {"bnb": "bitsandbytes"}


def normalize_quantization(raw: str) -> str:
    """A quantization scheme name in the spelling the engines use: lower case, ``bnb`` -> ``bitsandbytes``."""
    low = raw.strip().lower()
    return _QUANTIZATION_ALIASES.get(low, low)


def duration_us(value: float, unit: str) -> int | float:
    """Convert a duration to microseconds (the vocabulary's unit); ints stay ints when exact."""
    us = value * _DURATION_US[unit]
    return int(us) if float(us).is_integer() else us


def normalize_number(value: Any) -> Any:
    """Integral floats become ints (``1.0 == 1``, one spelling in output); huge ints stay exact.

    Non-finite floats and non-numbers are returned unchanged.
    """
    if isinstance(value, bool) or not isinstance(value, float):
        return value
    if math.isfinite(value) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    return value


_TRUE = {"true", "1", "yes", "on", "y", "t"}
_FALSE = {"false", "0", "no", "off", "n", "f", "none", ""}


def parse_bool(raw: object) -> bool | None:
    """``True``/``"true"``/``"True"``/``1`` → True; the mirror for False; None when it is not a boolean."""
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, (int, float)) and raw in (0, 1):
        return bool(raw)
    if isinstance(raw, str):
        low = raw.strip().lower()
        if low in _TRUE:
            return True
        if low in _FALSE:
            return False
    return None


def parse_scalar(raw: str) -> Any:
    """A string from a text format (Triton parameters, INI values) to int, float, bool or the string.

    ``"0.92"`` → 0.92, ``"512"`` → 512, ``"true"`` → True, ``"None"``/``"null"`` → None. An integer too long
    for ``int()`` (over 4,300 digits) stays the string it was, exact: it never becomes a float (``inf``).
    Readers bound integer length before this (``Limits.int_digits``).
    """
    text = raw.strip()
    low = text.lower()
    if low in ("true", "false"):
        return low == "true"
    if low in ("none", "null"):
        return None
    try:
        return int(text, 10)
    except ValueError:
        if is_int_literal(text):
            return raw
    try:
        f = float(text)
    except ValueError:
        return raw
    return normalize_number(f) if math.isfinite(f) else f


_INT_LITERAL = re.compile(r"[+-]?\d+(?:_\d+)*")


def is_int_literal(text: str) -> bool:
    """True for a decimal integer as ``int(text, 10)`` reads it (sign, digits, single underscores)."""
    return _INT_LITERAL.fullmatch(text.strip()) is not None


def int_digits(text: str) -> int:
    """The number of decimal digits in an integer literal (sign and underscores not counted)."""
    return sum(c.isdigit() for c in text)


def normalize_json(value: Any) -> Any:
    """Recursively normalize numbers inside a JSON-like value (lists and dicts keep their structure)."""
    if isinstance(value, float):
        return normalize_number(value)
    if isinstance(value, list):
        return [normalize_json(v) for v in value]
    if isinstance(value, tuple):
        return [normalize_json(v) for v in value]
    if isinstance(value, dict):
        return {str(k): normalize_json(v) for k, v in value.items()}
    return value
