"""normalize: one spelling per dtype (every name of shared/reference/defaults.md §8), shapes, durations,
numbers, booleans and scalars from text formats."""

from __future__ import annotations

import math

import pytest

from driftguard.normalize import (
    CANONICAL_DTYPES,
    duration_us,
    normalize_dtype,
    normalize_json,
    normalize_number,
    normalize_quantization,
    normalize_shape,
    parse_bool,
    parse_scalar,
)

# --- dtypes ---------------------------------------------------------------------------------------------

#: defaults.md §8, one row per canonical type: (Triton config, Triton API, ONNX TensorProto, torch, safetensors,
#: TensorRT) spellings; None where the format has no such type.
SECTION_8: dict[str, tuple[str | None, ...]] = {
    "bool": ("TYPE_BOOL", "BOOL", "BOOL", "torch.bool", "BOOL", "kBOOL"),
    "uint8": ("TYPE_UINT8", "UINT8", "UINT8", "torch.uint8", "U8", "kUINT8"),
    "uint16": ("TYPE_UINT16", "UINT16", "UINT16", "torch.uint16", "U16", None),
    "uint32": ("TYPE_UINT32", "UINT32", "UINT32", "torch.uint32", "U32", None),
    "uint64": ("TYPE_UINT64", "UINT64", "UINT64", "torch.uint64", "U64", None),
    "int8": ("TYPE_INT8", "INT8", "INT8", "torch.int8", "I8", "kINT8"),
    "int16": ("TYPE_INT16", "INT16", "INT16", "torch.int16", "I16", None),
    "int32": ("TYPE_INT32", "INT32", "INT32", "torch.int32", "I32", "kINT32"),
    "int64": ("TYPE_INT64", "INT64", "INT64", "torch.int64", "I64", "kINT64"),
    "float16": ("TYPE_FP16", "FP16", "FLOAT16", "torch.float16", "F16", "kHALF"),
    "float32": ("TYPE_FP32", "FP32", "FLOAT", "torch.float32", "F32", "kFLOAT"),
    "float64": ("TYPE_FP64", "FP64", "DOUBLE", "torch.float64", "F64", None),
    "string": ("TYPE_STRING", "BYTES", "STRING", None, None, None),
    "bfloat16": ("TYPE_BF16", "BF16", "BFLOAT16", "torch.bfloat16", "BF16", "kBF16"),
    "float8_e4m3fn": (None, None, "FLOAT8E4M3FN", "torch.float8_e4m3fn", "F8_E4M3", "kFP8"),
    "float8_e4m3fnuz": (None, None, "FLOAT8E4M3FNUZ", "torch.float8_e4m3fnuz", "F8_E4M3FNUZ", None),
    "float8_e5m2": (None, None, "FLOAT8E5M2", "torch.float8_e5m2", "F8_E5M2", None),
    "float8_e5m2fnuz": (None, None, "FLOAT8E5M2FNUZ", "torch.float8_e5m2fnuz", "F8_E5M2FNUZ", None),
    "float8_e8m0fnu": (None, None, "FLOAT8E8M0", "torch.float8_e8m0fnu", "F8_E8M0", None),
    "float4_e2m1fn": (None, None, "FLOAT4E2M1", "torch.float4_e2m1fn_x2", "F4", None),
    "int4": (None, None, "INT4", None, None, "kINT4"),
    "uint4": (None, None, "UINT4", None, None, None),
    "int2": (None, None, "INT2", None, None, None),
    "uint2": (None, None, "UINT2", None, None, None),
    "complex64": (None, None, "COMPLEX64", "torch.complex64", "C64", None),
    "complex128": (None, None, "COMPLEX128", None, None, None),
}

SPELLINGS = sorted({(name, canonical) for canonical, names in SECTION_8.items() for name in names if name})


@pytest.mark.parametrize(("spelling", "canonical"), SPELLINGS)
def test_every_section_8_spelling(spelling: str, canonical: str) -> None:
    assert normalize_dtype(spelling) == canonical


def test_section_8_covers_every_canonical_name() -> None:
    assert set(SECTION_8) == set(CANONICAL_DTYPES)
    assert all(normalize_dtype(c) == c for c in CANONICAL_DTYPES)


@pytest.mark.parametrize(("spelling", "canonical"), [("kE8M0", "float8_e8m0fnu"), ("kFP4", "float4_e2m1fn")])
def test_tensorrt_fp8_e8m0_and_fp4(spelling: str, canonical: str) -> None:
    assert normalize_dtype(spelling) == canonical


@pytest.mark.parametrize(("raw", "canonical"), [
    ("TensorProto.FLOAT", "float32"), ("DataType.kHALF", "float16"), ("np.float16", "float16"),
    ("numpy.int8", "int8"), (" float16 ", "float16"), ("Float32", "float32"), ("TYPE_fp16", "float16"),
    ("half", "float16"), ("long", "int64"), ("16-mixed", "float16"), ("bf16-mixed", "bfloat16"),
    ("32-true", "float32"), ("bf16", "bfloat16"), ("fp32", "float32"), ("16", "float16"), ("object", "string"),
])
def test_prefixes_case_and_framework_words(raw: str, canonical: str) -> None:
    assert normalize_dtype(raw) == canonical


