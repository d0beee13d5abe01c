"""The bounded Python reader: limits, syntax errors with lines, imports, instances and constant folding. The
files are parsed, never run: a file that would write a marker when executed leaves none."""

from __future__ import annotations

from pathlib import Path

import pytest

from driftguard.errors import ExtractionError, LimitError
from driftguard.readers import python_ast
from driftguard.readers.limits import Limits


def _calls(text: str) -> dict[str, python_ast.Call]:
    return {c.name: c for c in python_ast.read(text, "app.py").calls}


def _kw(text: str, name: str = "vllm.SamplingParams") -> dict[str, python_ast.Arg]:
    return dict(_calls(text)[name].keywords)


def test_a_syntax_error_is_an_input_error_with_its_line() -> None:
    with pytest.raises(ExtractionError) as err:
        python_ast.read("import vllm\n\nx = (\n", "app.py")
    assert err.value.line == 3 and "not valid Python" in err.value.message


def test_null_bytes_and_the_parsers_own_nesting_limit_are_input_errors() -> None:
    for text in ("x = 1\x00\n", "x = " + "(" * 300 + ")" * 300 + "\n", "x = " + "+".join(["a"] * 5000) + "\n"):
        with pytest.raises(ExtractionError):
            python_ast.read(text, "app.py")


def test_bytes_nodes_and_depth_are_bounded() -> None:
    with pytest.raises(LimitError, match="python_bytes"):
        python_ast.read("x = 1\n" * 100, "app.py", Limits(python_bytes=100))
    with pytest.raises(LimitError, match="python_nodes"):
        python_ast.read("x = [" + "1," * 1000 + "]\n", "app.py", Limits(python_nodes=500))
    with pytest.raises(LimitError, match="python_depth"):
        python_ast.read("x = " + "+".join(["a"] * 150) + "\n", "app.py", Limits(python_depth=100))


