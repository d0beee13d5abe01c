"""Multi-document YAML (``load_all``/``loads_all``): every document in order with its lines, the limits counted
over the whole file, anchors scoped to their document; the single-document loader still refuses a second one.
(The single-document reader's hostile inputs: tests/attacks/test_documents.py.)"""

from __future__ import annotations

from pathlib import Path

import pytest

from driftguard.errors import ExtractionError, LimitError
from driftguard.readers import yaml_doc
from driftguard.readers.limits import Limits

TWO = """apiVersion: v1
kind: Service
---
apiVersion: apps/v1
kind: Deployment
spec:
  replicas: 2
"""


def test_documents_in_order_with_their_own_lines(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    path.write_text(TWO)
    docs = yaml_doc.load_all(path, ExtractionError)
    assert [d.data["kind"] for d in docs] == ["Service", "Deployment"]
    assert yaml_doc.line_of(docs[1], ["spec", "replicas"]) == 7
    assert yaml_doc.line_of(docs[0], ["kind"]) == 2


def test_empty_stream_has_no_documents_and_an_empty_document_is_null() -> None:
    assert yaml_doc.loads_all("", "x", ExtractionError) == []
    docs = yaml_doc.loads_all("---\n---\na: 1\n", "x", ExtractionError)
    assert [d.data for d in docs] == [None, {"a": 1}]


def test_objects_limit_counts_over_every_document() -> None:
    text = "".join(f"---\n[{', '.join(['1'] * 9)}]\n" for _ in range(20))  # 20 docs of 10 values each
    assert len(yaml_doc.loads_all(text, "x", ExtractionError, Limits(objects=300))) == 20
    with pytest.raises(LimitError) as err:
        yaml_doc.loads_all(text, "x", ExtractionError, Limits(objects=150))
    assert err.value.line is not None and err.value.line > 20  # met part-way, not in the first document


def test_many_empty_documents_meet_the_objects_limit() -> None:
    with pytest.raises(LimitError):
        yaml_doc.loads_all("---\n" * 5000, "x", ExtractionError, Limits(objects=1000))


def test_anchors_are_scoped_to_their_document() -> None:
    with pytest.raises(ExtractionError, match="undefined alias") as err:
        yaml_doc.loads_all("a: &x 1\n---\nb: *x\n", "x", ExtractionError)
    assert err.value.line == 3


def test_a_bomb_in_a_later_document_is_refused() -> None:
    laughs = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{c}: &{c} [{', '.join([f'*{p}'] * 9)}]\n" for p, c in zip("abcdefgh", "bcdefghi", strict=True))
    with pytest.raises(LimitError):
        yaml_doc.loads_all("kind: Pod\n---\n" + laughs, "x", ExtractionError)


def test_depth_is_per_document_and_syntax_errors_keep_their_line() -> None:
    deep = "a:\n" + "".join("  " * i + "- \n" for i in range(1, 3))
    assert len(yaml_doc.loads_all(deep + "---\n" + deep, "x", ExtractionError, Limits(depth=4))) == 2
    with pytest.raises(ExtractionError) as err:
        yaml_doc.loads_all("a: 1\n---\nb: c: d\n", "x", ExtractionError)
    assert err.value.line == 3


def test_single_document_loader_still_refuses_a_second_document() -> None:
    with pytest.raises(ExtractionError, match="expected one document"):
        yaml_doc.loads(TWO, "x", ExtractionError)
