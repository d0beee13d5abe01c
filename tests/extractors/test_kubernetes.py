"""Kubernetes and KServe manifests: containers of every workload kind, multi-document files and Lists,
``$(VAR)`` expansion as the kubelet does it, ``valueFrom`` unresolved with its source named, the image's
ENTRYPOINT when ``command`` is absent, KServe's runtime merge, and Helm templates refused."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from driftguard import extractors
from driftguard.errors import ExtractionError
from driftguard.extractors import kubernetes
from driftguard.extractors.base import ExtractOptions
from driftguard.model import EffectiveConfig
from driftguard.readers.commands import Command


def _read(tmp_path: Path, text: str) -> list[Command]:
    path = tmp_path / "m.yaml"
    path.write_text(text)
    return kubernetes.commands(path)


def _pod(containers: str, kind: str = "Deployment") -> str:
    spec = {"Pod": "spec:\n", "CronJob": "spec:\n  jobTemplate:\n    spec:\n      template:\n        spec:\n"}.get(
        kind, "spec:\n  template:\n    spec:\n")
    indent = {"Pod": "  ", "CronJob": "          "}.get(kind, "      ")
    body = "".join(indent + line + "\n" for line in containers.strip("\n").splitlines())
    return f"apiVersion: apps/v1\nkind: {kind}\nmetadata:\n  name: llm\n{spec}{body}"


CONTAINER = """containers:
- name: server
  image: vllm/vllm-openai:v0.9.2
  args: ["--model", "$(MODEL)", "--max-model-len", "4096", "--x", "$$(MODEL)", "--y", "$(NOT_SET)"]
  env:
  - name: MODEL
    value: org/m
  - name: HF_TOKEN
    valueFrom:
      secretKeyRef: {name: hf, key: token}
  - name: COPY
    value: $(MODEL)-copy
"""


@pytest.mark.parametrize("kind", ["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob", "Pod"])
def test_every_workload_kind(tmp_path: Path, kind: str) -> None:
    [c] = _read(tmp_path, _pod(CONTAINER, kind))
    assert c.where == f'{kind}/llm container "server"'
    assert [w.text for w in c.words] == ["vllm", "serve", "--model", "org/m", "--max-model-len", "4096",
                                         "--x", "$(MODEL)", "--y", "$(NOT_SET)"]


def test_env_values_expand_and_value_from_is_unresolved_with_its_source(tmp_path: Path) -> None:
    [c] = _read(tmp_path, _pod(CONTAINER))
    assert c.env["COPY"].text == "org/m-copy"
    assert c.env["HF_TOKEN"].text is None and c.env["HF_TOKEN"].source == "valueFrom secretKeyRef hf/token"
    assert c.env["MODEL"].line == 14 and c.words[0].line == 10 and c.words[3].line == 11


def test_a_reference_to_a_value_from_variable_is_unresolved(tmp_path: Path) -> None:
    [c] = _read(tmp_path, _pod(CONTAINER.replace('"--y", "$(NOT_SET)"', '"--hf-token", "$(HF_TOKEN)"')))
    assert c.words[-1].text is None and c.words[-1].source == "$(HF_TOKEN)"


def test_env_from_makes_an_undefined_reference_unresolved(tmp_path: Path) -> None:
    [c] = _read(tmp_path, _pod(CONTAINER + "  envFrom:\n  - configMapRef: {name: cfg}\n"))
    assert c.words[-1].text is None


def test_command_replaces_the_images_entrypoint_and_a_shell_script_keeps_its_known_parts(tmp_path: Path) -> None:
    [c] = _read(tmp_path, _pod("""containers:
- name: server
  image: vllm/vllm-openai:v0.9.2
  command: ["/bin/sh", "-c"]
  args: ["vllm serve $(MODEL) --max-model-len 4096 --hf-token $(HF_TOKEN)"]
  env:
  - {name: MODEL, value: org/m}
  - {name: HF_TOKEN, valueFrom: {secretKeyRef: {name: hf, key: token}}}
