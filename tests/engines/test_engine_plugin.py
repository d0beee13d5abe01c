"""A serving engine added through one entry point (issue 17's acceptance: an engine is its own modules plus one
registry line): a third-party distribution's ``driftguard.engines`` entry point names its engine module, which
declares its serving path (``SPECS``) and the extractor of its request files (``EXTRACTOR``), and
``driftguard check`` finds drift through the engine's own documented defaults, from the library and from the
CLI. Also: a broken engine or extractor plug-in is one load error naming it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from driftguard import api, engines, extractors, plugins
from driftguard.registry import PluginLoadError

ROOT = Path(__file__).resolve().parents[2]
TODAY = "2026-01-15"

#: The engine: its default table lives with its spec (a temperature no other engine defaults to); it names its
#: kind's extractor by module path.
ENGINE_MODULE = '''
from driftguard.engines.spec import EngineSpec, Field, Layer, between
from driftguard.keys import Default

DEFAULTS = {
    "generation.temperature": Default(0.3, "fakeserve docs: temperature"),
    "generation.top_p": Default(1.0, "fakeserve docs: top_p"),
}
SERVE = EngineSpec(
    name="fake-serve", engine="fake", label="fake serve", namespace="fake",
    fields={"temperature": Field("generation.temperature", range=between(0.0, 2.0)),
            "top_p": Field("generation.top_p", range=between(0.0, 1.0))},
    other_fields=frozenset({"prompt"}), ignored_why="ignored by fakeserve",
    layers=(Layer("fake", DEFAULTS),),
)
SPECS = (SERVE,)
EXTRACTOR = "dg_fake_engine.extractor"
'''

#: Its extractor: finds the spec through the registry, reads a request with the shared engine helpers.
EXTRACTOR_MODULE = '''
from pathlib import Path

from driftguard import engines
from driftguard.extractors import runtime_common as rc
from driftguard.extractors.base import ExtractOptions, KindInfo, ValueBuilder
from driftguard.model import EffectiveConfig

from dg_fake_engine import engine

INFO = KindInfo(kind="fake", description="fakeserve request body", role="deployment", rank=70, engine="fake",
                namespaces=("generation",), defaults=engine.DEFAULTS)


def detect(path: Path, head: bytes) -> bool:
    return path.name.endswith(".fake.json")


def extract(path: Path, options: ExtractOptions) -> EffectiveConfig:
    serve = engines.get("fake-serve")
    doc = rc.load_document(path, options.limits)
    data = rc.require_mapping(doc, "a fakeserve request")
    b = ValueBuilder(INFO.kind, path)
    unknown = rc.flag_unknown(b, doc, "fake", serve.ignored_why, data, "", serve.known)
    used = rc.apply_fields(b, doc, data, "", serve, "request")
    rc.keep_namespaced(b, doc, "fake", data, "", used | unknown, "request")
    rc.fill_layers(b, serve)
    return b.build()
'''

MANIFEST = """\
version: 1
models:
  m:
    training:
      - path: train/generation_config.json
    deployment:
      - path: serve/request.fake.json
