"""``.safetensors`` files: tensor dtypes and counts from the header, never the tensor data.

The format (huggingface/safetensors README, "Format"): 8 bytes, a little-endian unsigned 64-bit header size
N; N bytes of UTF-8 JSON (an object, possibly padded with spaces) mapping each tensor name to
``{"dtype", "shape", "data_offsets": [begin, end]}`` (offsets relative to the byte buffer after the header),
plus an optional ``"__metadata__"`` string-to-string map, read by ``driftguard.readers.safetensors``.

Keys: ``precision.weights`` (the float dtype holding most elements), ``model.weights.count``,
``model.weights.parameters`` (elements of every tensor), ``safetensors.metadata.<name>`` for each
``__metadata__`` entry (``format``: ``pt``, ``tf``, ``flax``, ``np``... the framework that wrote it).
"""

from __future__ import annotations

from pathlib import Path

from driftguard.extractors.base import ExtractOptions, KindInfo, ValueBuilder
from driftguard.model import EffectiveConfig

INFO = KindInfo(
    kind="safetensors",
    description="safetensors weights file: weight precision and counts, __metadata__",
    role="either",
    rank=0,
    keeps=("safetensors",),
    weights="safetensors",
    engine_loads=True,
    names=("*.safetensors",),
)


def detect(path: Path, head: bytes) -> bool:
    return path.suffix.lower() == ".safetensors"


def extract(path: Path, options: ExtractOptions) -> EffectiveConfig:
    # imported here, not at the top: detection imports every kind's module, a check of JSON files too
    from driftguard.extractors import checkpoint_common as pr
    from driftguard.readers import safetensors as safetensors_header

    header = safetensors_header.read(path, options.limits)
    vb = ValueBuilder(INFO.kind, path)
    summary = pr.weights_summary(header.tensors)
    if header.tensors:
        vb.set("model.weights.count", summary["count"], pointer="/", note="tensors in the file")
        vb.set("model.weights.parameters", summary["parameters"], pointer="/",
               note="elements of every tensor in the file")
    if summary["precision"] is not None:
        vb.set("precision.weights", summary["precision"], pointer="/", note=summary["precision_note"])
    for key, value in sorted(header.metadata.items()):
        vb.set(f"safetensors.metadata.{key}", value, pointer=f"/__metadata__/{key}")
    return vb.build()
