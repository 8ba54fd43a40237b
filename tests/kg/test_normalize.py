"""Names and questions meet on one normalised key."""

from __future__ import annotations

import pytest

from kg.errors import InputError
from kg.io.easyedit import match_relation
from kg.normalize import MAX_TEXT_CHARS, REQUESTS, STOPWORDS, check_text, name_key, tokens
from kg.records import Relation
from qa.phrasing import content_words


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


def test_one_stop_word_list_serves_the_linker_and_the_chain_scorer() -> None:
    assert content_words("Why is Rome bigger than Paris?") == ["rome", "bigger", "paris"]
    assert content_words("Can you tell me the capital of X, please?") == ["capital"]
    assert content_words("List all the languages of X") == ["languages"]
    assert {"why", "than", "please", "tell", "the", "list", "give"} <= STOPWORDS
    assert {w for request in REQUESTS for w in request.split()} <= STOPWORDS


def test_an_import_prompt_matches_its_relation_whatever_its_punctuation_and_accents() -> None:
    capital = Relation("P36", "capital", "The capital of {subject} is {object}.", "What is the capital of {subject}?")
    assert match_relation("the capital of Zurich is:", "Zürich", [capital]) is capital
    assert match_relation("The capital of {} is", "France", [capital]) is capital
    assert match_relation("{} is the capital of", "France", [capital]) is None
