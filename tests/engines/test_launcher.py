"""engines.launcher: the launcher records, and the LAUNCHERS registry (one line per launcher module)."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from pathlib import Path

import pytest

from driftguard import engines
from driftguard.engines.launcher import Derived, Flag, Invocation, Launcher

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


def test_only_a_bool_optional_flag_or_an_optional_boolean_takes_a_no_prefix() -> None:
    """argparse's BooleanOptionalAction adds ``--no-<name>``; an optional-valued boolean reads the same way;
    no other action or type has a negative spelling. The action and type compare by value: a table read from a
    file (a plug-in's) holds strings that are equal to these, not the same objects."""
    def built(text: str) -> str:
        return "".join(list(text))  # an equal string, not the interned literal

    toggle = Flag("cache", ("--cache",), action=built("bool_optional"))  # type: ignore[arg-type]
    maybe = Flag("trust", ("--trust",), action=built("optional"), type=built("bool"))  # type: ignore[arg-type]
    refused = [Flag("tags", ("--tags",), action="append"), Flag("ids", ("--ids",), action="nargs", type="bool"),
               Flag("fast", ("--fast",), type="bool"), Flag("name", ("--name",), action="optional"),
               Flag("path", ("--path",), action="optional", type="json")]
    demo = _launcher(toggle, maybe, *refused)
    assert demo.flag("--no-cache") is toggle and demo.flag("--no-trust") is maybe
    for f in refused:
        assert demo.flag("--no-" + f.dest) is None, f


def test_abbreviations_need_at_least_one_letter_after_the_dashes() -> None:
    """argparse reads a bare ``--`` as the end of the options, never as a prefix of every long option; one
    letter is a prefix already (``--t`` for the only flag starting with t)."""
    size = Flag("tp_size", ("--tp-size",), type="int")
    demo = Launcher("demo", (Invocation(program="demo"),), (size,), "nowhere@0 demo.py", "demo", abbreviations=True)
    assert demo.flag("--") is None
    assert demo.flag("--t") is size


def test_an_invocation_names_exactly_one_way_to_start() -> None:
    with pytest.raises(ValueError, match="exactly one"):
        Invocation()
    with pytest.raises(ValueError, match="exactly one"):
        Invocation(program="a", module="b", script="c")


def test_record_defaults_and_the_derived_spelling_table() -> None:
    flag = Flag("x", ("--x",))
    assert (flag.action, flag.type, flag.file, flag.also, flag.key, flag.default) == ("store", "str", False, False,
                                                                                     None, None)
    plain = Launcher("demo", (Invocation(program="demo"),), (Flag("max_len", ("--max-len",)),), "nowhere@0 demo.py",
                     "demo")
    assert not plain.underscores and not plain.abbreviations and plain.parser == "argparse"
    assert plain.flag("--max_len") is None and plain.flag("--max") is None
    # The table of spellings is derived from the flags: never given, never shown.
    assert "_by_spelling" not in repr(plain)
    with pytest.raises(TypeError):
        Launcher("demo", (Invocation(program="demo"),), (), "nowhere@0 demo.py", "demo",
                 _by_spelling={})  # type: ignore[call-arg]  # the refusal under test


def test_the_records_are_frozen() -> None:
    derived = Derived("serving.max_model_len", 4096, ("ctx_size",), "llama-server: n_ctx / n_parallel")
    assert derived.value == 4096 and derived.sources == ("ctx_size",)
    launcher = _launcher(Flag("x", ("--x",)))
    for record, name in ((Flag("x", ("--x",)), "dest"), (Invocation(program="demo"), "program"),
                         (launcher, "name"), (derived, "key")):
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(record, name, "other")
