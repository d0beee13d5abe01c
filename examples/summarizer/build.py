"""Build the summarizer's parity artifacts offline, in seconds, on a CPU: a tiny stand-in language model and
golden articles. Only ``driftguard parity`` / ``check --parity`` need them; ``driftguard check`` reads the configs
under ``training/`` and ``deployment/`` and needs nothing built.

    python examples/summarizer/build.py                 # into examples/summarizer/artifacts/
    python examples/summarizer/build.py --out DIR --seed 1

Writes, under ``--out``:

* ``tiny-summarizer/`` - a Hugging Face model folder: a ``LlamaForCausalLM`` two layers deep, 64 wide, with
  **random weights** (seeded: every matrix drawn from N(0, 1) by a ``torch.Generator`` seeded with ``--seed``,
  the output layer then scaled by 4 so most next-token distributions are confident, as a trained model's are;
  it is not trained and its summaries are word salad), saved as safetensors in float32, and a word-level
  tokenizer (``tokenizers`` ``WordLevel``, one token per word, ``<s>`` prepended) saved as a
  ``PreTrainedTokenizerFast``. Special tokens as in ``training/``: ``<unk>`` 0 (also padding), ``<s>`` 1,
  ``</s>`` 2;
* ``golden.jsonl``     - 16 golden articles of 600 to 1,000 words (so 601 to 1,001 tokens: longer than the
  deployment's 512, within the evaluated 1,024), each ending with the instruction word ``summarize``, drawn
  from a fixed seed of their own (the same for every ``--seed``).

The words are made-up syllable strings (``kelu``, ``tamora``, ...), not English: no corpus is needed.
Needs torch, transformers and tokenizers (``pip install 'driftguard-ml[hf]'``); no network.
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path

VOCAB_WORDS = 400
HIDDEN = 64
LAYERS = 2
HEADS = 4
KV_HEADS = 2
OUTPUT_SCALE = 4.0
MAX_POSITIONS = 2048
GOLDEN_SEED = 2024
GOLDEN_ARTICLES = 16
ARTICLE_WORDS = (600, 1000)
INSTRUCTION = "summarize"
SPECIALS = {"<unk>": 0, "<s>": 1, "</s>": 2}


def words() -> list[str]:
    """The made-up vocabulary: ``VOCAB_WORDS`` distinct syllable strings from a fixed seed."""
    rng = random.Random(7)
    onsets, vowels = "bdfgklmnprstvz", "aeiou"
    out: list[str] = []
    seen = {INSTRUCTION}
    while len(out) < VOCAB_WORDS:
        w = "".join(rng.choice(onsets) + rng.choice(vowels) for _ in range(rng.randint(1, 3)))
        if w not in seen:
            seen.add(w)
            out.append(w)
    return out


def save_tokenizer(folder: Path) -> int:
    """A word-level tokenizer over ``words()`` plus the instruction word; returns the vocabulary size."""
    from tokenizers import Tokenizer, models, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    vocab = dict(SPECIALS)
    for w in [*words(), INSTRUCTION]:
        vocab[w] = len(vocab)
    tok = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tok.post_processor = processors.TemplateProcessing(single="<s> $A", special_tokens=[("<s>", 1)])
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<s>", eos_token="</s>", unk_token="<unk>",
                                   pad_token="<unk>", model_max_length=1024)
    fast.save_pretrained(str(folder))
    return len(vocab)


def save_model(folder: Path, vocab_size: int, seed: int) -> None:
    """The tiny ``LlamaForCausalLM`` with seeded random weights (see the module docstring)."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    config = LlamaConfig(vocab_size=vocab_size, hidden_size=HIDDEN, intermediate_size=2 * HIDDEN,
                         num_hidden_layers=LAYERS, num_attention_heads=HEADS, num_key_value_heads=KV_HEADS,
                         max_position_embeddings=MAX_POSITIONS, bos_token_id=1, eos_token_id=2, pad_token_id=0,
                         tie_word_embeddings=False)
    model = LlamaForCausalLM(config)
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        # Our own draw, parameter by parameter in name order, so the weights do not depend on how a
        # transformers release initializes a Llama.
        for _name, param in sorted(model.named_parameters(), key=lambda item: item[0]):
            if param.ndim >= 2:
                param.copy_(torch.randn(param.shape, generator=gen))
            else:
                param.fill_(1.0)  # RMSNorm gains
        model.lm_head.weight.mul_(OUTPUT_SCALE)
    model.save_pretrained(str(folder), safe_serialization=True)


def save_golden(path: Path) -> None:
    """``GOLDEN_ARTICLES`` records ``{"id", "text"}``: random articles from the vocabulary, instruction last."""
    rng = random.Random(GOLDEN_SEED)
    vocab = words()
    with path.open("w", encoding="utf-8") as fh:
        for i in range(GOLDEN_ARTICLES):
            body = [rng.choice(vocab) for _ in range(rng.randint(*ARTICLE_WORDS) - 1)]
            fh.write(json.dumps({"id": f"article-{i + 1:02d}", "text": " ".join([*body, INSTRUCTION])}) + "\n")


def build(out: Path, seed: int = 0) -> dict[str, Path]:
    """Write the model folder and the golden articles into ``out``; returns the paths by role."""
    out.mkdir(parents=True, exist_ok=True)
    files = {"model": out / "tiny-summarizer", "golden": out / "golden.jsonl"}
    files["model"].mkdir(exist_ok=True)
    vocab_size = save_tokenizer(files["model"])
    save_model(files["model"], vocab_size, seed)
    save_golden(files["golden"])
    return files


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "artifacts")
    parser.add_argument("--seed", type=int, default=0, help="a different seed is a different model")
    args = parser.parse_args()
    for role, path in build(args.out, args.seed).items():
        size = sum(p.stat().st_size for p in path.rglob("*")) if path.is_dir() else path.stat().st_size
        print(f"{role:<6} {path} ({size} bytes)")


if __name__ == "__main__":
    main()
