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
