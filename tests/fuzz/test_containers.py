"""Hostile Dockerfiles, compose files and Kubernetes manifests: each is refused with one error line naming the
file (exit 2) and the limit that stopped it, with bounded reads and memory, and nothing it names is run or read
outside the checked tree. (Mutated real files of the three kinds: ``test_properties.TEXT_SEEDS``.)"""

from __future__ import annotations

import os
from pathlib import Path

from driftguard.readers.limits import Limits
from tests.attacks.bounded import run_cli, sentinel_absent

LAUGHS = "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
    f"{c}: &{c} [{', '.join([f'*{p}'] * 9)}]\n" for p, c in zip("abcdefgh", "bcdefghi", strict=True))
POD = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n"


def test_yaml_bomb_in_a_later_document_of_a_manifest(tmp_path: Path) -> None:
    path = tmp_path / "deploy.yaml"
    path.write_text(POD + "  - {name: c, image: vllm/vllm-openai}\n---\n" + LAUGHS)
    res = run_cli(["extract", f"kubernetes:{path}"])
    res.assert_limit("objects")
    res.assert_bounded()


def test_countless_empty_documents_meet_the_objects_limit(tmp_path: Path) -> None:
    path = tmp_path / "deploy.yaml"
    path.write_text(POD + "  - {name: c, image: vllm/vllm-openai}\n" + "---\n" * (Limits().objects + 10))
    res = run_cli(["extract", f"kubernetes:{path}"])
    res.assert_limit("objects")
    res.assert_bounded()


def test_deep_nesting_in_a_compose_file(tmp_path: Path) -> None:
    path = tmp_path / "docker-compose.yml"
    path.write_text("services:\n  s:\n    image: x\n    labels: " + "[" * 900 + "]" * 900 + "\n")
    res = run_cli(["extract", f"compose:{path}"])
    res.assert_limit("depth")
    res.assert_bounded()


def test_env_doubling_in_a_dockerfile_stops_at_file_bytes(tmp_path: Path) -> None:
    path = tmp_path / "Dockerfile"
    path.write_text("FROM vllm/vllm-openai\nENV A=xxxxxxxxxxxxxxxx\n" + "ENV A=$A$A\n" * 40
                    + 'CMD ["--model", "$A"]\n')
    res = run_cli(["extract", f"dockerfile:{path}"])
    res.assert_limit("file_bytes")
    res.assert_bounded()


def test_variable_doubling_in_a_manifest_and_a_dotenv(tmp_path: Path) -> None:
    env = "".join(f"    - {{name: V{i + 1}, value: '$(V{i})$(V{i})'}}\n" for i in range(40))
    path = tmp_path / "deploy.yaml"
    path.write_text(POD + "  - name: c\n    image: vllm/vllm-openai\n    env:\n    - {name: V0, value: xxxxxxxx}\n"
                    + env)
    res = run_cli(["extract", f"kubernetes:{path}"])
    res.assert_limit("file_bytes")
    res.assert_bounded()
    (tmp_path / ".env").write_text("V0=xxxxxxxx\n" + "".join(f"V{i + 1}=${{V{i}}}${{V{i}}}\n" for i in range(40)))
    (tmp_path / "docker-compose.yml").write_text("services:\n  s:\n    image: vllm/vllm-openai\n")
    res = run_cli(["extract", f"compose:{tmp_path / 'docker-compose.yml'}"])
    res.assert_limit("file_bytes")
    res.assert_bounded()


def test_a_dotenv_and_an_env_file_outside_the_tree_are_refused(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    tree.mkdir()
    secret = tmp_path / "secret.env"
    secret.write_text("TOKEN=hunter2\n")
    os.symlink(secret, tree / ".env")
    (tree / "docker-compose.yml").write_text("services:\n  s:\n    image: vllm/vllm-openai\n")
    res = run_cli(["extract", "compose:docker-compose.yml"], cwd=tree)
    res.assert_input_error(".env", "outside")
    assert res.read_of(secret).read == 0
    (tree / ".env").unlink()
    (tree / "docker-compose.yml").write_text("services:\n  s:\n    image: vllm/vllm-openai\n"
                                             "    env_file: ../secret.env\n")
    res = run_cli(["extract", "compose:docker-compose.yml"], cwd=tree)
    res.assert_input_error("docker-compose.yml:4", "outside")
    assert res.read_of(secret).read == 0


def test_nothing_a_container_file_names_is_run(tmp_path: Path) -> None:
    sentinel = tmp_path / "ran"
    (tmp_path / "Dockerfile").write_text(f"FROM vllm/vllm-openai\nRUN touch {sentinel}\n"
                                         f"ENTRYPOINT touch {sentinel} && vllm serve $(touch {sentinel})\n")
    (tmp_path / "docker-compose.yml").write_text(
        f'services:\n  s:\n    image: vllm/vllm-openai\n    entrypoint: sh -c "touch {sentinel}; vllm serve m"\n')
    for spec in ("dockerfile:Dockerfile", "compose:docker-compose.yml"):
        res = run_cli(["extract", spec], cwd=tmp_path)
        assert res.rc in (0, 2), res.stderr
        sentinel_absent(sentinel)


def test_an_oversized_dockerfile_is_not_read(tmp_path: Path) -> None:
    path = tmp_path / "Dockerfile"
    with path.open("w") as fh:
        fh.write("FROM vllm/vllm-openai\n")
        fh.truncate(Limits().file_bytes + 1)
    res = run_cli(["extract", f"dockerfile:{path}"])
    res.assert_limit("file_bytes")
    res.assert_bounded(read_at_most=Limits().file_bytes + 1)
