"""Real Dockerfiles, compose files and Kubernetes/KServe manifests (tests/corpus/manifests, 16 files from 9
repositories): the values below were read by hand from each file against Docker's, compose's and the kubelet's
rules (an image's ENTRYPOINT, ``$(VAR)``, ``${VAR:-default}``, ``valueFrom``) and the launcher's flags, then
asserted; none was copied from driftguard's output."""

from __future__ import annotations

from pathlib import Path

import pytest

from driftguard import extractors
from driftguard.errors import ExtractionError
from driftguard.extractors import compose, dockerfile_stages, kubernetes
from driftguard.extractors.base import ExtractOptions
from driftguard.model import EffectiveConfig

CORPUS = Path(__file__).resolve().parents[1] / "corpus" / "manifests"
GKE = "GoogleCloudPlatform__kubernetes-engine-samples__ai-ml__"
OPEA = "opea-project__GenAIComps__comps__third_parties__"


def _kind(name: str) -> str:
    return "dockerfile" if "Dockerfile" in name else "compose" if "compose" in name else "kubernetes"


def _extract(name: str) -> EffectiveConfig:
    return extractors.extract(CORPUS / name, _kind(name), ExtractOptions(root=CORPUS))


def _stated(cfg: EffectiveConfig) -> dict[str, tuple[object, int | None]]:
    """Every value the file states (explicit or unresolved), with its line."""
    return {k: (v.value, v.origin.line) for k, v in cfg.values.items() if v.how.value in ("explicit", "unresolved")}


