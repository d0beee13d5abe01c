"""The torch runner (``runner: torch``, ``parity.runners.torch``) on tiny modules and checkpoints written by the
test, fast (the end-to-end runs are tests/parity/runners/test_torch.py, marked slow). Expected values by hand from
torch's documented behaviour, never from the runner: ``torch.nn.Linear`` computes ``x @ weight.T + bias``;
``Module.state_dict()`` names weights ``<attribute>.<name>`` (``fc.weight``); ``Module.eval()`` makes ``Dropout``
the identity; ``torch.from_numpy`` keeps the array's dtype (float64 stays float64); and from the module's contract
(its docstring and the README's runner table): the state dict is the checkpoint, its ``state_dict`` entry or the
``state_dict_key`` one; ``strip_prefix`` drops a prefix; only the golden arrays ``forward`` names are passed
(all of them when it takes ``**kwargs``); floating inputs in the weights' dtype; errors are one ParityError."""

from __future__ import annotations

import sys
import zipfile
from pathlib import Path, PurePosixPath
from typing import Any

import pytest

from driftguard.errors import MissingExtraError
from driftguard.parity.errors import ParityError
from driftguard.parity.runners import make
from driftguard.parity.runners.base import RunnerConfig
from driftguard.parity.runners.base import torch_device as _device
from driftguard.parity.runners.torch import TorchRunner, TorchSettings, _first_line, _misfit, _parameters

np = pytest.importorskip("numpy")
torch = pytest.importorskip("torch")

FNS = '''
import torch


class Net(torch.nn.Module):
    """Linear(3, 2) behind a Dropout that only eval() turns off."""

    def __init__(self):
        super().__init__()
        self.fc = torch.nn.Linear(3, 2)
        self.drop = torch.nn.Dropout(p=0.9)

    def forward(self, x):
        return self.drop(self.fc(x))


class Pair(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = torch.nn.Linear(3, 2)

    def forward(self, x, *, scale):
        y = self.fc(x)
        return y, y * scale


class Named(Pair):
    def forward(self, x, *, scale):
        y = self.fc(x)
        return {"plain": y, "scaled": y * scale}


class Anything(Pair):
    def forward(self, **inputs):
        return {"names": torch.tensor([len(inputs)]), "x": self.fc(inputs["x"])}


class Positional(Pair):
    def forward(self, *args):
        return torch.tensor([len(args)])


class Tokens(torch.nn.Module):
    """An embedding of token ids: its input must stay an integer tensor."""

    def __init__(self):
        super().__init__()
        self.emb = torch.nn.Embedding(10, 2)

    def forward(self, input_ids):
        return self.emb(input_ids)


class Echo(torch.nn.Module):
    """No weights: what it was given, as given."""

    def forward(self, x):
        return x


class Builtin(torch.nn.Module):
    """A forward without a Python signature (a C function): inspect.signature raises ValueError."""

    forward = torch.relu


def net(config):
    return Net()


def pair(config):
    return Pair()


def named(config):
    return Named()


def anything(config):
    return Anything()


def positional(config):
    return Positional()


def tokens(config):
    return Tokens()


def echo(config):
    return Echo()


def builtin(config):
    return Builtin()


def double(config):
    return Net().double()


def seen(config):
    m = Net()
    m.config = config
    config["builder"] = "changed"  # the builder gets its own copy
    return m


def boom(config):
    raise ValueError("  first line\\nsecond line")


def silent(config):
    raise KeyError()


def long(config):
    raise RuntimeError("x" * 400)


def not_a_module(config):
    return {"fc.weight": 1}


def failing(config):
    return Failing()


class Failing(Pair):
    def forward(self, x):
        raise RuntimeError("shapes do not match\\nsecond line")
'''

W = [[1.0, 2.0, 3.0], [-1.0, 0.5, 0.0]]
B = [0.5, -2.0]
X = [[1.0, 0.0, 2.0], [0.0, -1.0, 1.0]]
#: ``X @ W.T + B`` by hand: row 1: 1 + 6 + 0.5 = 7.5, -1 + 0 - 2 = -3; row 2: -2 + 3 + 0.5 = 1.5, -0.5 - 2 = -2.5.
Y = [[7.5, -3.0], [1.5, -2.5]]


