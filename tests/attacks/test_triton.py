"""Hostile Triton configs: every crafted config.pbtxt is exit 2 with one ``FILE:LINE: message`` line, with bounded
reads and memory; map-heavy configs parse in linear work; mutated real configs raise nothing but
DriftguardError."""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from driftguard.errors import DriftguardError, LimitError
from driftguard.extractors import triton
from driftguard.extractors.base import ExtractOptions
from driftguard.readers.limits import DEFAULT

from .bounded import lines_executed, run_cli

HEADER = 'name: "m"\nbackend: "python"\nmax_batch_size: 8\n'
FIXTURES = Path(__file__).parents[1] / "fixtures" / "triton" / "good"
CORPUS = Path(__file__).resolve().parents[1] / "corpus" / "triton"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.pbtxt"
    path.write_text(text, encoding="utf-8")
    return path


def check(path: Path, *needles: str, limit: str | None = None, read_at_most: int | None = None) -> None:
    res = run_cli(["extract", f"triton:{path}"])
    res.assert_input_error(*needles)
    if limit is not None:
        res.assert_limit(limit)
    res.assert_bounded(read_at_most)


def _parameters(n: int) -> str:
    return "".join(f'parameters {{ key: "p{i}" value {{ string_value: "{i}" }} }}\n' for i in range(n))


@pytest.mark.slow
def test_many_map_entries_parse_in_linear_time(tmp_path: Path) -> None:
    # Map entries used to be renamed by rescanning every recorded line: 8,000 parameters took 32 s. Twice the
    # entries must be about twice the work (a rescan per entry would be four times).
    work = {}
    for n in (1, 1000, 2000):  # the first warms the imports up
        path = write(tmp_path, HEADER + _parameters(n))
        work[n] = lines_executed(lambda path=path: triton.extract(path, ExtractOptions()))
    assert work[2000] < 2.2 * work[1000], work
    n = DEFAULT.triton_fields // 4 - 10  # four fields per parameter entry
    path = write(tmp_path, HEADER + _parameters(n))
    res = run_cli(["extract", "--format", "json", f"triton:{path}"])
    assert res.rc == 0, res.stderr
    assert '"triton.parameters.p7"' in res.stdout
    res.assert_bounded()


def test_nested_map_entries_keep_their_own_keys(tmp_path: Path) -> None:
    text = HEADER + ('ensemble_scheduling { step { model_name: "a" model_version: -1\n'
                     '  input_map { key: "in" value: "x" }\n  output_map { key: "out" value: "y" } } }\n'
                     'parameters { key: "k"\n value { string_value: "1" } }\n')
    path = write(tmp_path, text.replace('backend: "python"', 'platform: "ensemble"'))
    cfg = triton.extract(path, ExtractOptions())
    assert cfg["triton.parameters.k"].origin.line == 8


@pytest.mark.slow
def test_more_fields_than_the_limit_stops_with_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, HEADER + 'input { name: "i" dims: 1 }\n' * 300_000)
    check(path, f"{path}:", f"more than {DEFAULT.triton_fields} fields", limit="triton_fields")


def test_file_past_file_bytes(tmp_path: Path) -> None:
    path = write(tmp_path, HEADER + "#" * (DEFAULT.file_bytes + 1) + "\n")
    check(path, limit="file_bytes", read_at_most=0)  # refused from its size, not read


@pytest.mark.parametrize("digits", [DEFAULT.int_digits + 1, 5000, 100_000])
def test_long_integers_are_refused_with_their_line(tmp_path: Path, digits: int) -> None:
    path = write(tmp_path, HEADER + "\n\ninput { name: \"x\" dims: [ 1, " + "9" * digits + " ] }\n")
    check(path, f"{path}:6:", limit="int_digits")


