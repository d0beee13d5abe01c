"""Parser differential: every YAML scalar an engine file can hold means to driftguard what it means to the engine.

vLLM (``vllm serve --config``), TensorRT-LLM (``--extra_llm_api_options``) and the scripts around lmdeploy read
their YAML files with PyYAML's ``yaml.safe_load`` (YAML 1.1; sources cited in ``driftguard/readers/yaml_doc.py``).
So for generated scalars (octal ``010``, ``0o``/``0x``/``0b`` prefixes, underscores, sexagesimal ``1:30``,
``yes/no/on/off`` in any case, ``.inf``/``.nan``, ``~``, dates, explicit tags, quoting), the engine-file reader
(``documents.load_document``) either gives exactly ``yaml.safe_load``'s value or refuses the file with one line
naming it; it refuses whatever ``yaml.safe_load`` refuses, and refuses only what the engine would not receive as a
JSON-like value (a date) or what libyaml's scanner, which driftguard uses, finds malformed (a few flow spellings
such as ``[0:]`` that PyYAML's pure-Python scanner accepts): it fails closed, never open. An attacker who picks the
spelling cannot make the gate judge a value the engine never sees (``top_k: 010`` was 10 to driftguard and 8 to
vLLM).
"""

from __future__ import annotations

import datetime
import json
import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from driftguard.errors import DriftguardError
from driftguard.readers import documents

WORDS = ["yes", "no", "on", "off", "true", "false", "y", "n", "null", "inf", "nan", "Yes", "NO", "On", "oFF",
         "True", "FALSE", "Null", "NULL", "~", ".inf", ".Inf", ".INF", "-.inf", "+.inf", ".nan", ".NaN", ".NAN"]
PREFIXES = ["", "0", "00", "0x", "0X", "0o", "0b", "0B", "+", "-", "+0", "-0", "-0x", "+0b", ".", "-.", "+."]
PIECES = ["0", "1", "7", "8", "9", "10", "010", "_", "__", ":", ":30", ":59", ":60", ".", "e", "E", "e+3", "e-2",
          "E+03", "a", "f", "F", "x", "2001-12-14", "t21:59:43.10-05:00", " 1:2:3", "1e3", "-", "+", "=", "<<"]
TAGS = ["", "!!int ", "!!float ", "!!bool ", "!!str ", "!!null "]


@st.composite
def scalars(draw: st.DrawFn) -> str:
    """A YAML 1.1 scalar spelling: a word, or a prefix and numeric pieces, maybe tagged or quoted."""
    if draw(st.booleans()):
        body = draw(st.sampled_from(WORDS))
    else:
        body = draw(st.sampled_from(PREFIXES)) + "".join(draw(st.lists(st.sampled_from(PIECES), max_size=5)))
    body = body.strip() or "0"
    tag = draw(st.sampled_from(TAGS))
    quote = draw(st.sampled_from(["", "", "", "'", '"']))
    return f"{tag}{quote}{body}{quote}"


def _engine_value(text: str) -> tuple[bool, Any]:
    """(True, value) as the engine's ``yaml.safe_load`` reads the document, or (False, None) when it refuses it."""
    try:
        return True, yaml.safe_load(text)
    except Exception:  # safe_load ends in KeyError, IndexError, ... on some tagged scalars
        return False, None


def _libyaml_refuses(text: str) -> bool:
    try:
        yaml.load(text, Loader=yaml.CSafeLoader)  # the safe loader, libyaml's scanner
    except yaml.YAMLError:
        return True
    return False


def _same(a: Any, b: Any) -> bool:
    """Equal values of equal types (NaN equal to NaN, 1 never equal to 1.0 or True)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return (math.isnan(a) and math.isnan(b)) or a == b
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


@pytest.fixture(scope="module")
def engine_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("differential") / "engine.yaml"


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(scalar=scalars(), in_list=st.booleans())
@example(scalar="010", in_list=False)
@example(scalar="0o10", in_list=False)
@example(scalar="1:30", in_list=False)
@example(scalar="1_000", in_list=True)
@example(scalar="!!int '010'", in_list=False)
@example(scalar="2001-12-14", in_list=False)
@example(scalar="=", in_list=False)
@example(scalar="<<", in_list=True)
def test_engine_files_read_scalars_as_pyyaml(engine_file: Path, scalar: str, in_list: bool) -> None:
    text = f"top_k: [{scalar}]\n" if in_list else f"top_k: {scalar}\n"
    engine_file.write_text(text)
    accepted, engine = _engine_value(text)
    try:
        ours = documents.load_document(engine_file).data
    except DriftguardError as exc:
        assert str(exc).startswith(f"{engine_file}:1:"), exc  # one line, naming the file and line
        # refused: the engine refuses it too, or would receive a date (no JSON-like value stands for it), or
        # libyaml's scanner (driftguard's, stricter than PyYAML's pure-Python one on a few flow spellings) does
        value = engine["top_k"][0] if accepted and in_list else engine["top_k"] if accepted else None
        assert not accepted or isinstance(value, datetime.date) or _libyaml_refuses(text), (text, engine, str(exc))
        return
    assert accepted, (text, ours)  # never a value where the engine's parser has none
    assert _same(ours, engine), (text, ours, engine)


@pytest.mark.parametrize(("spelling", "engine_value"), [
    ("010", 8), ("0o10", "0o10"), ("0x1F", 31), ("0b101", 5), ("1_000", 1000), ("0_10", 8), ("1:30", 90),
    ("190:20:30", 685230), ("-010", -8), ("09", "09"), ("yes", True), ("Off", False), ("y", "y"),
    (".inf", math.inf), ("-.Inf", -math.inf), ("~", None), ("1e3", "1e3"), ("1.0e+3", 1000.0), ("'010'", "010"),
])
def test_yaml_1_1_spellings_as_the_engine_reads_them(tmp_path: Path, spelling: str, engine_value: object) -> None:
    """The spellings the issue names, each checked by hand against YAML 1.1 (and against PyYAML)."""
    path = tmp_path / "sampling.yaml"
    path.write_text(f"top_k: {spelling}\n")
    assert _same(documents.load_document(path).data["top_k"], engine_value)
    assert _same(yaml.safe_load(path.read_text())["top_k"], engine_value)


def test_cli_extracts_an_octal_top_k_as_vllm_reads_it(tmp_path: Path) -> None:
    """``top_k: 010`` in a vLLM sampling file is 8 in the extracted config, as ``vllm serve`` passes ``str(8)``."""
    path = tmp_path / "sampling.yaml"
    path.write_text("temperature: 0.7\ntop_k: 010\n")
    out = subprocess.run([sys.executable, "-m", "driftguard", "extract", "--format", "json", f"vllm:{path}"],
                         capture_output=True, text=True, timeout=120, check=False)
    assert out.returncode == 0, out.stderr
    values = json.loads(out.stdout)["values"]
    assert values["generation.top_k"]["value"] == 8


def test_cli_refuses_a_plain_date_in_an_engine_file_with_one_line(tmp_path: Path) -> None:
    path = tmp_path / "sampling.yaml"
    path.write_text("temperature: 0.7\nseed: 2027-01-31\n")
    out = subprocess.run([sys.executable, "-m", "driftguard", "extract", f"vllm:{path}"],
                         capture_output=True, text=True, timeout=120, check=False)
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and f"{path}:2" in lines[0] and "quote it" in lines[0], out.stderr
