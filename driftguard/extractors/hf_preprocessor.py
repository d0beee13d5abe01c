"""Hugging Face ``preprocessor_config.json``: what an image processor (resize, crop, rescale, normalize) or an
audio feature extractor does to inputs before the model sees them, the classic training/serving skew (the
training pipeline's processor against the served one's).

Image processors: ``do_resize``, ``size``, ``resample``, ``do_center_crop``, ``crop_size``, ``do_rescale``,
``rescale_factor``, ``do_normalize``, ``image_mean``, ``image_std``, ``do_convert_rgb`` -> the
``preprocessing.image.*`` keys (``image_mean``/``image_std`` -> ``mean``/``std``). ``resample`` is PIL's
number, written as its name (0 nearest, 1 lanczos, 2 bilinear, 3 bicubic, 4 box, 5 hamming). A ``size`` or
``crop_size`` written as one int is turned into the dict the class makes of it (transformers'
``get_size_dict``: ``{"height": n, "width": n}``, or ``{"shortest_edge": n}`` where the class resizes the short
side), so two spellings of one size are equal; for a class not in the tables it is kept as written.

The class (``image_processor_type``, or the older ``feature_extractor_type``; ``ViTFeatureExtractor`` and its
kin are deprecated subclasses of the image processor with the same defaults) decides the defaults of the fields
the file leaves unset: the ``__init__`` defaults of the most common classes, read from transformers 4.57.6
(defaults.md §15). A class not in the tables gets no defaults, and its class value says so.

Audio feature extractors (``sampling_rate``/``feature_size``: Wav2Vec2, Whisper...): ``padding_side`` ->
``preprocessing.padding_side``; the rest (``do_normalize`` there is zero-mean unit-variance normalization of the
waveform, not of pixels) is kept as ``hf.preprocessor.<field>``, like every field of either flavor that has no
canonical key. A file with none of these fields (``padding_side`` alone does not count: tokenizers have it) is an
input error (another product's preprocessor_config.json).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from driftguard.errors import ExtractionError
from driftguard.extractors.base import ExtractOptions, KindInfo, ValueBuilder, require_recognized
from driftguard.extractors.runtime_common import Document, escape, load_document, require_mapping, sniff
from driftguard.keys import Default
from driftguard.model import EffectiveConfig
from driftguard.normalize import normalize_json, normalize_number

FILE_NAME = "preprocessor_config.json"
_TF = "transformers/models"


def _cite(cls: str, path: str, arg: str) -> str:
    return f"defaults.md §15 {cls}.__init__ (TF-4.57.6 {_TF}/{path}) {arg}"


_RESCALE = 1 / 255
_IMAGENET_STANDARD = [0.5, 0.5, 0.5]  # transformers/utils/constants.py IMAGENET_STANDARD_MEAN/_STD
_CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073]  # OPENAI_CLIP_MEAN
_CLIP_STD = [0.26862954, 0.26130258, 0.27577711]  # OPENAI_CLIP_STD


def _table(cls: str, path: str, values: dict[str, Any]) -> dict[str, Default]:
    """One class's defaults as canonical key -> Default, each citing the argument it comes from."""
    args = {"mean": "image_mean", "std": "image_std"}
    return {f"preprocessing.image.{k}": Default(v, _cite(cls, path, args.get(k, k))) for k, v in values.items()}


_COMMON = {"do_resize": True, "do_rescale": True, "rescale_factor": _RESCALE, "do_normalize": True}
#: ViT, SigLIP: resize to a fixed square, no crop; do_convert_rgb None, which preprocess() treats as false.
VIT_DEFAULTS = _table("ViTImageProcessor", "vit/image_processing_vit.py", {
    **_COMMON, "size": {"height": 224, "width": 224}, "resample": "bilinear", "mean": _IMAGENET_STANDARD,
    "std": _IMAGENET_STANDARD, "do_convert_rgb": False})
SIGLIP_DEFAULTS = _table("SiglipImageProcessor", "siglip/image_processing_siglip.py", {
    **_COMMON, "size": {"height": 224, "width": 224}, "resample": "bicubic", "mean": _IMAGENET_STANDARD,
    "std": _IMAGENET_STANDARD, "do_convert_rgb": False})
CLIP_DEFAULTS = _table("CLIPImageProcessor", "clip/image_processing_clip.py", {
    **_COMMON, "size": {"shortest_edge": 224}, "resample": "bicubic", "do_center_crop": True,
    "crop_size": {"height": 224, "width": 224}, "mean": _CLIP_MEAN, "std": _CLIP_STD, "do_convert_rgb": True})
BLIP_DEFAULTS = _table("BlipImageProcessor", "blip/image_processing_blip.py", {
    **_COMMON, "size": {"height": 384, "width": 384}, "resample": "bicubic", "mean": _CLIP_MEAN, "std": _CLIP_STD,
    "do_convert_rgb": True})
