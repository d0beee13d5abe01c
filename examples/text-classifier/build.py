"""Build the text-classifier example's artifacts offline, in seconds, on a CPU.

    python examples/text-classifier/build.py                 # into examples/text-classifier/artifacts/
    python examples/text-classifier/build.py --out DIR --seed 1

Writes, under ``--out``:

* ``text-classifier.ckpt``  - a Lightning-style training checkpoint (``state_dict``, ``hyper_parameters`` with
  ``vocab_size``, ``max_length``, ``num_labels``), of a tiny classifier (embedding + mean pool + linear)
  trained a few steps on synthetic data;
* ``model.onnx``            - its FP32 ONNX export: inputs ``input_ids`` and ``attention_mask``, int64
  ``[batch, 128]`` with a dynamic batch axis, output ``logits`` float32 ``[batch, 2]``;
* ``model-int8.onnx``       - ``onnxruntime.quantization.quantize_dynamic`` of it (int8 weights), the file the
  Triton config in ``model_repository/text_classifier/`` serves;
* ``golden.npz``            - 64 golden inputs (``input_ids``, ``attention_mask``) for ``driftguard parity``,
  drawn like the training data from a fixed seed of their own (the same for every ``--seed``).

``build_model(config)`` is the parity builder (``builder: build.py:build_model`` in ``driftguard.yaml``): it makes
the module the checkpoint's weights load into, sized from the training side's effective config.

Needs torch, onnx and onnxruntime (``pip install 'driftguard-ml[all]'``); no network. ``--seed`` changes the
initialization and the training data: a different seed is a different ("retrained") model.

Every machine builds the same weights (the README shows their DG401 fingerprints), though a float training run
differs between machines: summation order and vector kernels depend on the CPU and the thread count (trained in
float32, the weights moved by up to 2e-6 between torch's scalar and AVX2 kernels). So:

* the initial weights are integers from a ``torch.Generator`` times ``GRID`` (torch's ``normal_`` has its own
  vectorized path, which already differs in the last bits between CPUs);
* training runs in float64, on one thread with deterministic algorithms, and the trained weights are rounded to
  multiples of ``GRID`` (2**-10), exact in float32. Between kernels a float64 run differs by up to 3e-14
  (measured, scalar vs AVX2 vs AVX-512), some 1e-11 of a step, so every machine rounds to the same grid point;
* unless a weight lies within ``MARGIN`` steps (6e-8) of a rounding midpoint, where another machine could round it
  the other way: then the build stops rather than write weights it cannot reproduce (with seeds 0 and 1 the
  closest weight is 4e-6 steps away);
* ONNX export and ``quantize_dynamic`` are functions of those weights (transposes, min/max, elementwise rounding).

``tests/test_example_text_classifier.py`` builds under one and two threads and under torch's scalar
(``ATEN_CPU_CAPABILITY=default``) kernels and requires identical tensors and fingerprints.
"""

from __future__ import annotations

import argparse
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import torch
from torch import nn

VOCAB_SIZE = 1000
MAX_LENGTH = 128
NUM_LABELS = 2
EMBED_DIM = 64
#: Weights are multiples of this, before and after training (exact in float32 for magnitudes below 2**14).
GRID = 2.0 ** -10
#: A trained weight within this many grid steps of a rounding midpoint is refused (see the module docstring).
MARGIN = 2.0 ** -24


class TextClassifier(nn.Module):
    """Token embedding, mean over the unmasked positions, one linear layer."""

    def __init__(self, vocab_size: int = VOCAB_SIZE, embed_dim: int = EMBED_DIM, num_labels: int = NUM_LABELS):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embed_dim)
        self.classifier = nn.Linear(embed_dim, num_labels)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        mask = attention_mask.unsqueeze(-1).to(self.embedding.weight.dtype)
        pooled = (self.embedding(input_ids) * mask).sum(1) / mask.sum(1).clamp(min=1.0)
        return self.classifier(pooled)


def build_model(config: dict[str, object]) -> TextClassifier:
    """The parity builder: an untrained ``TextClassifier`` sized from an effective config (``{key: value}``)."""

    def size(key: str, default: int) -> int:
        value = config.get(key, default)
        return int(value) if isinstance(value, (int, float)) else default

    return TextClassifier(size("model.vocab_size", VOCAB_SIZE), size("hparams.embed_dim", EMBED_DIM),
                          size("model.num_labels", NUM_LABELS)).eval()


GOLDEN_SEED = 1234
GOLDEN_SIZE = 64


def save_golden(path: Path) -> None:
    """64 inputs drawn like the training data, from their own seed: the golden set parity runs on."""
    import numpy as np

    gen = torch.Generator().manual_seed(GOLDEN_SEED)
    ids, mask, _ = synthetic_batch(gen, GOLDEN_SIZE)
    np.savez(path, input_ids=ids.numpy(), attention_mask=mask.numpy())


def synthetic_batch(gen: torch.Generator, size: int = 32) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Random token sequences of random length; label 1 when most tokens are in the upper half of the vocab."""
    ids = torch.randint(0, VOCAB_SIZE, (size, MAX_LENGTH), generator=gen)
    lengths = torch.randint(8, MAX_LENGTH + 1, (size,), generator=gen)
    mask = (torch.arange(MAX_LENGTH)[None, :] < lengths[:, None]).long()
    ids = ids * mask
    upper = ((ids >= VOCAB_SIZE // 2) & (mask == 1)).sum(1)
    labels = (upper * 2 > lengths).long()
    return ids, mask, labels


@contextmanager
def deterministic() -> Iterator[None]:
    """One intra-op thread and deterministic algorithms for the block; the caller's settings are restored."""
    threads, strict = torch.get_num_threads(), torch.are_deterministic_algorithms_enabled()
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(strict)
        torch.set_num_threads(threads)


