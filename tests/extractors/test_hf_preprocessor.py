"""Hugging Face preprocessor_config.json (kind ``hf-preprocessor``): image fields to ``preprocessing.image.*``,
each class's defaults as transformers 4.57.6's image processors write them (checked by hand against
transformers/models/*/image_processing_*.py and utils/constants.py), audio feature extractors, the real files of
tests/corpus/runtime-configs, the CLI, and a training/serving skew found by ``check``."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest

from driftguard import api
from driftguard.errors import ExtractionError
from driftguard.extractors import detect, hf_preprocessor
from driftguard.model import How

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = ROOT / "tests" / "fixtures" / "hf-preprocessor" / "good" / "preprocessor_config.json"
CORPUS = ROOT / "tests" / "corpus" / "runtime-configs"
CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073]


def _extract(tmp_path: Path, data: object) -> dict[str, object]:
    path = tmp_path / "preprocessor_config.json"
    path.write_text(json.dumps(data, indent=2))
    return {k: v.value for k, v in api.extract(path).values.items()}


def test_clip_feature_extractor_fixture() -> None:
    cfg = api.extract(FIXTURE)
    assert cfg.kind == "hf-preprocessor"
    v = {k: x.value for k, x in cfg.values.items()}
    assert v["preprocessing.image.size"] == {"shortest_edge": 224}  # CLIP: an int size is the short edge
    assert v["preprocessing.image.crop_size"] == {"height": 224, "width": 224}
    assert v["preprocessing.image.resample"] == "bicubic"  # PIL 3
    assert v["preprocessing.image.mean"] == CLIP_MEAN
    assert v["preprocessing.image.do_center_crop"] is True
    # unset, from CLIPImageProcessor.__init__: do_rescale True, rescale_factor 1/255, do_convert_rgb True
    assert cfg.values["preprocessing.image.do_rescale"].how is How.DEFAULT
    assert v["preprocessing.image.rescale_factor"] == 1 / 255 and v["preprocessing.image.do_convert_rgb"] is True
    assert "deprecated subclass of CLIPImageProcessor" in (cfg.values["hf.preprocessor.feature_extractor_type"].note
                                                           or "")
    assert cfg.values["preprocessing.image.size"].origin.line == 18


@pytest.mark.parametrize(("cls", "expected"), [
    ("ViTImageProcessor", {"size": {"height": 224, "width": 224}, "resample": "bilinear", "mean": [0.5] * 3,
                           "do_convert_rgb": False}),
    ("CLIPImageProcessor", {"size": {"shortest_edge": 224}, "resample": "bicubic", "do_center_crop": True,
                            "crop_size": {"height": 224, "width": 224}, "mean": CLIP_MEAN}),
    ("ConvNextImageProcessor", {"size": {"shortest_edge": 384}, "resample": "bilinear", "std": [0.5] * 3}),
    ("DeiTImageProcessor", {"size": {"height": 256, "width": 256}, "resample": "bicubic", "do_center_crop": True}),
    ("BeitImageProcessor", {"size": {"height": 256, "width": 256}, "crop_size": {"height": 224, "width": 224}}),
    ("SiglipImageProcessor", {"size": {"height": 224, "width": 224}, "resample": "bicubic", "do_convert_rgb": False}),
    ("BlipImageProcessor", {"size": {"height": 384, "width": 384}, "mean": CLIP_MEAN, "do_convert_rgb": True}),
])
def test_class_defaults(tmp_path: Path, cls: str, expected: dict[str, object]) -> None:
    v = _extract(tmp_path, {"image_processor_type": cls})
    for key, value in expected.items():
        assert v[f"preprocessing.image.{key}"] == value, key
    assert v["preprocessing.image.do_resize"] is True and v["preprocessing.image.do_normalize"] is True


def test_unknown_class_fills_nothing_and_says_so(tmp_path: Path) -> None:
    path = tmp_path / "preprocessor_config.json"
    path.write_text(json.dumps({"image_processor_type": "MyImageProcessor", "size": 300, "do_resize": True}))
    cfg = api.extract(path)
    assert not [v for v in cfg.values.values() if v.how is How.DEFAULT]
    assert cfg.values["preprocessing.image.size"].value == 300  # the class's reading of an int is unknown
    assert "no defaults encoded" in (cfg.values["hf.preprocessor.image_processor_type"].note or "")


def test_resample_names(tmp_path: Path) -> None:
    names = [_extract(tmp_path, {"image_processor_type": "ViTImageProcessor", "resample": n})[
        "preprocessing.image.resample"] for n in range(6)]
    assert names == ["nearest", "lanczos", "bilinear", "bicubic", "box", "hamming"]


def test_both_class_fields_are_kept(tmp_path: Path) -> None:
    v = _extract(tmp_path, {"image_processor_type": "ViTImageProcessor",
                            "feature_extractor_type": "ViTFeatureExtractor"})
    assert v["hf.preprocessor.image_processor_type"] == "ViTImageProcessor"
    assert v["hf.preprocessor.feature_extractor_type"] == "ViTFeatureExtractor"


def test_null_is_unset_and_the_class_default_applies(tmp_path: Path) -> None:
    v = _extract(tmp_path, {"image_processor_type": "CLIPImageProcessor", "do_convert_rgb": None})
    assert v["preprocessing.image.do_convert_rgb"] is True


def test_audio_feature_extractor(tmp_path: Path) -> None:
    v = _extract(tmp_path, {"feature_extractor_type": "Wav2Vec2FeatureExtractor", "do_normalize": True,
                            "feature_size": 1, "padding_side": "left", "padding_value": 0.0, "sampling_rate": 16000,
                            "return_attention_mask": False})
    assert v["preprocessing.padding_side"] == "left"
    assert v["hf.preprocessor.do_normalize"] is True  # waveform normalization, not pixels
    assert v["hf.preprocessor.sampling_rate"] == 16000 and v["hf.preprocessor.return_attention_mask"] is False
    assert not any(k.startswith("preprocessing.image.") for k in v)


@pytest.mark.parametrize(("data", "text"), [
    ({"do_resize": "yes"}, "do_resize: expected true or false"),
    ({"resample": 9}, "resample: expected a PIL resampling filter"),
    ({"image_mean": ["a"]}, "image_mean/0: expected a finite number"),
    ({"size": {"height": -1}}, "size/height: expected a non-negative integer"),
    ({"sr": 16000, "n_mfcc": 13}, "not a hf-preprocessor file"),
    ({"padding_side": "left", "model_max_length": 512}, "not a hf-preprocessor file"),  # a tokenizer's fields
])
def test_bad_input_is_an_error_with_a_line(tmp_path: Path, data: object, text: str) -> None:
    path = tmp_path / "preprocessor_config.json"
    path.write_text(json.dumps(data, indent=2))
    with pytest.raises(ExtractionError, match=text) as info:
        api.extract(path)
    assert info.value.line is not None


def test_detection(tmp_path: Path) -> None:
    assert detect(FIXTURE) == "hf-preprocessor"
    other = tmp_path / "vision.json"
    other.write_text(json.dumps({"image_processor_type": "ViTImageProcessor"}))
    assert detect(other) == "hf-preprocessor"
    plain = tmp_path / "plain.json"
    plain.write_text(json.dumps({"do_resize": True}))
    assert not hf_preprocessor.detect(plain, plain.read_bytes())


def _rows() -> list[dict[str, str]]:
    with (CORPUS / "MANIFEST.tsv").open(newline="", encoding="utf-8") as fh:
        return [r for r in csv.DictReader(fh, delimiter="\t") if r["kind"] == "hf-preprocessor"]


@pytest.mark.parametrize("row", _rows(), ids=lambda r: r["saved_name"])
def test_corpus_file_extracts_with_lines_or_is_refused(row: dict[str, str]) -> None:
    path = CORPUS / row["saved_name"]
    if "input error" in row["notes"]:
        with pytest.raises(ExtractionError, match="not a hf-preprocessor file"):
            api.extract(path, kind="hf-preprocessor")
        return
    cfg = api.extract(path, kind="hf-preprocessor")
    explicit = [v for v in cfg.values.values() if v.explicit]
    assert explicit and all(v.origin.line is not None for v in explicit)


def _values(name: str) -> dict[str, object]:
    cfg = api.extract(CORPUS / f"{name}__preprocessor_config.json", kind="hf-preprocessor")
    return {k: v.value for k, v in cfg.values.items()}


def test_corpus_values_checked_by_hand() -> None:
    vit = _values("y2-Whyto__classification-model-deployment-on-jetson-orin-nano")
    assert vit["preprocessing.image.mean"] == [0.485, 0.456, 0.406]  # ImageNet, not ViT's default 0.5
    assert vit["preprocessing.image.size"] == {"height": 224, "width": 224}
    assert vit["preprocessing.image.resample"] == "bilinear" and vit["preprocessing.image.do_convert_rgb"] is False
    legacy = _values("yesidc__image-captioning")  # "size": 224 with ViTFeatureExtractor: a 224 square
    assert legacy["preprocessing.image.size"] == {"height": 224, "width": 224}
    assert legacy["preprocessing.image.rescale_factor"] == 1 / 255  # ViT default: unset in the file
    crlf = _values("JalajBaghwala__Image-to-caption-genrator")
    assert crlf["preprocessing.image.std"] == [0.5, 0.5, 0.5]
    eff = _values("katerina2901__Diabetic-retinopathy-classification")
    assert eff["preprocessing.image.resample"] == "nearest" and eff["preprocessing.image.do_center_crop"] is False
    assert eff["preprocessing.image.size"] == {"height": 456, "width": 456}
    assert eff["preprocessing.image.std"] == [0.47853944, 0.4732864, 0.47434163]
    assert eff["hf.preprocessor.include_top"] is True
    siglip = _values("guanyuch__colpali_gc")
    assert siglip["preprocessing.image.size"] == {"height": 448, "width": 448}
    assert siglip["preprocessing.image.resample"] == "bicubic"
    assert siglip["preprocessing.image.do_convert_rgb"] is False  # null: SigLIP's None, no conversion
    assert siglip["hf.preprocessor.processor_class"] == "PaliGemmaProcessor"
    mobilenet = _values("mertincesu__property-image-indoor-or-outdoor-classifier")
    assert mobilenet["preprocessing.image.size"] == {"height": 160, "width": 160}
    assert "preprocessing.image.do_rescale" not in mobilenet  # MobileNetV2: no defaults encoded
    audio = _values("somosnlp__wav2vec2-spanish")
    assert audio["preprocessing.padding_side"] == "right" and audio["hf.preprocessor.sampling_rate"] == 16000
    dino = _values("narcissus01__dinov3")
    assert dino["preprocessing.image.size"] == 224 and dino["preprocessing.image.do_center_crop"] is True


def test_crlf_file_keeps_its_lines() -> None:
    path = CORPUS / "JalajBaghwala__Image-to-caption-genrator__preprocessor_config.json"
    cfg = api.extract(path, kind="hf-preprocessor")
    assert cfg.values["preprocessing.image.resample"].origin.line == 15


def test_cli_extract_and_a_training_serving_skew(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "driftguard", "extract", str(FIXTURE)], capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "preprocessing.image.resample" in proc.stdout and "bicubic" in proc.stdout
    (tmp_path / "training").mkdir()
    (tmp_path / "serving").mkdir()
    (tmp_path / "training" / "preprocessor_config.json").write_text(json.dumps(
        {"image_processor_type": "ViTImageProcessor", "image_mean": [0.485, 0.456, 0.406],
         "image_std": [0.229, 0.224, 0.225], "resample": 2, "size": {"height": 224, "width": 224}}, indent=2))
    (tmp_path / "serving" / "preprocessor_config.json").write_text(json.dumps(
        {"image_processor_type": "ViTImageProcessor", "resample": 3, "size": 224}, indent=2))
    (tmp_path / "driftguard.yaml").write_text(
        "version: 1\nmodels:\n  vit:\n    training:\n      - path: training/preprocessor_config.json\n"
        "    deployment:\n      - path: serving/preprocessor_config.json\n")
    proc = subprocess.run([sys.executable, "-m", "driftguard", "check", "--config", str(tmp_path / "driftguard.yaml"),
                           "--today", "2026-12-01", "--format", "json"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1, proc.stderr
    findings = {f["key"]: f for m in json.loads(proc.stdout)["models"] for f in m["findings"]}
    assert (findings["preprocessing.image.resample"]["training"],
            findings["preprocessing.image.resample"]["deployed"]) == ("bilinear", "bicubic")
    assert findings["preprocessing.image.mean"]["deployed"] == [0.5, 0.5, 0.5]  # ViT's default, unset there
    assert findings["preprocessing.image.mean"]["training_origin"]["line"] == 3
    assert "preprocessing.image.size" not in findings  # 224 is the same square, spelled otherwise
