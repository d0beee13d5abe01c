"""Text through the side's real tokenizer, and token arrays adapted as that tokenizer would: a WordPiece
``BertTokenizerFast`` built here from a vocabulary written by the test (nothing downloads) on real sentences.
The tensor adapter's truncation is compared with the tokenizer's own (special tokens kept, either side); a
config difference (max_length 64 vs 8) is measured end to end through the real tokenizer, through the library
and through ``driftguard parity`` as a child process, and the report says which way each side's inputs were made."""

from __future__ import annotations

import inspect
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

np = pytest.importorskip("numpy")
transformers = pytest.importorskip("transformers")
onnx = pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")

from driftguard.cli import run  # noqa: E402
from driftguard.parity.errors import ParityError  # noqa: E402
from driftguard.parity.runners.base import TensorPreprocessing, edge_token_ids  # noqa: E402
from driftguard.parity.runners.tokenizer import SideTokenizer, describe_inputs, folder_of  # noqa: E402

ROOT = Path(__file__).resolve().parents[3]
#: Real sentences (the opening lines of public-domain novels), long enough that max_length 8 cuts each.
SENTENCES = [
    "It was the best of times, it was the worst of times, it was the age of wisdom.",
    "Call me Ishmael. Some years ago, never mind how long precisely, I thought I would sail about a little.",
    "It is a truth universally acknowledged, that a single man in possession of a good fortune, must be in want "
    "of a wife.",
    "All happy families are alike; every unhappy family is unhappy in its own way.",
    "Happy families are all alike, said the man in the good times.",
    "It was a bright cold day in April, and the clocks were striking thirteen.",
]
SPECIAL = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]


def _vocabulary() -> list[str]:
    words = sorted({w.strip(".,;").lower() for s in SENTENCES for w in s.split()} | {".", ",", ";"})
    return [*SPECIAL, *words]


