"""The decoding mode (``generation.decoding``) and comparisons that follow it, through real extractors.

Greedy decoding spelled each engine's way is no finding; greedy vs sampling is exactly one failing finding, on
``generation.decoding`` (DG104); sampling on both sides with one knob changed is that knob only (DG101). Through
``api.diff``, through ``api.check`` with a manifest and approvals, and once through the CLI.
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
import yaml

from driftguard import api
from driftguard.model import How, Origin, Value
from driftguard.rules import policy
from driftguard.rules.decoding import DECODING_KEY, SAMPLING_KNOBS, derive_decoding

#: (kind, file name, content): greedy decoding, 256 new tokens, each engine's own spelling.
GREEDY: dict[str, tuple[str, str, object]] = {
    "hf-generation": ("hf-generation", "generation_config.json", {"do_sample": False, "max_new_tokens": 256}),
    "hf-model": ("hf-model", "model", {"do_sample": False, "max_new_tokens": 256}),
    "vllm-request": ("vllm", "request.json", {"prompt": "x", "temperature": 0, "max_tokens": 256}),
    "vllm-model-json": ("vllm", "model.json", {"model": "/m", "temperature": 0, "max_tokens": 256}),
    "tgi": ("tgi", "tgi.json", {"inputs": "x", "parameters": {"max_new_tokens": 256}}),
    "openai": ("openai", "openai.json", {"model": "m", "prompt": "x", "temperature": 0, "max_tokens": 256}),
    # min_tokens: TensorRT-LLM's runtime default is 1, vLLM's 0 (a real difference, not the mode's)
    "tensorrt-llm": ("tensorrt-llm", "sampling.yaml", {"top_k": 1, "max_tokens": 256, "min_tokens": 0}),
    "lmdeploy": ("lmdeploy", "gen-config.yaml", {"do_sample": False, "max_new_tokens": 256}),
}

#: The same engines sampling at temperature 0.7, top_p 0.9 (top_k 40 where the engine has it).
SAMPLE: dict[str, tuple[str, str, object]] = {
    "hf-generation": ("hf-generation", "generation_config.json",
                      {"do_sample": True, "temperature": 0.7, "top_p": 0.9, "top_k": 40, "max_new_tokens": 256}),
    "vllm-request": ("vllm", "request.json",
                     {"prompt": "x", "temperature": 0.7, "top_p": 0.9, "top_k": 40, "max_tokens": 256}),
    "tgi": ("tgi", "tgi.json",
            {"inputs": "x", "parameters": {"temperature": 0.7, "top_p": 0.9, "top_k": 40, "max_new_tokens": 256}}),
    "openai": ("openai", "openai.json", {"model": "m", "prompt": "x", "temperature": 0.7, "top_p": 0.9,
                                         "max_tokens": 256}),
    "tensorrt-llm": ("tensorrt-llm", "sampling.yaml", {"temperature": 0.7, "top_p": 0.9, "top_k": 40,
                                                       "max_tokens": 256, "min_tokens": 0}),
    "lmdeploy": ("lmdeploy", "gen-config.yaml", {"do_sample": True, "temperature": 0.7, "top_p": 0.9,
                                                 "top_k": 40, "max_new_tokens": 256}),
}


def write(folder: Path, spec: tuple[str, str, object]) -> str:
    """Write one artifact under ``folder``; ``KIND:PATH`` for api.diff."""
    kind, name, body = spec
    folder.mkdir(parents=True, exist_ok=True)
    if kind == "hf-model":  # a model folder: its generation_config.json is what generate() reads
        path = folder / name
        path.mkdir()
        (path / "generation_config.json").write_text(json.dumps(body))
    else:
        path = folder / name
        path.write_text(yaml.safe_dump(body) if name.endswith(".yaml") else json.dumps(body))
    return f"{kind}:{path}"


def failing(findings: object) -> list[tuple[str, str]]:
    return sorted((f.rule, f.key) for f in findings if f.severity == "error")  # type: ignore[attr-defined]


@pytest.mark.parametrize("deployed", sorted(GREEDY))
@pytest.mark.parametrize("training", sorted(GREEDY))
def test_greedy_spelled_each_engines_way_is_no_finding(tmp_path: Path, training: str, deployed: str) -> None:
    result = api.diff(write(tmp_path / "t", GREEDY[training]), write(tmp_path / "d", GREEDY[deployed]))
    assert result.findings == (), [f.message for f in result.findings]


def test_every_greedy_spelling_derives_greedy(tmp_path: Path) -> None:
    for name, spec in GREEDY.items():
        side = api.extract(write(tmp_path / name, spec))
        mode = derive_decoding(side.values)
        assert mode is not None and mode.value == "greedy", name
        assert mode.derivation and mode.derivation.startswith("from generation.do_sample=false"), \
            (name, mode.derivation)


@pytest.mark.parametrize("deployed", sorted(SAMPLE))
@pytest.mark.parametrize("training", sorted(GREEDY))
def test_greedy_vs_sampling_is_one_finding_on_the_mode(tmp_path: Path, training: str, deployed: str) -> None:
    result = api.diff(write(tmp_path / "t", GREEDY[training]), write(tmp_path / "d", SAMPLE[deployed]))
    assert failing(result.findings) == [("DG104", DECODING_KEY)], [f.message for f in result.findings]
    (f,) = result.findings
    assert (f.training.value, f.deployed.value) == ("greedy", "sample")  # type: ignore[union-attr]
    assert "derived" not in f.message and "from generation.do_sample=" in f.message


@pytest.mark.parametrize("engine", sorted(SAMPLE))
@pytest.mark.parametrize("knob", ["temperature", "top_p", "top_k"])
def test_sampling_on_both_with_one_knob_changed_is_that_knob(tmp_path: Path, engine: str, knob: str) -> None:
    kind, name, body = SAMPLE[engine]
    params = dict(body["parameters"]) if kind == "tgi" else dict(body)  # type: ignore[index,call-overload]
    if knob not in params:
        pytest.skip(f"{engine} has no {knob}")
    params[knob] = 0.5 if knob != "top_k" else 20
    changed = {**body, "parameters": params} if kind == "tgi" else params  # type: ignore[dict-item]
    result = api.diff(write(tmp_path / "t", SAMPLE[engine]), write(tmp_path / "d", (kind, name, changed)))
    assert failing(result.findings) == [("DG101", f"generation.{knob}")], [f.message for f in result.findings]


def test_sampling_across_engines_compares_the_knobs(tmp_path: Path) -> None:
    hf = SAMPLE["hf-generation"]
    vllm = ("vllm", "request.json", {"prompt": "x", "temperature": 0.7, "top_p": 0.9, "max_tokens": 256})
    result = api.diff(write(tmp_path / "t", hf), write(tmp_path / "d", vllm))
    assert failing(result.findings) == [("DG101", "generation.top_k")]
    (f,) = result.findings
    # one line saying why: vLLM's default is off where the evaluation sampled top-k 40
    assert f.message == ("generation.top_k: training 40 != deployed 0: vllm uses top_k=0 (off) unless told "
                         "otherwise (request.json leaves it unset)")


def test_unset_top_k_in_transformers_vs_vllm_says_why(tmp_path: Path) -> None:
    hf = ("hf-generation", "generation_config.json", {"do_sample": True, "temperature": 0.7})
    vllm = ("vllm", "request.json", {"prompt": "x", "temperature": 0.7})
    (f,) = [f for f in api.diff(write(tmp_path / "t", hf), write(tmp_path / "d", vllm)).findings
            if f.key == "generation.top_k"]
    assert "transformers" in f.message and "top_k=50 unless told otherwise" in f.message
    assert "generation_config.json leaves it unset" in f.message and "vllm uses top_k=0 (off)" in f.message
    assert "\n" not in f.message


def test_greedy_vs_greedy_still_compares_what_matters(tmp_path: Path) -> None:
    hf = ("hf-generation", "generation_config.json", {"do_sample": False, "max_new_tokens": 256,
                                                      "repetition_penalty": 1.2})
    result = api.diff(write(tmp_path / "t", hf), write(tmp_path / "d", GREEDY["vllm-request"]))
    assert failing(result.findings) == [("DG101", "generation.repetition_penalty")]


def test_beam_search_vs_greedy_and_beam_knobs(tmp_path: Path) -> None:
    beam = ("hf-generation", "generation_config.json", {"num_beams": 4, "length_penalty": 0.8, "max_new_tokens": 256})
    greedy = GREEDY["hf-generation"]
    assert failing(api.diff(write(tmp_path / "a", beam), write(tmp_path / "b", greedy)).findings) == \
        [("DG104", DECODING_KEY)]
    wider = ("hf-generation", "generation_config.json", {"num_beams": 5, "length_penalty": 0.8, "max_new_tokens": 256})
    assert failing(api.diff(write(tmp_path / "c", beam), write(tmp_path / "d", wider)).findings) == \
        [("DG101", "generation.num_beams")]


def test_derived_mode_names_its_input_and_origin() -> None:
    ds = Value(False, Origin("req.json", 1, "/temperature", "request"), How.DERIVED,
               derivation="vLLM samples unless temperature < 1e-5 (defaults.md §2.1)",
               derived_from=("generation.temperature",), basis=How.DEFAULT)
    mode = derive_decoding({"generation.do_sample": ds})
    assert mode is not None and mode.value == "greedy" and mode.origin == ds.origin and not mode.explicit
    assert mode.how == "derived" and mode.derived_from == ("generation.do_sample",)
    assert mode.shown_note == "derived: from generation.do_sample=false (vLLM samples unless temperature < 1e-5 " \
                        "(defaults.md §2.1))"
    assert derive_decoding({}) is None
    assert derive_decoding({"generation.do_sample": Value([True, False], Origin("x"))}) is None
    beams = Value(4, Origin("g.json", 3))
    beam = derive_decoding({"generation.num_beams": beams, "generation.do_sample": ds})
    assert beam is not None and beam.value == "beam" and beam.origin == beams.origin


def test_policy_and_decoding_share_one_set_of_sampling_knobs() -> None:
    assert set(policy._NEUTRAL) == SAMPLING_KNOBS


def test_dg301_does_not_contradict_itself_on_a_vllm_greedy_side(tmp_path: Path) -> None:
    side = api.extract(write(tmp_path, GREEDY["vllm-request"]))
    from driftguard.rules.base import RuleContext, Side
    from driftguard.rules.engine import run_rules

    empty = Side("training", (), {})
    ctx = RuleContext("m", empty, Side("deployment", (side,), side.values))
    assert run_rules(ctx, select=["DG301", "DG302"]) == []


# --- through the gate ----------------------------------------------------------------------------------------

def _manifest(tmp_path: Path, training: tuple[str, str, object], deployed: tuple[str, str, object]) -> Path:
    t = write(tmp_path / "training", training).split(":", 1)[1]
    d = write(tmp_path / "deployment", deployed).split(":", 1)[1]
    (tmp_path / "approvals").mkdir()
    manifest = {"version": 1, "approvals": "approvals", "models": {"m": {
        "training": [{"path": str(Path(t).relative_to(tmp_path)), "kind": training[0]}],
        "deployment": [{"path": str(Path(d).relative_to(tmp_path)), "kind": deployed[0]}]}}}
    path = tmp_path / "driftguard.yaml"
    path.write_text(yaml.safe_dump(manifest))
    return path


def test_check_greedy_both_sides_passes(tmp_path: Path) -> None:
    report = api.check(_manifest(tmp_path, GREEDY["hf-generation"], GREEDY["vllm-request"]))
    assert report.ok and [f for f in report.findings if f.severity == "error"] == []
    assert all(f.rule not in ("DG301", "DG302") for f in report.findings), [f.message for f in report.findings]


def test_check_intended_switch_is_one_finding_and_one_approval(tmp_path: Path) -> None:
    path = _manifest(tmp_path, SAMPLE["hf-generation"], GREEDY["vllm-request"])
    report = api.check(path)
    assert not report.ok
    assert failing(report.findings) == [("DG104", DECODING_KEY)], [f.message for f in report.findings]
    assert [f.rule for f in report.findings if f.rule in ("DG301", "DG302")] == []
    api.approve(path, "m", DECODING_KEY, "greedy serving evaluated: parity run attached", date(2026, 6, 30),
                approved_by="oncall", today=date(2026, 1, 1))
    after = api.check(path, today=date(2026, 1, 2))
    assert after.ok, [(f.key, f.status) for f in after.findings]
    (f,) = [f for f in after.findings if f.key == DECODING_KEY]
    assert f.status == "approved"


def test_cli_diff_greedy_pair_exits_0(tmp_path: Path) -> None:
    a = write(tmp_path / "t", GREEDY["hf-generation"])
    b = write(tmp_path / "d", GREEDY["vllm-request"])
    run = subprocess.run([sys.executable, "-m", "driftguard", "diff", a, b, "--format", "json"],
                         capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stdout + run.stderr
    assert json.loads(run.stdout)["findings"] == []
    c = write(tmp_path / "s", SAMPLE["vllm-request"])
    run = subprocess.run([sys.executable, "-m", "driftguard", "diff", a, c, "--format", "json"],
                         capture_output=True, text=True, check=False)
    assert run.returncode == 1
    assert [(f["rule"], f["key"]) for f in json.loads(run.stdout)["findings"]] == [("DG104", DECODING_KEY)]
