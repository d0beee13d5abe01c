"""The neutral command record: a word is resolved exactly when its text is known."""

from driftguard.readers.commands import Command, Word


def test_a_word_without_text_is_unresolved_and_keeps_its_expression() -> None:
    w = Word(None, "${MAX_LEN}", 3)
    assert not w.resolved
    assert w.source == "${MAX_LEN}"
    assert Word("4096", "${MAX_LEN:-4096}", 3).resolved


def test_a_command_keeps_its_words_in_order_with_an_empty_environment_by_default() -> None:
    c = Command((Word("vllm", "vllm", 1), Word("serve", "serve", 1)))
    assert [w.text for w in c.words] == ["vllm", "serve"]
    assert dict(c.env) == {} and c.where == ""
