"""Names and questions meet on one normalised key."""

from __future__ import annotations

import pytest

from kg.errors import InputError
from retrieval.normalize import MAX_TEXT_CHARS, check_text, name_key, tokens


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("The United Kingdom", ("united", "kingdom")),
        ("France's", ("france",)),
        ("France\u2019s president", ("france", "president")),
        ("U.S.A.", ("usa",)),
        ("Z\u00fcrich", ("zurich",)),
        ("Jean-Paul  Sartre!", ("jean", "paul", "sartre")),
        ("an apple a day", ("apple", "day")),
        ("...", ()),
    ],
)
def test_name_key(text: str, key: tuple[str, ...]) -> None:
    assert name_key(text) == key


def test_tokens_keep_their_spans_in_the_original_text() -> None:
    text = "Who leads the U.K.'s government?"
    assert [(t.text, text[t.start : t.end]) for t in tokens(text)] == [
        ("who", "Who"),
        ("leads", "leads"),
        ("uk", "U.K."),
        ("government", "government"),
    ]


def test_check_text_refuses_empty_and_overlong_text() -> None:
    with pytest.raises(InputError, match="empty"):
        check_text("\n\t ")
    with pytest.raises(InputError, match="limit"):
        check_text("x" * (MAX_TEXT_CHARS + 1))
    assert check_text("Paris") == "Paris"
