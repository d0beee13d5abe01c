"""A small, reproducible mutation pass: apply one classic mutation at a time to one driftguard module and run a
chosen pytest subset against it; a mutant whose tests still pass *survived* (no test notices the change).

    python benchmarks/mutation.py driftguard/equality.py tests/test_equality.py tests/rules/test_comparison.py
    python benchmarks/mutation.py driftguard/rules/comparison.py tests/rules/test_comparison.py --json out.json

Mutations (one per run): comparison operators flipped at the boundary (``<``/``<=``, ``>``/``>=``, ``==``/``!=``,
``is``/``is not``, ``in``/``not in``); ``and``/``or`` swapped and each operand of a boolean operation dropped;
``not`` removed; an ``if``/``while``/``elif`` condition negated; numbers changed (int ``n`` -> ``n + 1``,
float ``x`` -> ``0.0`` and ``x * 1e4``); ``True``/``False`` swapped; ``continue`` -> ``break``; ``+``/``-`` and
``*``/``/`` swapped; ``max``/``min`` swapped; each keyword argument of a call removed. Docstrings, strings and
annotations are left alone.

The checkout is never touched: the package is copied (as it is in the working tree) to a temporary folder, the
mutated module is written there, and pytest runs with that folder first on ``PYTHONPATH`` (and as the working
directory, so ``python -m`` does not put the checkout first). The unmutated module is run first and must pass.
"""

from __future__ import annotations

import argparse
import ast
import copy
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

_CMP_SWAP: dict[type[ast.cmpop], type[ast.cmpop]] = {
    ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE, ast.GtE: ast.Gt, ast.Eq: ast.NotEq, ast.NotEq: ast.Eq,
    ast.Is: ast.IsNot, ast.IsNot: ast.Is, ast.In: ast.NotIn, ast.NotIn: ast.In,
}
_BIN_SWAP: dict[type[ast.operator], type[ast.operator]] = {
    ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.Div, ast.Div: ast.Mult,
}


@dataclass(frozen=True)
class Mutant:
    index: int
    line: int
    description: str
    source_line: str


@dataclass
class Result:
    mutant: Mutant
    status: str  # killed | survived | timeout
    seconds: float


def _docstring_ids(tree: ast.AST) -> set[int]:
    out: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                out.add(id(body[0].value))
    return out


def _skipped_ids(tree: ast.AST) -> set[int]:
    """Nodes never mutated: annotations, f-string parts, ``from __future__``, docstrings."""
    skip = _docstring_ids(tree)
    for node in ast.walk(tree):
        roots: list[ast.AST] = []
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            roots += [a.annotation for a in (*node.args.args, *node.args.kwonlyargs, *node.args.posonlyargs)
                      if a.annotation is not None]
            if node.returns is not None:
                roots.append(node.returns)
        elif isinstance(node, ast.AnnAssign):
            roots.append(node.annotation)
        elif isinstance(node, (ast.JoinedStr, ast.ImportFrom)):
            roots.append(node)
        for r in roots:
            skip.update(id(n) for n in ast.walk(r))
    return skip