def linear_state(prefix: str = "") -> dict[str, Any]:
    return {f"{prefix}fc.weight": torch.tensor(W), f"{prefix}fc.bias": torch.tensor(B)}


def runner(tmp_path: Path, builder: str | None = "net", checkpoint: Any = None, config: dict[str, Any] | None = None,
           device: str = "auto", **settings: Any) -> Any:
    (tmp_path / "fns.py").write_text(FNS, encoding="utf-8")
    torch.save(linear_state() if checkpoint is None else checkpoint, tmp_path / "m.pt")
    settings.setdefault("artifact", "m.pt")
    cfg = RunnerConfig("torch", TorchSettings(builder=f"fns.py:{builder}" if builder else builder, **settings),
                       tmp_path, device)
    return make(cfg, config or {})


def started(tmp_path: Path, builder: str = "net", checkpoint: Any = None, **kw: Any) -> Any:
    r = runner(tmp_path, builder, checkpoint, **kw)
    r.setup()
    return r


def refusal(tmp_path: Path, builder: str = "net", checkpoint: Any = None, **kw: Any) -> ParityError:
    r = runner(tmp_path, builder, checkpoint, **kw)
    with pytest.raises(ParityError) as info:
        r.setup()
    return info.value


def x(dtype: Any = np.float32) -> Any:
    return np.asarray(X, dtype=dtype)


# settings and set-up


def test_the_class_declares_what_it_runs_and_applies() -> None:
    assert TorchRunner.runs_artifact is True
    assert TorchRunner.applies == frozenset({"preprocessing.max_length", "preprocessing.truncation_side",
                                             "preprocessing.padding_side"})
    assert TorchRunner.Settings is TorchSettings


@pytest.mark.parametrize("settings", [{"builder": "fns.py:net"}, {"artifact": "m.pt"},
                                      {"artifact": "m.pt", "builder": ""}])
def test_a_checkpoint_and_a_builder_are_both_needed(tmp_path: Path, settings: dict[str, str]) -> None:
    with pytest.raises(ParityError, match=r"^the torch runner needs an 'artifact' \(checkpoint\) and a 'builder' "
                                          r"\(module:function\)$"):
        TorchRunner(RunnerConfig("torch", TorchSettings(**settings), tmp_path), {})


def test_it_describes_itself_by_the_checkpoint(tmp_path: Path) -> None:
    assert runner(tmp_path).describe() == f"torch:{tmp_path / 'm.pt'}"


@pytest.mark.parametrize(("requested", "cuda", "device"), [
    ("auto", True, "cuda"), ("cuda", True, "cuda"), ("cpu", True, "cpu"),
    ("auto", False, "cpu"), ("cpu", False, "cpu")])
def test_the_device_is_cuda_when_torch_sees_it_unless_cpu_is_asked(requested: str, cuda: bool, device: str) -> None:
    assert _device(requested, cuda) == device
    # as the command line gives it: a string of its own, not the interned literal
    assert _device("".join(requested), cuda) == device


def test_execution_is_the_same_from_the_class_and_from_a_runner(tmp_path: Path) -> None:
    cfg = RunnerConfig("torch", TorchSettings(artifact="m.pt", builder="fns.py:net"), tmp_path, "cpu")
    assert TorchRunner.execution(cfg) == runner(tmp_path).execution(cfg) == "cpu"


