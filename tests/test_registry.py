"""The one registry shape (``driftguard.registry``): lazy references, entry points added after built-ins, a
built-in winning a clash, one load error naming the plug-in."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

from driftguard import plugins
from driftguard.registry import PluginLoadError, Ref, Registry, module_with, subclass_of


@pytest.fixture
def plugin_dist(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """A distribution on sys.path with entry points in group ``driftguard.testkind``."""
    pkg = tmp_path / "fakeplug.py"
    pkg.write_text(textwrap.dedent("""
        VALUE = 7
        class Thing(int):
            pass
        def broken():
            pass
    """))
    meta = tmp_path / "fakeplug-1.0.dist-info"
    meta.mkdir()
    (meta / "METADATA").write_text("Metadata-Version: 2.1\nName: fakeplug\nVersion: 1.0\n")
    (meta / "entry_points.txt").write_text(textwrap.dedent("""
        [driftguard.testkind]
        seven = fakeplug:VALUE
        mod = fakeplug
        clash = fakeplug:VALUE
        missing = fakeplug_nowhere:VALUE
        cls = fakeplug:Thing
    """))
    monkeypatch.syspath_prepend(str(tmp_path))
    plugins.clear_cache()
    yield
    sys.modules.pop("fakeplug", None)
    plugins.clear_cache()


def test_builtins_first_then_entry_points_and_a_builtin_wins_a_clash(plugin_dist: None) -> None:
    reg: Registry[object] = Registry("driftguard.testkind", {"clash": "json:dumps", "path": "os.path"},
                                     lambda o: o)
    assert reg.names() == ["clash", "path", "seven", "mod", "missing", "cls"]
    import json

    assert reg.load("clash") is json.dumps
    assert reg.load("seven") == 7 and reg["seven"] == 7
    assert "seven" in reg and "nothing" not in reg and 3 not in reg
    assert reg.get("nothing") is None
    assert [r.builtin for r in reg.refs()] == [True, True, False, False, False, False]


def test_one_load_error_names_group_name_and_reference(plugin_dist: None) -> None:
    reg: Registry[object] = Registry("driftguard.testkind", {}, lambda o: o)
    with pytest.raises(PluginLoadError, match=r"driftguard.testkind 'missing = fakeplug_nowhere:VALUE' failed to "
                                              r"load: ModuleNotFoundError"):
        reg.load("missing")
    with pytest.raises(KeyError, match="registered: seven, mod, clash, missing, cls"):
        reg.load("nothing")


def test_accept_refuses_what_the_registry_does_not_hold(plugin_dist: None) -> None:
    def an_int(obj: object) -> int:  # an accept of the registry's own: what it holds, or TypeError saying so
        if not isinstance(obj, int):
            raise TypeError("a int")
        return obj

    ints = Registry("driftguard.testkind", {}, an_int)
    assert ints.load("seven") == 7
    with pytest.raises(PluginLoadError, match="'mod = fakeplug' is not a int"):
        ints.load("mod")
    modules = Registry("driftguard.testkind", {}, module_with("VALUE", "absent"))
    with pytest.raises(PluginLoadError, match=r"is not a module with VALUE, absent \(it lacks absent\)"):
        modules.load("mod")
    classes = Registry("driftguard.testkind", {}, subclass_of(int))
    assert classes.load("cls").__name__ == "Thing"
    with pytest.raises(PluginLoadError, match="is not a subclass of int"):
        classes.load("seven")


def test_nothing_is_imported_until_loaded(plugin_dist: None) -> None:
    reg: Registry[object] = Registry("driftguard.testkind", {}, lambda o: o)
    assert "seven" in reg
    assert "fakeplug" not in sys.modules
    reg.load("seven")
    assert "fakeplug" in sys.modules
    reg.clear()
    assert reg.names()[0] == "seven"


def test_derived_plug_ins_follow_the_table_and_precede_the_entry_points(plugin_dist: None) -> None:
    """What another registry declares for this one (an engine's request kind): after the built-in table, before
    this group's entry points; the first of a name wins; asked once until ``clear()``."""
    calls: list[int] = []

    def derived() -> list[Ref]:
        calls.append(1)
        return [Ref("path", "json:loads"), Ref("extra", "json:loads"), Ref("later", "os.path", builtin=False),
                Ref("seven", "json:loads", builtin=False)]

    reg: Registry[object] = Registry("driftguard.testkind", {"path": "os.path"}, lambda o: o, derived=derived)
    assert reg.names() == ["path", "extra", "later", "seven", "mod", "clash", "missing", "cls"]
    assert [r.builtin for r in reg.refs()][:4] == [True, True, False, False]
    import json
    import os

    assert reg.load("path") is os.path and reg.load("extra") is json.loads and reg.load("seven") is json.loads
    assert "later" in reg and len(calls) == 1
    reg.clear()
    assert reg.ref("extra") == Ref("extra", "json:loads") and len(calls) == 2


def test_a_table_edited_after_a_load_serves_the_new_reference() -> None:
    reg: Registry[object] = Registry("driftguard.testkind.none", {"x": "json:dumps"}, lambda o: o)
    import json

    assert reg.load("x") is json.dumps
    reg.builtins["x"] = "json:loads"
    assert reg.load("x") is json.loads
    del reg.builtins["x"]
    assert reg.get("x") is None


#: Registry names whose module is named otherwise, and why.
OTHER_MODULE_NAMES = {
    # a submodule named ``callable`` would shadow the builtin in its package (runners/__init__ calls callable())
    ("driftguard.parity.runners", "callable"): "python_callable",
}


def test_a_plug_ins_module_is_named_as_it_is_registered() -> None:
    """Name found in one hop: kind ``onnx`` is ``extractors/onnx.py``, runner ``onnxruntime`` is
    ``parity/runners/onnxruntime.py``, format ``json`` is ``reporters/json.py`` (rules are registered by code and
    live in their family's module)."""
    from driftguard import engines, extractors, reporters
    from driftguard.parity import runners

    for reg in (extractors.EXTRACTORS, engines.ENGINES, reporters.REPORTERS, runners.RUNNERS):
        for ref in reg.refs():
            if not ref.builtin:
                continue
            expected = OTHER_MODULE_NAMES.get((reg.group, ref.name), ref.name.replace("-", "_"))
            assert ref.module.rsplit(".", 1)[1] == expected, (reg.group, ref.name, ref.target)