@pytest.mark.slow
@pytest.mark.parametrize("text", [
    "optimization " + "{ cuda " * 50_000 + "}" * 50_000,
    'parameters { key: "a" value ' + "{ " * 50_000 + "}" * 50_000 + "}",
    "dynamic_batching { max_queue_delay_microseconds: " + "9" * 5000 + ".5 }",
    'name: "' + "a" * 4_000_000 + '"',
    'parameters { key: "' + "\\" * 2_000_000 + '" }',
    "input [ " + "{ }, " * 20_000 + "]",
    "instance_group [ { count: -99999999999999999999 } ]",
    'name: "\\xff\\u0000"',
])
def test_crafted_configs_are_one_line_errors(tmp_path: Path, text: str) -> None:
    path = write(tmp_path, HEADER + text + "\n")
    res = run_cli(["extract", f"triton:{path}"])
    if res.rc == 0:  # some are valid configs: then they must still be bounded
        res.assert_bounded()
        return
    res.assert_input_error(str(path))
    assert len(res.error_lines[0]) < 1000
    res.assert_bounded()


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "config.pbtxt"
    path.write_bytes(HEADER.encode() + b'\nname: "\xff"\n')
    check(path, f"{path}:5:", "not UTF-8")


# -- property: mutated real configs raise nothing but DriftguardError ------------------------------------------

def _seeds() -> list[str]:
    paths = sorted(FIXTURES.glob("*.pbtxt*"))
    paths += sorted(CORPUS.rglob("*.pbtxt*"))[::3]  # tests/corpus is part of the repository
    assert len(paths) > 25
    return [p.read_text(encoding="utf-8", errors="replace") for p in paths]


SEEDS = _seeds()
PIECES = ["{", "}", "[", "]", ":", ",", '"', "'", "\\", "#", "\n", "-", "9" * 30, "1e999", "${x}", "TYPE_FP32",
          "<", ">", "key", "value", "parameters", "dims", "input", "0x", "nan", " "]


@pytest.mark.slow
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                   HealthCheck.too_slow])
@given(seed=st.integers(0, max(0, len(SEEDS) - 1)),
       edits=st.lists(st.tuples(st.floats(0, 1), st.sampled_from(["insert", "delete", "replace"]),
                                st.sampled_from(PIECES) | st.text(max_size=5)), min_size=1, max_size=5),
       substitutions=st.sampled_from([{}, {"x": "1"}]))
def test_mutated_configs_raise_only_driftguard_errors(tmp_path: Path, seed: int,
                                                      edits: list[tuple[float, str, str]],
                                                      substitutions: dict[str, str]) -> None:
    text = SEEDS[seed]
    for where, how, piece in edits:
        at = int(where * len(text))
        if how == "insert":
            text = text[:at] + piece + text[at:]
        elif how == "delete":
            text = text[:at] + text[at + len(piece) + 1:]
        else:
            text = text[:at] + piece + text[at + len(piece):]
    path = tmp_path / "config.pbtxt"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    with contextlib.suppress(DriftguardError):
        triton.extract(path, ExtractOptions(substitutions=substitutions))


@pytest.mark.parametrize(("body", "message"), [
    # one field a line, past the limit: the template scan stops where the parser would, before either runs on
    (HEADER + 'input { name: "i" data_type: TYPE_FP32 dims: [ 1 ] }\n' * 300_000, "fields"),
    # one long line of bare values (each a placeholder candidate): stopped inside the line
    (HEADER + "dims: [ " + "A, " * 2_000_000 + "A ]\n", "placeholders and enum values"),
    (HEADER + 'name: "' + "${a}" * 2_000_000 + '"\n', "fields"),  # each '{' may open a field
])
def test_the_template_scan_is_bounded_by_triton_fields(tmp_path: Path, body: str, message: str) -> None:
    path = write(tmp_path, body)
    res = run_cli(["extract", "--set", "a=1", f"triton:{path}"])
    res.assert_input_error(f"more than {DEFAULT.triton_fields} {message}")
    res.assert_limit("triton_fields")
    res.assert_bounded()

    def scan(n: int) -> None:
        with contextlib.suppress(LimitError):
            triton.placeholders(write(tmp_path, HEADER + "dims: [ " + "A, " * n + "A ]\n"), ExtractOptions())

    work = {n: lines_executed(lambda n=n: scan(n)) for n in (1, DEFAULT.triton_fields * 2, DEFAULT.triton_fields * 8)}
    assert work[DEFAULT.triton_fields * 8] < 1.2 * work[DEFAULT.triton_fields * 2], work  # stops at the limit