def test_without_torch_setup_names_the_extra(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    r = runner(tmp_path)
    monkeypatch.setitem(sys.modules, "torch", None)  # what an environment without torch gives `import torch`
    with pytest.raises(MissingExtraError) as info:
        r.setup()
    assert str(info.value) == ("parity with torch needs the 'parity' extra (torch is not installed): pip install "
                               "'driftguard-ml[parity]'")


@pytest.mark.skipif(torch.cuda.is_available(), reason="a machine without CUDA")
@pytest.mark.parametrize("requested", ["auto", "cpu"])
def test_without_cuda_every_executor_reports_the_cpu(tmp_path: Path, requested: str) -> None:
    cfg = RunnerConfig("torch", TorchSettings(artifact="m.pt", builder="fns.py:net"), tmp_path, requested)
    assert TorchRunner.execution(cfg) == "cpu"
    r = started(tmp_path, device=requested)
    assert r.device == "cpu" and str(next(r.module.parameters()).device) == "cpu"


@pytest.mark.skipif(torch.cuda.is_available(), reason="a machine without CUDA")
@pytest.mark.parametrize("device", ["cuda", "".join(["cu", "da"])])  # also a string of its own, as argv gives it
def test_asking_for_cuda_without_it_is_refused(tmp_path: Path, device: str) -> None:
    assert str(refusal(tmp_path, device=device)) == "--device cuda: torch sees no CUDA device"


def test_a_missing_checkpoint_is_named(tmp_path: Path) -> None:
    err = refusal(tmp_path, artifact="gone.pt")
    assert err.message == "checkpoint not found" and err.path == str(tmp_path / "gone.pt")


def test_the_builder_gets_the_sides_config_as_its_own_copy(tmp_path: Path) -> None:
    config = {"preprocessing.max_length": 8}
    r = started(tmp_path, "seen", config=config)
    assert r.module.config == {"preprocessing.max_length": 8, "builder": "changed"}
    assert config == {"preprocessing.max_length": 8} and r.config == config


@pytest.mark.parametrize(("builder", "message"), [
    ("boom", "builder 'fns.py:boom' raised ValueError: first line"),
    ("silent", "builder 'fns.py:silent' raised KeyError: (no message)"),
    ("long", f"builder 'fns.py:long' raised RuntimeError: {'x' * 300}"),
    ("not_a_module", "builder 'fns.py:not_a_module' returned a dict, not a torch.nn.Module")])
def test_what_the_builder_does_wrong_is_one_line(tmp_path: Path, builder: str, message: str) -> None:
    assert str(refusal(tmp_path, builder)) == message


def test_a_checkpoint_torch_load_refuses_is_named(tmp_path: Path) -> None:
    """A zip checkpoint whose pickle is intact but whose tensor data entry is gone (a truncated copy): the archive
    checks read only the pickle and pass it; torch.load fails on the missing record."""
    r = runner(tmp_path)
    whole = tmp_path / "m.pt"
    with zipfile.ZipFile(whole) as src, zipfile.ZipFile(tmp_path / "cut.pt", "w") as dst:
        for item in src.infolist():
            if not item.filename.endswith("/data/0"):
                dst.writestr(item, src.read(item))
    whole.write_bytes((tmp_path / "cut.pt").read_bytes())
    with pytest.raises(ParityError) as info:
        r.setup()
    assert info.value.message.startswith("torch.load(weights_only=True) refused the checkpoint: ")
    assert "\n" not in info.value.message and info.value.path == str(whole)


def test_a_checkpoint_that_needs_more_than_weights_only_is_refused(tmp_path: Path) -> None:
    """A path object beside the weights: the archive checks accept it (a harmless record), but the runner loads
    with weights_only=True, whose unpickler refuses every global outside torch's own allowlist (torch.load's
    documentation); the weights are never loaded with weights_only=False."""
    err = refusal(tmp_path, checkpoint={"state_dict": linear_state(), "data": PurePosixPath("/data/train")})
    assert err.message.startswith("torch.load(weights_only=True) refused the checkpoint: Weights only load failed")
    assert err.path == str(tmp_path / "m.pt")


# the state dict


def test_a_plain_state_dict_loads_and_the_module_runs_in_eval_mode(tmp_path: Path) -> None:
    r = started(tmp_path)
    assert r.module.training is False
    out = r.run({"x": x()})
    assert list(out) == ["output"]
    np.testing.assert_allclose(out["output"], Y, rtol=1e-6)  # Dropout(p=0.9) is the identity in eval mode


def test_the_state_dict_entry_is_unwrapped_by_default(tmp_path: Path) -> None:
    r = started(tmp_path, checkpoint={"state_dict": linear_state(), "epoch": 3})
    np.testing.assert_allclose(r.run({"x": x()})["output"], Y, rtol=1e-6)


def test_state_dict_key_names_the_entry(tmp_path: Path) -> None:
    other = {"fc.weight": torch.zeros(2, 3), "fc.bias": torch.zeros(2)}
    r = started(tmp_path, checkpoint={"state_dict": other, "ema": linear_state()}, state_dict_key="ema")
    np.testing.assert_allclose(r.run({"x": x()})["output"], Y, rtol=1e-6)


def test_a_state_dict_entry_that_is_not_a_mapping_is_not_unwrapped(tmp_path: Path) -> None:
    """A weight that happens to be named ``state_dict`` (a tensor): the checkpoint is the state dict itself."""
    err = refusal(tmp_path, checkpoint={**linear_state(), "state_dict": torch.zeros(1)})
    assert err.message.endswith("1 unexpected (state_dict)")


@pytest.mark.parametrize("checkpoint", [{"state_dict": linear_state()}, {"ema": torch.zeros(2)}, torch.zeros(2)])
def test_a_missing_state_dict_key_is_named(tmp_path: Path, checkpoint: Any) -> None:
    err = refusal(tmp_path, checkpoint=checkpoint, state_dict_key="ema")
    assert err.message == "the checkpoint has no 'ema' mapping" and err.path == str(tmp_path / "m.pt")


@pytest.mark.parametrize("checkpoint", [torch.zeros(2), [linear_state()]])
def test_a_checkpoint_that_is_not_a_state_dict_is_refused(tmp_path: Path, checkpoint: Any) -> None:
    err = refusal(tmp_path, checkpoint=checkpoint)
    assert err.message == "the checkpoint is not a state dict" and err.path == str(tmp_path / "m.pt")


def test_strip_prefix_drops_the_wrappers_prefix(tmp_path: Path) -> None:
    r = started(tmp_path, checkpoint={"state_dict": linear_state("model.")}, strip_prefix="model.")
    np.testing.assert_allclose(r.run({"x": x()})["output"], Y, rtol=1e-6)


def test_a_prefixed_checkpoint_names_the_weights_and_the_prefix_that_fits(tmp_path: Path) -> None:
    err = refusal(tmp_path, checkpoint=linear_state("model."))
    assert err.message == ("the checkpoint's weights do not fit the module the builder made: 2 missing (fc.weight, "
                           "fc.bias); 2 unexpected (model.fc.weight, model.fc.bias); strip_prefix: 'model.' would "
                           "make them fit")
    assert err.path == str(tmp_path / "m.pt")


def test_a_prefix_already_stripped_is_named_in_the_message(tmp_path: Path) -> None:
    err = refusal(tmp_path, checkpoint=linear_state("model.net."), strip_prefix="model.")
    assert err.message.endswith("2 unexpected (net.fc.weight, net.fc.bias) (names after strip_prefix 'model.'); "
                                "strip_prefix: 'net.' would make them fit")


def test_a_shape_that_does_not_fit_is_torchs_first_line(tmp_path: Path) -> None:
    err = refusal(tmp_path, checkpoint={"fc.weight": torch.zeros(2, 2), "fc.bias": torch.zeros(2)})
    assert err.message == ("the checkpoint's weights do not fit the module the builder made: Error(s) in loading "
                           "state_dict for Net:")
    assert err.path == str(tmp_path / "m.pt")


# _misfit, by hand


def test_names_that_fit_are_no_misfit() -> None:
    assert _misfit({"a.w": 1, "b": 2}, {"b": 0, "a.w": 0}, None) == ""
    assert _misfit({"a.w": 1}, {"a.w": 0}, "model.") == ""


def test_three_names_are_listed_whole_and_more_are_counted() -> None:
    expected = {"a": 1, "b": 1, "c": 1}
    assert _misfit(expected, {}, None) == "3 missing (a, b, c)"
    assert _misfit({**expected, "d": 1}, {}, None) == "4 missing (a, b, c and 1 more)"
    assert _misfit({}, {"a": 1, "b": 1, "c": 1, "d": 1, "e": 1}, None) == "5 unexpected (a, b, c and 2 more)"
    assert _misfit({}, dict.fromkeys("abcdef", 1), None) == "6 unexpected (a, b, c and 3 more)"


def test_only_unexpected_names_give_no_prefix_hint() -> None:
    """Nothing is missing: the extra weights are not the module's under a prefix."""
    assert _misfit({"fc.w": 1}, {"fc.w": 0, "model.fc.w": 0}, None) == "1 unexpected (model.fc.w)"


def test_two_prefixes_give_no_prefix_hint() -> None:
    assert _misfit({"fc.w": 1, "fc.b": 1}, {"a.fc.w": 0, "b.fc.b": 0}, None) == \
        "2 missing (fc.w, fc.b); 2 unexpected (a.fc.w, b.fc.b)"


def test_a_prefix_that_does_not_make_every_name_fit_gives_no_hint() -> None:
    assert _misfit({"fc.w": 1, "fc.b": 1}, {"model.fc.w": 0, "model.head.b": 0}, None) == \
        "2 missing (fc.w, fc.b); 2 unexpected (model.fc.w, model.head.b)"


def test_the_prefix_is_the_first_dotted_part() -> None:
    """``model.`` (not ``model.fc.``): names without a dot have no prefix and are not counted as one."""
    assert _misfit({"fc.w": 1, "fc.b": 1}, {"model.fc.w": 0, "model.fc.b": 0}, None).endswith(
        "; strip_prefix: 'model.' would make them fit")
    assert _misfit({"w": 1}, {"model.w": 0}, "x.") == (
        "1 missing (w); 1 unexpected (model.w) (names after strip_prefix 'x.'); strip_prefix: 'model.' would make "
        "them fit")


def test_a_name_without_a_dot_is_no_prefix() -> None:
    assert _misfit({"w": 1}, {"w2": 0}, None) == "1 missing (w); 1 unexpected (w2)"
    assert _misfit({"w": 1, "v": 1}, {"model.w": 0, "model.v": 0, "extra": 0}, None) == \
        "2 missing (w, v); 3 unexpected (model.w, model.v, extra)"


# running


def test_float64_golden_arrays_run_in_the_weights_dtype(tmp_path: Path) -> None:
    r = started(tmp_path)
    assert r.floating == torch.float32
    out = r.run({"x": x(np.float64)})["output"]
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, Y, rtol=1e-6)


