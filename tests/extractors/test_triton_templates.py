"""Triton templates as new users meet them: sed placeholders glued inside a token, every unfilled placeholder
in one error, Jinja templates, and ``--set`` names that fill nothing (CLI, API and the manifest's ``set:``)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from driftguard import api
from driftguard.errors import ExtractionError, ManifestError, TemplateError, UsageError
from driftguard.extractors.triton_parse import fill_template, find_placeholders

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "triton"
SED = FIXTURES / "templates" / "sed_glued.pbtxt.template"
JINJA = FIXTURES / "templates" / "jinja_config.pbtxt.j2"
SHERPA = FIXTURES / "good" / "sherpa_scorer.pbtxt.template"
TRTLLM = FIXTURES / "good" / "trtllm_preprocessing.pbtxt.template"
SED_VALUES = {"DTYPE": "FP16", "MAX_BATCH": "8", "DIM": "512"}


def run_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "driftguard", *args], capture_output=True, text=True,
                          timeout=120, cwd=cwd)


def one_error_line(res: subprocess.CompletedProcess[str]) -> str:
    assert res.returncode == 2, res.stderr
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1, res.stderr
    assert lines[0].startswith("driftguard: error: ") and "Traceback" not in res.stderr
    return lines[0]


# -- sed placeholders glued to a prefix ---------------------------------------------------------------------

def test_glued_hash_placeholder_is_named_by_its_own_name_and_set_fills_it() -> None:
    cfg = api.extract(SED, substitutions=SED_VALUES)
    assert cfg["io.inputs.x.dtype"].value == "float16" and cfg["io.inputs.x.dtype"].origin.line == 11
    assert cfg["io.outputs.y.dtype"].value == "float16"
    assert cfg["io.inputs.x.shape"].value == [-1, -1, 512]  # '#DIM' as a list item
    assert cfg["batching.max_batch_size"].value == 8
    assert cfg["triton.parameters.model_path"].value == "/models/FP16/model.onnx"  # inside a string too
    assert not cfg["serving.instance_count"].explicit  # "#instance_group [...]" stays a comment
    assert "triton.template.unfilled" not in cfg


def test_every_unfilled_placeholder_is_named_at_once_with_its_lines() -> None:
    with pytest.raises(TemplateError) as info:
        api.extract(SED)
    err = info.value
    assert err.names == ("MAX_BATCH", "DTYPE", "DIM")
    assert (err.placeholder, err.line, err.column) == ("#MAX_BATCH", 7, 17)
    assert "'#DTYPE' (lines 11, 18, 22)" in err.message and "'#DIM' (line 12)" in err.message
    assert "'TYPE_'" not in err.message
    assert "--set MAX_BATCH=VALUE --set DTYPE=VALUE --set DIM=VALUE" in err.message


def test_cli_reports_all_unfilled_placeholders_on_one_line_then_fills_them() -> None:
    line = one_error_line(run_cli("extract", str(SED)))
    assert f"{SED}:7:17: 3 unfilled template placeholders: '#MAX_BATCH' (line 7), '#DTYPE' (lines 11, 18, 22), " \
           "'#DIM' (line 12)" in line
    res = run_cli("extract", str(SED), "--set", "DTYPE=FP32", "--set", "MAX_BATCH=8", "--set", "DIM=512",
                  "--format", "json")
    assert res.returncode == 0, res.stderr
    assert '"float32"' in res.stdout


def test_sets_that_fill_only_some_still_name_the_rest() -> None:
    with pytest.raises(TemplateError) as info:
        api.extract(SED, substitutions={"DTYPE": "FP32"})
    assert info.value.names == ("MAX_BATCH", "DIM")


@pytest.mark.parametrize(("line", "expected"), [
    ("data_type: TYPE_#DTYPE", [("DTYPE", "#DTYPE", 17, False)]),
    ("max_batch_size: #MAX_BATCH", [("MAX_BATCH", "#MAX_BATCH", 17, False)]),
    ("dims: [ -1, #DIM ]", [("DIM", "#DIM", 13, False)]),
    ('string_value: "/m/#DTYPE/${v}"', [("DTYPE", "#DTYPE", 19, True), ("v", "${v}", 26, True)]),
    ("max_batch_size: ${mbs}", [("mbs", "${mbs}", 17, False)]),
    ("dims: [-1, ENCODER_DIM]", [("ENCODER_DIM", "ENCODER_DIM", 12, False)]),
    ("max_batch_size: 8 # MAX_BATCH was 4", []),
    ("#max_batch_size: #OLD", []),
    ("input [ # inputs", []),
])
def test_placeholder_syntaxes(line: str, expected: list[tuple[str, str, int, bool]]) -> None:
    found = [(p.name, p.spelling, p.column, p.in_string) for p in find_placeholders(line) if p.likely]
    assert found == expected


def test_enum_values_and_near_misses_are_not_placeholders() -> None:
    assert not [p for p in find_placeholders("data_type: TYPE_FP32\nkind: KIND_GPU\nx: inf") if p.likely]
    with pytest.raises(ExtractionError) as info:  # a bad enum value stays protobuf's own error
        api.extract(FIXTURES / "bad" / "bad_enum.pbtxt")
    assert not isinstance(info.value, TemplateError) and "TYPE_FP33" in info.value.message


def test_fill_keeps_line_numbers_and_field_names() -> None:
    text = "name: \"NAME\"\nNAME: 1\nmax_batch_size: NAME\n"
    assert fill_template(text, {"NAME": "4"}, "x") == "name: \"NAME\"\nNAME: 1\nmax_batch_size: 4\n"


# -- Jinja --------------------------------------------------------------------------------------------------

def test_jinja_template_is_one_clear_line() -> None:
    line = one_error_line(run_cli("extract", str(JINJA)))
    assert f"{JINJA}:4:1: this is a Jinja template ('{{%' on line 4): render it first" in line
    assert "protobuf" not in line and "Expected" not in line


def test_jinja_inside_a_string_is_not_a_template(tmp_path: Path) -> None:
    p = tmp_path / "config.pbtxt"
    p.write_text('backend: "python"\nparameters { key: "chat_template" '
                 'value: { string_value: "{% for m in messages %}{{ m }}{% endfor %}" } }\n')
    assert api.extract(p)["triton.parameters.chat_template"].value.startswith("{% for")


# -- --set names that fill nothing --------------------------------------------------------------------------

def test_cli_extract_unused_set_names_it_and_the_placeholders_that_exist() -> None:
    line = one_error_line(run_cli("extract", str(SED), "--set", "TYPE_=FP32", "--set", "DTYPE=FP32"))
    assert line == (f"driftguard: error: --set TYPE_ fills nothing: no template placeholder of that name in {SED} "
                    "(placeholders: DIM (line 12), DTYPE (lines 11, 18, 22), MAX_BATCH (line 7))")


def test_cli_diff_unused_set_lists_each_file() -> None:
    gen = Path(__file__).resolve().parents[1] / "fixtures" / "acceptance" / "generation_config.json"
    line = one_error_line(run_cli("diff", str(gen), str(SED), "--set", "NOPE=1", "--set", "DTYPE=FP32"))
    assert "--set NOPE fills nothing" in line
    assert f"{gen}: none; {SED}: DIM (line 12), DTYPE" in line


def test_a_set_used_by_any_of_several_files_is_fine() -> None:
    found = api.extract_many([TRTLLM, SHERPA], substitutions={
        "MAX_BATCH": "16", "SCORER_INSTANCE_NUM": "3", "ENCODER_DIM": "512", "triton_max_batch_size": "64",
        "max_queue_delay_microseconds": "500", "max_queue_size": "0", "preprocessing_instance_count": "2"})
    assert [c["batching.max_batch_size"].value for c in found] == [64, 16]


def test_api_extract_unused_substitution_is_a_usage_error() -> None:
    with pytest.raises(UsageError) as info:
        api.extract(SHERPA, substitutions={"MAX_BATCH": "16", "SCORER_INSTANCE_NUM": "3", "ENCODER_DIM": "512",
                                           "TOKENIZER": "x"})
    assert "--set TOKENIZER fills nothing" in info.value.message
    assert "ENCODER_DIM (line 105), MAX_BATCH (line 17), SCORER_INSTANCE_NUM (line 125)" in info.value.message


def test_a_lower_case_bare_value_named_by_set_counts_as_a_placeholder(tmp_path: Path) -> None:
    p = tmp_path / "config.pbtxt"
    p.write_text('backend: "python"\nmax_batch_size: mbs\n')
    assert api.extract(p, substitutions={"mbs": "4"})["batching.max_batch_size"].value == 4


def _manifest(tmp_path: Path, set_line: str) -> Path:
    (tmp_path / "enc").mkdir()
    (tmp_path / "enc" / "config.pbtxt").write_text(SED.read_text())
    (tmp_path / "generation_config.json").write_text('{"temperature": 0.7}\n')
    (tmp_path / "driftguard.yaml").write_text(
        "version: 1\nmodels:\n  enc:\n    training:\n      - path: generation_config.json\n"
        "    deployment:\n      - path: enc/config.pbtxt\n" + set_line)
    return tmp_path / "driftguard.yaml"


def test_manifest_set_that_fills_nothing_names_the_manifest_line(tmp_path: Path) -> None:
    _manifest(tmp_path, "        set:\n          DTYPE: FP32\n          MAX_BATCH: '8'\n          DIM: '4'\n"
                        "          TYPE_: FP32\n")
    line = one_error_line(run_cli("check", cwd=tmp_path))
    assert line == ("driftguard: error: driftguard.yaml:8: models.enc.deployment[0].set: 'TYPE_' fills nothing: no "
                    "template placeholder of that name in enc/config.pbtxt (placeholders: DIM (line 12), DTYPE "
                    "(lines 11, 18, 22), MAX_BATCH (line 7))")
    with pytest.raises(ManifestError) as info:
        api.check(tmp_path / "driftguard.yaml")
    assert info.value.line == 8


def test_manifest_set_fills_the_glued_placeholder(tmp_path: Path) -> None:
    _manifest(tmp_path, "        set: {DTYPE: FP32, MAX_BATCH: '8', DIM: '4'}\n")
    res = run_cli("check", "--format", "json", cwd=tmp_path)
    assert res.returncode in (0, 1), res.stderr


# -- the README's "Triton templates" block is the real output ----------------------------------------------

ROOT = Path(__file__).resolve().parents[2]


def _readme_template_session() -> list[tuple[str, list[str]]]:
    text = (ROOT / "README.md").read_text()
    section = text[text.index("### Triton templates"):]
    block = section[section.index("```console\n") + len("```console\n"):section.index("```\n", 12)]
    session: list[tuple[str, list[str]]] = []
    for line in block.splitlines():
        if line.startswith("$ "):
            session.append((line[2:], []))
        else:
            session[-1][1].append(line)
    return session


def test_readme_template_commands_print_what_the_readme_shows() -> None:
    session = _readme_template_session()
    assert len(session) == 4
    for command, shown in session:
        assert command.startswith("driftguard ")
        real = f"{sys.executable} -m {command}"
        res = subprocess.run(["bash", "-c", real], capture_output=True, text=True, timeout=120, cwd=ROOT,
                             env={"PATH": "/usr/bin:/bin", "COLUMNS": "200"})
        printed = [" ".join(x.split()) for x in (res.stdout + res.stderr).splitlines()]
        assert printed == [" ".join(x.split()) for x in shown], command
