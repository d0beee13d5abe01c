"""``gate.policy``: in a gate run (``check --base``) the limits come from the base revision's manifest or the
command line, never from the change, and every limit, parity code or server setting the change edits is a DG601
finding. The repositories are built in the test (gitpython); the summarizer example is the model."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from driftguard import manifest as manifest_mod
from driftguard.gate import baseline, catalog, policy
from driftguard.gate.request import CheckRequest, Selection
from driftguard.readers.limits import DEFAULT
from tests import dates

git = pytest.importorskip("git")

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "summarizer"
TODAY = dates.EXAMPLES_TODAY
#: What the pull request does to the manifest: raise a limit, swap both parity runners for code and a server.
LIFTED = {
    "limits: {file_bytes: 2K}\n": "limits: {file_bytes: 1M}\n",
    "        runner: hf\n        artifact: artifacts/tiny-summarizer\n        intra_op_threads: 1                  "
    "# a tiny model: one thread is fastest\n":
        "        runner: triton-http\n        url: attacker.example:80\n        model: summarizer\n",
    "      candidate:                             # the deployment side's config, same weights\n"
    "        runner: hf\n        artifact: artifacts/tiny-summarizer\n        intra_op_threads: 1\n":
        "      candidate:\n        runner: callable\n        function: ../../outside.py:run\n",
}


def commit(repo: git.Repo, message: str) -> None:
    repo.git.add("-A")
    actor = git.Actor("t", "t@example.invalid")
    repo.index.commit(message, author=actor, committer=actor)


@pytest.fixture()
def repo(tmp_path: Path) -> Path:
    """The summarizer committed with ``limits: {file_bytes: 2K}``, then a change that lifts the rails."""
    root = tmp_path / "repo"
    shutil.copytree(EXAMPLE, root)
    manifest = root / "driftguard.yaml"
    manifest.write_text("limits: {file_bytes: 2K}\n" + manifest.read_text(encoding="utf-8"), encoding="utf-8")
    r = git.Repo.init(root, initial_branch="main")
    commit(r, "base")
    text = manifest.read_text(encoding="utf-8")
    for old, new in LIFTED.items():
        assert old in text, old
        text = text.replace(old, new)
    manifest.write_text(text, encoding="utf-8")
    commit(r, "lift the rails")
    return root


def request_for(repo: Path, strict: bool = False) -> CheckRequest:
    m = manifest_mod.load(repo / "driftguard.yaml")
    return CheckRequest(m, TODAY, Selection.of(m), base="HEAD~1", strict=strict)


def test_every_trusted_setting_the_change_edits_is_listed(repo: Path) -> None:
    head = manifest_mod.load(repo / "driftguard.yaml")
    base_copy = repo.parent / "base.yaml"
    base_copy.write_text(git.Repo(repo).git.show("HEAD~1:driftguard.yaml") + "\n", encoding="utf-8")
    base = manifest_mod.load(base_copy)
    found = {(c.model, c.setting): (c.base, c.head) for c in policy.changes(head, base)}
    assert found == {
        (None, "limits.file_bytes"): (2048, 1024 * 1024),
        ("summarizer", "parity.reference.runner"): ("hf", "triton-http"),
        ("summarizer", "parity.reference.url"): (None, "attacker.example:80"),
        ("summarizer", "parity.candidate.runner"): ("hf", "callable"),
        ("summarizer", "parity.candidate.function"): (None, "../../outside.py:run"),
    }
    rails = policy.for_base(head, base, None, {})
    assert rails.limits.file_bytes == 2048  # the base revision's, not the change's
    assert policy.for_base(head, base, None, {"file_bytes": "4K"}).limits.file_bytes == 4096  # the command line
    assert policy.for_base(head, None, None, {}).limits == DEFAULT  # no base manifest: the built-in defaults
    assert list(policy.changes(head, head)) == []


def test_the_gate_reads_within_the_base_revisions_limits(repo: Path) -> None:
    """The change raised file_bytes to 1M and grew a file past the base revision's 2K: the read is refused."""
    config = repo / "training" / "config.json"
    data = json.loads(config.read_text(encoding="utf-8"))
    data["_name_or_path"] = "x" * 3000
    config.write_text(json.dumps(data), encoding="utf-8")
    commit(git.Repo(repo), "grow a file past the base limit")
    out = subprocess.run([sys.executable, "-m", "driftguard", "check", "--base", "HEAD~2", "--today",
                          TODAY.isoformat(), "--no-step-summary"], cwd=repo, capture_output=True, text=True,
                         timeout=300, check=False)
    assert out.returncode == 2, out.stdout + out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and "config.json" in lines[0] and "file_bytes limit (2048)" in lines[0], out.stderr