def test_float32_golden_arrays_run_in_float64_weights(tmp_path: Path) -> None:
    r = started(tmp_path, "double")
    assert r.floating == torch.float64
    out = r.run({"x": x(np.float32)})["output"]
    assert out.dtype == np.float64
    np.testing.assert_allclose(out, Y, rtol=1e-12)


def test_integer_inputs_stay_integers(tmp_path: Path) -> None:
    emb = torch.arange(20, dtype=torch.float32).reshape(10, 2)
    r = started(tmp_path, "tokens", {"emb.weight": emb})
    out = r.run({"input_ids": np.asarray([[3, 0]], dtype=np.int64)})["output"]
    np.testing.assert_array_equal(out, [[[6.0, 7.0], [0.0, 1.0]]])  # rows 3 and 0 of the table


def test_a_module_without_weights_gets_the_arrays_as_they_are(tmp_path: Path) -> None:
    r = started(tmp_path, "echo", {})
    assert r.floating is None
    out = r.run({"x": x(np.float64)})["output"]
    assert out.dtype == np.float64
    np.testing.assert_array_equal(out, X)


def test_only_the_arrays_forward_names_are_passed(tmp_path: Path) -> None:
    r = started(tmp_path)
    assert r.accepts == frozenset({"x"})
    out = r.run({"x": x(), "labels": np.asarray([0, 1])})
    np.testing.assert_allclose(out["output"], Y, rtol=1e-6)


