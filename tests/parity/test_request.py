"""What a caller asks of the parity stage (``ParityRequest``): a frozen value whose defaults are the documented
ones (README "driftguard parity": ``--device auto``, the ``local`` executor, attribution as the manifest says), and
whose equality ignores the callbacks it carries (a progress hook, the trust check of ``--base``), which say how to
report and what to trust, not which run is asked for. Used end to end by tests/parity/test_model_parity.py and
tests/gate/test_request.py."""

from __future__ import annotations

import dataclasses

import pytest

from driftguard.parity.request import EXECUTORS, ParityRequest


def test_the_defaults_are_the_documented_ones() -> None:
    asked = ParityRequest()
    assert (asked.golden, asked.device, asked.attribution, asked.plots) == (None, "auto", None, None)
    assert (asked.executor, asked.workers, asked.shard_size, asked.ray_address) == ("local", None, None, None)
    assert asked.progress is None and asked.trusted_recordings is None
    assert EXECUTORS == ("local", "threads", "ray")  # README: --executor local|threads|ray


def test_a_request_is_frozen() -> None:
    asked = ParityRequest(device="cpu")
    with pytest.raises(dataclasses.FrozenInstanceError):
        asked.device = "cuda"  # type: ignore[misc]


def test_two_requests_for_the_same_run_are_equal_whatever_callbacks_they_carry() -> None:
    def hook(label: str, done: int, total: int) -> None:
        pass

    assert ParityRequest(device="cpu", progress=hook) == ParityRequest(device="cpu")
    assert ParityRequest(trusted_recordings=lambda path: False) == ParityRequest()
    assert ParityRequest(device="cpu") != ParityRequest(device="cuda")
    assert ParityRequest(executor="threads", workers=2) != ParityRequest(executor="threads", workers=3)
