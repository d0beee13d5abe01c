"""The Modelfile parser against Ollama's own parser tests (ollama/ollama@fb3076099687 ``parser/parser_test.go``:
the inputs and expected commands of TestParseFileFile, ...TrimSpace, ...From, ...Messages, ...Quoted,
...Parameters, ...Comments, ...UTF16ParseFile, TestParseMultiByte), plus the lines driftguard adds."""

from __future__ import annotations

from pathlib import Path

import pytest

from driftguard.errors import ExtractionError, LimitError
from driftguard.readers import modelfile
from driftguard.readers.limits import Limits

LLAMA3 = ("{{ if .System }}<|start_header_id|>system<|end_header_id|>\n\n{{ .System }}<|eot_id|>{{ end }}{{ if "
          ".Prompt }}<|start_header_id|>user<|end_header_id|>\n\n{{ .Prompt }}<|eot_id|>{{ end }}"
          "<|start_header_id|>assistant<|end_header_id|>\n\n{{ .Response }}<|eot_id|>")


def _cmds(text: str) -> list[tuple[str, str]]:
    return [(c.name, c.args) for c in modelfile.parse(text, "Modelfile")]


def _refused(text: str, match: str) -> ExtractionError:
    with pytest.raises(ExtractionError, match=match) as err:
        modelfile.parse(text, "Modelfile")
    assert err.value.path == "Modelfile"
    return err.value


def test_parse_file() -> None:
    text = ("\nFROM model1\nADAPTER adapter1\nLICENSE MIT\nPARAMETER param1 value1\nPARAMETER param2 value2\n"
            f'TEMPLATE """{LLAMA3}"""    \n')
    assert _cmds(text) == [("model", "model1"), ("adapter", "adapter1"), ("license", "MIT"), ("param1", "value1"),
                           ("param2", "value2"), ("template", LLAMA3)]


def test_draft() -> None:
    assert _cmds("\nFROM base\nDRAFT ./assistant\n") == [("model", "base"), ("draft", "./assistant")]


def test_trim_space() -> None:
    text = ('\nFROM "     model 1"\nADAPTER      adapter3\nLICENSE "MIT       "\nPARAMETER param1        value1\n'
            f'PARAMETER param2    value2\nTEMPLATE """   {LLAMA3}   """    \n')
    assert _cmds(text) == [("model", "     model 1"), ("adapter", "adapter3"), ("license", "MIT       "),
                           ("param1", "value1"), ("param2", "value2"), ("template", f"   {LLAMA3}   ")]


@pytest.mark.parametrize(("text", "expected"), [
    ('FROM "FOO  BAR  "', [("model", "FOO  BAR  ")]),
    ('FROM "FOO BAR"\nPARAMETER param1 value1', [("model", "FOO BAR"), ("param1", "value1")]),
    ("FROM     FOOO BAR    ", [("model", "FOOO BAR")]),
    ("FROM /what/is/the path ", [("model", "/what/is/the path")]),
    ("FROM foo", [("model", "foo")]),
    ("FROM llama3:7b-instruct-q4_K_M", [("model", "llama3:7b-instruct-q4_K_M")]),
    ("PARAMETER param1 value1\nFROM foo", [("param1", "value1"), ("model", "foo")]),
    ("PARAMETER what the \nFROM lemons make lemonade ", [("what", "the"), ("model", "lemons make lemonade")]),
])
def test_from(text: str, expected: list[tuple[str, str]]) -> None:
    assert _cmds(text) == expected


@pytest.mark.parametrize("text", ["", "PARAMETER param1 value1", "# only a comment\n"])
def test_no_from(text: str) -> None:
    _refused(text, "no FROM line")


def test_parameter_without_value() -> None:
    assert _refused("\nFROM foo\nPARAMETER param1\n", "unexpected end of the command").line == 3


def test_bad_command() -> None:
    assert _refused("\nFROM foo\nBADCOMMAND param1 value1\n", "command must be one of").line == 3
    assert _refused("FROM foo\nFROM\n", "command must be one of").line == 2


def test_renderer_and_parser() -> None:
    assert _cmds("\nFROM foo\nRENDERER renderer1\nPARSER parser1\n") == [
        ("model", "foo"), ("renderer", "renderer1"), ("parser", "parser1")]


@pytest.mark.parametrize(("text", "expected"), [
    ("\nFROM foo\nMESSAGE system You are a file parser. Always parse things.\n",
     [("model", "foo"), ("message", "system: You are a file parser. Always parse things.")]),
    ("\nFROM foo\nMESSAGE system You are a file parser. Always parse things.",
     [("model", "foo"), ("message", "system: You are a file parser. Always parse things.")]),
    ("\nFROM foo\nMESSAGE system You are a file parser. Always parse things.\nMESSAGE user Hey there!\n"
     "MESSAGE assistant Hello, I want to parse all the things!\n",
     [("model", "foo"), ("message", "system: You are a file parser. Always parse things."),
      ("message", "user: Hey there!"), ("message", "assistant: Hello, I want to parse all the things!")]),
    ('\nFROM foo\nMESSAGE system """\nYou are a multiline file parser. Always parse things.\n"""\n\t\t\t',
     [("model", "foo"), ("message", "system: \nYou are a multiline file parser. Always parse things.\n")]),
])
def test_messages(text: str, expected: list[tuple[str, str]]) -> None:
    assert _cmds(text) == expected