def test_keyword_only_arguments_are_passed_and_a_tuple_is_named_in_order(tmp_path: Path) -> None:
    r = started(tmp_path, "pair", outputs=("plain", "scaled"))
    assert r.accepts == frozenset({"x", "scale"})
    out = r.run({"x": x(), "scale": np.asarray(2.0, dtype=np.float64), "labels": np.zeros(2)})
    assert list(out) == ["plain", "scaled"]
    np.testing.assert_allclose(out["plain"], Y, rtol=1e-6)
    np.testing.assert_allclose(out["scaled"], np.asarray(Y) * 2, rtol=1e-6)


def test_an_unnamed_tuple_is_output_output_1(tmp_path: Path) -> None:
    r = started(tmp_path, "pair")
    assert list(r.run({"x": x(), "scale": np.asarray(1.0)})) == ["output", "output_1"]


def test_a_mapping_keeps_its_names(tmp_path: Path) -> None:
    r = started(tmp_path, "named")
    assert sorted(r.run({"x": x(), "scale": np.asarray(1.0)})) == ["plain", "scaled"]


def test_a_forward_taking_any_keyword_gets_every_array(tmp_path: Path) -> None:
    r = started(tmp_path, "anything")
    assert r.accepts is None
    out = r.run({"x": x(), "labels": np.zeros(2), "mask": np.ones(2)})
    np.testing.assert_array_equal(out["names"], [3])
    np.testing.assert_allclose(out["x"], Y, rtol=1e-6)