def _sites(tree: ast.Module) -> Iterator[tuple[ast.AST, str, str]]:
    """(node, kind, description) for every possible mutation, in source order."""
    skip = _skipped_ids(tree)
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Compare):
            for i, op in enumerate(node.ops):
                if type(op) in _CMP_SWAP:
                    yield node, f"cmp:{i}", f"{_op(op)} -> {_op(_CMP_SWAP[type(op)]())}"
        elif isinstance(node, ast.BoolOp):
            yield node, "boolop", f"{_op(node.op)} -> {'or' if isinstance(node.op, ast.And) else 'and'}"
            for i in range(len(node.values)):
                yield node, f"drop:{i}", f"drop operand {i + 1} of '{_op(node.op)}'"
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            yield node, "not", "remove 'not'"
        elif isinstance(node, (ast.If, ast.While, ast.IfExp)):
            yield node, "negate", f"negate {type(node).__name__.lower()} condition"
        elif isinstance(node, ast.Constant) and type(node.value) in (int, float, bool):
            v = node.value
            if isinstance(v, bool):
                yield node, "const:bool", f"{v} -> {not v}"
            elif isinstance(v, int):
                yield node, "const:inc", f"{v} -> {v + 1}"
            else:
                yield node, "const:zero" if v != 0 else "const:one", f"{v!r} -> {0.0 if v != 0 else 1.0}"
                if v != 0:
                    yield node, "const:loose", f"{v!r} -> {v * 1e4!r}"
        elif isinstance(node, ast.Continue):
            yield node, "continue", "continue -> break"
        elif isinstance(node, ast.BinOp) and type(node.op) in _BIN_SWAP:
            yield node, "binop", f"{_op(node.op)} -> {_op(_BIN_SWAP[type(node.op)]())}"
        elif isinstance(node, ast.Call):
            if isinstance(node.func, ast.Name) and node.func.id in ("max", "min"):
                yield node, "maxmin", f"{node.func.id} -> {'min' if node.func.id == 'max' else 'max'}"
            for i, kw in enumerate(node.keywords):
                if kw.arg is not None:
                    yield node, f"kwarg:{i}", f"drop keyword {kw.arg}="


def _op(op: ast.AST) -> str:
    return {ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=", ast.Eq: "==", ast.NotEq: "!=", ast.Is: "is",
            ast.IsNot: "is not", ast.In: "in", ast.NotIn: "not in", ast.And: "and", ast.Or: "or", ast.Add: "+",
            ast.Sub: "-", ast.Mult: "*", ast.Div: "/"}[type(op)]


class _Apply(ast.NodeTransformer):
    """Apply the mutation at one site (found again by walking a copy in the same order)."""

    def __init__(self, target: ast.AST, kind: str) -> None:
        self.target, self.kind = target, kind

    def visit(self, node: ast.AST) -> ast.AST:
        if node is not self.target:
            return super().visit(node)
        k = self.kind
        if k.startswith("cmp:"):
            assert isinstance(node, ast.Compare)
            i = int(k.split(":")[1])
            node.ops[i] = _CMP_SWAP[type(node.ops[i])]()
        elif k == "boolop":
            assert isinstance(node, ast.BoolOp)
            node.op = ast.Or() if isinstance(node.op, ast.And) else ast.And()
        elif k.startswith("drop:"):
            assert isinstance(node, ast.BoolOp)
            rest = [v for j, v in enumerate(node.values) if j != int(k.split(":")[1])]
            return rest[0] if len(rest) == 1 else ast.BoolOp(op=node.op, values=rest)
        elif k == "not":
            assert isinstance(node, ast.UnaryOp)
            return node.operand
        elif k == "negate":
            assert isinstance(node, (ast.If, ast.While, ast.IfExp))
            node.test = ast.UnaryOp(op=ast.Not(), operand=node.test)
        elif k == "const:bool":
            assert isinstance(node, ast.Constant)
            node.value = not node.value
        elif k == "const:inc":
            assert isinstance(node, ast.Constant)
            node.value = node.value + 1
        elif k in ("const:zero", "const:one", "const:loose"):
            assert isinstance(node, ast.Constant)
            node.value = {"const:zero": 0.0, "const:one": 1.0}.get(k, node.value * 1e4)
        elif k == "continue":
            return ast.Break()
        elif k == "binop":
            assert isinstance(node, ast.BinOp)
            node.op = _BIN_SWAP[type(node.op)]()
        elif k == "maxmin":
            assert isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
            node.func.id = "min" if node.func.id == "max" else "max"
        elif k.startswith("kwarg:"):
            assert isinstance(node, ast.Call)
            del node.keywords[int(k.split(":")[1])]
        return node