@pytest.mark.parametrize("raw", [None, "", "float128", "TYPE_", "torch.", "fp8", "quantized", 11])
def test_unknown_dtypes_are_none(raw: object) -> None:
    assert normalize_dtype(raw) is None


# --- shapes ---------------------------------------------------------------------------------------------

def test_shapes() -> None:
    assert normalize_shape(None) == []
    assert normalize_shape([]) == []
    assert normalize_shape([1, 3, 224, 224]) == [1, 3, 224, 224]
    assert normalize_shape((4, 16)) == [4, 16]
    assert normalize_shape([-1, None, "batch", "?", 0, 8]) == [-1, -1, -1, -1, 0, 8]
    assert normalize_shape([-5]) == [-1]


@pytest.mark.parametrize("dims", [[True, 3], [1.5], [[1]], "1,2", 3, {"a": 1}])
def test_bad_shapes_raise(dims: object) -> None:
    with pytest.raises(TypeError):
        normalize_shape(dims)


# --- durations ------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("value", "unit", "us"), [
    (5, "us", 5), (5, "µs", 5), (5, "ms", 5000), (2, "s", 2_000_000), (3, "min", 180_000_000),
    (1000, "ns", 1), (1500, "ns", 1.5), (0.5, "ms", 500), (1.5, "us", 1.5), (0, "s", 0),
])
def test_duration_us(value: float, unit: str, us: float) -> None:
    got = duration_us(value, unit)
    assert got == us
    assert type(got) is type(us)  # ints stay ints when exact


def test_unknown_duration_unit() -> None:
    with pytest.raises(KeyError):
        duration_us(1, "h")


# --- numbers --------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("raw", "out"), [
    (1.0, 1), (-3.0, -3), (0.0, 0), (2.0**53 - 1, 2**53 - 1),
    (0.5, 0.5), (2.0**53, 2.0**53), (-(2.0**53), -(2.0**53)), (1e30, 1e30),
    (5, 5), (True, True), (False, False), ("1.0", "1.0"), (None, None),
])
def test_normalize_number(raw: object, out: object) -> None:
    got = normalize_number(raw)
    assert got == out
    assert type(got) is type(out)


def test_normalize_number_non_finite() -> None:
    assert normalize_number(math.inf) == math.inf
    assert math.isnan(normalize_number(math.nan))


def test_normalize_json() -> None:
    got = normalize_json({"a": 1.0, "b": [2.0, 0.5, (3.0,)], 1: {"c": True}})
    assert got == {"a": 1, "b": [2, 0.5, [3]], "1": {"c": True}}
    assert type(got["a"]) is int and type(got["b"][2]) is list
    assert normalize_json(2.0) == 2 and type(normalize_json(2.0)) is int
    assert normalize_json("x") == "x"


# --- booleans and scalars -------------------------------------------------------------------------------

@pytest.mark.parametrize("raw", [True, "true", "True", " TRUE ", "1", "yes", "on", "y", "t", 1, 1.0])
def test_parse_bool_true(raw: object) -> None:
    assert parse_bool(raw) is True


@pytest.mark.parametrize("raw", [False, "false", "False", "0", "no", "off", "n", "f", "none", "", 0, 0.0])
def test_parse_bool_false(raw: object) -> None:
    assert parse_bool(raw) is False


@pytest.mark.parametrize("raw", [2, -1, 0.5, "maybe", "2", None, [True], {}])
def test_parse_bool_not_a_boolean(raw: object) -> None:
    assert parse_bool(raw) is None


@pytest.mark.parametrize(("raw", "out"), [
    ("0.92", 0.92), ("512", 512), (" 7 ", 7), ("-3", -3), ("1.0", 1), ("1e3", 1000), ("2.5e-1", 0.25),
    ("true", True), ("TRUE", True), ("False", False), ("None", None), ("null", None),
    ("greedy", "greedy"), ("0.9.1", "0.9.1"),
])
def test_parse_scalar(raw: str, out: object) -> None:
    got = parse_scalar(raw)
    assert got == out
    assert type(got) is type(out)


def test_parse_scalar_keeps_huge_ints_exact() -> None:
    assert parse_scalar("9007199254740993") == 2**53 + 1


def test_parse_scalar_non_finite() -> None:
    assert parse_scalar("inf") == math.inf
    got = parse_scalar("nan")
    assert isinstance(got, float) and math.isnan(got)


@pytest.mark.parametrize(("raw", "canonical"), [("bnb", "bitsandbytes"), ("BNB", "bitsandbytes"),
                                                ("bitsandbytes", "bitsandbytes"), (" GPTQ ", "gptq"), ("awq", "awq")])
def test_quantization_spellings(raw: str, canonical: str) -> None:
    # LLaMA-Factory's quantization_method says bnb where vLLM, TGI and HF quant_method say bitsandbytes
    assert normalize_quantization(raw) == canonical