def bert_tokenizer(folder: Path, model_max_length: int) -> Path:
    """A WordPiece ``BertTokenizerFast`` saved to ``folder``; its tokenizer_config.json also maps the special
    tokens to their ids (``added_tokens_decoder``), as transformers 4.x writes it and Hub folders hold it."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "vocab.txt").write_text("\n".join(_vocabulary()) + "\n", encoding="utf-8")
    vocab = {w: i for i, w in enumerate(_vocabulary())}
    # transformers 5 takes the vocabulary itself (``vocab``), 4.x a vocab.txt (``vocab_file``).
    given = {"vocab": vocab} if "vocab" in inspect.signature(transformers.BertTokenizerFast.__init__).parameters \
        else {"vocab_file": str(folder / "vocab.txt")}
    tok = transformers.BertTokenizerFast(**given, model_max_length=model_max_length)
    tok.save_pretrained(str(folder))
    config_path = folder / "tokenizer_config.json"
    config = json.loads(config_path.read_text(encoding="utf-8"))
    config["added_tokens_decoder"] = {str(i): {"content": t, "lstrip": False, "normalized": False, "rstrip": False,
                                               "single_word": False, "special": True} for i, t in enumerate(SPECIAL)}
    config_path.write_text(json.dumps(config, indent=2), encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def tok_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return bert_tokenizer(tmp_path_factory.mktemp("tok") / "tokenizer", 512)


def _real(folder: Path, side: str, max_length: int | None, width: int) -> dict[str, Any]:
    tok = transformers.AutoTokenizer.from_pretrained(str(folder), local_files_only=True)
    tok.truncation_side = side
    enc = tok(SENTENCES, truncation=max_length is not None, max_length=max_length)
    assert tok.unk_token_id not in {i for row in enc["input_ids"] for i in row}  # the vocabulary covers the text
    return {k: np.asarray(v) for k, v in tok.pad(enc, padding="max_length", max_length=width,
                                                 return_tensors="np").items()}


@pytest.mark.parametrize("side", ["right", "left"])
def test_the_adapter_truncates_token_arrays_as_the_real_tokenizer_does(side: str, tok_folder: Path) -> None:
    full = _real(tok_folder, side, None, 40)
    assert full["attention_mask"].sum(axis=1).min() > 8  # every sentence is cut at 8
    cls, sep = SPECIAL.index("[CLS]"), SPECIAL.index("[SEP]")
    adapter = TensorPreprocessing(8, side, "right", frozenset({cls, sep})).apply(full)
    real = _real(tok_folder, side, 8, 40)
    for name in ("input_ids", "attention_mask", "token_type_ids"):
        np.testing.assert_array_equal(adapter[name], real[name], err_msg=name)
    assert (adapter["input_ids"][:, 0] == cls).all() and (adapter["input_ids"][:, 7] == sep).all()
    # Without the special tokens known, the cut drops [SEP] (right) or [CLS] (left): not what is deployed.
    blind = TensorPreprocessing(8, side, "right").apply(full)["input_ids"]
    assert not np.array_equal(blind, real["input_ids"])
    assert ((blind[:, 7] == sep) if side == "right" else (blind[:, 0] == cls)).sum() == 0


def test_the_adapter_pads_on_the_padding_side_and_reads_the_special_ids_from_the_config(tok_folder: Path) -> None:
    config = {"preprocessing.max_length": 8, "preprocessing.truncation_side": "left",
              "preprocessing.padding_side": "left", "hf.tokenizer.cls_token_id": 2, "hf.tokenizer.sep_token_id": 3,
              "hf.tokenizer.pad_token_id": 0, "hf.tokenizer.eos_token_id": [3, True]}
    assert edge_token_ids(config) == {2, 3}  # pad is not an edge token; a bool is no id
    prep = TensorPreprocessing.from_config(config)
    full = _real(tok_folder, "left", None, 40)
    out = prep.apply({**full, "input_ids": full["input_ids"][:2], "attention_mask": full["attention_mask"][:2],
                      "token_type_ids": full["token_type_ids"][:2]})
    tok = transformers.AutoTokenizer.from_pretrained(str(tok_folder), local_files_only=True, truncation_side="left",
                                                     padding_side="left")
    want = tok(SENTENCES[:2], truncation=True, max_length=8, padding="max_length", return_tensors="np")
    np.testing.assert_array_equal(out["input_ids"][:, -8:], want["input_ids"])
    assert (out["attention_mask"][:, :-8] == 0).all()
    assert "keeping the special tokens 2, 3 as the tokenizer does" in prep.describe()
    assert "an end token is cut like any other" in TensorPreprocessing(8).describe()


def test_text_goes_through_the_sides_real_tokenizer_with_its_settings(tok_folder: Path) -> None:
    side = SideTokenizer(tok_folder, {"preprocessing.max_length": 8, "preprocessing.truncation_side": "left",
                                      "preprocessing.padding_side": "left"})
    side.load()
    out = side.encode([{"text": s} for s in SENTENCES], width=None)
    tok = transformers.AutoTokenizer.from_pretrained(str(tok_folder), local_files_only=True, truncation_side="left",
                                                     padding_side="left")
    want = tok(SENTENCES, truncation=True, max_length=8, padding="longest", return_tensors="np")
    assert set(out) == set(want)
    for name in out:
        np.testing.assert_array_equal(out[name], want[name])
    fixed = side.encode([{"text": "call me ishmael."}], width=12)["input_ids"]
    assert fixed.shape == (1, 12) and fixed[0, 0] == 0 and fixed[0, -1] == SPECIAL.index("[SEP]")  # padded left
    assert "max_length 8, truncation left, padding left, special tokens added" in side.describe()
    with pytest.raises(ParityError, match="no 'text' string or 'messages' list"):
        side.encode([{"article": "x"}])
    with pytest.raises(ParityError, match="no chat template"):
        side.encode([{"messages": [{"role": "user", "content": "call me ishmael"}]}])


def test_messages_go_through_the_chat_template(tok_folder: Path, tmp_path: Path) -> None:
    import shutil

    folder = shutil.copytree(tok_folder, tmp_path / "chat")
    config = json.loads((folder / "tokenizer_config.json").read_text(encoding="utf-8"))
    config["chat_template"] = ("[CLS]{% for m in messages %}{{ m['role'] }} {{ m['content'] }} [SEP]{% endfor %}"
                               "{% if add_generation_prompt %}assistant{% endif %}")
    (folder / "tokenizer_config.json").write_text(json.dumps(config), encoding="utf-8")
    side = SideTokenizer(folder, {})
    side.load()
    out = side.encode([{"messages": [{"role": "user", "content": "call me ishmael"}]},
                       {"messages": [{"role": "user", "content": "the clocks"}]}])["input_ids"]
    vocab = _vocabulary()
    # The template writes [CLS] and [SEP] itself: the tokenizer adds none again. Every record is a row.
    assert [vocab[i] for i in out[0]] == ["[CLS]", "[UNK]", "call", "me", "ishmael", "[SEP]", "[UNK]"]
    assert [vocab[i] for i in out[1]] == ["[CLS]", "[UNK]", "the", "clocks", "[SEP]", "[UNK]", "[PAD]"]
    # A template that raises (transformers gives templates ``raise_exception``) is one error naming the folder.
    config["chat_template"] = "{{ raise_exception('only one message, please') }}"
    (folder / "tokenizer_config.json").write_text(json.dumps(config), encoding="utf-8")
    side = SideTokenizer(folder, {})
    side.load()
    with pytest.raises(ParityError) as info:
        side.encode([{"messages": [{"role": "user", "content": "call me ishmael"}]}])
    assert info.value.message.startswith("the chat template failed on a golden record: ")
    assert "only one message, please" in info.value.message and info.value.path == str(folder)


def test_where_the_tokenizer_is_found_and_what_the_report_says(tok_folder: Path, tmp_path: Path) -> None:
    model = tok_folder / "model.onnx"
    assert folder_of(None, model) == tok_folder  # tokenizer files beside the artifact
    assert folder_of(tmp_path / "elsewhere", model) == tmp_path / "elsewhere"  # the setting wins
    assert folder_of(None, tmp_path / "model.onnx") is None
    settings = type("S", (), {"artifact": "tokenizer/model.onnx", "tokenizer": None})()
    said = describe_inputs("onnxruntime", settings, tok_folder.parent, {"preprocessing.max_length": 8}, True, ())
    assert said is not None and said.startswith("text tokenized by the real tokenizer in tokenizer (max_length 8")
    arrays = describe_inputs("onnxruntime", settings, tok_folder.parent, {"preprocessing.max_length": 8}, False,
                             ("input_ids", "attention_mask"))
    assert arrays is not None and arrays.startswith("token arrays adapted, not tokenized: at most 8 tokens")
    assert describe_inputs("callable", settings, tok_folder.parent, {}, True, ()) is None
    assert describe_inputs("onnxruntime", settings, tok_folder.parent, {}, False, ("x",)) is None


# --- end to end: a config difference (max_length 64 vs 8) measured through the real tokenizer ----------------------


def mean_embedding_onnx(path: Path, vocab_size: int, dim: int = 16) -> Path:
    """``embedding = mean of W[input_ids] over the real tokens`` (ONNX, built with onnx.helper: no torch)."""
    from onnx import TensorProto, helper, numpy_helper

    table = np.random.default_rng(0).standard_normal((vocab_size, dim)).astype(np.float32)
    nodes = [helper.make_node("Gather", ["W", "input_ids"], ["tokens"]),
             helper.make_node("Cast", ["attention_mask"], ["maskf"], to=TensorProto.FLOAT),
             helper.make_node("Unsqueeze", ["maskf", "last"], ["mask3"]),
             helper.make_node("Mul", ["tokens", "mask3"], ["masked"]),
             helper.make_node("ReduceSum", ["masked", "one"], ["total"], keepdims=0),
             helper.make_node("ReduceSum", ["mask3", "one"], ["count"], keepdims=0),
             helper.make_node("Div", ["total", "count"], ["embedding"])]
    ints = [helper.make_tensor_value_info(n, TensorProto.INT64, ["batch", "sequence"])
            for n in ("input_ids", "attention_mask")]
    graph = helper.make_graph(nodes, "mean_embedding", ints,
                              [helper.make_tensor_value_info("embedding", TensorProto.FLOAT, ["batch", dim])],
                              initializer=[numpy_helper.from_array(table, "W"),
                                           numpy_helper.from_array(np.array([-1], dtype=np.int64), "last"),
                                           numpy_helper.from_array(np.array([1], dtype=np.int64), "one")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, str(path))
    return path


@pytest.fixture()
def sides(tmp_path: Path) -> Path:
    """train/ and serve/: the same graph, each beside its tokenizer; serve's model_max_length is 8, train's 64."""
    for name, length in (("train", 64), ("serve", 8)):
        bert_tokenizer(tmp_path / name, length)
        mean_embedding_onnx(tmp_path / name / "model.onnx", len(_vocabulary()))
    (tmp_path / "golden.jsonl").write_text("".join(json.dumps({"text": s}) + "\n" for s in SENTENCES),
                                           encoding="utf-8")
    full = _real(tmp_path / "train", "right", None, 40)
    np.savez(tmp_path / "golden.npz", input_ids=full["input_ids"], attention_mask=full["attention_mask"])
    return tmp_path


def manifest(folder: Path, golden: str) -> Path:
    path = folder / f"driftguard-{golden.split('.')[1]}.yaml"
    path.write_text(f"""version: 1
