"""Build the capture example's model offline, in a second, on a CPU: a tiny GPT-2 (one layer, 8 wide, random
weights seeded with ``--seed``) and a word-level tokenizer, saved as a Hugging Face model folder whose
``generation_config.json`` says how the model samples (temperature 0.7, top_k 20, 12 new tokens) and whose
tokenizer pads and truncates on the left.

    python examples/capture/build.py tiny-gpt2

Needs torch, transformers and tokenizers (``pip install 'driftguard-ml[hf]'``); no network.
"""

from __future__ import annotations

import argparse
from pathlib import Path

WORDS = ["the", "a", "cat", "dog", "sat", "on", "mat", "hello", "world", "model", "serves", "text"]
SPECIALS = {"<unk>": 0, "<s>": 1, "</s>": 2}
#: What the model's generation_config.json states (``generate()`` starts from it).
GENERATION = {"do_sample": True, "temperature": 0.7, "top_k": 20, "max_new_tokens": 12}


def save_tokenizer(folder: Path) -> int:
    """The word-level tokenizer, left padding and truncation; returns the vocabulary size."""
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    vocab = {**SPECIALS, **{w: i + len(SPECIALS) for i, w in enumerate(WORDS)}}
    tok = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<s>", eos_token="</s>", unk_token="<unk>",
                                   pad_token="<unk>", padding_side="left", truncation_side="left",
                                   model_max_length=64)
    fast.save_pretrained(str(folder))
    return len(vocab)


def save_model(folder: Path, vocab_size: int, seed: int, width: int = 8) -> None:
    """The tiny GPT-2 with seeded random weights and its generation config; ``width`` its hidden size (two
    heads: vLLM's CPU attention takes head sizes of 32 and more, so its tests build it 128 wide)."""
    import torch
    from transformers import GenerationConfig, GPT2Config, GPT2LMHeadModel

    torch.manual_seed(seed)
    config = GPT2Config(n_layer=1, n_embd=width, n_head=2, n_positions=64, vocab_size=vocab_size,
                        bos_token_id=SPECIALS["<s>"], eos_token_id=SPECIALS["</s>"])
    model = GPT2LMHeadModel(config).eval()
    model.generation_config = GenerationConfig(bos_token_id=SPECIALS["<s>"], eos_token_id=SPECIALS["</s>"],
                                               pad_token_id=SPECIALS["<unk>"], **GENERATION)
    model.save_pretrained(str(folder))


def build(folder: Path, seed: int = 0, width: int = 8) -> Path:
    """The model folder at ``folder``; returns it."""
    folder.mkdir(parents=True, exist_ok=True)
    save_model(folder, save_tokenizer(folder), seed, width)
    return folder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path, help="the model folder to write")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--width", type=int, default=8, help="hidden size (two heads; vLLM needs 64 or more)")
    args = parser.parse_args()
    print(f"wrote {build(args.out, args.seed, args.width)}")


if __name__ == "__main__":
    main()