"""


def _forget() -> None:
    plugins.clear_cache()
    extractors.clear()


@pytest.fixture
def fake_engine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A distribution on sys.path, as pip installs one: package ``dg_fake_engine`` and its entry points."""
    site = tmp_path / "site"
    pkg = site / "dg_fake_engine"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "engine.py").write_text(textwrap.dedent(ENGINE_MODULE))
    (pkg / "extractor.py").write_text(textwrap.dedent(EXTRACTOR_MODULE))
    functions = "def detect(path, head):\n    return False\ndef extract(path, options):\n    raise AssertionError\n"
    (pkg / "broken.py").write_text("KIND = 'broken'\n" + functions)  # the old loose constants: no INFO
    (pkg / "untyped.py").write_text("INFO = {'kind': 'untyped'}\n" + functions)
    (pkg / "other.py").write_text("from driftguard.extractors.base import KindInfo\n"
                                  "INFO = KindInfo(kind='vllm', description='claims another kind')\n" + functions)
    (pkg / "typo.py").write_text("from driftguard.extractors.base import KindInfo\n"
                                 "INFO = KindInfo(kind='typo', description='x', rankk=10)\n" + functions)
    # Broken engine modules: SPECS one spec instead of a tuple of them, SPECS holding a default table, no
    # EXTRACTOR, and an engine declaring another engine's serving path.
    (pkg / "onespec.py").write_text("from dg_fake_engine.engine import SERVE\nSPECS = SERVE\nEXTRACTOR = None\n")
    (pkg / "tables.py").write_text("from dg_fake_engine.engine import DEFAULTS\nSPECS = (DEFAULTS,)\n"
                                   "EXTRACTOR = None\n")
    (pkg / "nokind.py").write_text("from dg_fake_engine.engine import SPECS\n")
    (pkg / "stolen.py").write_text("from dg_fake_engine.engine import SPECS\nEXTRACTOR = None\n")
    (pkg / "nopath.py").write_text("from dg_fake_engine.engine import SPECS\nEXTRACTOR = ''\n")
    # Launcher modules: one good launcher (its name new, then one of a built-in's name), then broken ones: a list
    # instead of a tuple, an empty tuple, a tuple holding a flag.
    launcher = ("from driftguard.engines.launcher import Flag, Invocation, Launcher\n"
                "FAKE = Launcher('fakeserve', (Invocation(program='fakeserve'),), (), 'fakeserve@0 cli.py', 'fake')\n"
                "VLLM = Launcher('vllm-serve', (Invocation(program='fakeserve'),), (), 'fakeserve@0 cli.py', 'fake')\n")
    (pkg / "launchers.py").write_text(launcher + "LAUNCHERS = (FAKE, VLLM)\n")
    (pkg / "listed.py").write_text(launcher + "LAUNCHERS = [FAKE]\n")
    (pkg / "nolaunchers.py").write_text(launcher + "LAUNCHERS = ()\n")
    (pkg / "flags.py").write_text(launcher + "LAUNCHERS = (FAKE, Flag('x', ('--x',)))\n")
    dist = site / "dg_fake_engine-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: dg-fake-engine\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text(textwrap.dedent("""\
        [driftguard.engines]
        fake = dg_fake_engine.engine
        """))
    monkeypatch.syspath_prepend(str(site))
    _forget()
    project = tmp_path / "project"
    (project / "train").mkdir(parents=True)
    (project / "serve").mkdir()
    (project / "train" / "generation_config.json").write_text(json.dumps({"do_sample": True, "temperature": 0.7}))
    (project / "serve" / "request.fake.json").write_text(json.dumps({"prompt": "hi", "top_p": 1.0}))
    (project / "driftguard.yaml").write_text(MANIFEST)
    yield site
    for name in [m for m in sys.modules if m.startswith("dg_fake_engine")]:
        del sys.modules[name]
    _forget()


def test_the_fake_engine_is_registered_through_one_entry_point(fake_engine: Path) -> None:
    assert engines.ENGINES.names()[-1] == "fake" and list(engines.specs())[-1] == "fake-serve"
    assert engines.get("fake-serve").defaults()["generation.temperature"][0].value == 0.3
    # Its kind comes with it, named as the engine, after the built-in kinds (detection tries those first).
    assert extractors.available_kinds()[-1] == "fake" and "fake" not in extractors.builtin_kinds()
    assert extractors.info("fake").runtime and extractors.info("fake").speaks == ("generation",)


def test_check_finds_drift_through_the_fake_engines_defaults(fake_engine: Path) -> None:
    report = api.check(fake_engine.parent / "project" / "driftguard.yaml", today=_today())
    [model] = report.models
    [drift] = [f for f in model.findings if f.rule == "DG101"]
    assert drift.key == "generation.temperature"
    assert drift.training is not None and drift.training.value == 0.7
    assert drift.deployed is not None and drift.deployed.value == 0.3
    assert drift.deployed.origin.source == "fake default" and not drift.deployed.explicit
    assert not report.ok


def test_the_cli_finds_it_too(fake_engine: Path) -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(fake_engine), str(ROOT)])}
    res = subprocess.run([sys.executable, "-m", "driftguard", "check", "--format", "json", "--today", TODAY],
                         cwd=fake_engine.parent / "project", env=env, capture_output=True, text=True, timeout=120)
    assert res.returncode == 1, res.stderr
    findings = json.loads(res.stdout)["models"][0]["findings"]
    [drift] = [f for f in findings if f["rule"] == "DG101"]
    assert drift["key"] == "generation.temperature"
    assert (drift["training"], drift["deployed"]) == (0.7, 0.3)
    assert drift["deployed_origin"]["source"] == "fake default" and drift["deployed_how"] == "default"


def _install(site: Path, entry_points: str) -> None:
    """A second distribution beside the fake engine's, of broken plug-ins."""
    broken = site / "dg_broken_plugins-0.1.dist-info"
    broken.mkdir()
    (broken / "METADATA").write_text("Metadata-Version: 2.1\nName: dg-broken-plugins\nVersion: 0.1\n")
    (broken / "entry_points.txt").write_text(textwrap.dedent(entry_points))
    _forget()


def test_an_extractor_plug_in_without_a_valid_kind_info_is_a_load_error_naming_it(fake_engine: Path) -> None:
    _install(fake_engine, """\
        [driftguard.extractors]
        broken = dg_fake_engine.broken
        untyped = dg_fake_engine.untyped
        other = dg_fake_engine.other
        typo = dg_fake_engine.typo
        """)
    with pytest.raises(PluginLoadError, match=r"driftguard.extractors 'broken = dg_fake_engine.broken' is not a "
                                              r"module with INFO, detect, extract \(it lacks INFO\)"):
        extractors.get("broken")
    with pytest.raises(PluginLoadError, match=r"'untyped = dg_fake_engine.untyped' is not a module whose INFO is a "
                                              r"driftguard.extractors.base.KindInfo"):
        extractors.info("untyped")
    with pytest.raises(PluginLoadError, match=r"'other = dg_fake_engine.other' is not the extractor of 'other': its "
                                              r"INFO.kind is 'vllm'"):
        extractors.get("other")
    # A misspelled field is no silent default (the old RANKK = 10 became rank 45): the module fails to load.
    with pytest.raises(PluginLoadError, match=r"'typo = dg_fake_engine.typo' failed to load: TypeError: .*rankk"):
        extractors.get("typo")
    # The built-ins and the fake engine's kind are untouched.
    assert extractors.get("vllm").INFO.kind == "vllm" and extractors.get("fake").INFO.kind == "fake"