# name -> (serving path, the values the file states, each with its line)
EXPECTED: dict[str, tuple[str | None, dict[str, tuple[object, int | None]]]] = {
    # command: python3 -m vllm.entrypoints.openai.api_server; --model=$(MODEL_ID), MODEL_ID=google/gemma-2-2b-it
    GKE + "llm-serving-gemma__vllm__vllm-2-2b-it.yaml": ("vllm-serve", {
        "vllm.model": ("google/gemma-2-2b-it", 49), "vllm.tensor_parallel_size": (1, 50),
        "vllm.host": ("0.0.0.0", 51), "vllm.port": (8000, 52)}),
    # Google's TGI container runs text-generation-launcher; the launcher reads MODEL_ID, NUM_SHARD... from env;
    # the manifest's PORT=8080 is the image's own value as well
    GKE + "llm-multiple-gpus__llama3-70b__text-generation-inference.yaml": ("tgi", {
        "tgi.launcher.model_id": ("meta-llama/Meta-Llama-3-70B-Instruct", 44), "tgi.launcher.num_shard": (2, 46),
        "tgi.launcher.max_input_tokens": (2048, 48), "tgi.launcher.port": (8080, 50),
        "precision.quantization": ("bitsandbytes-nf4", 52)}),
    # no PORT in the manifest: the image's PORT=8080 (at the image's line); AIP_HTTP_PORT is not the launcher's
    GKE + "llm-serving-gemma__tgi__tgi-2-2b-it.yaml": ("tgi", {
        "tgi.launcher.port": (8080, 35), "tgi.launcher.num_shard": (1, 51), "tgi.launcher.max_input_length": (1562, 53),
        "tgi.launcher.max_total_tokens": (2048, 55), "tgi.launcher.max_batch_prefill_tokens": (2048, 57),
        "tgi.launcher.cuda_memory_fraction": (0.93, 59), "tgi.launcher.model_id": ("google/gemma-2-2b-it", 61)}),
    # command: tritonserver with two flags (no engines spec describes tritonserver's serving path)
    GKE + "gke-online-serving-single-gpu__src__gke-config__deployment-triton.yaml": (None, {
        "tritonserver.model_repository": (["/data/triton-model-repository"], 38),
        "tritonserver.exit_on_error": (False, 38)}),
    # Google's TGI container again (tag latest): MODEL_ID, NUM_SHARD and PORT in env, the token from a Secret
    "huggingface__Google-Cloud-Containers__examples__gke__tgi-deployment__config__deployment.yaml": ("tgi", {
        "tgi.launcher.model_id": ("meta-llama/Meta-Llama-3-8B-Instruct", 25), "tgi.launcher.num_shard": (1, 27),
        "tgi.launcher.port": (8080, 29)}),
    # args only, after the vllm/vllm-openai image's ENTRYPOINT (vllm serve)
    "JanetVictorious__vllm-k8s-deployment__manifests__vllm-deployment.yaml": ("vllm-serve", {
        "vllm.model": ("meta-llama/Meta-Llama-3-70B-Instruct", 35), "vllm.tensor_parallel_size": (4, 37)}),
    # ENTRYPOINT python3 -m vllm...api_server --model ${MODEL_NAME:-...} ${REVISION:+--revision "$REVISION"}:
    # MODEL_NAME and REVISION are set nowhere, so the default applies and the optional flag is unknown
    "koyeb__example-vllm__Dockerfile": ("vllm-serve", {
        "vllm.model": ("meta-llama/Meta-Llama-3.1-8B-Instruct", 4),
        "vllm.unresolved_arguments": ('${REVISION:+--revision "$REVISION"}', 5)}),
    "devsaturn__internvl-vllm__Dockerfile": ("vllm-serve", {
        "vllm.port": (8000, 4), "vllm.model": ("OpenGVLab/InternVL3-14B", 5),
        "vllm.unresolved_arguments": ('${REVISION:+--revision "$REVISION"}', 6)}),
    # KServe's runtime: {{.Name}} is the InferenceService's name, unknown in the runtime alone
    "kserve__kserve__config__runtimes__kserve-vllmserver.yaml": ("vllm-serve", {
        "vllm.port": (8080, 27), "vllm.unresolved_arguments": ("--served-model-name={{.Name}}", 28),
        "vllm.model": ("/mnt/models", 29)}),
    # envsubst template: the container's INFERENCE_MODEL is the literal "${INFERENCE_MODEL}", which the
    # container's shell then expands to itself
    "meta-llama__llama-stack__docs__source__distributions__k8s__vllm-k8s.yaml.template": ("vllm-serve", {
        "vllm.model": ("${INFERENCE_MODEL}", 35), "precision.compute": ("float16", 35),
        "vllm.enforce_eager": (True, 35), "serving.max_model_len": (4096, 35),
        "vllm.gpu_memory_utilization": (0.6, 35), "vllm.enable_auto_tool_choice": (True, 35),
        "vllm.tool_call_parser": ("llama4_pythonic", 35)}),
    # only tgi-server runs the TGI image (tgi-gaudi is another image); LLM_MODEL_ID comes from the shell running
    # compose (no .env); MAX_*_TOKENS from their defaults; PORT=80 from the image
    OPEA + "tgi__deployment__docker_compose__compose.yaml": ("tgi", {
        "tgi.launcher.port": (80, 6), "tgi.launcher.max_input_tokens": (2048, 20),
        "tgi.launcher.max_total_tokens": (4096, 21), "tgi.launcher.model_id": ("${LLM_MODEL_ID}", 27),
        "tgi.launcher.cuda_graphs": ([0], 27)}),
    # only vllm-openvino names a launcher (bash -c ... python3 -m vllm.entrypoints.openai.api_server): the other
    # services run OPEA's own images
    OPEA + "vllm__deployment__docker_compose__compose.yaml": ("vllm-serve", {
        "vllm.model": ("${LLM_MODEL_ID}", 73), "vllm.host": ("0.0.0.0", 73),
        "vllm.port": ("${LLM_ENDPOINT_PORT}", 73)}),
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_values_checked_by_hand(name: str) -> None:
    serving, stated = EXPECTED[name]
    cfg = _extract(name)
    assert cfg.serving == serving
    assert {k: v for k, v in _stated(cfg).items() if k in stated} == stated


def test_seventy_five_continued_lines_each_flag_behind_an_unset_variable() -> None:
    cfg = _extract("koyeb__example-vllm__Dockerfile.extended_parameters")
    assert (cfg.values["vllm.model"].value, cfg.values["vllm.model"].origin.line) == ("google/gemma-2b-it", 5)
    assert cfg.values["vllm.port"].value == "$PORT" and cfg.values["vllm.port"].how.value == "unresolved"
    opaque = str(cfg.values["vllm.unresolved_arguments"].value)
    assert opaque.startswith('${REVISION:+--revision "$REVISION"}') and "${MAX_LOG_LEN:+" in opaque


@pytest.mark.parametrize(("name", "line"), [
    ("hommayushi3__vllm-huggingface__Dockerfile", 8),  # ENTRYPOINT ["/bin/bash", "entrypoint.sh"]: a script
    ("kserve__kserve__docs__samples__fluid__kserve-huggingfaceserver.yaml", 16),  # python3 -m huggingfaceserver
    (OPEA + "sglang__deployment__docker_compose__compose.yaml", 1),  # OPEA's sglang image, no command
])
def test_files_that_start_no_known_launcher(name: str, line: int) -> None:
    with pytest.raises(ExtractionError, match="no known launcher") as err:
        _extract(name)
    assert err.value.line == line


def test_reader_level_facts() -> None:
    [gke] = kubernetes.commands(CORPUS / (GKE + "llm-serving-gemma__vllm__vllm-2-2b-it.yaml"))
    assert gke.where == 'Deployment/vllm-gemma-deployment container "inference-server"'
    assert gke.env["HUGGING_FACE_HUB_TOKEN"].text is None
    assert gke.env["HUGGING_FACE_HUB_TOKEN"].source == "valueFrom secretKeyRef hf-secret/hf_api_token"
    assert gke.env["LD_LIBRARY_PATH"].text == "${LD_LIBRARY_PATH}:/usr/local/nvidia/lib64"  # the kubelet: $(...) only
    triton_file = GKE + "gke-online-serving-single-gpu__src__gke-config__deployment-triton.yaml"
    [triton] = kubernetes.commands(CORPUS / triton_file)
    assert [w.text for w in triton.words] == ["tritonserver", "--model-repository=/data/triton-model-repository",
                                              "--exit-on-error=false"]
    [hf] = dockerfile_stages.commands(CORPUS / "hommayushi3__vllm-huggingface__Dockerfile")
    assert [w.text for w in hf.words] == ["/bin/bash", "entrypoint.sh", ""] and hf.env["DO_NOT_TRACK"].text == "1"
    [kserve] = kubernetes.commands(CORPUS / "kserve__kserve__docs__samples__fluid__kserve-huggingfaceserver.yaml")
    assert [w.text for w in kserve.words][:2] == ["/bin/bash", "-c"] and kserve.words[2].line == 16
    assert kserve.words[-1].text is None and kserve.words[-1].source == "--model_name={{.Name}}"
    services = compose.commands(CORPUS / (OPEA + "vllm__deployment__docker_compose__compose.yaml"), CORPUS)
    assert [c.where for c in services] == ['service "vllm-server"', 'service "vllm-gaudi-server"',
                                           'service "vllm-openvino"', 'service "vllm-rocm-server"']
