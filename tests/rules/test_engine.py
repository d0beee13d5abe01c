"""The rule engine: which rules run, in what order, with which severity; a crashing rule is RuleCrashed;
third-party rules arrive through the ``driftguard.rules`` entry point (a real dist-info on sys.path)."""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from driftguard import plugins
from driftguard.errors import DriftguardError, UsageError
from driftguard.gate.catalog import explain
from driftguard.model import EffectiveConfig, Finding, Origin, Value
from driftguard.registry import PluginLoadError
from driftguard.rules import RULES, load_rules
from driftguard.rules.base import Rule, RuleContext, Side
from driftguard.rules.engine import RuleCrashed, pairwise_codes, run_rules, selected_rules


def _side(name: str, values: dict[str, object]) -> Side:
    path = f"{name}/config.json"
    vals = {k: Value(v, Origin(path, i + 1)) for i, (k, v) in enumerate(values.items())}
    return Side(name, (EffectiveConfig("test", path, vals),), vals)


def _ctx(training: dict[str, object], deployed: dict[str, object]) -> RuleContext:
    return RuleContext("summarizer", _side("training", training), _side("deployment", deployed))


def register(monkeypatch: pytest.MonkeyPatch, code: str, cls: str) -> None:
    """Register this module's rule class ``cls`` as built-in ``code`` for one test (the registry forgets it
    after)."""
    monkeypatch.setitem(RULES.builtins, code, f"{__name__}:{cls}")
    RULES.clear()
    monkeypatch.setattr(RULES, "_loaded", {})


# The summarizer incident plus a few policy problems: several rules fire at once.
CTX = _ctx(
    {"generation.top_p": 0.92, "generation.do_sample": False, "generation.temperature": 0.7,
     "preprocessing.max_length": 1024, "precision.weights": "fp32"},
    {"generation.top_p": 0.85, "generation.temperature": -1.0, "preprocessing.max_length": 512,
     "precision.weights": "int8"},
)


class Crashing(Rule):
    """Crashes.

    **Anti-pattern** none. **Best practice** none.
    """

    code = "DG990"
    name = "test.crashing"

    def check(self, ctx: RuleContext) -> Iterator[Finding]:
        raise ZeroDivisionError("boom")


class YieldsJunk(Rule):
    """Yields a string. **Anti-pattern** x **Best practice** y"""

    code = "DG991"
    name = "test.junk"

    def check(self, ctx: RuleContext) -> Iterator[Finding]:
        yield "not a finding"  # type: ignore[misc]  # deliberately wrong, the engine must catch it


class OptIn(Rule):
    """Reads weights. **Anti-pattern** x **Best practice** y"""

    code = "DG992"
    name = "test.opt-in"
    opt_in = True

    def check(self, ctx: RuleContext) -> Iterator[Finding]:
        yield self.finding("model.weights.fingerprint", "opt-in ran")


def test_findings_sorted_by_code_and_key_and_stamped_with_model() -> None:
    findings = run_rules(CTX)
    pairs = [(f.rule, f.key) for f in findings]
    assert pairs == sorted(pairs)
    assert ("DG101", "generation.top_p") in pairs
    assert ("DG101", "preprocessing.max_length") in pairs
    assert ("DG301", "generation.temperature") in pairs
    assert ("DG303", "generation.temperature") in pairs
    assert all(f.model == "summarizer" for f in findings)
    assert all(type(f) is Finding for f in findings)  # what was seen: the verdict is the approvals' (Judged)
    top_p = next(f for f in findings if f.rule == "DG101" and f.key == "generation.top_p")
    assert top_p.training is not None and top_p.training.value == 0.92
    assert top_p.deployed is not None and top_p.deployed.origin.location() == "deployment/config.json:1"


def test_run_is_deterministic() -> None:
    assert run_rules(CTX) == run_rules(CTX)


def test_select_by_code_and_glob() -> None:
    assert {f.rule for f in run_rules(CTX, select=["DG101"])} == {"DG101"}
    assert {f.rule for f in run_rules(CTX, select=["dg3*"])} == {"DG301", "DG303"}
    assert run_rules(CTX, select=[]) == []


