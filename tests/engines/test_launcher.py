"""engines.launcher: the launcher records, and the LAUNCHERS registry (one line per launcher module)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from driftguard import engines
from driftguard.engines.launcher import Flag, Invocation, Launcher

ROOT = Path(__file__).resolve().parents[2]


def _launcher(*flags: Flag, underscores: bool = False) -> Launcher:
    return Launcher("demo", (Invocation(program="demo"),), flags, "nowhere@0 demo.py", "demo", underscores=underscores)


def test_flag_lookup_by_spelling_underscores_and_no_prefix() -> None:
    ln = Flag("max_len", ("--max-len", "-m"), type="int")
    cache = Flag("cache", ("--cache",), action="bool_optional")
    eager = Flag("eager", ("--eager",), action="store_true")
    demo = _launcher(ln, cache, eager, underscores=True)
    assert demo.flag("--max-len") is ln and demo.flag("-m") is ln and demo.flag("--max_len") is ln
    assert demo.flag("--no-cache") is cache and demo.flag("--no-eager") is None
    assert _launcher(ln).flag("--max_len") is None  # clap and plain argparse take no underscores
    assert demo.spellings() == ["--max-len", "--cache", "--eager"] and demo.by_dest()["eager"] is eager
    assert ln.takes_value and not eager.takes_value


def test_abbreviations_and_positional_only_flags() -> None:
    size, sched = Flag("tp_size", ("--tp-size",), type="int"), Flag("schedule", ("--schedule-policy",))
    conservative = Flag("conservativeness", ("--schedule-conservativeness",))
    model = Flag("model", (), key="model.source")  # a positional: no option spells it
    demo = Launcher("demo", (Invocation(program="demo", positionals=("model",)),), (size, sched, conservative, model),
                    "nowhere@0 demo.py", "demo", underscores=True, abbreviations=True)
    assert demo.flag("--tp") is size and demo.flag("--tp_s") is size  # argparse allow_abbrev
    assert demo.flag("--schedule-p") is sched and demo.flag("--schedule") is None  # ambiguous: no flag
    assert demo.flag("--model") is None and demo.by_dest()["model"] is model
    assert _launcher(size).flag("--tp") is None  # clap and click take whole names only


def test_records_refuse_what_no_parser_has() -> None:
    with pytest.raises(ValueError, match="spellings"):
        Flag("x", ("x",))
    with pytest.raises(ValueError, match="action"):
        Flag("x", ("--x",), action="count")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="exactly one"):
        Invocation(program="a", module="b")
    with pytest.raises(ValueError, match="spelled by both"):
        _launcher(Flag("a", ("--a",)), Flag("b", ("--a",)))


def test_invocations_are_shown_as_people_type_them() -> None:
    assert Invocation(program="vllm", subcommand=("serve",)).shown() == "vllm serve"
    assert Invocation(module="vllm.entrypoints.openai.api_server").shown() == \
        "python -m vllm.entrypoints.openai.api_server"
    assert Invocation(script="convert_checkpoint.py").shown() == "python convert_checkpoint.py"


def test_registry_lists_every_launcher_of_every_module_in_order() -> None:
    assert engines.LAUNCHERS.names()[:2] == ["vllm", "tgi"]
    names = [x.name for x in engines.launchers()]
    assert names[:2] == ["vllm-serve", "text-generation-launcher"]
    for launcher in engines.launchers():
        assert "@" in launcher.source  # repository@commit path symbol
        if launcher.serving is not None:
            assert engines.find(launcher.serving) is not None, launcher.name
        for f in launcher.flags:
            assert f.key is None or f.key.startswith(launcher.namespace + ".") or "." in f.key


def test_the_records_are_re_exported_but_imported_only_on_first_use() -> None:
    """``driftguard.engines`` names Flag, Invocation and Launcher without importing the launcher tables: a check
    of model files and requests reads no launch command (tests/test_light_import.py checks a whole run)."""
    probe = ("import sys\nimport driftguard.engines as e\n"
             "before = 'driftguard.engines.launcher' in sys.modules\n"
             "from driftguard.engines import launcher\n"
             "print(before, e.Launcher is launcher.Launcher, e.Flag is launcher.Flag,\n"
             "      e.Invocation is launcher.Invocation)")
    res = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60,
                         env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert res.stdout.split() == ["False", "True", "True", "True"], res.stderr
    with pytest.raises(AttributeError, match=r"module 'driftguard\.engines' has no attribute 'Spec'"):
        engines.Spec  # noqa: B018
