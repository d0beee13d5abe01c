"""Hostile JSON, YAML and INI documents: every one is refused with one line (exit 2, FILE:LINE, the limit that
stopped the reader) with bounded reads and memory, whichever reader meets it (engine files, Hugging Face JSON,
the manifest, an approval)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from driftguard.errors import ExtractionError, LimitError
from driftguard.readers import documents, yaml_doc
from driftguard.readers.limits import Limits, names

from .bounded import Run, run_cli

# Nine levels of nine: 9**9 (387 million) strings in a few hundred bytes.
LAUGHS = "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
    f"{c}: &{c} [{', '.join([f'*{p}'] * 9)}]\n" for p, c in zip("abcdefgh", "bcdefghi", strict=True))


def _laughs_line(objects: int = Limits().objects) -> int:
    """The line of the first level whose expanded size (the list plus its items) passes ``objects``."""
    size, line = 10, 1
    while size <= objects:
        size, line = 1 + 9 * size, line + 1
    return line


LAUGHS_LINE = _laughs_line()

DIGITS = "1" * 5000
MANIFEST_OK = """version: 1
models:
  m:
    training:
      - path: generation_config.json
    deployment:
      - path: params.yaml
        kind: vllm
"""


def _assert_stopped(res: Run, needles: tuple[str, ...]) -> None:
    """One error line with every needle; a needle that names a limit is the limit that stopped the read, at its
    default."""
    res.assert_input_error(*needles)
    for limit in set(needles) & set(names()):
        res.assert_limit(limit)


def _check_tree(root: Path) -> Path:
    (root / "generation_config.json").write_text(json.dumps({"do_sample": True, "top_p": 0.92}))
    (root / "params.yaml").write_text("top_p: 0.85\n")
    (root / "driftguard.yaml").write_text(MANIFEST_OK)
    return root / "driftguard.yaml"


# --- engine files (vllm: YAML and JSON) ----------------------------------------------------------------

@pytest.mark.slow
@pytest.mark.parametrize(("name", "text", "needles"), [
    ("laughs.yaml", LAUGHS, (f"laughs.yaml:{LAUGHS_LINE}:", "objects")),
    ("loop.yaml", "top_p: &a [1, *a]\n", ("loop.yaml:1:", "recursive anchor")),
    ("loop2.yaml", "a: &a\n  b:\n    - c: *a\n", ("loop2.yaml:3:", "recursive anchor")),
    ("digits.yaml", f"top_p: 0.5\nseed: {DIGITS}\n", ("digits.yaml:2:", "int_digits")),
    ("binary.yaml", "top_p: 0.5\nblob: !!binary aGVsbG8=\n", ("binary.yaml:2:", "!!binary")),
    ("set.yaml", "stop: !!set {a, b}\n", ("set.yaml:1:", "!!set")),
    ("when.yaml", "seed: !!timestamp 2024-01-01\n", ("when.yaml:1:", "!!timestamp")),
    ("python.yaml", "seed: !!python/object/apply:os.system [echo]\n", ("python.yaml:1:", "python")),
    ("deep.yaml", "top_p: " + "[" * 900 + "]" * 900 + "\n", ("deep.yaml:1:", "depth")),
    ("deep.json", "[" * 900 + "]" * 900, ("deep.json:1:", "depth")),
    ("digits.json", f'{{"top_p": 0.5,\n "seed": {DIGITS}}}', ("digits.json:2:", "int_digits")),
    ("wide.json", "[" + ",".join(["0"] * 1_100_000) + "]", ("wide.json:1:", "objects")),
])
def test_vllm_engine_file_is_refused_in_bounded_time(tmp_path: Path, name: str, text: str,
                                                      needles: tuple[str, ...]) -> None:
    path = tmp_path / name
    path.write_text(text)
    res = run_cli(["extract", f"vllm:{path}"])
    _assert_stopped(res, needles)
    res.assert_bounded()


def test_many_yaml_values_stop_at_the_objects_limit(tmp_path: Path) -> None:
    path = tmp_path / "many.yaml"
    path.write_text("".join(f"- {i}\n" for i in range(1_100_000)))
    res = run_cli(["extract", f"vllm:{path}"])
    res.assert_input_error(f"many.yaml:{Limits().objects}:", "objects")
    res.assert_limit("objects")
    res.assert_bounded()


def test_json_900_deep_via_hf_generation(tmp_path: Path) -> None:
    path = tmp_path / "x.json"
    path.write_text('{"top_p": 0.9,\n "nested": ' + "[" * 900 + "]" * 900 + "}")
    res = run_cli(["extract", f"hf-generation:{path}"])
    _assert_stopped(res, ("x.json:2:", "depth"))
    res.assert_bounded()


def test_json_long_int_via_hf_generation(tmp_path: Path) -> None:
    path = tmp_path / "x.json"
    path.write_text(f'{{"top_p": 0.9,\n "eos_token_id": {DIGITS}}}')
    res = run_cli(["extract", f"hf-generation:{path}"])
    _assert_stopped(res, ("x.json:2:", "int_digits"))
    res.assert_bounded()


def test_ini_long_int_is_refused_at_its_line(tmp_path: Path) -> None:
    path = tmp_path / "config.ini"
    path.write_text(f"[request]\ntop_k = 1\nrandom_seed = {DIGITS}\n")
    res = run_cli(["extract", f"lmdeploy:{path}"])
    _assert_stopped(res, ("config.ini:3:", "int_digits"))
    res.assert_bounded()


def test_ini_long_int_outside_the_vocabulary_is_refused_too(tmp_path: Path) -> None:
    path = tmp_path / "config.ini"
    path.write_text(f"[ft_instance_hyperparameter]\nvocab = {DIGITS}\n")
    res = run_cli(["extract", f"lmdeploy:{path}"])
    res.assert_input_error("config.ini:2:", "int_digits")


# --- the manifest -------------------------------------------------------------------------------------

@pytest.mark.parametrize(("extra", "needles"), [
    (LAUGHS.replace("a:", "x-a:", 1), (f"driftguard.yaml:{LAUGHS_LINE + 8}:", "objects")),
    ("approvers: &a [x, *a]\n", ("driftguard.yaml:9:", "recursive anchor")),
    (f"approval_policy: {{max_horizon_days: {DIGITS}}}\n", ("driftguard.yaml:9:", "int_digits")),
    ("approvals: !!binary aGVsbG8=\n", ("driftguard.yaml:9:", "!!binary")),
])
def test_manifest_attacks(tmp_path: Path, extra: str, needles: tuple[str, ...]) -> None:
    manifest = _check_tree(tmp_path)
    manifest.write_text(MANIFEST_OK + extra)
    res = run_cli(["check", "--config", str(manifest)])
    _assert_stopped(res, needles)
    res.assert_bounded()


def test_manifest_billion_laughs_under_a_known_key(tmp_path: Path) -> None:
    manifest = _check_tree(tmp_path)
    body = LAUGHS.replace("\n", "\n  ").rstrip()
    manifest.write_text(MANIFEST_OK + "rules:\n  options:\n    DG101:\n      " + body.replace("\n  ", "\n      ")
                        + "\n")
    res = run_cli(["check", "--config", str(manifest)])
    _assert_stopped(res, ("driftguard.yaml:", "objects"))
    res.assert_bounded()


def test_manifest_duplicate_key_check_visits_each_node_once(tmp_path: Path) -> None:
    # Every level repeats the one below nine times: a walk that follows aliases would never finish; the values
    # are counted as expanded, so the objects limit stops the read.
    manifest = _check_tree(tmp_path)
    small = "a: &a {k: v}\n" + "".join(f"{c}: &{c} {{{', '.join(f'x{i}: *{p}' for i in range(9))}}}\n"
                                        for p, c in zip("abcdef", "bcdefg", strict=True))
    manifest.write_text(MANIFEST_OK + "rules:\n  options:\n    DG101:\n"
                        + "".join(f"      {line}\n" for line in small.splitlines()))
    res = run_cli(["check", "--config", str(manifest)])
    _assert_stopped(res, ("driftguard.yaml:", "objects"))
    res.assert_bounded()


# --- the loaders themselves ----------------------------------------------------------------------------

def test_engine_yaml_duplicate_key_keeps_the_last_value_and_its_line(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text("top_p: 0.5\ntemperature: 1\ntop_p: 0.9\n")
    doc = documents.load_document(path)
    assert doc.data["top_p"] == 0.9
    assert doc.line("/top_p") == 3


def test_engine_json_duplicate_key_keeps_the_last_value_and_its_line(tmp_path: Path) -> None:
    path = tmp_path / "p.json"
    path.write_text('{"sp": {"top_p": 0.5},\n "x": 1,\n "sp": {\n  "top_p": 0.9}}')
    doc = documents.load_document(path)
    assert doc.data["sp"]["top_p"] == 0.9
    assert doc.line("/sp") == 3 and doc.line("/sp/top_p") == 4


def test_merge_keys_stay_and_point_at_their_lines() -> None:
    doc = yaml_doc.loads("base: &b\n  top_p: 0.5\n  top_k: 3\nreq:\n  <<: *b\n  top_k: 7\n", "m.yaml",
                         ExtractionError, duplicates="last")
    assert doc.data["req"] == {"top_p": 0.5, "top_k": 7}
    lines = documents.yaml_pointer_lines(doc.node)
    assert lines["/req/top_p"] == 2 and lines["/req/top_k"] == 6


def test_dates_stay_strings() -> None:
    doc = yaml_doc.loads("expires: 2027-01-31\n", "a.yaml", ExtractionError)
    assert doc.data == {"expires": "2027-01-31"}


def test_aliases_count_as_expanded_against_a_lowered_limit() -> None:
    text = "a: &a [1, 2, 3, 4]\nb: [*a, *a, *a]\n"
    assert yaml_doc.loads(text, "x.yaml", ExtractionError, Limits(objects=100)).data["b"][2] == [1, 2, 3, 4]
    with pytest.raises(LimitError) as err:
        yaml_doc.loads(text, "x.yaml", ExtractionError, Limits(objects=15))
    assert err.value.line == 2 and err.value.limit == "objects"


def test_alias_depth_counts_what_it_stands_for() -> None:
    text = "a: &a [[[1]]]\nb: [[[*a]]]\n"
    with pytest.raises(LimitError) as err:
        yaml_doc.loads(text, "x.yaml", ExtractionError, Limits(depth=6))
    assert err.value.line == 2 and err.value.limit == "depth"


def test_json_limits_report_lines() -> None:
    with pytest.raises(LimitError) as err:
        documents.loads_json('{"a": 1,\n "b": [[[[1]]]]}', "x.json", Limits(depth=3))
    assert err.value.line == 2
    with pytest.raises(LimitError) as err:
        documents.loads_json('[1,\n2,\n3,\n4]', "x.json", Limits(objects=3))
    assert err.value.line == 3


def test_sniff_never_raises_on_hostile_input(tmp_path: Path) -> None:
    for name, text in (("a.yaml", LAUGHS), ("b.yaml", "&a [*a]"), ("c.json", "[" * 5000)):
        path = tmp_path / name
        path.write_text(text)
        assert documents.sniff(path, text.encode()[:4096]) is None


def test_parse_scalar_never_turns_digits_into_infinity() -> None:
    from driftguard.normalize import parse_scalar

    assert parse_scalar(DIGITS) == DIGITS
    assert parse_scalar("-" + DIGITS) == "-" + DIGITS
    assert parse_scalar("512") == 512