models:
  m:
    training:
      - path: train/tokenizer_config.json
    deployment:
      - path: serve/tokenizer_config.json
    parity:
      golden: {golden}
      reference: {{runner: onnxruntime, artifact: train/model.onnx}}
      candidate: {{runner: onnxruntime, artifact: serve/model.onnx}}
""", encoding="utf-8")
    return path


def _deployed_cosine(folder: Path) -> float:
    """The per-sample cosine minimum, measured here directly: transformers tokenizes, onnxruntime runs."""
    import onnxruntime as ort

    session = ort.InferenceSession(str(folder / "train" / "model.onnx"), providers=["CPUExecutionProvider"])
    outs = []
    for max_length in (64, 8):
        tok = transformers.AutoTokenizer.from_pretrained(str(folder / "train"), local_files_only=True)
        enc = tok(SENTENCES, truncation=True, max_length=max_length, padding="longest", return_tensors="np")
        outs.append(session.run(None, {"input_ids": enc["input_ids"], "attention_mask": enc["attention_mask"]})[0])
    ref, cand = (o.astype(np.float64) for o in outs)
    cos = (ref * cand).sum(1) / np.linalg.norm(ref, axis=1) / np.linalg.norm(cand, axis=1)
    return float(cos.min())


def _findings(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {f["key"]: f for m in report["models"] for f in m["findings"]}


def test_a_max_length_difference_fails_through_the_real_tokenizer(sides: Path,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    code = run(["parity", "--config", str(manifest(sides, "golden.jsonl")), "--format", "json", "--no-attribution"])
    found = _findings(json.loads(capsys.readouterr().out))
    assert code == 1
    failing = found["parity.embedding.cosine_min"]
    assert failing["rule"] == "DG501" and failing["deployed"] == pytest.approx(_deployed_cosine(sides), abs=1e-6)
    assert "reference text tokenized by the real tokenizer in train (max_length 64" in failing["message"]
    assert "candidate text tokenized by the real tokenizer in serve (max_length 8" in failing["message"]
    # The same sentences as full-length token arrays: the adapter keeps [CLS] and [SEP] as the tokenizer does,
    # so it measures what the real tokenizer measures, and says it adapted arrays.
    code = run(["parity", "--config", str(manifest(sides, "golden.npz")), "--format", "json", "--no-attribution"])
    arrays = _findings(json.loads(capsys.readouterr().out))["parity.embedding.cosine_min"]
    assert code == 1 and arrays["deployed"] == pytest.approx(failing["deployed"], abs=1e-6)
    assert "candidate token arrays adapted, not tokenized: at most 8 tokens a row, cut on the right keeping the " \
           "special tokens 2, 3" in arrays["message"]


def test_text_through_one_tokenizer_from_many_threads_is_no_interference(sides: Path,
                                                                         capsys: pytest.CaptureFixture[str]) -> None:
    path = manifest(sides, "golden.jsonl")
    path.write_text(path.read_text(encoding="utf-8").replace("serve/", "train/")
                    + "      concurrency: {threads: 8}\n", encoding="utf-8")
    code = run(["parity", "--config", str(path), "--format", "json"])
    found = _findings(json.loads(capsys.readouterr().out))
    assert code == 0 and not {f["rule"] for f in found.values()} & {"DG504", "DG505"}, found


@pytest.mark.slow
def test_the_cli_child_reports_the_real_tokenizer_difference(sides: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "driftguard", "parity", "--config",
                           str(manifest(sides, "golden.jsonl")), "--no-attribution"],
                          capture_output=True, text=True, timeout=300, cwd=sides,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.returncode == 1, proc.stderr
    assert "parity.embedding.cosine_min" in proc.stdout
    assert "candidate text tokenized by the real tokenizer in" in proc.stdout and "(max_length 8," in proc.stdout


def test_a_folder_without_added_tokens_decoder_gives_its_ids_from_the_real_tokenizer(tmp_path: Path) -> None:
    """transformers 5's save_pretrained writes no ``added_tokens_decoder``, so the extracted config names no
    special ids: the adapter reads them from the real tokenizer in the side's folder and keeps [SEP] (right cut),
    as the tokenizer does; the report says it keeps them."""
    folder = bert_tokenizer(tmp_path / "tok", 512)
    config_path = folder / "tokenizer_config.json"
    config = json.loads(config_path.read_text(encoding="utf-8"))
    del config["added_tokens_decoder"]
    config_path.write_text(json.dumps(config), encoding="utf-8")
    side = {"preprocessing.max_length": 8}
    assert edge_token_ids(side) == frozenset()
    cls, sep = SPECIAL.index("[CLS]"), SPECIAL.index("[SEP]")
    prep = TensorPreprocessing.for_side(side, folder)
    assert prep.special == {cls, sep}
    full = _real(folder, "right", None, 40)
    np.testing.assert_array_equal(prep.apply(full)["input_ids"], _real(folder, "right", 8, 40)["input_ids"])
    said = describe_inputs("onnxruntime", type("S", (), {"artifact": "tok/model.onnx", "tokenizer": None})(),
                           tmp_path, side, False, ("input_ids", "attention_mask"))
    assert said is not None and f"keeping the special tokens {cls}, {sep} as the tokenizer does" in said
    assert TensorPreprocessing.for_side(side, None).special == frozenset()  # no folder: the old cut, said so
    assert TensorPreprocessing.for_side({}, folder).special == frozenset()  # no truncation: the folder is not read


# --- the pieces, without a model (issue 25: the mutants that survived the tests above) ----------------------------
# Expected values by hand from the module's documented contract: preprocessing.max_length unset or "very large"
# means no truncation; only left/right are sides; the report names the folder as the manifest does.

@pytest.mark.parametrize(("given", "want"), [(8, 8), (8.0, 8), (1, 1), (999_999_999, 999_999_999), (None, None),
                                             (0, None), (-3, None), (0.5, None), (1_000_000_000, None), (10**30, None),
                                             (True, None), ("8", None)])
def test_max_length_is_a_positive_count_below_a_very_large_one(given: Any, want: int | None) -> None:
    side = SideTokenizer(Path("t"), {"preprocessing.max_length": given})
    assert side.max_length == want
    cut = f"max_length {want}" if want else "no truncation"
    assert f"in t ({cut}, truncation as its config says, padding as its config says, special tokens added)" \
        in side.describe()


def test_only_left_and_right_are_sides_and_the_label_defaults_to_the_folder() -> None:
    side = SideTokenizer(Path("tok"), {"preprocessing.truncation_side": "left", "preprocessing.padding_side": "up"})
    assert side.sides == {"truncation_side": "left"}
    assert side.describe() == ("text tokenized by the real tokenizer in tok (no truncation, truncation left, padding "
                               "as its config says, special tokens added)")
    side = SideTokenizer(Path("tok"), {"preprocessing.padding_side": "right"}, "shown")
    assert side.sides == {"padding_side": "right"} and side.label == "shown"


def test_records_that_mix_messages_and_text_or_lack_both_are_refused(tok_folder: Path) -> None:
    side = SideTokenizer(tok_folder, {})
    side.load()
    with pytest.raises(ParityError, match="mix 'messages' and 'text' within one batch"):
        side.encode([{"text": "call me"}, {"messages": [{"role": "user", "content": "x"}]}])
    with pytest.raises(ParityError, match="mix"):
        side.encode([{"messages": [{"role": "user", "content": "x"}]}, {"text": "call me"}])
    with pytest.raises(ParityError) as info:
        side.encode([{"text": "call me"}, {"b": 1, "a": 2}])
    assert info.value.message == "golden record 2 of the batch has no 'text' string or 'messages' list (fields: a, b)"
    assert info.value.path == str(tok_folder)
    with pytest.raises(ParityError, match=r"golden record 1 of the batch .* \(fields: none\)"):
        side.encode([{}])


def test_where_the_folder_is_and_how_the_report_names_it(tok_folder: Path, tmp_path: Path) -> None:
    from driftguard.parity.runners import tokenizer

    assert folder_of(None, tok_folder) == tok_folder  # the artifact is the folder
    assert folder_of(None, None) is None
    for name in tokenizer.TOKENIZER_FILES:
        one = tmp_path / name.replace(".", "_")
        one.mkdir()
        (one / name).write_text("{}", encoding="utf-8")
        assert folder_of(None, one / "model.onnx") == one
    named = tmp_path / "named"
    (named / "tokenizer.json").mkdir(parents=True)  # a folder of that name is no tokenizer file
    assert folder_of(None, named / "model.onnx") is None
    assert tokenizer._shown(tmp_path / "a" / "b", tmp_path) == "a/b"
    assert tokenizer._shown(Path("/elsewhere/tok"), tmp_path) == "/elsewhere/tok"


def test_describe_inputs_per_runner(tok_folder: Path) -> None:
    base = tok_folder.parent
    artifact = type("S", (), {"artifact": "tokenizer/model.onnx"})()  # no tokenizer setting at all
    own = type("S", (), {"artifact": "other/model.onnx", "tokenizer": "tokenizer"})()
    hf = type("S", (), {"artifact": "tokenizer"})()
    text = "text tokenized by the real tokenizer in tokenizer (no truncation"
    assert (describe_inputs("torch", artifact, base, {}, True, ()) or "").startswith(text)
    assert (describe_inputs("onnxruntime", own, base, {}, True, ()) or "").startswith(text)
    assert (describe_inputs("hf", hf, base, {}, True, ()) or "").startswith(text)  # the model's own folder
    read_back = "".join(["h", "f"])  # a runner name equal to "hf" but not the same string object
    assert (describe_inputs(read_back, hf, base, {}, True, ()) or "").startswith(text)
    assert describe_inputs("triton-http", artifact, base, {}, True, ()) is None  # no tokenizer of its own
    assert describe_inputs("onnxruntime", object(), base, {}, True, ()) is None  # no artifact, no tokenizer
    tokens = "token arrays adapted, not tokenized"
    for runner in ("onnxruntime", "torch", "triton-http", "hf"):
        said = describe_inputs(runner, artifact, base, {}, False, ("x", "input_ids"))
        assert said is not None and said.startswith(tokens), runner
    assert describe_inputs("callable", artifact, base, {}, False, ("input_ids",)) is None


def test_first_line_of_an_error() -> None:
    from driftguard.parity.runners.tokenizer import _first_line

    assert _first_line(ValueError("  one\ntwo  ")) == "one"
    assert _first_line(ValueError("   ")) == "(no message)"
    assert _first_line(KeyError()) == "(no message)"


def test_a_folder_transformers_cannot_read_is_one_parity_error_naming_it(tmp_path: Path) -> None:
    with pytest.raises(ParityError) as info:
        SideTokenizer(tmp_path / "missing", {}).load()
    assert (info.value.message, info.value.path) == ("tokenizer folder not found", str(tmp_path / "missing"))
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "tokenizer.json").write_text("{not json", encoding="utf-8")
    (broken / "tokenizer_config.json").write_text("{not json either", encoding="utf-8")
    with pytest.raises(ParityError) as info:
        SideTokenizer(broken, {}).load()
    assert info.value.message.startswith("transformers cannot load the tokenizer: ")
    assert info.value.path == str(broken)


def test_describe_inputs_reads_the_special_ids_from_the_runners_own_tokenizer_setting(tmp_path: Path) -> None:
    """Token arrays for a tensor runner whose ``tokenizer:`` names a folder apart from the artifact's: the report
    says the special ids read from that folder's real tokenizer ([CLS] 2 and [SEP] 3 in the vocabulary written
    here) are kept. A runner that does not tokenize (triton-http, hf) reads no folder."""
    folder = bert_tokenizer(tmp_path / "tok", 512)
    config_path = folder / "tokenizer_config.json"
    config = json.loads(config_path.read_text(encoding="utf-8"))
    del config["added_tokens_decoder"]  # as transformers 5 writes it: the ids only in the real tokenizer
    config_path.write_text(json.dumps(config), encoding="utf-8")
    (tmp_path / "model").mkdir()  # the artifact's folder holds no tokenizer files
    settings = type("S", (), {"artifact": "model/model.onnx", "tokenizer": "tok"})()
    side = {"preprocessing.max_length": 8}
    for runner in ("onnxruntime", "torch"):
        said = describe_inputs(runner, settings, tmp_path, side, False, ("input_ids",))
        assert said is not None and "keeping the special tokens 2, 3 as the tokenizer does" in said, runner
    for runner in ("triton-http", "hf"):
        said = describe_inputs(runner, settings, tmp_path, side, False, ("input_ids",))
        assert said is not None and "an end token is cut like any other" in said, runner


def _no_pad_tokenizer(folder: Path, eos: bool, pad: bool = False) -> Path:
    """A word-level fast tokenizer (the ``tokenizers`` library) with no pad token (or one: ``pad``), and an end
    token or none."""
    from tokenizers import Tokenizer, models, pre_tokenizers

    words = ["<unk>", "</s>", "call", "me", "ishmael", "<pad>"]
    backend = Tokenizer(models.WordLevel({w: i for i, w in enumerate(words)}, unk_token="<unk>"))
    backend.pre_tokenizer = pre_tokenizers.Whitespace()
    tok = transformers.PreTrainedTokenizerFast(tokenizer_object=backend, unk_token="<unk>",
                                               **({"eos_token": "</s>"} if eos else {}),
                                               **({"pad_token": "<pad>"} if pad else {}))
    assert (tok.pad_token is None) != pad
    tok.save_pretrained(str(folder))
    return folder


def test_a_tokenizer_without_a_pad_token_pads_with_its_end_token(tmp_path: Path) -> None:
    """GPT-2 style tokenizers have no pad token; batching them takes ``pad_token = eos_token`` (transformers'
    documented recipe). With neither, padding a batch is transformers' own error, one line naming the folder."""
    side = SideTokenizer(_no_pad_tokenizer(tmp_path / "eos", eos=True), {})
    side.load()
    assert side.tokenizer.pad_token == "</s>"
    out = side.encode([{"text": "call me ishmael"}, {"text": "call"}])
    np.testing.assert_array_equal(out["input_ids"], [[2, 3, 4], [2, 1, 1]])
    np.testing.assert_array_equal(out["attention_mask"], [[1, 1, 1], [1, 0, 0]])
    bare = SideTokenizer(_no_pad_tokenizer(tmp_path / "bare", eos=False), {})
    bare.load()
    assert bare.tokenizer.pad_token is None
    with pytest.raises(ParityError) as info:
        bare.encode([{"text": "call me ishmael"}, {"text": "call"}])
    assert info.value.message.startswith("the tokenizer failed on the golden records: ")
    assert info.value.path == str(tmp_path / "bare")
    own = SideTokenizer(_no_pad_tokenizer(tmp_path / "own", eos=True, pad=True), {})
    own.load()
    assert own.tokenizer.pad_token == "<pad>"  # its own pad token stays
    np.testing.assert_array_equal(own.encode([{"text": "call me"}, {"text": "call"}])["input_ids"], [[2, 3], [2, 5]])


