"""The callable runner (``runner: callable``, ``parity.runners.python_callable``): the user's
``module:function(inputs, config) -> outputs``. Expected values by hand from the README's runner table (a batch
and the side's effective config ``{canonical key: value}`` in; the keys listed under ``applies:`` or set as the
function's ``applies`` attribute applied) and the module's documented contract (a dict of arrays, or one array
named ``output``; what the function raised, as a ParityError naming it)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from driftguard.parity.errors import ParityError
from driftguard.parity.runners import make
from driftguard.parity.runners.base import RunnerConfig
from driftguard.parity.runners.python_callable import CallableRunner, CallableSettings

FNS = '''
import numpy as np
from driftguard.parity.errors import ParityError


def echo(inputs, config):
    n = len(config)
    config["seen"] = True  # the runner hands each call its own copy
    return {"y": np.asarray(inputs["x"]) + 1, "n": np.asarray(n)}


def pair(inputs, config):
    return np.zeros(2), np.ones(3)


def declares(inputs, config):
    return np.zeros(1)


declares.applies = ("generation.top_k", "generation.temperature")


def declares_none(inputs, config):
    return np.zeros(1)


declares_none.applies = None


def multiline(inputs, config):
    raise ValueError("  first line\\nsecond line  ")


def empty(inputs, config):
    raise KeyError()


def blank(inputs, config):
    raise RuntimeError("   ")


def long(inputs, config):
    raise RuntimeError("x" * 400)


def parity(inputs, config):
    raise ParityError("the user's own words", "their.file")
'''


def runner(tmp_path: Path, function: str | None, config: dict[str, Any] | None = None, **settings: Any) -> Any:
    (tmp_path / "fns.py").write_text(FNS, encoding="utf-8")
    cfg = RunnerConfig("callable", CallableSettings(function=function, **settings), tmp_path)
    return make(cfg, config or {})


def started(tmp_path: Path, name: str, config: dict[str, Any] | None = None, **settings: Any) -> Any:
    r = runner(tmp_path, f"fns.py:{name}", config, **settings)
    r.setup()
    return r


def test_the_callable_runner_runs_no_artifact_and_needs_a_function(tmp_path: Path) -> None:
    assert CallableRunner.runs_artifact is False
    assert CallableRunner.Settings is CallableSettings
    with pytest.raises(ParityError, match="the callable runner needs 'function: module:function'"):
        runner(tmp_path, None)
    with pytest.raises(ParityError, match="needs 'function"):
        runner(tmp_path, "")


def test_describe_names_the_function(tmp_path: Path) -> None:
    assert runner(tmp_path, "fns.py:echo").describe() == "callable:fns.py:echo"


def test_run_passes_the_batch_and_a_copy_of_the_config(tmp_path: Path) -> None:
    config = {"generation.temperature": 0.5, "generation.top_k": 40}
    r = started(tmp_path, "echo", config)
    config["later"] = 1  # the runner took its own copy when made
    for _ in range(2):  # each call gets a fresh copy: the function's own change to it is not seen again
        out = r.run({"x": np.array([1.0, 2.0])})
        assert sorted(out) == ["n", "y"]
        assert out["y"].tolist() == [2.0, 3.0] and int(out["n"]) == 2
    assert r.config == {"generation.temperature": 0.5, "generation.top_k": 40}


def test_a_tuple_result_is_named_by_outputs_or_output_n(tmp_path: Path) -> None:
    out = started(tmp_path, "pair").run({})
    assert {k: v.shape for k, v in out.items()} == {"output": (2,), "output_1": (3,)}
    out = started(tmp_path, "pair", outputs=("a", "b")).run({})
    assert {k: v.shape for k, v in out.items()} == {"a": (2,), "b": (3,)}
    with pytest.raises(ParityError, match=r"function 'fns\.py:pair' returned 2 outputs but 1 are named"):
        started(tmp_path, "pair", outputs=("a",)).run({})


def test_applies_the_listed_keys_and_the_declared_ones(tmp_path: Path) -> None:
    r = runner(tmp_path, "fns.py:declares", applies=("generation.temperature", "sampling.seed"))
    assert r.applies == frozenset({"generation.temperature", "sampling.seed"})  # before set-up: the listed ones
    r.setup()
    assert r.applies == frozenset({"generation.temperature", "sampling.seed", "generation.top_k"})
    assert started(tmp_path, "declares").applies == frozenset({"generation.top_k", "generation.temperature"})
    assert started(tmp_path, "echo", applies=("a.b",)).applies == frozenset({"a.b"})
    assert started(tmp_path, "declares_none", applies=("a.b",)).applies == frozenset({"a.b"})
    assert started(tmp_path, "echo").applies == frozenset()


def test_what_the_function_raised_is_one_line_naming_it(tmp_path: Path) -> None:
    def message(name: str) -> str:
        with pytest.raises(ParityError) as info:
            started(tmp_path, name).run({})
        return info.value.message

    assert message("multiline") == "function 'fns.py:multiline' raised ValueError: first line"
    assert message("blank") == "function 'fns.py:blank' raised RuntimeError: "
    assert message("empty") == "function 'fns.py:empty' raised KeyError: "
    long = message("long")
    assert long.startswith("function 'fns.py:long' raised RuntimeError: xxx") and len(long) < 400


def test_a_parity_error_of_the_function_is_kept_as_it_is(tmp_path: Path) -> None:
    with pytest.raises(ParityError) as info:
        started(tmp_path, "parity").run({})
    assert (info.value.message, info.value.path) == ("the user's own words", "their.file")


def test_teardown_forgets_the_function(tmp_path: Path) -> None:
    r = started(tmp_path, "echo")
    assert r.func is not None
    r.teardown()
    assert r.func is None
    with pytest.raises(AssertionError):
        r.run({"x": np.zeros(1)})