def init_weights(model: TextClassifier, gen: torch.Generator) -> None:
    """Uniform initial weights on the grid, drawn as integers: the embedding with unit variance (as torch's
    N(0, 1)), the linear layer within torch's default bound 1/sqrt(fan_in)."""
    with torch.no_grad():
        for name, param in model.named_parameters():
            bound = 3 ** 0.5 if name.startswith("embedding.") else model.classifier.in_features ** -0.5
            steps = int(bound / GRID)
            ints = torch.randint(-steps, steps + 1, param.shape, generator=gen)
            param.copy_(ints.to(param.dtype) * GRID)


def snap_to_grid(model: TextClassifier) -> TextClassifier:
    """The float64 ``model`` rounded to multiples of ``GRID``, as float32; raises ``RuntimeError`` when a weight
    is too close to a rounding midpoint to round the same way on every machine."""
    with torch.no_grad():
        for name, param in model.named_parameters():
            steps = param.detach().to(torch.float64) / GRID  # exact: GRID is a power of two
            near = (steps - steps.floor() - 0.5).abs() < MARGIN
            if bool(near.any()):
                where = tuple(int(i) for i in near.nonzero()[0])
                raise RuntimeError(f"{name}{list(where)} = {float(param[where])!r} lies within {MARGIN} grid steps "
                                   "of a rounding midpoint: another CPU could round it the other way; use another "
                                   "--seed or --steps")
            param.copy_(steps.round() * GRID)
    return model.float()


def train(seed: int, steps: int = 20) -> TextClassifier:
    """The classifier trained ``steps`` AdamW steps on synthetic batches from ``seed``: the same weights on every
    machine (see the module docstring)."""
    gen = torch.Generator().manual_seed(seed)
    model = TextClassifier().to(torch.float64)
    with deterministic():
        init_weights(model, gen)
        opt = torch.optim.AdamW(model.parameters(), lr=1e-2)
        for _ in range(steps):
            ids, mask, labels = synthetic_batch(gen)
            loss = nn.functional.cross_entropy(model(ids, mask), labels)
            opt.zero_grad()
            loss.backward()
            opt.step()
    return snap_to_grid(model).eval()


def save_checkpoint(model: TextClassifier, path: Path, steps: int) -> None:
    """A checkpoint laid out as Lightning's ``dump_checkpoint`` writes one (without needing Lightning)."""
    torch.save({
        "epoch": 0,
        "global_step": steps,
        "pytorch-lightning_version": "2.4.0",
        "state_dict": {f"model.{k}": v for k, v in model.state_dict().items()},
        "hyper_parameters": {"vocab_size": VOCAB_SIZE, "max_length": MAX_LENGTH, "num_labels": NUM_LABELS,
                             "embed_dim": EMBED_DIM, "lr": 1e-2},
    }, path)


def export_onnx(model: TextClassifier, path: Path) -> None:
    import onnx

    ids = torch.zeros((2, MAX_LENGTH), dtype=torch.long)
    mask = torch.ones((2, MAX_LENGTH), dtype=torch.long)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation notice
        torch.onnx.export(
            model, (ids, mask), str(path), input_names=["input_ids", "attention_mask"], output_names=["logits"],
            dynamic_axes={"input_ids": {0: "batch"}, "attention_mask": {0: "batch"}, "logits": {0: "batch"}},
            opset_version=17, dynamo=False,
        )
    graph = onnx.load(str(path))
    for key, value in (("max_length", MAX_LENGTH), ("num_labels", NUM_LABELS), ("vocab_size", VOCAB_SIZE)):
        graph.metadata_props.add(key=key, value=str(value))
    onnx.save(graph, str(path))


def quantize_int8(src: Path, dst: Path) -> None:
    import logging

    from onnxruntime.quantization import QuantType, quantize_dynamic

    logging.getLogger().setLevel(logging.ERROR)  # "consider pre-processing" advice for real models
    quantize_dynamic(str(src), str(dst), weight_type=QuantType.QInt8)


def build(out: Path, seed: int = 0, steps: int = 20) -> dict[str, Path]:
    """Train, checkpoint, export and quantize into ``out``; returns the files written by role."""
    out.mkdir(parents=True, exist_ok=True)
    model = train(seed, steps)
    files = {"checkpoint": out / "text-classifier.ckpt", "onnx": out / "model.onnx",
             "onnx_int8": out / "model-int8.onnx", "golden": out / "golden.npz"}
    save_checkpoint(model, files["checkpoint"], steps)
    export_onnx(model, files["onnx"])
    quantize_int8(files["onnx"], files["onnx_int8"])
    save_golden(files["golden"])
    return files


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "artifacts")
    parser.add_argument("--seed", type=int, default=0, help="a different seed is a different (retrained) model")
    parser.add_argument("--steps", type=int, default=20)
    args = parser.parse_args()
    for role, path in build(args.out, args.seed, args.steps).items():
        print(f"{role:<11} {path} ({path.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