def test_a_tokenizer_that_needs_remote_code_is_not_run(tmp_path: Path) -> None:
    """A tokenizer folder whose config maps ``AutoTokenizer`` to a class in its own Python file (``auto_map``) is
    code from the artifact: loaded with ``trust_remote_code=False``, transformers refuses it ("contains custom
    code which must be executed"), so neither the ids nor the tokenizer come from it and the file never runs."""
    folder = bert_tokenizer(tmp_path / "custom", 512)
    marker = tmp_path / "ran"
    (folder / "tokenization_custom.py").write_text(
        f"import pathlib\npathlib.Path({str(marker)!r}).write_text('ran')\n"
        "from transformers import BertTokenizerFast\n\n\nclass CustomTokenizer(BertTokenizerFast):\n    pass\n",
        encoding="utf-8")
    config_path = folder / "tokenizer_config.json"
    config = json.loads(config_path.read_text(encoding="utf-8"))
    config.update(tokenizer_class="CustomTokenizer",
                  auto_map={"AutoTokenizer": [None, "tokenization_custom.CustomTokenizer"]})
    config_path.write_text(json.dumps(config), encoding="utf-8")
    from driftguard.parity.runners.tokenizer import edge_ids

    assert edge_ids(folder) == frozenset()  # no ids: the report says an end token is cut like any other
    with pytest.raises(ParityError) as info:
        SideTokenizer(folder, {}).load()
    assert "custom code" in info.value.message and info.value.path == str(folder)
    assert not marker.exists()


