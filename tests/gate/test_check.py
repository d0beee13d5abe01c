"""``gate.check``: one request to its run (``--base`` to ``gate.baseline``, the rest to ``gate.parallel``)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from driftguard.errors import UsageError
from driftguard.gate import pipeline
from driftguard.gate.check import check
from driftguard.gate.request import CheckRequest


def test_a_plain_request_is_the_pipelines_report(request_: CheckRequest) -> None:
    assert check(request_).to_dict() == pipeline.run(request_).to_dict()


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