"""))
    assert [w.text for w in c.words] == ["/bin/sh", "-c",
                                         "vllm serve org/m --max-model-len 4096 --hf-token ${HF_TOKEN}"]


def test_documents_and_list_items(tmp_path: Path) -> None:
    found = _read(tmp_path, "apiVersion: v1\nkind: Service\nmetadata: {name: s}\n---\n" + _pod(CONTAINER)
                  + "---\napiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Pod\n  metadata: {name: p}\n"
                    "  spec:\n    containers:\n    - {name: c, image: busybox, command: [sleep, '1']}\n")
    assert [c.where for c in found] == ['Deployment/llm container "server"', 'Pod/p container "c"']


def test_init_containers_do_not_serve(tmp_path: Path) -> None:
    found = _read(tmp_path, _pod("initContainers:\n- {name: fetch, image: x, command: [vllm, serve, m]}\n"
                                 + CONTAINER))
    assert [c.where for c in found] == ['Deployment/llm container "server"']


ISVC = """apiVersion: serving.kserve.io/v1beta1
kind: InferenceService
metadata:
  name: llama
spec:
  predictor:
    model:
      modelFormat: {name: huggingface}
      runtime: vllm-runtime
      args: ["--max-model-len", "8192"]
      env:
      - {name: HF_HOME, value: /mnt/cache}
"""
RUNTIME = """---
apiVersion: serving.kserve.io/v1alpha1
kind: ServingRuntime
metadata:
  name: vllm-runtime
spec:
  containers:
  - name: kserve-container
    image: vllm/vllm-openai:v0.9.2
    args: ["--model", "/mnt/models", "--served-model-name", "{{.Name}}"]
    env:
    - {name: HF_HOME, value: /cache}
    - {name: PORT, value: "8080"}
"""


def test_inference_service_model_on_its_runtime_in_the_same_file(tmp_path: Path) -> None:
    [c] = _read(tmp_path, ISVC + RUNTIME)
    assert c.where == 'InferenceService/llama predictor model (runtime "vllm-runtime")'
    assert [w.text for w in c.words] == ["vllm", "serve", "--model", "/mnt/models", "--served-model-name", "llama",
                                         "--max-model-len", "8192"]
    assert {k: w.text for k, w in c.env.items()} == {"HF_HOME": "/mnt/cache", "PORT": "8080"}
    assert c.words[-1].line == 10


def test_a_runtime_alone_and_a_model_whose_runtime_is_elsewhere(tmp_path: Path) -> None:
    [c] = _read(tmp_path, RUNTIME)
    assert c.where == 'ServingRuntime/vllm-runtime container "kserve-container"'
    assert c.words[-1].text is None and c.words[-1].source == "{{.Name}}"
    [c] = _read(tmp_path, ISVC)
    assert "not in this file" in c.where and [w.text for w in c.words] == ["--max-model-len", "8192"]


def test_predictor_containers(tmp_path: Path) -> None:
    [c] = _read(tmp_path, """apiVersion: serving.kserve.io/v1beta1
kind: InferenceService
metadata: {name: tgi}
spec:
  predictor:
    containers:
    - name: kserve-container
      image: ghcr.io/huggingface/text-generation-inference:2.4
      args: [--model-id, org/m]
