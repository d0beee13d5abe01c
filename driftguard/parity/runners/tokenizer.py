"""The side's real tokenizer, for tensor runners given text: golden ``.jsonl`` records become the token arrays the
deployment would feed, through transformers (the ``[hf]`` extra; imported only when text is run), never through an
approximation.

Which tokenizer: the runner's ``tokenizer:`` setting (a folder with tokenizer files, relative to the manifest),
else the artifact's own folder when it holds tokenizer files (an exported model beside its tokenizer). It is
loaded with ``AutoTokenizer.from_pretrained(local_files_only=True, trust_remote_code=False)``: the folder's special
tokens, lower-casing and chat template are the folder's own; the side's effective config sets what the
deployment passes per call: ``preprocessing.max_length`` (truncation; unset or "very large": none),
``preprocessing.truncation_side`` and ``preprocessing.padding_side``. A record's ``text`` is tokenized with the
special tokens added; a record's ``messages`` (``[{role, content}]``) go through the tokenizer's chat template
with the generation prompt, then are tokenized without adding special tokens again (the template writes them).
Rows are padded on the padding side to the graph's fixed sequence width when it declares one, else to the
longest row of the batch.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from driftguard.errors import MissingExtraError
from driftguard.parity.errors import ParityError
from driftguard.parity.runners.base import max_length_of

if TYPE_CHECKING:
    import numpy as np

#: Files that make a folder a tokenizer folder for ``AutoTokenizer``.
TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "vocab.txt", "tokenizer.model")


def folder_of(setting: Path | None, artifact: Path | None) -> Path | None:
    """The tokenizer folder of a side: ``setting`` when given, else the artifact's folder (the artifact itself
    when it is a folder) when it holds tokenizer files; None when neither."""
    if setting is not None:
        return setting
    if artifact is None:
        return None
    folder = artifact if artifact.is_dir() else artifact.parent
    return folder if any((folder / name).is_file() for name in TOKENIZER_FILES) else None


#: Runners that feed token arrays to a model (the shared tensor adapter) and tokenize text with the side's tokenizer.
TEXT_RUNNERS = ("onnxruntime", "torch")
ARRAY_RUNNERS = ("onnxruntime", "torch", "triton-http", "hf")


def describe_inputs(runner: str, settings: Any, base: Path, config: Mapping[str, Any], text: bool,
                    names: Sequence[str]) -> str | None:
    """How ``runner`` turns a golden set into model inputs, in words, for the report: the side's real tokenizer
    (``text``: the set holds records) or the tensor adapter (``names``: the set's arrays, when they hold token
    positions); None when the runner does its own (a callable) or there is nothing to tokenize."""
    from driftguard.parity.runners.base import SEQUENCE_INPUTS, TensorPreprocessing

    artifact = getattr(settings, "artifact", None)
    artifact_path = base / artifact if isinstance(artifact, str) else None
    if text:
        own = getattr(settings, "tokenizer", None)
        folder = artifact_path if runner == "hf" else \
            folder_of(base / own if isinstance(own, str) else None, artifact_path) if runner in TEXT_RUNNERS else None
        return SideTokenizer(folder, config, _shown(folder, base)).describe() if folder is not None else None
    if runner in ARRAY_RUNNERS and any(n in SEQUENCE_INPUTS for n in names):
        own = getattr(settings, "tokenizer", None)
        folder = folder_of(base / own if isinstance(own, str) else None, artifact_path) \
            if runner in TEXT_RUNNERS else None
        return TensorPreprocessing.for_side(config, folder).describe()
    return None


def _shown(folder: Path, base: Path) -> str:
    """``folder`` as the manifest names it (relative to its folder), so reports do not depend on the checkout."""
    try:
        return folder.relative_to(base).as_posix()
    except ValueError:
        return str(folder)


@functools.lru_cache(maxsize=32)
def edge_ids(folder: Path) -> frozenset[int]:
    """The ids of the ``[CLS]``/``<s>`` and ``[SEP]``/``</s>`` tokens the real tokenizer in ``folder`` puts around
    a sequence (``cls``, ``bos``, ``sep``, ``eos``); empty when transformers is missing or cannot load it (the
    adapter then says it cuts an end token like any other). A folder that is not there has none: transformers
    would take its name for a Hub repository."""
    if not folder.is_dir():
        return frozenset()
    try:
        import transformers
    except ImportError:
        return frozenset()
    try:
        tok: Any = transformers.AutoTokenizer.from_pretrained(str(folder), local_files_only=True,
                                                              trust_remote_code=False)
    except Exception:  # a folder transformers cannot read: no ids, said in the report
        return frozenset()
    ids = (getattr(tok, f"{name}_token_id", None) for name in ("cls", "bos", "sep", "eos"))
    return frozenset(i for i in ids if isinstance(i, int) and not isinstance(i, bool))


class SideTokenizer:
    """One side's tokenizer with the side's per-call settings; ``load`` before ``encode``."""

    def __init__(self, folder: Path, config: Mapping[str, Any], label: str | None = None) -> None:
        self.folder = folder
        self.label = label or str(folder)
        self.max_length = max_length_of(config)
        sides = {s: config.get(f"preprocessing.{s}") for s in ("truncation_side", "padding_side")}
        self.sides = {s: str(v) for s, v in sides.items() if v in ("left", "right")}
        self.tokenizer: Any = None
        # A fast tokenizer sets its truncation and padding on the shared Rust object at every call: calls from
        # several threads at once collide ("Already borrowed"), so they take turns.
        self._lock = threading.Lock()

    def load(self) -> None:
        try:
            import transformers as _transformers
        except ImportError:
            raise MissingExtraError("parity on text with the side's tokenizer", "hf", "transformers") from None
        transformers: Any = _transformers  # partly typed; used through AutoTokenizer only
        if not self.folder.is_dir():
            raise ParityError("tokenizer folder not found", str(self.folder))
        try:
            tok = transformers.AutoTokenizer.from_pretrained(str(self.folder), local_files_only=True,
                                                             trust_remote_code=False)
        except Exception as exc:  # OSError, ValueError... for a folder transformers cannot read
            raise ParityError(f"transformers cannot load the tokenizer: {type(exc).__name__}: {_first_line(exc)}",
                              str(self.folder)) from None
        for side, value in self.sides.items():
            setattr(tok, side, value)
        if tok.pad_token is None and tok.eos_token is not None:
            tok.pad_token = tok.eos_token  # GPT-2 style tokenizers have none; batches need one
        self.tokenizer = tok

    def describe(self) -> str:
        """What is done, in words (for the report: the real tokenizer, with which settings)."""
        cut = f"max_length {self.max_length}" if self.max_length else "no truncation"
        own = "as its config says"
        return (f"text tokenized by the real tokenizer in {self.label} ({cut}, truncation "
                f"{self.sides.get('truncation_side', own)}, padding {self.sides.get('padding_side', own)}, special "
                "tokens added)")

    def encode(self, records: Sequence[Mapping[str, Any]], width: int | None = None) -> dict[str, np.ndarray[Any, Any]]:
        """Token arrays (int64) for ``records``, padded to ``width`` (a fixed graph width) or the longest row."""
        import numpy as np

        tok = self.tokenizer
        assert tok is not None, "load() first"
        texts, templated = self._texts(records)
        ml = self.max_length
        try:
            with self._lock:
                enc = tok(texts, truncation=ml is not None, max_length=ml, add_special_tokens=not templated)
                padded = tok.pad(enc, padding="max_length" if width else "longest", max_length=width,
                                 return_tensors="np")
        except Exception as exc:
            raise ParityError(f"the tokenizer failed on the golden records: {type(exc).__name__}: "
                              f"{_first_line(exc)}", str(self.folder)) from None
        return {str(k): np.asarray(v, dtype=np.int64) for k, v in padded.items()}

    def _texts(self, records: Sequence[Mapping[str, Any]]) -> tuple[list[str], bool]:
        texts: list[str] = []
        templated = [isinstance(r.get("messages"), list) for r in records]
        if any(templated) and not all(templated):
            raise ParityError("golden records mix 'messages' and 'text' within one batch", str(self.folder))
        for i, rec in enumerate(records):
            if templated[i]:
                texts.append(self._chat(rec["messages"]))
                continue
            text = rec.get("text")
            if not isinstance(text, str):
                raise ParityError(f"golden record {i + 1} of the batch has no 'text' string or 'messages' list "
                                  f"(fields: {', '.join(sorted(rec)) or 'none'})", str(self.folder))
            texts.append(text)
        return texts, bool(templated) and all(templated)

    def _chat(self, messages: list[Any]) -> str:
        if not getattr(self.tokenizer, "chat_template", None):
            raise ParityError("golden records hold 'messages' but the tokenizer has no chat template",
                              str(self.folder))
        try:
            text = self.tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        except Exception as exc:
            raise ParityError(f"the chat template failed on a golden record: {type(exc).__name__}: "
                              f"{_first_line(exc)}", str(self.folder)) from None
        return str(text)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:300] if text else "(no message)"