CONVNEXT_DEFAULTS = _table("ConvNextImageProcessor", "convnext/image_processing_convnext.py", {
    **_COMMON, "size": {"shortest_edge": 384}, "resample": "bilinear", "mean": _IMAGENET_STANDARD,
    "std": _IMAGENET_STANDARD})
DEIT_DEFAULTS = _table("DeiTImageProcessor", "deit/image_processing_deit.py", {
    **_COMMON, "size": {"height": 256, "width": 256}, "resample": "bicubic", "do_center_crop": True,
    "crop_size": {"height": 224, "width": 224}, "mean": _IMAGENET_STANDARD, "std": _IMAGENET_STANDARD})
BEIT_DEFAULTS = _table("BeitImageProcessor", "beit/image_processing_beit.py", {
    **_COMMON, "size": {"height": 256, "width": 256}, "resample": "bicubic", "do_center_crop": True,
    "crop_size": {"height": 224, "width": 224}, "mean": _IMAGENET_STANDARD, "std": _IMAGENET_STANDARD})

#: Image processor class -> (its defaults, whether an int ``size`` means a square: ``get_size_dict``'s
#: ``default_to_square`` in its ``__init__``; None: the class leaves an int as it is).
CLASSES: dict[str, tuple[dict[str, Default], bool | None]] = {
    "ViTImageProcessor": (VIT_DEFAULTS, True),
    "SiglipImageProcessor": (SIGLIP_DEFAULTS, None),
    "CLIPImageProcessor": (CLIP_DEFAULTS, False),
    "BlipImageProcessor": (BLIP_DEFAULTS, True),
    "ConvNextImageProcessor": (CONVNEXT_DEFAULTS, False),
    "DeiTImageProcessor": (DEIT_DEFAULTS, True),
    "BeitImageProcessor": (BEIT_DEFAULTS, True),
}
#: Deprecated feature-extractor names: subclasses of the image processor that add only a warning.
_LEGACY = {"ViTFeatureExtractor": "ViTImageProcessor", "CLIPFeatureExtractor": "CLIPImageProcessor",
           "ConvNextFeatureExtractor": "ConvNextImageProcessor", "DeiTFeatureExtractor": "DeiTImageProcessor",
           "BeitFeatureExtractor": "BeitImageProcessor"}

INFO = KindInfo(
    kind="hf-preprocessor",
    description="Hugging Face preprocessor_config.json (image resize/crop/rescale/normalize; audio feature extractor)",
    role="either",
    rank=35,
    namespaces=("preprocessing",),
    keeps=("hf",),
    names=(FILE_NAME,),
)

#: image field -> (canonical key suffix, type)
_IMAGE: dict[str, tuple[str, str]] = {
    "do_resize": ("do_resize", "bool"), "size": ("size", "size"), "resample": ("resample", "resample"),
    "do_center_crop": ("do_center_crop", "bool"), "crop_size": ("crop_size", "size"),
    "do_rescale": ("do_rescale", "bool"), "rescale_factor": ("rescale_factor", "float"),
    "do_normalize": ("do_normalize", "bool"), "image_mean": ("mean", "floats"), "image_std": ("std", "floats"),
    "do_convert_rgb": ("do_convert_rgb", "bool"),
}
_AUDIO = ("sampling_rate", "feature_size", "padding_side", "padding_value", "return_attention_mask")
_CLASS_FIELDS = ("image_processor_type", "feature_extractor_type")
#: The fields that show a file is a preprocessor config: not ``padding_side``/``return_attention_mask``, which a
#: tokenizer_config.json holds too.
_RECOGNIZED = frozenset((*_IMAGE, *_CLASS_FIELDS, "sampling_rate", "feature_size", "padding_value"))
#: PIL's resampling filters by number (PIL.Image.Resampling; transformers' PILImageResampling).
RESAMPLE = {0: "nearest", 1: "lanczos", 2: "bilinear", 3: "bicubic", 4: "box", 5: "hamming"}


def detect(path: Path, head: bytes) -> bool:
    """``preprocessor_config.json`` by name; else a JSON object naming its processor class
    (``image_processor_type`` or ``feature_extractor_type``)."""
    if path.name == FILE_NAME:
        return path.is_file()
    data = sniff(path, head, (".json",))
    return isinstance(data, dict) and any(isinstance(data.get(f), str) for f in _CLASS_FIELDS)


def extract(path: Path, options: ExtractOptions) -> EffectiveConfig:
    """The effective preprocessing of one preprocessor_config.json."""
    doc = load_document(path, options.limits)
    data = require_mapping(doc, "a Hugging Face preprocessor_config.json")
    require_recognized(path, INFO.kind, "an image processor or feature extractor", data, _RECOGNIZED,
                       doc.line("") or 1)
    b = ValueBuilder(INFO.kind, path)
    cls, defaults, square = _class(b, doc, data)
    audio = any(f in data for f in ("sampling_rate", "feature_size")) and "image_processor_type" not in data
    used = {f for f in _CLASS_FIELDS if f"hf.preprocessor.{f}" in b.values}
    if audio:
        if data.get("padding_side") is not None:
            _put(b, doc, "preprocessing.padding_side", _side(doc, data["padding_side"]), "/padding_side")
            used.add("padding_side")
    else:
        used |= _image(b, doc, data, square)
        if defaults:
            b.fill_defaults(defaults, default_of=f"transformers 4.57.6 {cls}")
    for name, raw in data.items():
        if name not in used:
            _put(b, doc, f"hf.preprocessor.{name}", normalize_json(raw), f"/{escape(str(name))}")
    return b.build()


