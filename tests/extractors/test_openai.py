"""OpenAI-compatible request bodies (chat and completions): documented defaults and bad input."""

from __future__ import annotations

from pathlib import Path

import pytest

from driftguard.errors import ExtractionError
from driftguard.extractors import extract

FIX = Path(__file__).resolve().parents[1] / "fixtures"


def test_openai_chat_and_completions_defaults() -> None:
    chat = extract(FIX / "openai" / "good" / "chat.json")
    assert chat.kind == "openai"
    assert chat["generation.max_new_tokens"].value == 300
    assert chat["generation.top_p"].value == 1 and chat["generation.top_p"].origin.source == "openai default"
    assert "generation.top_k" not in chat  # the API has no top_k
    done = extract(FIX / "openai" / "good" / "completion-defaults.json", "openai")
    assert done["generation.max_new_tokens"].value == 16 and not done["generation.max_new_tokens"].explicit
    assert extract(FIX / "openai" / "good" / "completion.json")["generation.do_sample"].value is False


@pytest.mark.parametrize(("name", "line"), [("temperature.json", 4), ("no-messages.json", 1)])
def test_openai_bad(name: str, line: int) -> None:
    with pytest.raises(ExtractionError) as err:
        extract(FIX / "openai" / "bad" / name, "openai")
    assert err.value.line == line