def test_edge_ids_of_a_folder_transformers_cannot_read_are_none(tmp_path: Path) -> None:
    from driftguard.parity.runners.tokenizer import edge_ids

    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "tokenizer_config.json").write_text("{not json", encoding="utf-8")
    assert edge_ids(broken) == frozenset()
    assert edge_ids(tmp_path / "missing") == frozenset()


def test_first_line_is_cut_at_300_characters() -> None:
    from driftguard.parity.runners.tokenizer import _first_line

    assert _first_line(ValueError("y" * 301 + "\nz")) == "y" * 300


def test_importing_the_runner_modules_imports_no_numpy() -> None:
    """The manifest loads runner settings on the config-only path, which imports no numpy (fast start): numpy is
    named for type checking only."""
    code = ("import sys\nimport driftguard.parity.runners.base, driftguard.parity.runners.tokenizer\n"
            "print('numpy' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT,
                         env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert out.stdout.strip() == "False", out.stderr


def test_without_transformers_text_names_the_extra_and_token_arrays_keep_no_ids(
        tok_folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """transformers is the ``[hf]`` extra: absent (a ``None`` in ``sys.modules`` makes ``import`` raise
    ImportError, as the import system documents), text cannot be tokenized (the extra is named) and the adapter
    knows no special ids (the report then says an end token is cut like any other)."""
    from driftguard.errors import MissingExtraError
    from driftguard.parity.runners.tokenizer import edge_ids

    copy = tmp_path / "copy"  # a folder edge_ids has not seen (it remembers the ids of each folder)
    copy.mkdir()
    for f in tok_folder.iterdir():
        (copy / f.name).write_bytes(f.read_bytes())
    monkeypatch.setitem(sys.modules, "transformers", None)
    assert edge_ids(copy) == frozenset()
    with pytest.raises(MissingExtraError) as info:
        SideTokenizer(copy, {}).load()
    assert (info.value.extra, info.value.module) == ("hf", "transformers")
    assert info.value.feature == "parity on text with the side's tokenizer"