""")
    assert c.where == 'InferenceService/tgi container "kserve-container"'
    assert [w.text for w in c.words] == ["text-generation-launcher", "--model-id", "org/m"]


def test_helm_templates_are_refused_with_their_line(tmp_path: Path) -> None:
    with pytest.raises(ExtractionError, match="helm template") as err:
        _read(tmp_path, _pod(CONTAINER).replace("org/m", "{{ .Values.model }}"))
    assert err.value.line == 14


@pytest.mark.parametrize(("name", "text", "expected"), [
    ("m.yaml", "apiVersion: apps/v1\nkind: Deployment\n", True),
    ("m.yml", "# c\n---\napiVersion: v1\nkind: Service\n---\napiVersion: v1\nkind: Pod\n", True),
    ("isvc.yaml", "apiVersion: serving.kserve.io/v1beta1\nkind: InferenceService\n", True),
    ("list.yaml", "apiVersion: v1\nkind: List\nitems:\n- apiVersion: apps/v1\n  kind: StatefulSet\n", True),
    ("m.yaml", "apiVersion: v1\nkind: ConfigMap\n", False), ("m.yaml", "kind: Deployment\n", False),
    ("m.yaml", "apiVersion: v1\nkind: List\nitems: []\n", False),
    ("m.json", "apiVersion: apps/v1\nkind: Deployment\n", False),
    ("docker-compose.yml", "services:\n  a:\n    image: x\n", False),
])
def test_detect(name: str, text: str, expected: bool) -> None:
    assert kubernetes.detect(Path(name), text.encode()) is expected


def _extract(tmp_path: Path, text: str) -> EffectiveConfig:
    path = tmp_path / "deploy.yaml"
    path.write_text(text)
    return extractors.extract(path, None, ExtractOptions(root=tmp_path))


def test_extract_a_script_with_a_value_from_keeps_the_rest(tmp_path: Path) -> None:
    cfg = _extract(tmp_path, _pod("""containers:
- name: server
  image: vllm/vllm-openai:v0.9.2
  command: ["/bin/sh", "-c"]
  args:
  - |
    pip install x &&
    vllm serve $(MODEL) \\
      --max-model-len 4096 \\
      --max-num-seqs $SEQS
  env:
  - {name: MODEL, value: org/m}
  - {name: SEQS, valueFrom: {configMapKeyRef: {name: limits, key: seqs}}}
"""))
    assert cfg.kind == "kubernetes" and cfg.serving == "vllm-serve"
    assert (cfg.values["vllm.model"].value, cfg.values["vllm.model"].origin.line) == ("org/m", 15)
    assert (cfg.values["serving.max_model_len"].value, cfg.values["serving.max_model_len"].origin.line) == (4096, 16)
    assert (cfg.values["vllm.max_num_seqs"].value, cfg.values["vllm.max_num_seqs"].how.value) == ("$SEQS",
                                                                                                 "unresolved")


def test_tgi_reads_the_containers_environment(tmp_path: Path) -> None:
    cfg = _extract(tmp_path, _pod("""containers:
- name: tgi
  image: ghcr.io/huggingface/text-generation-inference:2.4.1
  env:
  - {name: MODEL_ID, value: org/m}
  - {name: MAX_INPUT_TOKENS, value: "1024"}
  - {name: MAX_TOTAL_TOKENS, valueFrom: {configMapKeyRef: {name: limits, key: total}}}
"""))
    assert cfg.values["tgi.launcher.max_input_tokens"].value == 1024
    assert cfg.values["tgi.launcher.max_total_tokens"].how.value == "unresolved"


def test_containers_that_disagree_are_an_error_naming_them(tmp_path: Path) -> None:
    doc = _pod("containers:\n- {name: a, image: vllm/vllm-openai, args: [--model, m, --dtype, half]}\n")
    with pytest.raises(ExtractionError, match=r"disagree.*container \"a\".*container \"a\"") as err:
        _extract(tmp_path, doc + "---\n" + doc.replace("half", "bfloat16").replace("name: llm", "name: llm2"))
    assert err.value.line is not None


def test_no_container_starts_a_known_launcher(tmp_path: Path) -> None:
    with pytest.raises(ExtractionError, match="no known launcher is started in this manifest"):
        _extract(tmp_path, _pod("containers:\n- {name: web, image: nginx}\n"))


def test_cli_extract_and_exit_2_on_a_helm_template(tmp_path: Path) -> None:
    path = tmp_path / "deploy.yaml"
    path.write_text(_pod(CONTAINER))
    proc = subprocess.run([sys.executable, "-m", "driftguard", "extract", f"kubernetes:{path}"], capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    line = next(ln for ln in proc.stdout.splitlines() if ln.startswith("vllm.model"))
    assert "org/m" in line and f"{path}:11" in line
    path.write_text(_pod(CONTAINER).replace("org/m", "{{ .Values.model }}"))
    proc = subprocess.run([sys.executable, "-m", "driftguard", "extract", str(path)], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 2 and f"{path}:14" in proc.stderr and "helm template" in proc.stderr
