"""Equivalence and sensitivity on every parseable JSON file of tests/corpus (hf/ and runtime/).

Rewriting a file without changing its meaning (re-serialized, keys reordered, a documented default spelled out)
must give no finding; changing top_p, temperature or max_new_tokens where the file sets them must give a
finding on that canonical key. The Triton half of this lives in test_triton.py.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from driftguard import api
from driftguard.equality import values_equal
from driftguard.errors import DriftguardError
from driftguard.rules.decoding import SAMPLING_ONLY, derive_decoding

CORPUS = Path(__file__).resolve().parents[1] / "corpus"
SAMPLING_KEYS = ("generation.top_p", "generation.temperature", "generation.max_new_tokens")


#: The corpus JSON files driftguard refuses without being told the kind (invalid JSON, a document that is no
#: artifact). Pinned: a file that stops extracting is a failure here, never a quietly smaller walk.
REFUSED = ["huggingface__text-generation-inference__docs__openapi.json",
           "triton-inference-server__tensorrtllm_backend__inflight_batcher_llm__tests__first.json"]
ALL_JSON = sorted(p for folder in ("hf", "runtime") for p in (CORPUS / folder).glob("*.json"))


def parseable() -> tuple[list[tuple[Path, str]], list[str]]:
    """(path, detected kind) of every corpus JSON file driftguard extracts without being told the kind, and
    the names of the files it refuses."""
    out, refused = [], []
    for path in ALL_JSON:
        try:
            out.append((path, api.extract(path).kind))
        except DriftguardError:
            refused.append(path.name)
    return out, refused


FILES, FILES_REFUSED = parseable()


def _assert_same_meaning(result: api.DiffResult) -> None:
    """No finding, and not because nothing was compared: both sides give the same keys (some of them read from
    the file), with equal values."""
    a, b = result.training, result.deployed
    assert any(v.explicit for v in a.values.values()), "nothing extracted from the original"
    assert sorted(a.values) == sorted(b.values)
    unequal = [k for k in a.values if not values_equal(a.values[k].value, b.values[k].value)]
    assert not unequal, unequal
    # A field the format does not know (DG304) is reported on each side alike; nothing else is found.
    ignored = [f for f in result.findings if f.rule == "DG304"]
    assert sorted(f.key for f in ignored if f.training) == sorted(f.key for f in ignored if f.deployed)
    assert not [f for f in result.findings if f.rule != "DG304"], [f.message for f in result.findings]


def _write(tmp: Path, original: Path, tag: str, data: Any, **dump: Any) -> Path:
    folder = tmp / tag
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / original.name.rsplit("__", 1)[-1]  # keep the real file name: detection reads it
    target.write_text(json.dumps(data, **dump))
    return target


def _reverse_keys(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _reverse_keys(value[k]) for k in reversed(list(value))}
    if isinstance(value, list):
        return [_reverse_keys(v) for v in value]
    return value


def test_the_corpus_is_walked() -> None:
    """The parametrized walks below cover the corpus, not a part of it that happened to parse."""
    kinds = [k for _, k in FILES]
    assert len(ALL_JSON) == 55
    assert FILES_REFUSED == REFUSED
    assert len(FILES) == len(ALL_JSON) - len(REFUSED)
    assert {"hf-generation", "hf-config", "hf-tokenizer", "vllm", "tgi", "tensorrt-llm"} <= set(kinds)
    assert len(YAML_INI) >= 2  # TensorRT-LLM's model.yaml and lmdeploy's llama_config.ini


@pytest.mark.parametrize(("path", "kind"), FILES, ids=[p.name for p, _ in FILES])
def test_rewrites_are_equivalent(path: Path, kind: str, tmp_path: Path) -> None:
    data = json.loads(path.read_text())
    variants = {
        "sorted-indented": (data, {"indent": 4, "sort_keys": True}),
        "reordered-compact": (_reverse_keys(data), {"separators": (",", ":")}),
    }
    if kind == "hf-generation" and isinstance(data, dict) and "top_k" not in data:
        variants["default-spelled-out"] = ({**data, "top_k": 50, "repetition_penalty": 1.0}, {"indent": 2})
    # The original too under its real file name, byte for byte: the name decides the serving path (a vLLM
    # model.json is Triton's vllm_backend, whose defaults do not depend on the model).
    original = tmp_path / "original" / path.name.rsplit("__", 1)[-1]
    original.parent.mkdir()
    original.write_bytes(path.read_bytes())
    for tag, (value, dump) in variants.items():
        other = _write(tmp_path, path, tag, value, **dump)
        _assert_same_meaning(api.diff(f"{kind}:{original}", f"{kind}:{other}"))


def _set_pointer(data: Any, pointer: str, change: Any) -> None:
    parts = [p.replace("~1", "/").replace("~0", "~") for p in pointer.lstrip("/").split("/")]
    node = data
    for p in parts[:-1]:
        node = node[int(p)] if isinstance(node, list) else node[p]
    last = int(parts[-1]) if isinstance(node, list) else parts[-1]
    node[last] = change(node[last])  # type: ignore[index]


def _bump(key: str) -> Any:
    def change(v: Any) -> Any:
        if isinstance(v, list):
            return [change(x) for x in v]
        if key == "generation.max_new_tokens":
            return v + 7
        if key == "generation.top_p":
            return round(v * 0.5, 4) if v else 0.5
        return round(v * 0.5 + 0.1, 4)

    return change


def test_sampling_changes_are_found_on_their_key(tmp_path: Path) -> None:
    checked = 0
    for path, kind in FILES:
        cfg = api.extract(f"{kind}:{path}")
        for key in SAMPLING_KEYS:
            value = cfg.get(key)
            if value is None or not value.explicit or not (value.origin.pointer or "").startswith("/"):
                continue
            data = copy.deepcopy(json.loads(path.read_text()))
            _set_pointer(data, value.origin.pointer or "", _bump(key))
            other = _write(tmp_path, path, f"{checked}-{key}", data, indent=2)
            result = api.diff(f"{kind}:{path}", f"{kind}:{other}")
            keys = [f.key for f in result.findings]
            modes = {getattr(derive_decoding(c.values), "value", None) for c in (result.training, result.deployed)}
            if modes == {"greedy"} and key in SAMPLING_ONLY:  # a sampling knob means nothing to greedy decoders
                assert key not in keys, (path.name, key, keys)
            elif len(modes) > 1 and None not in modes:  # the change switched the decoding mode: one finding
                assert keys == ["generation.decoding"], (path.name, key, keys)
            else:
                assert key in keys, (path.name, key, keys)
            checked += 1
    assert checked >= 10


def _kinded(folder: str, pattern: str) -> list[tuple[Path, str]]:
    """Corpus files of another syntax with the kind they extract as (detected, else the one the MANIFEST names)."""
    d = CORPUS / folder
    out = []
    for path in sorted(d.glob(pattern)):
        for spec in (str(path), f"tensorrt-llm:{path}", f"lmdeploy:{path}"):
            try:
                out.append((path, api.extract(spec).kind))
                break
            except DriftguardError:
                continue
    return out


YAML_INI = _kinded("runtime", "*.yaml") + _kinded("runtime", "*.ini")


@pytest.mark.parametrize(("path", "kind"), YAML_INI, ids=[p.name for p, _ in YAML_INI])
def test_yaml_and_ini_rewrites_are_equivalent(path: Path, kind: str, tmp_path: Path) -> None:
    target = tmp_path / path.name
    if path.suffix == ".yaml":
        import yaml

        data = yaml.safe_load(path.read_text())
        target.write_text("# rewritten: keys sorted, block style\n" + yaml.safe_dump(data, sort_keys=True))
    else:
        import configparser

        parser = configparser.ConfigParser(inline_comment_prefixes=(";",), interpolation=None)
        parser.optionxform = str  # type: ignore[assignment,method-assign]  # keep the keys' case
        parser.read_string(path.read_text())
        with target.open("w") as fh:
            fh.write("; rewritten by configparser: inline comments dropped, spacing normalized\n")
            parser.write(fh)
    _assert_same_meaning(api.diff(f"{kind}:{path}", f"{kind}:{target}"))