def test_reading_never_runs_the_file(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    text = f"import pathlib\npathlib.Path({str(marker)!r}).write_text('x')\nfrom vllm import SamplingParams\n"
    python_ast.read(text, "app.py")
    assert not marker.exists()


def test_imports_qualify_callees_with_aliases_and_modules() -> None:
    text = ("import vllm\nimport vllm as v\nfrom vllm import SamplingParams as SP\n"
            "a = vllm.SamplingParams(top_k=1)\nb = v.LLM('m')\nc = SP(top_p=0.5)\n")
    names = [c.name for c in python_ast.read(text, "app.py").calls]
    assert names == ["vllm.SamplingParams", "vllm.LLM", "vllm.SamplingParams"]


def test_a_bare_name_without_its_import_is_not_known() -> None:
    calls = python_ast.read("def SamplingParams(**kw):\n    return kw\nSamplingParams(top_p=1)\n", "a.py").calls
    assert calls == ()


def test_instances_and_unknown_receivers() -> None:
    text = ("from vllm import LLM\nfrom openai import OpenAI\nclass S:\n    def __init__(self):\n"
            "        self.llm = LLM('m')\n    def run(self, p):\n        return self.llm.generate(p)\n"
            "client = OpenAI()\nclient.chat.completions.create(model='x')\nmodel.generate(max_new_tokens=3)\n")
    names = {c.name for c in python_ast.read(text, "app.py").calls}
    assert {"vllm.LLM().generate", "openai.OpenAI().chat.completions.create", "?.generate"} <= names


def test_folding_constants_arithmetic_fstrings_and_dicts() -> None:
    text = ('from vllm import SamplingParams\nMAX = 256 * 2\nNAME = "qwen"\nT = -0.5 + 1\nBASE = {"top_p": 0.8}\n'
            'SamplingParams(max_tokens=MAX, stop=[f"</{NAME}>"], temperature=T, n=2 ** 3, **BASE, '
            '**{"top_k": 40 // 2})\n')
    kw = _kw(text)
    assert {k: a.value for k, a in kw.items()} == {"max_tokens": 512, "stop": ["</qwen>"], "temperature": 0.5,
                                                  "n": 8, "top_p": 0.8, "top_k": 20}
    assert kw["max_tokens"].note == "MAX = 512 (line 2)"
    assert kw["top_p"].line == 5 and kw["top_p"].note == "**BASE (line 5)"


def test_run_time_values_are_kept_unresolved_with_their_text_and_line() -> None:
    text = ('import os\nfrom vllm import SamplingParams\nT = 0.7\nT = 0.9\n'
            'def f(top_p):\n    return SamplingParams(top_p=top_p, temperature=T,\n'
            '                          seed=int(os.environ["SEED"]), **kw)\n')
    call = _calls(text)["vllm.SamplingParams"]
    kw = dict(call.keywords)
    assert not kw["top_p"].resolved and kw["top_p"].source == "top_p"
    assert not kw["temperature"].resolved  # bound twice: which one runs is not known from the file
    assert kw["seed"].source == 'int(os.environ["SEED"])' and kw["seed"].line == 7
    assert [a.source for a in call.opaque] == ["**kw"]


def test_a_parameter_shadowing_a_constant_is_not_the_constant() -> None:
    text = "from vllm import SamplingParams\nN = 3\ndef f(N):\n    return SamplingParams(n=N)\n"
    assert not _kw(text)["n"].resolved


def test_folded_values_are_bounded() -> None:
    text = ('from vllm import SamplingParams\nA = "x" * 10 ** 9\nB = 10 ** 10000\nC = [1] * 1000\n'
            'SamplingParams(stop=A, seed=B, n=C)\n')
    kw = _kw(text)
    assert not kw["stop"].resolved and not kw["seed"].resolved and kw["n"].resolved


def test_doubling_constants_stop_at_the_bounds() -> None:
    lines = ["from vllm import SamplingParams", 'A0 = "xxxxxxxxxxxxxxxx"']
    lines += [f"A{i} = A{i - 1} + A{i - 1}" for i in range(1, 40)]
    lines += ["I0 = 10 ** 300"] + [f"I{i} = I{i - 1} * I{i - 1}" for i in range(1, 40)]
    lines.append("SamplingParams(stop=A39, seed=I39)")
    kw = _kw("\n".join(lines) + "\n")
    assert not kw["stop"].resolved and not kw["seed"].resolved


def test_torch_dtypes_fold_to_their_qualified_name() -> None:
    text = "import torch as t\nfrom transformers import pipeline\npipeline('x', torch_dtype=t.bfloat16)\n"
    assert _kw(text, "transformers.pipeline")["torch_dtype"].value == "torch.bfloat16"


def test_an_attribute_assignment_on_an_instance_is_a_call() -> None:
    text = ("from transformers import AutoTokenizer\ntok = AutoTokenizer.from_pretrained('m')\n"
            "tok.padding_side = 'left'\n")
    call = _calls(text)["transformers.AutoTokenizer.from_pretrained().padding_side="]
    assert call.args[0].value == "left" and call.line == 3


def test_imported_roots_reads_the_head_with_the_tokenizer() -> None:
    head = b'"""doc"""\nimport os, vllm.entrypoints as e\nfrom transformers import (\n  pipeline)\nfrom . import x\n'
    assert python_ast.imported_roots(head) == {"os", "vllm", "transformers"}
    assert python_ast.imported_roots(b"x = 'import vllm'\n# from openai import x\n") == set()


def test_argparse_options_by_dest_and_action() -> None:
    text = ("import argparse\nfrom vllm import SamplingParams\nparser = argparse.ArgumentParser()\n"
            "parser.add_argument('--top-p', dest='nucleus', default=0.9)\n"
            "parser.add_argument('--no-sample', action='store_false')\n"
            "parser.add_argument('--n', type=int)\nparser.add_argument('--k', default=1)\n"
            "parser.add_argument('--k', default=2)\nparser.add_argument('count', type=int)\n"
            "args = parser.parse_args()\n"
            "SamplingParams(top_p=args.nucleus, skip=args.no_sample, n=args.n, top_k=args.k, seed=args.count)\n")
    kw = _kw(text)
    assert (kw["top_p"].value, kw["skip"].value, kw["n"].value) == (0.9, True, None)
    assert kw["top_p"].note == "argparse default of --top-p (line 4); a command line may set another value"
    assert not kw["top_k"].resolved  # --k defined twice: which default holds is argparse's error, not a value
    assert not kw["seed"].resolved  # a positional without a default comes from the command line


def test_a_dict_argument_keeps_each_members_line() -> None:
    text = ("import requests\nBODY = {\n    'inputs': 'x',\n    'parameters': {\n        'top_k': 5,\n    },\n}\n"
            "requests.post('http://h/generate', json=BODY)\nrequests.post('http://h/generate', json={'a': f(x)})\n")
    first, second = (c for c in python_ast.read(text, "app.py").calls if c.name == "requests.post")
    json_arg = first.keyword("json")
    assert json_arg is not None
    body = dict(json_arg.items)
    assert body["inputs"].line == 3 and dict(body["parameters"].items)["top_k"].line == 5
    inner = second.keyword("json")
    assert inner is not None and not inner.resolved and not dict(inner.items)["a"].resolved
