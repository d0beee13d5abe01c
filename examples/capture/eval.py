"""An evaluation script as many are written: load a model folder, tokenize prompts, generate. Run it under
``python -m driftguard.capture -o eval.snapshot.json examples/capture/eval.py MODEL_FOLDER`` to record the
generation and tokenizer settings it actually used."""

import sys

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

PROMPTS = ["the cat sat on the mat", "hello world"]


def main(folder: str) -> None:
    tokenizer = AutoTokenizer.from_pretrained(folder, local_files_only=True)
    model = AutoModelForCausalLM.from_pretrained(folder, local_files_only=True)
    torch.manual_seed(0)
    inputs = tokenizer(PROMPTS, max_length=16, truncation=True, padding=True, return_tensors="pt")
    out = model.generate(**inputs, max_new_tokens=8, top_p=0.9)
    print(out.tolist())


if __name__ == "__main__":
    main(sys.argv[1])
