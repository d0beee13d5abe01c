"""``gate.check``: one request to its run (``--base`` to ``gate.baseline``, the rest to ``gate.parallel``)."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from pathlib import Path

import pytest

from driftguard.ci.repo import head_commit, repository_root
from driftguard.errors import UsageError
from driftguard.gate import pipeline
from driftguard.gate.check import check
from driftguard.gate.request import CheckRequest


def test_a_plain_request_is_the_pipelines_report_bound_to_its_run(request_: CheckRequest) -> None:
    bound = check(request_).to_dict()
    run = bound.pop("run")
    assert bound == pipeline.run(request_).to_dict()
    assert run["models"] == list(request_.manifest.models)
    assert run["manifest_sha256"] == hashlib.sha256(Path(request_.manifest.path).read_bytes()).hexdigest()
    assert run["commit"] == head_commit(repository_root(Path(request_.manifest.path).parent))


def test_changed_only_needs_a_base(request_: CheckRequest) -> None:
    with pytest.raises(UsageError, match="--changed-only needs --base REF"):
        check(replace(request_, changed_only=True))


def test_parity_with_a_base_is_refused_not_dropped(request_: CheckRequest) -> None:
    from driftguard.gate.request import Stages
    from driftguard.parity.request import ParityRequest

    with pytest.raises(UsageError, match="--parity cannot be judged against --base"):
        check(replace(request_, base="HEAD", stages=Stages(parity=ParityRequest())))


def test_a_base_goes_to_the_baseline_run(request_: CheckRequest) -> None:
    with pytest.raises(UsageError, match="revision"):  # refused by gate.baseline before git runs
        check(replace(request_, base="-x"))


# What the module's docstrings promise, each expected value written out by hand: ``check FILE...`` narrows the
# run to the models reading those files (in the order the run chose them, as a run of chosen models: no
# known_models), leaves a request naming no files as it is; a manifest with no file behind it (built in code)
# binds with no digest.

THREE = """\
version: 1
models:
  alpha:
    training: [{path: a.json}]
    deployment: [{path: a.json}]
  beta:
    training: [{path: b.json}]
    deployment: [{path: b.json}]
  gamma:
    training: [{path: c.json}]
    deployment: [{path: c.json}]
"""


@pytest.fixture
def three(tmp_path: Path) -> CheckRequest:
    from driftguard import manifest as manifest_mod
    from driftguard.gate.request import Selection
    from tests.dates import EXAMPLES_TODAY

    for name in ("a", "b", "c"):
        (tmp_path / f"{name}.json").write_text("{}", encoding="utf-8")
    (tmp_path / "driftguard.yaml").write_text(THREE, encoding="utf-8")
    m = manifest_mod.load(tmp_path / "driftguard.yaml")
    return CheckRequest(m, EXAMPLES_TODAY, Selection.of(m))


def test_files_narrow_the_run_to_the_models_reading_them(three: CheckRequest, tmp_path: Path) -> None:
    from driftguard.gate.check import narrowed_to_files
    from driftguard.gate.request import Selection

    assert three.selection.known_models == ("alpha", "beta", "gamma")
    narrowed = narrowed_to_files(replace(three, files=(str(tmp_path / "b.json"),)))
    assert narrowed.selection == Selection(None, ("beta",), None, None)
    both = (str(tmp_path / "c.json"), str(tmp_path / "a.json"))
    assert narrowed_to_files(replace(three, files=both)).selection.models == ("alpha", "gamma")
    # models chosen already: those of them the files affect, in the order chosen
    chosen = replace(three, files=both, selection=Selection(None, ("gamma", "beta", "alpha")))
    assert narrowed_to_files(chosen).selection.models == ("gamma", "alpha")
    chosen = replace(three, files=(str(tmp_path / "b.json"),), selection=Selection(None, ("gamma",)))
    assert narrowed_to_files(chosen).selection.models == ()
    assert narrowed_to_files(three) is three


def test_a_manifest_with_no_file_behind_it_binds_with_no_digest(three: CheckRequest) -> None:
    from driftguard.gate.check import bind
    from driftguard.report import Report

    Path(three.manifest.path).unlink()
    run = bind(three, Report(models=())).run
    assert run is not None
    assert (run.commit, run.manifest_sha256, run.models) == (None, None, ("alpha", "beta", "gamma"))