def mutants(source: str) -> list[tuple[Mutant, str]]:
    """Every mutant of a module: its description and the mutated source."""
    tree = ast.parse(source)
    lines = source.splitlines()
    out = []
    sites = list(_sites(tree))
    for index, (node, kind, desc) in enumerate(sites):
        clone = copy.deepcopy(tree)
        target, target_kind, _ = list(_sites(clone))[index]
        assert target_kind == kind
        mutated = ast.fix_missing_locations(_Apply(target, kind).visit(clone))
        line = getattr(node, "lineno", 0)
        out.append((Mutant(index, line, desc, lines[line - 1].strip() if line else ""), ast.unparse(mutated)))
    return out


def _run_tests(workdir: Path, tests: list[str], timeout: float) -> tuple[str, float]:
    env = {**os.environ, "PYTHONPATH": str(workdir), "PYTHONDONTWRITEBYTECODE": "1"}
    cmd = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", "-p", "no:randomly",
           *(str(ROOT / t) for t in tests)]
    start = time.perf_counter()
    try:
        proc = subprocess.run(cmd, cwd=workdir, env=env, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return "timeout", time.perf_counter() - start
    return ("survived" if proc.returncode == 0 else "killed"), time.perf_counter() - start


def run(module: str, tests: list[str], *, timeout: float = 120.0, only: set[int] | None = None) -> list[Result]:
    """Mutate ``module`` (a path under the checkout) one mutation at a time and run ``tests`` against each."""
    source = (ROOT / module).read_text()
    with tempfile.TemporaryDirectory(prefix="dg-mutation-") as tmp:
        work = Path(tmp)
        shutil.copytree(ROOT / "driftguard", work / "driftguard",
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        target = work / module
        dotted = module.removesuffix(".py").replace("/", ".")
        code = f"import importlib; print(importlib.import_module('{dotted}').__file__)"
        probe = subprocess.run([sys.executable, "-c", code], cwd=work,
                               env={**os.environ, "PYTHONPATH": str(work)}, capture_output=True, text=True)
        if Path(probe.stdout.strip()).resolve() != target.resolve():
            raise SystemExit(f"the copy is not the module imported ({probe.stdout.strip()} {probe.stderr})")
        target.write_text(ast.unparse(ast.parse(source)))  # the baseline goes through the same round trip
        status, seconds = _run_tests(work, tests, timeout)
        if status != "survived":
            raise SystemExit(f"baseline fails ({status}): fix the tests or the working tree first")
        print(f"baseline passes in {seconds:.1f}s", file=sys.stderr)
        results = []
        for mutant, mutated in mutants(source):
            if only is not None and mutant.index not in only:
                continue
            target.write_text(mutated)
            status, seconds = _run_tests(work, tests, timeout)
            results.append(Result(mutant, status, seconds))
            if status == "survived":
                print(f"  SURVIVED #{mutant.index} line {mutant.line}: {mutant.description}   | "
                      f"{mutant.source_line}", file=sys.stderr)
        return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("module", help="module to mutate, relative to the repository root")
    parser.add_argument("tests", nargs="+", help="test files to run against each mutant")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds per test run (timeout: killed)")
    parser.add_argument("--only", type=int, nargs="*", help="mutant indices to run (default: all)")
    parser.add_argument("--list", action="store_true", help="list the mutants and exit")
    parser.add_argument("--json", type=Path, help="write every result here")
    args = parser.parse_args(argv)
    if args.list:
        for m, _ in mutants((ROOT / args.module).read_text()):
            print(f"#{m.index} line {m.line}: {m.description}   | {m.source_line}")
        return 0
    results = run(args.module, args.tests, timeout=args.timeout, only=set(args.only) if args.only else None)
    killed = sum(r.status != "survived" for r in results)
    survived = sorted((r for r in results if r.status == "survived"), key=lambda r: (r.mutant.line, r.mutant.index))
    print(f"{args.module}: {len(results)} mutants, {killed} killed, {len(survived)} survived")
    for r in survived:
        print(f"  #{r.mutant.index} line {r.mutant.line}: {r.mutant.description}   | {r.mutant.source_line}")
    if args.json:
        args.json.write_text(json.dumps([{**asdict(r.mutant), "status": r.status, "seconds": round(r.seconds, 2)}
                                         for r in results], indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
