"""The rule every container format shares: a given entrypoint replaces the image's and drops its CMD, given
arguments replace the CMD; and where a shell's ``-c`` script sits in an argv."""

from __future__ import annotations

from driftguard.extractors import container_common as cc
from driftguard.readers.commands import Word


def _w(*texts: str) -> tuple[Word, ...]:
    return tuple(Word(t, t) for t in texts)


IMAGE = cc.ImageConfig("image x", _w("vllm", "serve"), _w("--model", "default"))


def _texts(words: tuple[Word, ...]) -> list[str | None]:
    return [w.text for w in words]


def test_image_entrypoint_and_cmd_when_nothing_is_given() -> None:
    assert _texts(cc.argv(IMAGE, None, None)) == ["vllm", "serve", "--model", "default"]


def test_args_replace_the_cmd() -> None:
    assert _texts(cc.argv(IMAGE, None, _w("--model", "m"))) == ["vllm", "serve", "--model", "m"]


def test_an_entrypoint_drops_the_images_cmd() -> None:
    assert _texts(cc.argv(IMAGE, _w("text-generation-launcher"), None)) == ["text-generation-launcher"]
    assert _texts(cc.argv(IMAGE, _w("sh", "-c"), _w("vllm serve m"))) == ["sh", "-c", "vllm serve m"]


def test_an_unknown_image_runs_what_is_given() -> None:
    assert _texts(cc.argv(None, None, _w("--model", "m"))) == ["--model", "m"]


def test_known_image_words_sit_where_the_image_is_named() -> None:
    image = cc.known_image("vllm/vllm-openai:v0.9.2", 7)
    assert image is not None and [(w.text, w.line) for w in image.entrypoint or ()] == [("vllm", 7), ("serve", 7)]
    assert cc.known_image("busybox", 1) is None


def test_script_index() -> None:
    assert cc.script_index(_w("/bin/sh", "-c", "vllm serve m")) == 2
    assert cc.script_index(_w("bash", "-lc", "x")) == 2
    assert cc.script_index(_w("bash", "--norc", "x")) is None
    assert cc.script_index(_w("vllm", "serve", "m")) is None
    assert cc.script_index(_w("sh", "-c")) is None