def test_unknown_codes_are_usage_errors() -> None:
    with pytest.raises(UsageError, match="DG999"):
        run_rules(CTX, select=["DG999"])
    with pytest.raises(UsageError, match="DG998"):
        run_rules(CTX, severity_overrides={"DG998": "warning"})
    with pytest.raises(UsageError, match="loud"):
        run_rules(CTX, severity_overrides={"DG101": "loud"})


def test_severity_overrides() -> None:
    findings = run_rules(CTX, severity_overrides={"DG101": "warning", "DG3*": "off"})
    assert {f.severity for f in findings if f.rule == "DG101"} == {"warning"}
    assert not [f for f in findings if f.rule.startswith("DG3")]
    assert {f.severity for f in findings if f.rule == "DG102"} == {"error"}


def test_crashing_rule_raises_rule_crashed(monkeypatch: pytest.MonkeyPatch) -> None:
    register(monkeypatch, "DG990", "Crashing")
    with pytest.raises(RuleCrashed) as info:
        run_rules(CTX)
    assert info.value.code == "DG990"
    assert isinstance(info.value.exc, ZeroDivisionError)
    assert not isinstance(info.value, DriftguardError)  # a bug, never an input error


def test_rule_yielding_junk_is_a_crash(monkeypatch: pytest.MonkeyPatch) -> None:
    register(monkeypatch, "DG991", "YieldsJunk")
    with pytest.raises(RuleCrashed, match="DG991"):
        run_rules(CTX)


def test_opt_in_rules_run_only_when_enabled(monkeypatch: pytest.MonkeyPatch) -> None:
    register(monkeypatch, "DG992", "OptIn")
    assert "DG992" not in {cls.code for cls, _ in selected_rules()}
    assert not [f for f in run_rules(CTX) if f.rule == "DG992"]
    assert [f.key for f in run_rules(CTX, enable=["DG992"]) if f.rule == "DG992"] == ["model.weights.fingerprint"]


# --- entry points: a real installed-distribution record on sys.path -------------------------------------

PLUGIN = '''
from driftguard.rules.base import Rule


class PluginRule(Rule):
    """A third-party rule.

    **Anti-pattern** a thing. **Best practice** another thing.
    """

    code = "DG901"
    name = "plugin.example"
    severity = "info"

    def check(self, ctx):
        yield self.finding("model.type", "plugin ran")


class PluginCrash(Rule):
    """Crashes. **Anti-pattern** x **Best practice** y"""

    code = "DG902"
    name = "plugin.crash"

    def check(self, ctx):
        raise RuntimeError("plugin bug")
'''


