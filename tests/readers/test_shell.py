"""readers.shell: every simple command of a script, its words after quote removal and expansion at their lines,
and the environment it starts with; bounded, never executed."""

from __future__ import annotations

import pytest

from driftguard.errors import ExtractionError, LimitError
from driftguard.readers.commands import Word
from driftguard.readers.limits import Limits
from driftguard.readers.shell import commands, parse, split


def texts(script: str, env: dict[str, Word] | None = None) -> list[list[str | None]]:
    return [[w.text for w in c.words] for c in commands(script, "s.sh", env=env)]


def test_quote_removal_and_words_keep_their_lines() -> None:
    script = "vllm serve 'a b' \"c\\\"d\" $'e\\tf' g\\ h \\\n  --dtype=float16 \\\n  --x \"\"\n"
    [cmd] = commands(script, "s.sh")
    assert [w.text for w in cmd.words] == ["vllm", "serve", "a b", 'c"d', "e\tf", "g h", "--dtype=float16", "--x", ""]
    assert [w.line for w in cmd.words] == [1, 1, 1, 1, 1, 1, 2, 3, 3]
    assert cmd.line == 1 and cmd.words[2].source == "'a b'"


def test_every_simple_command_anywhere() -> None:
    script = """
if true; then a 1; elif b; then c; else d; fi
case "$x" in y) e;; *) f;; esac
for i in 1 2; do g; done
while false; do h; done
k | l && m || (n; o)
p() { q; }
{ r; }
! s
t 2>/dev/null
"""
    assert [ws[0] for ws in texts(script)] == ["true", "a", "b", "c", "d", "e", "f", "g", "false", "h", "k", "l", "m",
                                               "n", "o", "q", "r", "s", "t"]


def test_expansions_resolve_from_the_script_and_the_callers_environment() -> None:
    script = """A=1
B="$A-x"
C=
export D=d
run $A ${B} "${C:-dc}" ${C-dm} ${U:-du} ${U-dv} ${A:+alt} ${C:+alt} ${#B} ${E:=set} $E $K
"""
    [words] = texts(script, env={"K": Word("k", "env")})
    assert words == ["run", "1", "1-x", "dc", "du", "dv", "alt", "3", "set", "set", "k"]
    [cmd] = commands(script, "s.sh", env={"K": Word("k", "env")})
    assert set(cmd.env) == {"K", "D"}  # only exported variables reach the process


def test_what_the_file_does_not_fix_is_unresolved_with_its_expression() -> None:
    [words] = [c.words for c in commands('run $U ${U:+a} $(date) `x` $((1+2)) "$@" $1 *.bin ~/m {a,b} ${A%.*}\n', "s")]
    assert [w.text for w in words[1:]] == [None] * 11
    assert [w.source for w in words[1:4]] == ["$U", "${U:+a}", "$(date)"]


def test_unquoted_expansions_are_split_into_fields_quoted_ones_are_not() -> None:
    script = 'EXTRA="--enforce-eager  --seed 3"\nrun $EXTRA "$EXTRA" x$EXTRA\n'
    assert texts(script) == [["run", "--enforce-eager", "--seed", "3", "--enforce-eager  --seed 3", "x--enforce-eager",
                              "--seed", "3"]]
    assert texts("E=\nrun $E \"$E\"\n") == [["run", ""]]


def test_assignments_on_some_paths_only_leave_the_variable_unresolved() -> None:
    script = """L=1
if [ -n "$X" ]; then L=2; fi
M=1
if x; then M=2; else M=2; fi
[ -z "$Y" ] && N=3
run $L $M $N
"""
    assert texts(script)[-1] == ["run", None, "2", None]


def test_prefix_assignments_and_sh_c_strings() -> None:
    script = "export T=1\nA=2\nC=4 sh -c \"B=3 vllm serve \\\"\\$T\\\" --x $A\" arg0\nbash -lc 'run\n  two'\n"
    cmds = commands(script, "s.sh")
    assert [[w.text for w in c.words] for c in cmds] == [["vllm", "serve", "1", "--x", "2"], ["run"], ["two"]]
    assert {k: v.text for k, v in cmds[0].env.items()} == {"T": "1", "C": "4", "B": "3"}  # A is not exported
    assert [c.line for c in cmds] == [3, 4, 5]
    assert texts("A=1 sh -c \"run $A\"\n") == [["sh", "-c", None]]  # $A expands before A=1 applies


def test_split_one_command_with_a_line_offset() -> None:
    words = split("vllm serve 'm x' --port 1", "Dockerfile", line=7)
    assert [w.text for w in words] == ["vllm", "serve", "m x", "--port", "1"] and {w.line for w in words} == {7}
    with pytest.raises(ExtractionError, match="expected one command, found 2"):
        split("a; b", "Dockerfile", line=3)


def test_a_line_that_does_not_parse_is_skipped_when_the_rest_parses() -> None:
    script = parse("run 1\nif then fi fi (\nrun 2\n", "s.sh")
    assert script.errors == (2,)
    assert [[w.text for w in c.words] for c in script.commands] == [["run", "1"], ["run", "2"]]
    with pytest.raises(ExtractionError, match="cannot parse") as exc:
        parse("".join(f"run {i}\nif then fi fi (\n" for i in range(20)), "s.sh")
    assert exc.value.line == 2


def test_limits_bound_the_tree_and_its_depth() -> None:
    with pytest.raises(LimitError, match="objects"):
        commands("run a b c d e f g h\n" * 50, "s.sh", Limits(objects=100))
    with pytest.raises(LimitError, match="depth"):
        commands("{ " * 100 + "run" + "; }" * 100 + "\n", "s.sh", Limits(depth=20))
    long_chain = " && ".join(["run"] * 500) + "\n"  # a long list is not a deep one
    assert len(commands(long_chain, "s.sh", Limits(depth=20))) == 500


def test_nested_sh_c_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    from driftguard.readers import shell

    monkeypatch.setattr(shell, "MAX_NESTED_SHELLS", 2)
    assert texts("sh -c \"sh -c 'run 1'\"\n") == [["run", "1"]]
    with pytest.raises(ExtractionError, match="nested more than 2"):
        commands("sh -c \"sh -c 'sh -c run'\"\n", "s.sh")
