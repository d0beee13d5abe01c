"""``gate.request``: the frozen request the gate runs, what it derives (limits, roots, the models' selection),
and the checked parity request."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from pathlib import Path

import pytest

from driftguard import manifest as manifest_mod
from driftguard.errors import UsageError
from driftguard.gate.request import (
    ApprovalOptions,
    CheckRequest,
    Selection,
    Stages,
    checked_device,
    load_manifest,
    optional_path,
    parity_request,
)
from driftguard.parity.request import ParityRequest
from driftguard.readers.limits import DEFAULT
from tests.dates import EXAMPLES_TODAY

ROOT = Path(__file__).resolve().parents[2]
MANIFEST = ROOT / "examples" / "summarizer" / "driftguard.yaml"


@pytest.fixture(scope="module")
def m() -> manifest_mod.Manifest:
    return manifest_mod.load(MANIFEST)


def test_a_request_is_frozen_with_the_defaults_of_a_plain_check(m: manifest_mod.Manifest) -> None:
    request = CheckRequest(m, EXAMPLES_TODAY)
    assert (request.strict, request.base, request.changed_only, request.jobs) == (False, None, False, 1)
    assert request.stages == Stages(rules=True, parity=None) and request.approvals == ApprovalOptions()
    assert request.base_root == m.base
    with pytest.raises(dataclasses.FrozenInstanceError):
        request.strict = True  # type: ignore[misc]  # the point: it cannot be assigned


def test_selection_of_knows_every_model_only_for_a_whole_run(m: manifest_mod.Manifest) -> None:
    assert Selection.of(m).known_models == tuple(m.models)
    assert Selection.of(m, shard=(1, 2)).known_models == tuple(m.models)  # a shard reports its share of them
    assert Selection.of(m, model="summarizer").known_models is None
    assert Selection.of(m, models=["summarizer"]) == Selection(None, ("summarizer",), None, None)


def test_read_limits_are_the_manifests_or_the_callers_with_the_overrides_on_top(tmp_path: Path) -> None:
    text = MANIFEST.read_text(encoding="utf-8") + "limits:\n  file_bytes: 2M\n"
    (tmp_path / "driftguard.yaml").write_text(text, encoding="utf-8")
    m = manifest_mod.load(tmp_path / "driftguard.yaml")
    assert CheckRequest(m, EXAMPLES_TODAY).read_limits().file_bytes == 2 * 1024 * 1024
    given = CheckRequest(m, EXAMPLES_TODAY, limits=DEFAULT)  # limits given: the manifest's are not used
    assert given.read_limits() == DEFAULT
    over = CheckRequest(m, EXAMPLES_TODAY, limit_overrides={"objects": 10})
    assert (over.read_limits().objects, over.read_limits().file_bytes) == (10, 2 * 1024 * 1024)
    with pytest.raises(UsageError):
        CheckRequest(m, EXAMPLES_TODAY, limit_overrides={"no_such_limit": 1}).read_limits()


def test_stages_say_when_parity_runs_alone() -> None:
    assert not Stages().parity_only and not Stages(parity=ParityRequest()).parity_only
    assert Stages(rules=False, parity=ParityRequest()).parity_only


def test_load_manifest_takes_a_path_or_a_manifest(m: manifest_mod.Manifest) -> None:
    assert load_manifest(m) is m
    assert list(load_manifest(MANIFEST).models) == list(m.models)
    assert list(load_manifest(str(MANIFEST), DEFAULT, {"objects": 100_000}).models) == list(m.models)


def test_parity_request_is_checked() -> None:
    request = parity_request(device="cpu", executor="threads", workers=2, shard_size=8, golden="g.npz")
    assert (request.device, request.executor, request.workers, request.shard_size, request.golden) == \
        ("cpu", "threads", 2, 8, "g.npz")
    with pytest.raises(UsageError, match="executor must be local, threads or ray, got 'dask'"):
        parity_request(executor="dask")
    with pytest.raises(UsageError, match="workers must be a whole number of at least 1, got True"):
        parity_request(workers=True)
    with pytest.raises(UsageError, match="shard_size must be a whole number of at least 1, got 0"):
        parity_request(shard_size=0)
    with pytest.raises(UsageError, match="device must be auto, cpu or cuda, got 'tpu'"):
        checked_device("tpu")


def test_a_plain_checks_approval_options_trust_the_files_as_they_are() -> None:
    """README "Approval provenance": provenance, --require-committed-approvals and --require-base-approvals are
    asked for (a git-aware run); a plain check reads none of them, and the manifest's separate_approver applies
    wherever git is there to read."""
    plain = ApprovalOptions()
    assert (plain.require_committed, plain.history, plain.require_base, plain.base_files, plain.separate) == (
        False, False, False, None, True)


def test_optional_path_keeps_none() -> None:
    assert optional_path(None) is None
    assert optional_path("approvals") == Path("approvals")
    assert optional_path(Path("a") / "b") == Path("a/b")


def test_one_worker_and_shards_of_one_golden_input_are_allowed() -> None:
    """"at least 1": 1 itself is a whole number of at least 1."""
    request = parity_request(workers=1, shard_size=1)
    assert (request.workers, request.shard_size) == (1, 1)


def test_the_request_module_is_light() -> None:
    """The module's contract: the manifest module (pydantic) is imported only to load one, so building a request's
    parts costs no pydantic import (a fresh interpreter, as a user's first command)."""
    probe = ("import sys, driftguard.gate.request\n"
             "print(sorted(m for m in ('pydantic', 'driftguard.manifest') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=True)
    assert out.stdout.strip() == "[]"
