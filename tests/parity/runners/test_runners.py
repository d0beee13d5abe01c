"""The runner registry (``parity.runners.RUNNERS``): a runner installed through the ``driftguard.parity.runners``
entry point group only (a real dist-info on sys.path, nothing of driftguard edited) runs ``driftguard parity``,
from the library and from the command line, with a settings model of its own that the manifest validates when
it loads (file and line) and that the published schema lists."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from driftguard import api, plugins
from driftguard import manifest as manifest_mod
from driftguard.errors import ManifestError
from driftguard.parity.runners import RUNNERS, settings_model
from driftguard.parity.runners.base import RunnerSettings

RUNNER = '''
from pydantic import Field

from driftguard.parity.runners.base import RunnerSettings


class ScaleSettings(RunnerSettings):
    """The scale runner's settings."""

    scale: float = Field(default=1.0, gt=0, description="what the inputs are multiplied by")


class ScaleRunner:
    """Multiplies golden input ``x`` by ``scale``: a model as small as a model gets."""

    Settings = ScaleSettings
    runs_artifact = False
    applies = frozenset()

    def __init__(self, cfg, config):
        self.scale = cfg.settings.scale

    def setup(self):
        pass

    def run(self, batch):
        return {"y": batch["x"] * self.scale}

    def teardown(self):
        pass

    def describe(self):
        return f"scale:{self.scale}"
