"""The no-execution guarantee, proven the same way for every input class that could carry code: a payload that
would create a sentinel file is refused (exit 2, one line) and the sentinel never appears."""

from __future__ import annotations

import pickle
import struct
import zipfile
from pathlib import Path

import pytest

from tests.attacks.bounded import run_cli, sentinel_absent
from tests.dates import iso


def _yaml_payloads(sentinel: Path) -> list[str]:
    cmd = f"touch {sentinel}"
    return [
        f"!!python/object/apply:os.system [{cmd!r}]",
        f"!!python/object/apply:subprocess.check_output [[touch, {sentinel}]]",
        f"!!python/object/new:os.system [{cmd!r}]",
        "!!python/name:os.system",
        "!!python/module:os",
    ]


def _pickle_payload(sentinel: Path) -> bytes:
    cmd = f"touch {sentinel}".encode()
    return b"\x80\x02cposix\nsystem\nX" + struct.pack("<I", len(cmd)) + cmd + b"\x85R."


@pytest.mark.slow
@pytest.mark.parametrize("index", range(5))
def test_yaml_tags_never_run_in_engine_files_manifests_or_approvals(tmp_path: Path, index: int) -> None:
    sentinel = tmp_path / "pwned"
    payload = _yaml_payloads(sentinel)[index]
    engine = tmp_path / "params.yaml"
    engine.write_text(f"top_p: 0.9\nseed: {payload}\n")
    run_cli(["extract", f"vllm:{engine}"]).assert_input_error("params.yaml:2")
    gen = tmp_path / "generation_config.json"
    gen.write_text('{"top_p": 0.9}')
    manifest = tmp_path / "driftguard.yaml"
    manifest.write_text("version: 1\nmodels:\n  m:\n    training: [{path: generation_config.json}]\n"
                        f"    deployment: [{{path: generation_config.json}}]\n    description: {payload}\n")
    run_cli(["check", "--config", str(manifest)]).assert_input_error("driftguard.yaml:6")
    manifest.write_text("version: 1\nmodels:\n  m:\n    training: [{path: generation_config.json}]\n"
                        "    deployment: [{path: generation_config.json}]\n")
    (tmp_path / "approvals").mkdir()
    (tmp_path / "approvals" / "a.yaml").write_text(
        f"id: a\nmodel: m\nkey: generation.top_p\ntraining: 0.9\ndeployed: 0.8\nreason: {payload}\n"
        f"approved_by: x\nexpires: {iso(30)}\n")
    run_cli(["check", "--config", str(manifest)]).assert_input_error("a.yaml:6")
    sentinel_absent(sentinel)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["model.pt", "last.ckpt", "training_args.bin", "weights.pth"])
def test_checkpoint_kinds_never_run_a_pickle(tmp_path: Path, name: str) -> None:
    sentinel = tmp_path / "pwned"
    path = tmp_path / name
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("archive/data.pkl", _pickle_payload(sentinel))
        zf.writestr("archive/version", b"3\n")
    for kind in ("torch", "lightning", "training-args"):
        run_cli(["extract", f"{kind}:{path}"]).assert_input_error("refused pickle global 'posix.system'")
    legacy = tmp_path / f"legacy-{name}"
    legacy.write_bytes(pickle.dumps(0x1950A86A20F9469CFC6C, protocol=2) + pickle.dumps(1001, protocol=2)
                       + pickle.dumps({}, protocol=2) + _pickle_payload(sentinel))
    run_cli(["extract", f"torch:{legacy}"]).assert_input_error("refused pickle global 'posix.system'")
    sentinel_absent(sentinel)