def test_an_engine_plug_in_with_wrong_specs_is_a_load_error_naming_it(fake_engine: Path) -> None:
    _install(fake_engine, """\
        [driftguard.engines]
        onespec = dg_fake_engine.onespec
        tables = dg_fake_engine.tables
        nokind = dg_fake_engine.nokind
        stolen = dg_fake_engine.stolen
        borrowed = dg_fake_engine.stolen
        nopath = dg_fake_engine.nopath
        notamodule = dg_fake_engine.engine:SERVE
        """)
    with pytest.raises(PluginLoadError, match=r"driftguard.engines 'onespec = dg_fake_engine.onespec' is not a module "
                                              r"whose SPECS is a non-empty tuple of driftguard.engines.spec.EngineSpec "
                                              r"\(it is a EngineSpec\)"):
        engines.engine("onespec")
    with pytest.raises(PluginLoadError, match=r"'tables = dg_fake_engine.tables' is not a module whose SPECS is .* "
                                              r"\(it holds a dict\)"):
        engines.engine("tables")
    with pytest.raises(PluginLoadError, match=r"'nokind = dg_fake_engine.nokind' is not a module with SPECS, "
                                              r"EXTRACTOR \(it lacks EXTRACTOR\)"):
        engines.engine("nokind")
    with pytest.raises(PluginLoadError, match=r"'stolen = dg_fake_engine.stolen' is not the engine 'stolen': its "
                                              r"serving path 'fake-serve' is of engine 'fake'"):
        engines.engine("stolen")
    # A name that sorts before the spec's engine ('borrowed' < 'fake') is refused as well.
    with pytest.raises(PluginLoadError, match=r"'borrowed = dg_fake_engine.stolen' is not the engine 'borrowed': "
                                              r"its serving path 'fake-serve' is of engine 'fake'"):
        engines.engine("borrowed")
    # EXTRACTOR names a module path: an empty string is none.
    with pytest.raises(PluginLoadError, match=r"'nopath = dg_fake_engine.nopath' is not a module whose EXTRACTOR is a "
                                              r"module path or None \(it is a str\)"):
        engines.engine("nopath")
    with pytest.raises(PluginLoadError, match=r"'notamodule = dg_fake_engine.engine:SERVE' is not a module"):
        engines.engine("notamodule")
    # A built-in serving path never loads a plug-in; listing every path or kind does, and names the broken one
    # (a broken installation, exit 3), never skips it.
    assert engines.get("vllm-serve").engine == "vllm"
    with pytest.raises(PluginLoadError, match=r"'onespec = dg_fake_engine.onespec'"):
        engines.specs()
    with pytest.raises(PluginLoadError, match=r"'onespec = dg_fake_engine.onespec'"):
        extractors.available_kinds()


def test_a_launcher_plug_in_comes_after_the_built_ins_and_a_broken_one_is_a_load_error(fake_engine: Path) -> None:
    _install(fake_engine, """\
        [driftguard.launchers]
        fake = dg_fake_engine.launchers
        listed = dg_fake_engine.listed
        nolaunchers = dg_fake_engine.nolaunchers
        flags = dg_fake_engine.flags
        """)
    assert engines.LAUNCHERS.load("fake").LAUNCHERS[0].name == "fakeserve"
    what = r"is not a module whose LAUNCHERS is a non-empty tuple of driftguard.engines.launcher.Launcher"
    for name in ("listed", "nolaunchers", "flags"):
        with pytest.raises(PluginLoadError, match=rf"'{name} = dg_fake_engine.{name}' {what}"):
            engines.LAUNCHERS.load(name)
    with pytest.raises(PluginLoadError, match=r"'listed = dg_fake_engine.listed'"):
        engines.launchers()  # every family is loaded: a broken one is named, never skipped


def test_a_launcher_plug_in_is_listed_after_the_built_ins_whose_names_win(fake_engine: Path) -> None:
    _install(fake_engine, """\
        [driftguard.launchers]
        fake = dg_fake_engine.launchers
        """)
    listed = engines.launchers()
    assert listed[-1].name == "fakeserve" and listed[-1].source == "fakeserve@0 cli.py"
    [vllm] = [x for x in listed if x.name == "vllm-serve"]
    assert vllm.engine == "vllm" and vllm is listed[0]  # the built-in vllm-serve, not the plug-in's


def _today() -> date:
    from driftguard.clock import parse

    return parse(TODAY)
