"""The sanitiser cleans replies the same way whether they arrive whole or token by token."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from solo_actors.llm.sanitize import StreamSanitizer, cut_unfinished_sentence


def run(pieces: list[str]) -> tuple[str, list[str]]:
    """Feed `pieces`; return the clean text and what was released along the way."""
    sanitizer = StreamSanitizer()
    released = [sanitizer.feed(piece) for piece in pieces]
    released.append(sanitizer.finish())
    assert "".join(released) == sanitizer.text
    return sanitizer.text, released


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("Paris is the capital.", "Paris is the capital."),
        ("  \n Paris.  \n", "Paris."),
        ("assistant: Paris.", "Paris."),
        ("Assistant:\nParis.", "Paris."),
        ("<|im_start|>assistant\nParis.", "Paris."),
        ("assistant\nParis.", "Paris."),
        ("Paris.<|im_end|>\n<|im_start|>user\nAnd Rome?", "Paris."),
        ("Paris. <|eot_id|>", "Paris."),
        ("Paris.</s>[INST] more", "Paris."),
        ("Paris.\nUser: and Rome?", "Paris."),
        ("Paris<end_of_turn>", "Paris"),
        ("The assistant: says hi", "The assistant: says hi"),
        ("a < b and c <| d", "a < b and c <| d"),
        ("ends with <|im", "ends with <|im"),
        ("assistants are helpful.", "assistants are helpful."),
        ("<|im_end|>", ""),
    ],
)
def test_whole_replies(raw: str, clean: str) -> None:
    assert run([raw])[0] == clean


def test_marker_split_across_tokens_is_held_then_stops() -> None:
    text, released = run(["Paris", ".", "<|", "im", "_end", "|>", "junk"])
    assert text == "Paris."
    assert released[:2] == ["Paris", "."]


def test_role_echo_split_across_tokens() -> None:
    assert run(["Assistant", ":", " Hello", " there"])[0] == "Hello there"
    assert run(["<|", "im_start", "|>", "assistant", "\n", "Hello"])[0] == "Hello"


@pytest.mark.parametrize("first", ["A", "As", "assist", "Assistance"])
def test_a_word_that_merely_starts_like_an_echo_is_not_held(first: str) -> None:
    assert run([first, " robot"])[1][0] == first


def test_text_streams_without_waiting_for_the_end() -> None:
    _, released = run(["Hello", " world", ",", " how"])
    assert released[:4] == ["Hello", " world", ",", " how"]


def test_trailing_whitespace_is_held_until_more_text_comes() -> None:
    _, released = run(["Hello", " \n", "world", "\n"])
    assert released == ["Hello", "", " \nworld", "", ""]


WORDS = ["Hello", " ", "\n", "assistant", ":", "<|", "im_end", "|>", "User", "Paris", "."]
WORDS += ["<", "[INST]", "\u00e9", "\u65e5\u672c"]


@given(st.lists(st.sampled_from(WORDS), max_size=30), st.data())
def test_any_split_gives_the_same_text(words: list[str], data: st.DataObject) -> None:
    """Tokens split text anywhere, except inside a word like "assistant" (one token)."""
    raw = "".join(words)
    cuts = sorted(data.draw(st.sets(st.integers(0, len(words)))))
    bounds = zip([0, *cuts], [*cuts, len(words)], strict=True)
    pieces = ["".join(words[start:end]) for start, end in bounds]
    assert run(pieces)[0] == run([raw])[0]


@pytest.mark.parametrize(
    ("text", "cut"),
    [
        ("Paris is big. It has", "Paris is big."),
        ("One! Two? Three", "One! Two?"),
        ('He said "yes." And then', 'He said "yes."'),
        ("Pi is 3.14 and e is", "Pi is 3.14 and e is"),
        ("No sentence end at all", "No sentence end at all"),
        ("Complete.", "Complete."),
        ("1. eggs\n2. milk\n3. fl", "1. eggs\n2. milk"),
        ("東京は首都です。大阪は", "東京は首都です。"),
    ],
)
def test_cut_unfinished_sentence(text: str, cut: str) -> None:
    assert cut_unfinished_sentence(text) == cut