def test_bad_messages() -> None:
    assert _refused("\nFROM foo\nMESSAGE badguy I'm a bad guy!\n", "message role must be one of").line == 3
    _refused("\nFROM foo\nMESSAGE system\n", "unexpected end")
    _refused("\nFROM foo\nMESSAGE system", "unexpected end")


@pytest.mark.parametrize(("value", "expected"), [
    ('"""\nThis is a\nmultiline system.\n"""\n\t\t\t', "\nThis is a\nmultiline system.\n"),
    ('"""\nThis is a\nmultiline system."""\n\t\t\t', "\nThis is a\nmultiline system."),
    ('"""This is a\nmultiline system."""\n\t\t\t', "This is a\nmultiline system."),
    ('"""This is a multiline system."""\n\t\t\t', "This is a multiline system."),
    ('"""\nThis is a multiline system with "quotes".\n"""\n', '\nThis is a multiline system with "quotes".\n'),
    ('""""""\n', ""),
    ('""\n', ""),
    ("\"'\"\n", "'"),
    ('"""\'\'"\'""\'""\'"\'\'\'\'\'""\'""\'"""\n', "''\"'\"\"'\"\"'\"'''''\"\"'\"\"'"),
])
def test_quoted(value: str, expected: str) -> None:
    assert _cmds(f"\nFROM foo\nSYSTEM {value}") == [("model", "foo"), ("system", expected)]


@pytest.mark.parametrize("value", ['"""This is a multiline system.""\n\t\t\t', '"\n\t\t\t'])
def test_quote_left_open(value: str) -> None:
    assert _refused(f"\nFROM foo\nSYSTEM {value}", "unexpected end of the command started on line 3").line == 3


def test_template_at_the_end() -> None:
    expected = [("model", "foo"), ("template", "\n{{ .Prompt }}\n")]
    assert _cmds('\nFROM foo\nTEMPLATE """\n{{ .Prompt }}\n"""') == expected


@pytest.mark.parametrize(("line", "name", "value"), [
    ("numa true", "numa", "true"), ("num_ctx 1", "num_ctx", "1"), ("min_p 0.05", "min_p", "0.05"),
    ("penalize_newline true", "penalize_newline", "true"), ("stop ### User:", "stop", "### User:"),
    ("stop ### User: ", "stop", "### User:"), ('stop "### User:"', "stop", "### User:"),
    ('stop "### User: "', "stop", "### User: "), ('stop """### User:"""', "stop", "### User:"),
    ('stop """### User:\n"""', "stop", "### User:\n"), ("stop <|endoftext|>", "stop", "<|endoftext|>"),
    ("stop </s>", "stop", "</s>"),
])
def test_parameters(line: str, name: str, value: str) -> None:
    assert _cmds(f"FROM foo\nPARAMETER {line}\n") == [("model", "foo"), (name, value)]


def test_comments_and_case() -> None:
    assert _cmds("\n# comment\nFROM foo\n\t") == [("model", "foo")]
    assert _cmds("from foo\nparameter Temperature 1\nSystem hi\n") == [
        ("model", "foo"), ("Temperature", "1"), ("system", "hi")]


def test_utf16_and_bom(tmp_path: Path) -> None:
    text = "FROM bob\nPARAMETER param1 1\nPARAMETER param2 4096\nSYSTEM You are a utf16 file.\n"
    expected = [("model", "bob"), ("param1", "1"), ("param2", "4096"), ("system", "You are a utf16 file.")]
    for name, data in (("le", b"\xff\xfe" + text.encode("utf-16-le")), ("be", b"\xfe\xff" + text.encode("utf-16-be")),
                       ("bom8", b"\xef\xbb\xbf" + text.encode())):
        path = tmp_path / name
        path.write_bytes(data)
        assert [(c.name, c.args) for c in modelfile.read(path)] == expected, name


def test_multibyte() -> None:
    assert _cmds("FROM test\n\tSYSTEM 你好👋") == [("model", "test"), ("system", "你好👋")]


def test_lines_are_where_commands_start() -> None:
    text = 'FROM foo\r\nTEMPLATE """a\r\nb\r\n"""\r\n\r\nPARAMETER top_k 5\n'
    assert [(c.name, c.line) for c in modelfile.parse(text, "M")] == [("model", 1), ("template", 2), ("top_k", 6)]
    assert modelfile.parse(text, "M")[1].args == "a\r\nb\r\n"


def test_unprintable_runes_dropped_as_ollama_does() -> None:
    assert _cmds("FROM fo\x01o\nSYSTEM a\x0bb\tc\n") == [("model", "foo"), ("system", "ab\tc")]


def test_invalid_utf8_becomes_replacement(tmp_path: Path) -> None:
    path = tmp_path / "Modelfile"
    path.write_bytes(b"FROM foo\nSYSTEM caf\xe9\n")
    assert modelfile.read(path)[1].args == "caf\ufffd"


def test_bounded(tmp_path: Path) -> None:
    path = tmp_path / "Modelfile"
    path.write_bytes(b"FROM foo\nSYSTEM " + b"x" * 5000 + b"\n")
    with pytest.raises(LimitError, match="file_bytes"):
        modelfile.read(path, Limits(file_bytes=1000))
