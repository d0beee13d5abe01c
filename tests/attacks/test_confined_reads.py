"""Files read *under* a confined path: a model folder the manifest names lies in the tree, but a file inside it
(``config.json``, ``generation_config.json``, the tokenizer's, a Triton ``config.pbtxt``, a chat template beside
them) may be a symlink out of it. Every read goes through ``readers.files``, which resolves each file it opens:
the check stops with exit 2 naming the file, the outside file is never opened, and its values never reach the
report. Generated: one case per file a kind reads implicitly, each as a symlink and as a folder link."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.attacks.bounded import run_cli

SECRET = "hunter2-token"
GEN = {"do_sample": True, "temperature": 0.7, "top_p": 0.92}
CONFIG = {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "vocab_size": 32000,
          "max_position_embeddings": 4096, "torch_dtype": "bfloat16"}
TOKENIZER = {"model_max_length": 4096, "padding_side": "left", "chat_template": "{{ messages }}"}
PBTXT = 'name: "m"\nbackend: "onnxruntime"\nmax_batch_size: 8\n'

#: (artifact as the manifest names it, its kind, the file under it that is linked out, the file's content)
CASES = {
    "model folder config.json": ("model", "hf-model", "model/config.json", json.dumps(CONFIG)),
    "model folder generation_config.json": ("model", "hf-model", "model/generation_config.json",
                                            json.dumps(GEN)),
    "model folder tokenizer_config.json": ("model", "hf-model", "model/tokenizer_config.json",
                                           json.dumps(TOKENIZER)),
    "tokenizer's chat_template.jinja": ("model", "hf-model", "model/chat_template.jinja", "{{ messages }}"),
    "triton folder config.pbtxt": ("triton/m", "triton", "triton/m/config.pbtxt", PBTXT),
}


def _tree(tmp_path: Path) -> Path:
    """A repository whose model folder and Triton folder are complete, every file inside it."""
    repo = tmp_path / "repo"
    (repo / "model").mkdir(parents=True)
    (repo / "model" / "config.json").write_text(json.dumps(CONFIG))
    (repo / "model" / "generation_config.json").write_text(json.dumps(GEN))
    (repo / "model" / "tokenizer_config.json").write_text(json.dumps(TOKENIZER))
    (repo / "triton" / "m").mkdir(parents=True)
    (repo / "triton" / "m" / "config.pbtxt").write_text(PBTXT)
    (repo / "request.json").write_text(json.dumps({"temperature": 0.7, "top_p": 0.92, "max_tokens": 16}))
    return repo


def _manifest(repo: Path, artifact: str, kind: str) -> Path:
    path = repo / "driftguard.yaml"
    path.write_text(f"version: 1\nmodels:\n  m:\n    training:\n      - {{path: {artifact}, kind: {kind}}}\n"
                    "    deployment:\n      - {path: model/generation_config.json, kind: hf-generation}\n")
    return path


def _secret(tmp_path: Path, content: str) -> Path:
    """The outside file: the same content as the one it replaces, with a secret in it."""
    outside = tmp_path / "outside"
    outside.mkdir(exist_ok=True)
    secret = outside / "secret"
    if content.startswith('{"'):
        secret.write_text(json.dumps({**json.loads(content), "api_key": SECRET}))
    else:
        secret.write_text(content + f"\n# {SECRET}\n")
    return secret


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("how", ["symlink", "dotdot link"])
def test_a_file_under_a_confined_folder_may_not_lead_out(tmp_path: Path, case: str, how: str) -> None:
    artifact, kind, inner, content = CASES[case]
    repo = _tree(tmp_path)
    secret = _secret(tmp_path, content)
    link = repo / inner
    link.unlink(missing_ok=True)
    link.symlink_to(secret if how == "symlink" else Path("../" * inner.count("/") + "../outside/secret"))
    res = run_cli(["check", "--config", str(_manifest(repo, artifact, kind))], cwd=repo)
    res.assert_input_error("outside", Path(inner).name)
    assert SECRET not in res.stdout + res.stderr
    assert not res.opened_outside(repo), res.opened_outside(repo)


def test_a_folder_link_out_of_the_tree_is_refused_for_what_is_read_under_it(tmp_path: Path) -> None:
    repo = _tree(tmp_path)
    _secret(tmp_path, json.dumps(TOKENIZER))
    (tmp_path / "outside" / "tokenizer_config.json").write_text(json.dumps({**TOKENIZER, "api_key": SECRET}))
    (repo / "model" / "tokenizer_config.json").unlink()
    (repo / "model" / "tok").symlink_to(tmp_path / "outside")
    (repo / "model" / "tokenizer_config.json").symlink_to("tok/tokenizer_config.json")
    res = run_cli(["check", "--config", str(_manifest(repo, "model", "hf-model"))], cwd=repo)
    res.assert_input_error("outside", "tokenizer_config.json")
    assert SECRET not in res.stdout + res.stderr and not res.opened_outside(repo)


def test_links_that_stay_in_the_tree_are_read(tmp_path: Path) -> None:
    repo = _tree(tmp_path)
    (repo / "shared").mkdir()
    (repo / "model" / "generation_config.json").rename(repo / "shared" / "generation_config.json")
    (repo / "model" / "generation_config.json").symlink_to("../shared/generation_config.json")
    res = run_cli(["check", "--config", str(_manifest(repo, "model", "hf-model"))], cwd=repo)
    assert res.rc in (0, 1), res.stderr


def test_extract_on_its_own_confines_to_the_artifacts_folder(tmp_path: Path) -> None:
    repo = _tree(tmp_path)
    secret = _secret(tmp_path, json.dumps(GEN))
    (repo / "model" / "generation_config.json").unlink()
    (repo / "model" / "generation_config.json").symlink_to(secret)
    res = run_cli(["extract", "hf-model:" + str(repo / "model")], cwd=repo)
    res.assert_input_error("outside", "generation_config.json")
    assert SECRET not in res.stdout + res.stderr