'''


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A distribution declaring runner ``scale`` in ``driftguard.parity.runners``, on sys.path."""
    root = tmp_path / "site"
    root.mkdir()
    (root / "dg_scale_runner.py").write_text(textwrap.dedent(RUNNER), encoding="utf-8")
    info = root / "dg_scale_runner-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: dg-scale-runner\nVersion: 0.1\n", encoding="utf-8")
    (info / "entry_points.txt").write_text("[driftguard.parity.runners]\nscale = dg_scale_runner:ScaleRunner\n",
                                          encoding="utf-8")
    monkeypatch.syspath_prepend(str(root))
    RUNNERS.clear()
    plugins.clear_cache()
    yield root
    monkeypatch.undo()
    sys.modules.pop("dg_scale_runner", None)
    RUNNERS.clear()
    plugins.clear_cache()


def project(folder: Path, candidate: str) -> Path:
    """A model whose parity runs ``scale`` on both sides; ``candidate``: the candidate's settings (YAML)."""
    folder.mkdir(exist_ok=True)
    (folder / "generation_config.json").write_text('{"temperature": 0.7}', encoding="utf-8")
    np.savez(folder / "golden.npz", x=np.linspace(-1.0, 1.0, 12, dtype=np.float32).reshape(4, 3))
    path = folder / "driftguard.yaml"
    path.write_text("version: 1\nmodels:\n  m:\n    training: [{path: generation_config.json}]\n"
                    "    deployment: [{path: generation_config.json}]\n    parity:\n      golden: golden.npz\n"
                    "      attribution: false\n      reference: {runner: scale, scale: 1.0}\n"
                    f"      candidate: {{runner: scale, {candidate}}}\n", encoding="utf-8")
    return path


def test_the_registry_lists_the_built_in_runners_with_their_capabilities() -> None:
    assert RUNNERS.names()[:5] == ["onnxruntime", "torch", "callable", "triton-http", "hf"]
    runs = {name: RUNNERS[name].runs_artifact for name in RUNNERS.names()[:5]}
    assert runs == {"onnxruntime": True, "torch": True, "callable": False, "triton-http": True, "hf": True}
    assert all(issubclass(settings_model(n), RunnerSettings) for n in RUNNERS.names())


def test_an_entry_point_runner_runs_parity_from_the_library(site: Path, tmp_path: Path) -> None:
    assert "scale" in RUNNERS and settings_model("scale").__name__ == "ScaleSettings"
    same = api.check_parity(project(tmp_path / "same", "scale: 1.0"), today=None)
    assert [(f.rule, f.key) for f in same.findings] == [("DG500", "parity.y")]
    nudged = api.check_parity(project(tmp_path / "nudged", "scale: 1.5"), today=None)
    assert "DG501" in {f.rule for f in nudged.findings}


def test_its_settings_are_validated_when_the_manifest_loads(site: Path, tmp_path: Path) -> None:
    with pytest.raises(ManifestError) as info:
        manifest_mod.load(project(tmp_path / "bad", "scale: -2"))
    assert (info.value.line, info.value.message) == (
        10, "models.m.parity.candidate.scale: Input should be greater than 0")
    with pytest.raises(ManifestError, match=r"models\.m\.parity\.candidate\.scael: unknown field"):
        manifest_mod.load(project(tmp_path / "typo", "scael: 2"))


def test_the_schema_lists_its_settings(site: Path) -> None:
    defs = manifest_mod.schema()["$defs"]
    assert {"$ref": "#/$defs/ScaleSettings"} in defs["ParityRunner"]["oneOf"]
    scale = defs["ScaleSettings"]
    assert scale["properties"]["runner"]["const"] == "scale" and scale["properties"]["scale"]["exclusiveMinimum"] == 0
    assert scale["additionalProperties"] is False and scale["required"] == ["runner"]


def test_an_entry_point_runner_runs_parity_from_the_command_line(site: Path, tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(site), os.environ.get("PYTHONPATH")]))}

    def parity(manifest: Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "driftguard", "parity", "--config", str(manifest), "--format",
                               "json"], capture_output=True, text=True, timeout=120, env=env)

    proc = parity(project(tmp_path / "same", "scale: 1.0"))
    assert proc.returncode == 0, proc.stderr
    [model] = json.loads(proc.stdout)["models"]
    assert [(f["rule"], f["key"]) for f in model["findings"]] == [("DG500", "parity.y")]
    proc = parity(project(tmp_path / "bad", "scale: zero"))
    assert proc.returncode == 2
    assert proc.stderr == (f"driftguard: error: {tmp_path / 'bad' / 'driftguard.yaml'}:10: "
                           "models.m.parity.candidate.scale: Input should be a valid number, unable to parse string "
                           "as a number\n")


# What RUNNERS accepts as a runner class (parity.runners._runner_class): what runners.base.Runner declares, by
# hand from the package's documented contract (a class; Settings a pydantic model deriving from RunnerSettings;
# runs_artifact a bool; setup, run, teardown and describe callable). Each wrong one is a TypeError saying so.

class _Good:
    Settings = RunnerSettings
    runs_artifact = False

    def setup(self) -> None: ...
    def run(self, batch: object) -> None: ...
    def teardown(self) -> None: ...
    def describe(self) -> str:
        return "good"


class _OwnSettings(RunnerSettings):
    extra_field: int = 1


def _variant(**changes: object) -> type:
    return type("Variant", (_Good,), changes)


def test_a_runner_class_is_accepted_as_it_is() -> None:
    from driftguard.parity.runners import _runner_class

    assert _runner_class(_Good) is _Good
    own = _variant(Settings=_OwnSettings, runs_artifact=True)
    assert _runner_class(own) is own


@pytest.mark.parametrize("bad", [
    _Good(),  # an instance, not the class
    _variant(Settings=None),
    _variant(Settings=RunnerSettings()),  # an instance of the settings, not the model
    _variant(Settings=dict),  # a class, not deriving from RunnerSettings
    _variant(runs_artifact=None),
    _variant(runs_artifact=1),  # a number, not a bool
    _variant(runs_artifact="no"),
    _variant(setup=None),
    _variant(run=1),
    _variant(teardown="x"),
    _variant(describe=None),
], ids=["instance", "no-settings", "settings-instance", "settings-not-runner-settings", "no-runs-artifact",
        "runs-artifact-int", "runs-artifact-str", "setup", "run", "teardown", "describe"])
def test_anything_else_is_a_type_error_naming_what_a_runner_class_has(bad: object) -> None:
    from driftguard.parity.runners import _runner_class

    with pytest.raises(TypeError) as info:
        _runner_class(bad)
    assert str(info.value) == ("a runner class (Settings deriving from RunnerSettings, runs_artifact, setup, run, "
                               "teardown, describe)")


def test_settings_model_and_make_load_the_named_runner(tmp_path: Path) -> None:
    from driftguard.parity.runners import make
    from driftguard.parity.runners.base import RunnerConfig
    from driftguard.parity.runners.python_callable import CallableRunner, CallableSettings

    assert settings_model("callable") is CallableSettings
    with pytest.raises(KeyError):
        settings_model("no-such-runner")
    cfg = RunnerConfig("callable", CallableSettings(function="fns.py:f"), tmp_path)
    runner = make(cfg, {"generation.temperature": 0.5})
    assert type(runner) is CallableRunner
    assert (runner.cfg, runner.config) == (cfg, {"generation.temperature": 0.5})
