"""Two generation_config.json files that mean the same thing diff clean; a changed setting is one finding."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from driftguard import api

BASE: dict[str, Any] = {"bos_token_id": 1, "do_sample": True, "eos_token_id": 2, "pad_token_id": 0,
                        "temperature": 0.6, "max_length": 4096, "top_p": 0.9, "num_beams": 1,
                        "transformers_version": "4.31.0.dev0"}
#: Spelled-out transformers defaults: adding any of them changes nothing.
DEFAULTS: dict[str, Any] = {"top_k": 50, "repetition_penalty": 1.0, "typical_p": 1.0, "min_length": 0,
                            "no_repeat_ngram_size": 0, "num_return_sequences": 1, "use_cache": True,
                            "length_penalty": 1, "early_stopping": False, "num_beam_groups": 1}


def _write(folder: Path, data: dict[str, Any], indent: int | None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "generation_config.json"
    path.write_text(json.dumps(data, indent=indent))
    return path


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(order=st.permutations(sorted(BASE)), indent=st.sampled_from([None, 0, 2, 4]),
       float_ints=st.booleans(), eos_list=st.booleans(),
       extra=st.lists(st.sampled_from(sorted(DEFAULTS)), unique=True))
def test_rewritten_generation_config_is_equivalent(tmp_path_factory: Any, order: list[str], indent: int | None,
                                                   float_ints: bool, eos_list: bool, extra: list[str]) -> None:
    data = {k: BASE[k] for k in order}
    if float_ints:
        data["num_beams"], data["max_length"] = 1.0, 4096.0
    if eos_list:
        data["eos_token_id"] = [2]
    for key in extra:
        data[key] = DEFAULTS[key]
    tmp = tmp_path_factory.mktemp("eq")
    a = _write(tmp / "a", BASE, 2)
    b = _write(tmp / "b", data, indent)
    result = api.diff(str(a), str(b))
    assert result.ok, [f.message for f in result.findings]


def test_changed_settings_are_findings_on_the_key(tmp_path: Path) -> None:
    base = {**BASE, "max_new_tokens": 128}
    a = _write(tmp_path / "a", base, 2)
    for key, value in (("top_p", 0.95), ("temperature", 0.7), ("max_new_tokens", 64), ("top_k", 0)):
        b = _write(tmp_path / key, {**base, key: value}, 2)
        result = api.diff(str(a), str(b))
        assert [f.key for f in result.findings] == [f"generation.{key}"], key


def test_cli_diff_exit_codes(tmp_path: Path) -> None:
    a = _write(tmp_path / "a", BASE, 2)
    same = _write(tmp_path / "same", {**{k: BASE[k] for k in reversed(list(BASE))}, "temperature": 0.6,
                                      "eos_token_id": [2], "top_k": 50, "num_beams": 1.0}, None)
    changed = _write(tmp_path / "changed", {**BASE, "top_p": 0.5}, 2)
    run = [sys.executable, "-m", "driftguard", "diff"]
    ok = subprocess.run([*run, str(a), str(same)], capture_output=True, text=True, timeout=60)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    drift = subprocess.run([*run, "--format", "json", str(a), str(changed)], capture_output=True, text=True,
                           timeout=60)
    assert drift.returncode == 1, drift.stderr
    findings = json.loads(drift.stdout)["findings"]
    assert [f["key"] for f in findings] == ["generation.top_p"]
    assert findings[0]["training"] == 0.9 and findings[0]["deployed"] == 0.5
