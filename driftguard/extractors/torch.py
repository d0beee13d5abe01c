"""Plain PyTorch checkpoints (``.pt``, ``.pth``, ``pytorch_model.bin``): weights summary and hyperparameters.

Read through :mod:`checkpoint_common` without executing the pickle and without importing torch (zip format).
The state dict is the top-level object when it is a mapping of tensors, else the first of
:data:`STATE_DICT_KEYS` that is one, else every tensor outside optimizer and scheduler state.
Hyperparameters are read from :data:`HPARAM_ROOTS` and kept under ``hparams.*`` (first root wins on a clash),
known names mapped onto canonical keys (:data:`checkpoint_common.HPARAM_KEYS`); other top-level scalars
(``epoch``, ``step``...) are kept under ``torch.*``. ``model.num_labels``/``model.vocab_size`` come from
hyperparameters only, never guessed from weight shapes.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from driftguard.errors import ExtractionError
from driftguard.extractors.base import ExtractOptions, KindInfo, ValueBuilder
from driftguard.model import EffectiveConfig

if TYPE_CHECKING:
    from driftguard.extractors import checkpoint_common as pr

INFO = KindInfo(
    kind="torch",
    description="PyTorch checkpoint (.pt/.pth/pytorch_model.bin): weights summary, hyperparameters",
    role="training",
    rank=60,
    keeps=("torch", "hparams"),
    weights="torch",
    engine_loads=True,
)

HPARAM_ROOTS = ("hyper_parameters", "hparams", "config", "args", "cfg")


def detect(path: Path, head: bytes) -> bool:
    if path.suffix.lower() not in (".pt", ".pth", ".bin") or path.name == "training_args.bin":
        return False
    # imported here, not at the top: detection imports every kind's module, a check of JSON files too
    from driftguard.extractors import checkpoint_common as pr

    if pr.is_legacy(head):
        return True
    return pr.is_zip(head) and pr.peek_kind(path, head) not in ("lightning", "training-args")


def find_state_dict(top: Any) -> tuple[str, list[tuple[str, pr.TensorRecord]]]:
    """(pointer, named tensors) of the checkpoint's weights."""
    from driftguard.extractors import checkpoint_common as pr
    from driftguard.readers.torch_archive import NOT_WEIGHTS, STATE_DICT_KEYS

    if pr.is_state_dict(top):
        return "", list(pr.iter_tensors(top))
    if isinstance(top, dict):
        for key in STATE_DICT_KEYS:
            if pr.is_state_dict(top.get(key)):
                return f"/{key}", list(pr.iter_tensors(top[key]))
        rest = {k: v for k, v in top.items() if k not in NOT_WEIGHTS}
        return "", list(pr.iter_tensors(rest))
    return "", list(pr.iter_tensors(top))


def extract(path: Path, options: ExtractOptions) -> EffectiveConfig:
    from driftguard.extractors import checkpoint_common as pr

    top = pr.load_checkpoint(path, options.limits)
    vb = ValueBuilder(INFO.kind, path)
    pointer, tensors = find_state_dict(top)
    pr.add_weights(vb, tensors, pointer or "/")
    if isinstance(top, dict) and not pr.is_state_dict(top):
        for root in HPARAM_ROOTS:
            tree = top.get(root)
            if isinstance(tree, pr.RecordedObject):
                tree = tree.fields()
            if isinstance(tree, dict) and not pr.is_state_dict(tree):
                pr.add_hparams(vb, tree, "hparams", f"/{root}")
                pr.dtype_fallback(vb, tree, f"/{root}")
        for key, value in top.items():
            # Only scalars (and records of one): never turn a whole state dict into plain data to find out.
            if not isinstance(key, str) or key in HPARAM_ROOTS or isinstance(
                    value, (dict, list, tuple, set, frozenset, pr.TensorRecord)):
                continue
            plain = pr.to_plain(value)
            if plain is None or isinstance(plain, (bool, int, float, str)):
                vb.set(f"torch.{key}", plain, pointer=f"/{key}")
    elif not isinstance(top, dict):
        raise ExtractionError(f"checkpoint holds a {type(pr.to_plain(top)).__name__}, expected a dict of "
                              "tensors and settings", str(path))
    return vb.build()
