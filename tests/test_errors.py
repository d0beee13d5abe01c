"""``driftguard.errors``: where an input error points (``FILE:LINE:COL: message``), the messages the errors
with their own fields build, and that every error survives pickling whole (a parallel check raises it in a
worker process and the caller gets the same error, fields and all)."""

from __future__ import annotations

import pickle

import pytest

from driftguard.errors import (
    ApprovalError,
    DriftDetected,
    DriftguardError,
    ExtractionError,
    LimitError,
    ManifestError,
    MissingExtraError,
    RefusedError,
    TemplateError,
    UsageError,
)


@pytest.mark.parametrize(("path", "line", "column", "shown"), [
    (None, None, None, "bad"),
    (None, 3, 4, "bad"),
    ("a.yaml", None, None, "a.yaml: bad"),
    ("a.yaml", 3, None, "a.yaml:3: bad"),
    ("a.yaml", 3, 4, "a.yaml:3:4: bad"),
    ("a.yaml", None, 4, "a.yaml: bad"),
])
def test_the_location_is_as_far_as_known(path: str | None, line: int | None, column: int | None,
                                         shown: str) -> None:
    err = DriftguardError("bad", path, line, column)
    assert str(err) == shown
    assert err.message == "bad"


def test_a_limit_error_names_the_limit_and_how_to_raise_it() -> None:
    err = LimitError("depth", 64, "nesting depth 65", "m.json", 2)
    assert str(err) == ("m.json:2: nesting depth 65: exceeds the depth limit (64); if the file is genuine, raise "
                        "it with --limit depth=N (manifest: limits: {depth: N})")
    assert (err.limit, err.allowed) == ("depth", 64)
    assert isinstance(err, ExtractionError)


def test_a_missing_extra_names_the_pip_command() -> None:
    err = MissingExtraError("parity", "parity", "onnxruntime")
    assert str(err) == ("parity needs the 'parity' extra (onnxruntime is not installed): "
                        "pip install 'driftguard-ml[parity]'")
    assert err.extra == "parity"


def test_missing_extra_for_pre_commit_names_additional_dependencies() -> None:
    """pre-commit builds the hook's environment itself: the fix is a line of .pre-commit-config.yaml."""
    err = MissingExtraError("weights provenance (DG401) of an ONNX graph", "onnx", "onnx", "model.onnx")
    assert err.for_pre_commit() == (
        "model.onnx: weights provenance (DG401) of an ONNX graph needs the 'onnx' extra (onnx is not installed): "
        'add additional_dependencies: ["driftguard-ml[onnx]"] to the driftguard-check hook in '
        ".pre-commit-config.yaml")
    assert "pip install" not in err.for_pre_commit() and "pip install" in str(err)


@pytest.mark.parametrize("err", [
    DriftguardError("bad", "a.yaml", 3, 4),
    ExtractionError("unreadable", "m.onnx"),
    TemplateError("unfilled ${X}", "${X}", "config.pbtxt", 7, 2, names=("X", "Y")),
    RefusedError("refused os.system", "os.system", "m.pt"),
    LimitError("objects", 10, "11 objects", "m.json", 1),
    MissingExtraError("weights", "weights", "numpy", "m.pt"),
    UsageError("unknown kind"),
    ManifestError("typo", "driftguard.yaml", 5),
    ApprovalError("no expires", "approvals/a.yaml", 1),
], ids=lambda e: type(e).__name__)
def test_every_input_error_survives_pickling_whole(err: DriftguardError) -> None:
    back = pickle.loads(pickle.dumps(err))
    assert type(back) is type(err)
    assert str(back) == str(err)
    assert back.__dict__ == err.__dict__
    assert back.args == err.args


def test_drift_detected_is_not_an_input_error_and_carries_the_findings() -> None:
    err = DriftDetected("2 findings", ["f1", "f2"])
    assert not isinstance(err, DriftguardError)
    assert err.findings == ["f1", "f2"]
    assert DriftDetected("none").findings == []