def test_the_change_to_the_rails_is_reported_as_dg601(repo: Path) -> None:
    report = baseline.run(request_for(repo))
    found = {f.key: f for f in report.findings if f.rule == "DG601"}
    assert set(found) == {"limits.file_bytes", "parity.reference.runner", "parity.reference.url",
                          "parity.candidate.runner", "parity.candidate.function"}
    url = found["parity.reference.url"]
    assert url.severity == "warning" and url.change == "introduced" and url.model == "summarizer"
    assert url.training is not None and url.training.value is None
    assert url.deployed is not None and url.deployed.value == "attacker.example:80"
    assert url.fingerprint is not None
    # a warning: the base revision's values were used, so the gate passes unless strict
    assert report.ok and not baseline.run(request_for(repo, strict=True)).ok


def test_the_cli_exit_codes_and_explain(repo: Path) -> None:
    run = [sys.executable, "-m", "driftguard", "check", "--base", "HEAD~1", "--today", TODAY.isoformat(),
           "--no-step-summary"]
    plain = subprocess.run(run, cwd=repo, capture_output=True, text=True, timeout=300, check=False)
    assert plain.returncode == 0 and "DG601" in plain.stdout, plain.stdout + plain.stderr
    strict = subprocess.run([*run, "--strict"], cwd=repo, capture_output=True, text=True, timeout=300, check=False)
    assert strict.returncode == 1
    assert catalog.explain("DG601").startswith("DG601 gate.untrusted-setting (default severity: warning)")


# The rules of "What a gate run trusts" (README) on their own, each expected value written out by hand: one DG601
# finding per changed setting, the manifest-wide ones (limits) on the first model of a run only, a model's own on
# that model only; the message naming the base revision's value and the change's ("unset" where there is none).

USED = "a gate run takes it from the base revision, so the base revision's value was used"


def rails() -> policy.GatePolicy:
    return policy.GatePolicy(DEFAULT, (
        policy.Changed(None, "limits.file_bytes", 2048, 1048576),
        policy.Changed("summarizer", "parity.reference.url", None, "attacker.example:80"),
        policy.Changed("classifier", "parity.candidate.runner", "hf", None),
    ))


def test_each_finding_lands_on_its_own_model_and_the_limits_on_the_first_only() -> None:
    gate = rails()
    name = "".join(["summa", "rizer"])  # equal to the Changed's model, not the same string object
    first = gate.findings(name, True, "driftguard.yaml")
    assert [(f.rule, f.key, f.severity) for f in first] == [("DG601", "limits.file_bytes", "warning"),
                                                            ("DG601", "parity.reference.url", "warning")]
    assert [f.key for f in gate.findings(name, False, "driftguard.yaml")] == ["parity.reference.url"]
    assert [f.key for f in gate.findings("classifier", False, "driftguard.yaml")] == ["parity.candidate.runner"]
    assert [f.key for f in gate.findings("classifier", True, "driftguard.yaml")] == ["limits.file_bytes",
                                                                                     "parity.candidate.runner"]
    assert gate.findings("other", False, "driftguard.yaml") == []
    assert [f.key for f in gate.findings("other", True, "driftguard.yaml")] == ["limits.file_bytes"]
    assert policy.GatePolicy(DEFAULT, ()).findings("summarizer", True, "driftguard.yaml") == []


