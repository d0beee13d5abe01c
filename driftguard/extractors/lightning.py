"""PyTorch Lightning checkpoints (``.ckpt``, or any torch file laid out as Lightning writes it).

Lightning's ``dump_checkpoint`` writes one dict: ``state_dict``, ``hyper_parameters`` (``save_hyperparameters``),
``datamodule_hyper_parameters``, ``pytorch-lightning_version``, ``epoch``, ``global_step``, ``loops``,
``optimizer_states``, ``lr_schedulers``, ``callbacks`` and the precision plugin's state under the plugin's
class name. Read through :mod:`checkpoint_common` (metadata only, no torch import for the zip format).

* ``hyper_parameters`` -> ``hparams.*``, ``datamodule_hyper_parameters`` -> ``hparams.datamodule.*``; known
  names map onto canonical keys (:data:`checkpoint_common.HPARAM_KEYS`, shallowest wins: the module's own value
  beats the datamodule's).
* ``precision.compute`` from a ``precision`` hyperparameter or top-level entry (``16-mixed``, ``bf16-mixed``,
  ``32``...); failing that, a saved AMP GradScaler state (``MixedPrecision``/``MixedPrecisionPlugin``/
  ``NativeMixedPrecisionPlugin`` with a ``scale``) means ``16-mixed``, since only fp16 AMP keeps a scaler.
* ``model.architecture`` from LightningCLI's ``_class_path`` hyperparameter when present.
* ``lightning.version``, ``lightning.epoch``, ``lightning.global_step``, and each optimizer's scalar
  ``param_groups`` settings as ``lightning.optimizer.<i>.<name>`` (lr, betas, weight_decay...).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from driftguard.errors import ExtractionError
from driftguard.extractors.base import ExtractOptions, KindInfo, ValueBuilder
from driftguard.model import EffectiveConfig
from driftguard.normalize import normalize_dtype, normalize_number

INFO = KindInfo(
    kind="lightning",
    description="PyTorch Lightning checkpoint (.ckpt): hyperparameters, precision, weights summary",
    role="training",
    rank=60,
    keeps=("lightning", "hparams"),
    weights="torch",
)

_SCALER_KEYS = ("MixedPrecision", "MixedPrecisionPlugin", "NativeMixedPrecisionPlugin")
_TOP_SCALARS = {"pytorch-lightning_version": "lightning.version", "epoch": "lightning.epoch",
                "global_step": "lightning.global_step", "hparams_name": "lightning.hparams_name"}


def detect(path: Path, head: bytes) -> bool:
    suffix = path.suffix.lower()
    if suffix not in (".ckpt", ".pt", ".pth", ".bin"):
        return False
    # imported here, not at the top: detection imports every kind's module, a check of JSON files too
    from driftguard.extractors import checkpoint_common as pr

    if suffix == ".ckpt":
        return pr.is_zip(head) or pr.is_legacy(head)
    if suffix in (".pt", ".pth", ".bin") and path.name not in ("training_args.bin", "pytorch_model.bin"):
        return pr.peek_kind(path, head) == "lightning"
    return False


def _precision(vb: ValueBuilder, top: dict[Any, Any]) -> None:
    from driftguard.extractors import checkpoint_common as pr

    hp = top.get("hyper_parameters")
    candidates: list[tuple[str, Any]] = []
    if isinstance(hp, dict):
        candidates.append(("/hyper_parameters/precision", hp.get("precision")))
        trainer = hp.get("trainer")
        if isinstance(trainer, dict):
            candidates.append(("/hyper_parameters/trainer/precision", trainer.get("precision")))
    candidates.append(("/precision", top.get("precision")))
    for pointer, raw in candidates:
        dtype = normalize_dtype(pr.to_plain(raw)) if raw is not None and not isinstance(raw, bool) else None
        if dtype is not None:
            vb.set("precision.compute", dtype, pointer=pointer, note=f"Lightning precision {pr.to_plain(raw)!r}")
            return
    for key in _SCALER_KEYS:
        state = top.get(key)
        if isinstance(state, dict) and "scale" in state:
            vb.set("precision.compute", "float16", pointer=f"/{key}",
                   note="AMP GradScaler state saved by Lightning's precision plugin: 16-mixed")
            return


def _optimizers(vb: ValueBuilder, top: dict[Any, Any]) -> None:
    from driftguard.extractors import checkpoint_common as pr

    states = top.get("optimizer_states")
    if not isinstance(states, list):
        return
    for i, state in enumerate(states):
        groups = state.get("param_groups") if isinstance(state, dict) else None
        if not isinstance(groups, list) or not groups or not isinstance(groups[0], dict):
            continue
        for name, raw in groups[0].items():
            value = pr.to_plain(raw)
            if name != "params" and (value is None or isinstance(value, (bool, int, float, str, list))):
                vb.set(f"lightning.optimizer.{i}.{name}", normalize_number(value),
                       pointer=f"/optimizer_states/{i}/param_groups/0/{name}")


def extract(path: Path, options: ExtractOptions) -> EffectiveConfig:
    from driftguard.extractors import checkpoint_common as pr

    top = pr.load_checkpoint(path, options.limits)
    if not isinstance(top, dict):
        raise ExtractionError(f"not a Lightning checkpoint: holds a {type(pr.to_plain(top)).__name__}, "
                              "expected the checkpoint dict", str(path))
    vb = ValueBuilder(INFO.kind, path)
    state_dict = top.get("state_dict")
    if isinstance(state_dict, dict):
        pr.add_weights(vb, list(pr.iter_tensors(state_dict)), "/state_dict")
    hp = top.get("hyper_parameters")
    if isinstance(hp, pr.RecordedObject):
        hp = hp.fields()
    if isinstance(hp, dict):
        cls = hp.get("_class_path")
        if isinstance(cls, str):
            vb.set("model.architecture", cls, pointer="/hyper_parameters/_class_path")
    _precision(vb, top)
    if isinstance(hp, dict):
        pr.add_hparams(vb, hp, "hparams", "/hyper_parameters")
        pr.dtype_fallback(vb, hp, "/hyper_parameters")
    dm = top.get("datamodule_hyper_parameters")
    if isinstance(dm, pr.RecordedObject):
        dm = dm.fields()
    if isinstance(dm, dict):
        pr.add_hparams(vb, dm, "hparams.datamodule", "/datamodule_hyper_parameters")
    for key, canonical in _TOP_SCALARS.items():
        value = pr.to_plain(top.get(key))
        if value is not None:
            vb.set(canonical, value, pointer=f"/{key}")
    _optimizers(vb, top)
    return vb.build()