def make_plugin(root: Path, entry_points: str) -> Path:
    """A module plus a ``.dist-info`` declaring ``driftguard.rules`` entry points, as pip would install it."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "dg_plugin_rules.py").write_text(textwrap.dedent(PLUGIN), encoding="utf-8")
    info = root / "dg_plugin_rules-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: dg-plugin-rules\nVersion: 0.1\n", encoding="utf-8")
    (info / "entry_points.txt").write_text("[driftguard.rules]\n" + entry_points, encoding="utf-8")
    return root


@pytest.fixture
def plugin_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    RULES.clear()
    plugins.clear_cache()
    yield tmp_path / "site"
    monkeypatch.undo()
    sys.modules.pop("dg_plugin_rules", None)
    RULES.clear()
    plugins.clear_cache()


def test_entry_point_rules_are_loaded_and_run(plugin_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    make_plugin(plugin_path, "DG901 = dg_plugin_rules:PluginRule\n")
    monkeypatch.syspath_prepend(str(plugin_path))
    loaded = load_rules()
    assert loaded["DG901"].name == "plugin.example"
    assert set(RULES) <= set(loaded)
    assert [f.message for f in run_rules(CTX, select=["DG901"])] == ["plugin ran"]
    assert "plugin.example" in explain("DG901")


def test_crashing_entry_point_rule_raises_rule_crashed(plugin_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    make_plugin(plugin_path, "DG902 = dg_plugin_rules:PluginCrash\n")
    monkeypatch.syspath_prepend(str(plugin_path))
    with pytest.raises(RuleCrashed, match="plugin bug"):
        run_rules(CTX)


def test_broken_entry_point_is_a_load_error(plugin_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    make_plugin(plugin_path, "DG903 = dg_plugin_rules:Missing\n")
    monkeypatch.syspath_prepend(str(plugin_path))
    with pytest.raises(PluginLoadError, match="DG903"):
        load_rules()


def test_an_entry_point_is_named_by_its_rules_code(plugin_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    make_plugin(plugin_path, "myrule = dg_plugin_rules:PluginRule\n")
    monkeypatch.syspath_prepend(str(plugin_path))
    with pytest.raises(PluginLoadError, match="'myrule' is the rule DG901: name the entry point by the rule's code"):
        load_rules()


def test_diff_runs_the_pairwise_rules_of_checks_own_selection() -> None:
    """``driftguard diff`` runs the rules of ``check``'s default selection that declare ``pairwise``: one
    selection, so a rule ``check`` runs by default is in ``diff`` exactly when it relates the two sides."""
    assert pairwise_codes() == [cls.code for cls, _ in selected_rules() if cls.pairwise]
    assert pairwise_codes() == ["DG101", "DG102", "DG104", "DG105", "DG106", "DG107", "DG108", "DG216", "DG217",
                              "DG304"]


#: Rules whose place in ``diff`` is not what their cases show, and why. DG103 relates the sides but judges what a
#: whole side leaves unset: in ``diff`` a side is one file, and a key a file leaves unset may be stated by the
#: side's other files (a model folder, engine args). DG304 judges each file alone, but runs in ``diff`` too: a
#: field the engine ignores (a typo) would otherwise hide a difference.
DIFF_EXCEPTIONS = {"DG103": False, "DG304": True}


def _relates_the_sides(code: str) -> bool:
    """True when some case of the rule's case file finds something that neither side alone gives: the rule
    relates what the two sides state, so a check of two artifacts needs it."""
    from tests.rules.test_rules_cases import CASES, _load, context_from

    def seen(case: dict[str, object]) -> list[tuple[str, str, str]]:
        found = run_rules(context_from(case), select=[code], enable=[code])
        return sorted((f.key, f.message, str(f.severity)) for f in found)

    for case in _load(CASES / f"{code}.yaml")["cases"]:
        alone = seen({**case, "deployed": {}}) + seen({**case, "training": {}})
        if seen(case) != sorted(alone):
            return True
    return False


@pytest.mark.parametrize("code", sorted(RULES))
def test_every_rule_relating_the_sides_runs_in_diff_as_in_check(code: str) -> None:
    cls = RULES[code]
    if cls.opt_in:  # in neither by default (DG401 reads every tensor): enabled in check's manifest only
        assert code not in pairwise_codes()
        return
    assert code in [c.code for c, _ in selected_rules()]  # check runs every rule that is not opt-in
    expected = DIFF_EXCEPTIONS.get(code, _relates_the_sides(code))
    assert (code in pairwise_codes()) == expected, f"{code}: pairwise should be {expected}"


class FindsBadInput(Rule):
    """A rule that meets unreadable input while checking (a weights file that cannot be read).

    **Anti-pattern**

    n/a (test double)

    **Best practice**

    n/a (test double)
    """

    code = "DG992"
    name = "test.bad-input"

    def check(self, ctx: RuleContext) -> Iterator[Finding]:
        from driftguard.errors import ExtractionError

        raise ExtractionError("cannot read weights", "model.onnx", 3)


def test_input_error_inside_a_rule_stays_an_input_error(monkeypatch: pytest.MonkeyPatch) -> None:
    register(monkeypatch, "DG992", "FindsBadInput")
    with pytest.raises(DriftguardError) as info:
        run_rules(CTX)
    assert not isinstance(info.value, RuleCrashed)
    assert str(info.value) == "model.onnx:3: cannot read weights"


def test_bookkeeping_keys_are_not_compared() -> None:
    ctx = _ctx({"model.weights.count": 3, "model.weights.parameters": 100, "model.num_labels": 2},
               {"model.weights.count": 7, "model.weights.parameters": 104, "model.num_labels": 3})
    assert [f.key for f in run_rules(ctx, select=["DG101"])] == ["model.num_labels"]