def test_the_message_names_where_and_both_values() -> None:
    limits, url = rails().findings("summarizer", True, "cfg/driftguard.yaml")
    assert limits.message == ("the change sets limits.file_bytes of the manifest to 1048576 (base revision: 2048); "
                              + USED)
    assert url.message == ("the change sets parity.reference.url of model summarizer to 'attacker.example:80' "
                           "(base revision: unset); " + USED)
    (runner,) = rails().findings("classifier", False, "cfg/driftguard.yaml")
    assert runner.message == "the change sets parity.candidate.runner of model classifier to unset (base revision: " \
                             "'hf'); " + USED
    # the training value is the base revision's, the deployed value the change's, both at the manifest
    assert limits.training is not None and limits.deployed is not None
    assert (limits.training.value, limits.deployed.value) == (2048, 1048576)
    assert (limits.training.origin.path, limits.training.origin.source) == ("cfg/driftguard.yaml", "base revision")
    assert (limits.deployed.origin.path, limits.deployed.origin.source) == ("cfg/driftguard.yaml", "change")
    assert url.training is not None and url.training.value is None
    assert url.deployed is not None and url.deployed.value == "attacker.example:80"


def test_the_policy_and_its_changes_are_frozen() -> None:
    import dataclasses

    gate = rails()
    with pytest.raises(dataclasses.FrozenInstanceError):
        gate.limits = DEFAULT  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        gate.changed[0].head = 1  # type: ignore[misc]


#: Three models in this order: one without parity first, then two whose runner settings interleave when sorted
#: by setting alone; and five limits.
ORDERED = """\
version: 1
limits: {objects: 1000, depth: 10, rank: 8, file_bytes: 1M, tensors: 99}
models:
  zeta:
    training: [{path: config.json}]
    deployment: [{path: config.json}]
  beta:
    training: [{path: config.json}]
    deployment: [{path: config.json}]
    parity:
      golden: golden.jsonl
      reference: {runner: callable, function: "ref.py:run"}
      candidate: {runner: triton-http, url: "b.example:80", model: m}
      outputs: {sequences: {kind: sequence}}
  alpha:
    training: [{path: config.json}]
    deployment: [{path: config.json}]
    parity:
      golden: golden.jsonl
      reference: {runner: torch, artifact: model.ckpt, builder: "build.py:build_model"}
      candidate: {runner: callable, function: "cand.py:run"}
      outputs: {sequences: {kind: sequence}}
"""


def test_every_setting_in_order_limits_first_then_each_model_by_name(tmp_path: Path) -> None:
    """With no base manifest every trusted setting the change writes is a change: the limits by name, then each
    model's (alphabetically: alpha before beta, zeta has no parity) by setting name."""
    (tmp_path / "config.json").write_text("{}", encoding="utf-8")
    (tmp_path / "driftguard.yaml").write_text(ORDERED, encoding="utf-8")
    head = manifest_mod.load(tmp_path / "driftguard.yaml")
    assert [(c.model, c.setting, c.base, c.head) for c in policy.changes(head, None)] == [
        (None, "limits.depth", None, 10),
        (None, "limits.file_bytes", None, 1024 * 1024),
        (None, "limits.objects", None, 1000),
        (None, "limits.rank", None, 8),
        (None, "limits.tensors", None, 99),
        ("alpha", "parity.candidate.function", None, "cand.py:run"),
        ("alpha", "parity.candidate.runner", None, "callable"),
        ("alpha", "parity.reference.builder", None, "build.py:build_model"),
        ("alpha", "parity.reference.runner", None, "torch"),
        ("beta", "parity.candidate.runner", None, "triton-http"),
        ("beta", "parity.candidate.url", None, "b.example:80"),
        ("beta", "parity.reference.function", None, "ref.py:run"),
        ("beta", "parity.reference.runner", None, "callable"),
    ]