def _class(b: ValueBuilder, doc: Document, data: dict[str, Any]) -> tuple[str | None, dict[str, Default], bool | None]:
    """The processor class the file names (its defaults and int-size rule), recorded as
    ``hf.preprocessor.<image_processor_type|feature_extractor_type>``."""
    for field in _CLASS_FIELDS:
        raw = data.get(field)
        if raw is None:
            continue
        if not isinstance(raw, str):
            raise ExtractionError(f"{field} must be a class name (a string), got {raw!r}", str(doc.path),
                                  doc.line(f"/{field}"))
        cls = _LEGACY.get(raw, raw)
        known = CLASSES.get(cls)
        note = None if known else f"{raw}: no defaults encoded for this class; unset fields are not filled"
        if known and cls != raw:
            note = f"{raw}: a deprecated subclass of {cls}, whose defaults apply"
        _put(b, doc, f"hf.preprocessor.{field}", raw, f"/{field}", note)
        return (cls, known[0], known[1]) if known else (raw, {}, None)
    return None, {}, None


def _image(b: ValueBuilder, doc: Document, data: dict[str, Any], square: bool | None) -> set[str]:
    """The image fields of the file as ``preprocessing.image.*``; returns the fields read (nulls included: a
    null is unset, and the class default applies)."""
    used: set[str] = set()
    for name, (suffix, kind) in _IMAGE.items():
        if name not in data:
            continue
        used.add(name)
        raw, ptr = data[name], f"/{name}"
        if raw is None:
            continue
        note = None
        if kind == "bool":
            if not isinstance(raw, bool):
                raise _error(doc, ptr, "true or false", raw)
            value: Any = raw
        elif kind == "float":
            value = _number(doc, ptr, raw)
        elif kind == "floats":
            items = raw if isinstance(raw, list) else [raw]
            value = [_number(doc, f"{ptr}/{i}", v) for i, v in enumerate(items)]
        elif kind == "resample":
            if isinstance(raw, bool) or not isinstance(raw, int) or raw not in RESAMPLE:
                raise _error(doc, ptr, "a PIL resampling filter number (0 to 5)", raw)
            value, note = RESAMPLE[raw], f"PIL resampling filter {raw}"
        else:
            value, note = _size(doc, ptr, raw, True if name == "crop_size" else square)
        _put(b, doc, f"preprocessing.image.{suffix}", value, ptr, note)
    return used


def _size(doc: Document, ptr: str, raw: Any, square: bool | None) -> tuple[Any, str | None]:
    """A size as the class's dict (``get_size_dict``): an int becomes height/width or shortest_edge."""
    if isinstance(raw, dict):
        return {str(k): _integer(doc, f"{ptr}/{escape(str(k))}", v) for k, v in raw.items()}, None
    if isinstance(raw, list) and len(raw) == 2:
        h, w = (_integer(doc, f"{ptr}/{i}", v) for i, v in enumerate(raw))
        return {"height": h, "width": w}, "a (height, width) pair"
    n = _integer(doc, ptr, raw)
    if square is None:
        return n, "an int size; this class's reading of it is not encoded"
    if square:
        return {"height": n, "width": n}, f"{n}: a square (get_size_dict default_to_square)"
    return {"shortest_edge": n}, f"{n}: the shortest edge (get_size_dict default_to_square=False)"


def _side(doc: Document, raw: Any) -> str:
    if raw not in ("left", "right"):
        raise _error(doc, "/padding_side", "'left' or 'right'", raw)
    return str(raw)


def _number(doc: Document, ptr: str, raw: Any) -> int | float:
    if isinstance(raw, bool) or not isinstance(raw, (int, float)) or abs(raw) > 1e300 or \
            not math.isfinite(raw):
        raise _error(doc, ptr, "a finite number", raw)
    out: int | float = normalize_number(float(raw))
    return out


def _integer(doc: Document, ptr: str, raw: Any) -> int:
    if isinstance(raw, bool) or not isinstance(raw, int) or raw < 0:
        raise _error(doc, ptr, "a non-negative integer", raw)
    return raw


def _error(doc: Document, ptr: str, expected: str, raw: Any) -> ExtractionError:
    shown = repr(raw) if len(repr(raw)) <= 40 else repr(raw)[:37] + "..."
    return ExtractionError(f"{ptr.lstrip('/')}: expected {expected}, got {shown}", str(doc.path), doc.line(ptr))


def _put(b: ValueBuilder, doc: Document, key: str, value: Any, ptr: str, note: str | None = None) -> None:
    b.set(key, value, doc.line(ptr), ptr, note=note)