def test_a_forward_taking_only_positional_arguments_gets_none_by_name(tmp_path: Path) -> None:
    r = started(tmp_path, "positional")
    assert r.accepts == frozenset()
    np.testing.assert_array_equal(r.run({"x": x()})["output"], [0])


def test_a_forward_without_a_signature_gets_every_array(tmp_path: Path) -> None:
    r = started(tmp_path, "builtin", {})
    assert r.accepts is None
    np.testing.assert_array_equal(r.run({"input": np.asarray([-1.0, 2.0])})["output"], [0.0, 2.0])


def test_parameters_of_a_callable_without_a_signature_are_any() -> None:
    """inspect.signature raises TypeError for what is not callable and ValueError for a C function."""

    class NotCallable:
        forward = 3

    class Builtin:
        forward = torch.relu

    assert _parameters(NotCallable()) is None
    assert _parameters(Builtin()) is None


def test_a_module_that_fails_is_one_line(tmp_path: Path) -> None:
    r = started(tmp_path, "failing")
    with pytest.raises(ParityError) as info:
        r.run({"x": x()})
    assert info.value.message == "the module failed on the golden inputs: RuntimeError: shapes do not match"
    assert info.value.path == str(tmp_path / "m.pt")


def test_the_sides_max_length_truncates_token_arrays(tmp_path: Path) -> None:
    emb = torch.arange(20, dtype=torch.float32).reshape(10, 2)
    r = started(tmp_path, "tokens", {"emb.weight": emb}, config={"preprocessing.max_length": 1})
    out = r.run({"input_ids": np.asarray([[3, 4]], dtype=np.int64)})["output"]
    np.testing.assert_array_equal(out, [[[6.0, 7.0], [0.0, 1.0]]])  # the second token cut, its place padded with 0


def test_text_records_need_a_tokenizer(tmp_path: Path) -> None:
    r = started(tmp_path)
    with pytest.raises(ParityError, match=r"^the torch runner got text"):
        r.run([{"text": "hello"}])


def test_teardown_lets_the_module_go(tmp_path: Path) -> None:
    r = started(tmp_path)
    r.teardown()
    assert r.module is None


def test_first_line() -> None:
    assert _first_line(ValueError("\n  one\ntwo  ")) == "one"
    assert _first_line(ValueError("  ")) == "(no message)"
    assert _first_line(ValueError("y" * 301)) == "y" * 300
