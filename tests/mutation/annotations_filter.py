"""A Cosmic Ray filter: skip the mutants that fall inside an annotation (README "Development").

Every module here has ``from __future__ import annotations``, so an annotation is a string that is never
evaluated: replacing the ``|`` of ``float | None`` (or anything else in an annotation) changes nothing a test can
see. ``cr-filter-operators`` can only leave out an operator everywhere, which hides the runtime ``|`` of a module
that has one (``parity/metrics.py``: the elementwise rule); this leaves out only what lies in annotations.

    nice -n 10 .venv/bin/python tests/mutation/annotations_filter.py .mutation/metrics.sqlite \
        tests/mutation/metrics.toml
"""

from __future__ import annotations

import ast
import sys
from argparse import ArgumentParser, Namespace
from pathlib import Path
from typing import Any

from cosmic_ray.config import load_config
from cosmic_ray.tools.filters.filter_app import FilterApp
from cosmic_ray.work_item import WorkerOutcome, WorkResult


def annotation_spans(source: str) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    """``((line, column), (end line, end column))`` of every annotation (arguments, returns, annotated
    assignments), lines 1-based and columns in characters (Cosmic Ray's positions; ``ast`` counts UTF-8 bytes)."""
    lines = source.splitlines()

    def chars(line: int, byte_col: int) -> int:
        return len(lines[line - 1].encode("utf-8")[:byte_col].decode("utf-8", "replace"))

    spans = []
    for node in ast.walk(ast.parse(source)):
        found: list[ast.expr] = []
        if isinstance(node, ast.arg | ast.AnnAssign) and node.annotation is not None:
            found.append(node.annotation)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.returns is not None:
            found.append(node.returns)
        for ann in found:
            assert ann.end_lineno is not None and ann.end_col_offset is not None
            spans.append(((ann.lineno, chars(ann.lineno, ann.col_offset)),
                          (ann.end_lineno, chars(ann.end_lineno, ann.end_col_offset))))
    return spans


def inside(start: tuple[int, int], end: tuple[int, int],
           spans: list[tuple[tuple[int, int], tuple[int, int]]]) -> bool:
    return any(lo <= tuple(start) and tuple(end) <= hi for lo, hi in spans)


class AnnotationsFilter(FilterApp):  # type: ignore[misc]
    """Skip every pending mutant whose replaced text lies inside an annotation of the config's module."""

    def description(self) -> str:
        return __doc__ or ""

    def add_args(self, parser: ArgumentParser) -> None:
        parser.add_argument("config", help="Config file to use")

    def filter(self, work_db: Any, args: Namespace) -> None:
        module = Path(load_config(args.config)["module-path"])
        spans = annotation_spans(module.read_text(encoding="utf-8"))
        for item in work_db.pending_work_items:
            if all(Path(m.module_path) == module and inside(m.start_pos, m.end_pos, spans) for m in item.mutations):
                work_db.set_result(item.job_id, WorkResult(output="In an annotation (never evaluated)",
                                                           worker_outcome=WorkerOutcome.SKIPPED))


if __name__ == "__main__":
    sys.exit(AnnotationsFilter().main())
