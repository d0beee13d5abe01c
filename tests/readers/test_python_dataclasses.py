"""Argument dataclasses handed to transformers' HfArgumentParser: their instances, and each field's default
folded where an instance's field is used (``readers.python_ast``), noted as a default a command line may change;
anything the file does not fix stays unresolved."""

from __future__ import annotations

import ast

from driftguard.readers import python_ast
from driftguard.readers.python_dataclasses import argument_instances

HEAD = ("from dataclasses import asdict, dataclass, field\nfrom typing import ClassVar, Optional\n"
        "from transformers import HfArgumentParser\nfrom vllm import SamplingParams\n\n"
        "@dataclass\nclass Model:\n    path: str = field(metadata={'help': 'given on the command line'})\n\n"
        "@dataclass(frozen=True)\nclass Gen:\n    temperature: Optional[float] = field(default=0.3, metadata={})\n"
        "    top_p: float = 0.85\n    stop: list = field(default_factory=list)\n    LIMIT: ClassVar[int] = 9\n"
        "    max_tokens: int = 256 * 2\n\n")


def _call(text: str) -> dict[str, python_ast.Arg]:
    (call,) = [c for c in python_ast.read(HEAD + text, "app.py").calls if c.name == "vllm.SamplingParams"]
    return dict(call.keywords)


def test_unpacked_instances_take_their_classes_in_the_parsers_order() -> None:
    kw = _call("parser = HfArgumentParser((Model, Gen))\nm, g = parser.parse_args_into_dataclasses()\n"
               "SamplingParams(temperature=g.temperature, top_p=g.top_p, max_tokens=g.max_tokens, stop=g.stop,\n"
               "               seed=m.path, n=g.LIMIT)\n")
    assert (kw["temperature"].value, kw["top_p"].value, kw["max_tokens"].value) == (0.3, 0.85, 512)
    assert kw["temperature"].note == "default of Gen.temperature (line 12); a command line may set another value"
    assert kw["temperature"].line == 20  # the call's own line: where the value is used
    # no default (the command line gives it), a default_factory (built at run time), a ClassVar (no field)
    assert not kw["stop"].resolved and not kw["seed"].resolved and not kw["n"].resolved


def test_an_indexed_instance_and_asdict_or_vars_as_keyword_arguments() -> None:
    kw = _call("parser = HfArgumentParser(Gen)\ng = parser.parse_args_into_dataclasses()[0]\n"
               "SamplingParams(**asdict(g))\n")
    assert (kw["temperature"].value, kw["top_p"].value, kw["max_tokens"].value) == (0.3, 0.85, 512)
    assert kw["temperature"].line == 12 and kw["top_p"].line == 13  # each at its field's declaration
    assert not kw["stop"].resolved and kw["stop"].source == "g.stop"
    assert dict(_call("p = HfArgumentParser([Gen])\n(g,) = p.parse_args_into_dataclasses()\n"
                      "SamplingParams(**vars(g))\n"))["top_p"].value == 0.85


def test_instances_the_file_does_not_fix_are_not_read() -> None:
    # bound twice (the JSON-file branch gives other values), parsed from a file, a class the file does not define
    cases = [
        "p = HfArgumentParser(Gen)\nif x:\n    g = p.parse_json_file('a.json')[0]\nelse:\n"
        "    g = p.parse_args_into_dataclasses()[0]\nSamplingParams(temperature=g.temperature)\n",
        "p = HfArgumentParser(Gen)\ng = p.parse_dict({})[0]\nSamplingParams(temperature=g.temperature)\n",
        "from lib import Other\np = HfArgumentParser((Other, Gen))\no, g = p.parse_args_into_dataclasses()\n"
        "SamplingParams(temperature=g.temperature)\n",
        "p = HfArgumentParser(Gen)\np = HfArgumentParser(Model)\ng = p.parse_args_into_dataclasses()[0]\n"
        "SamplingParams(temperature=g.temperature)\n",
        "import argparse\np = argparse.ArgumentParser()\ng = p.parse_args_into_dataclasses()[0]\n"
        "SamplingParams(temperature=g.temperature)\n",
    ]
    for text in cases:
        assert not _call(text)["temperature"].resolved, text


def test_a_dataclass_never_handed_to_a_parser_is_no_argument_class() -> None:
    tree = ast.parse(HEAD + "g = Gen()\n")
    assert argument_instances(tree, lambda node: None) == {}
