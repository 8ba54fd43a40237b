"""Where the facts of a curator's text sit: sentences, lead-ins and clauses (no models needed)."""

from __future__ import annotations

from retrieval.relation_patterns import normalise_residual, residual_of_pattern
from retrieval.text_split import CORRECTION, NEWS, STATEMENT, clauses, sentences


def test_a_paragraph_splits_into_sentences_but_not_at_abbreviations() -> None:
    text = "J. K. Rowling was born in St. Louis. France uses the euro\nGermany: Berlin"
    assert [s.text for s in sentences(text)] == [
        "J. K. Rowling was born in St. Louis.",
        "France uses the euro",
        "Germany: Berlin",
    ]


def test_a_name_with_a_full_stop_does_not_end_its_sentence() -> None:
    text = "Arsenal F.C. has its head office in Menlo Park."
    protected = [(0, len("Arsenal F.C."))]
    found = sentences(text, protected)
    assert len(found) == 1 and found[0].body.text == "Arsenal F.C. has its head office in Menlo Park"


def test_corrections_and_news_lead_ins_are_cut_off_and_named() -> None:
    found = sentences("fix - Ada Lovelace was born in Paris. BREAKING: Chile moves its capital to Valparaíso!")
    assert [(s.form, s.body.text) for s in found] == [
        (CORRECTION, "Ada Lovelace was born in Paris"),
        (NEWS, "Chile moves its capital to Valparaíso"),
    ]
    dateline = sentences("SANTIAGO (Reuters) - Chile moved its capital to Valparaíso")[0]
    assert dateline.form == NEWS and dateline.body.text == "Chile moved its capital to Valparaíso"
    assert sentences("oslo's country: sweden")[0].form == STATEMENT


def test_body_offsets_point_into_the_original_text() -> None:
    text = "Note.  correction: Peru's capital is Cusco"
    body = sentences(text)[-1].body
    assert text[body.start : body.end] == body.text == "Peru's capital is Cusco"


def test_clauses_cut_at_and_but_never_inside_a_protected_name() -> None:
    text = "The capital of Bosnia and Herzegovina is Mostar and its currency is the euro"
    body = sentences(text)[0].body
    start = text.index("Bosnia")
    pieces = clauses(body, [(start, start + len("Bosnia and Herzegovina"))])
    assert [p.text for p in pieces] == ["The capital of Bosnia and Herzegovina is Mostar", "its currency is the euro"]


def test_the_caller_decides_which_and_cuts() -> None:
    body = sentences("Pierre Curie was born and raised in Dublin")[0].body
    assert len(clauses(body, (), cut=lambda left, right: False)) == 1
    assert len(clauses(body, (), cut=lambda left, right: True)) == 2


def test_residuals_name_the_slots_by_position_and_ignore_case_and_full_stops() -> None:
    assert residual_of_pattern("{object} is the capital of {subject}") == ("X is the capital of Y", False)
    assert residual_of_pattern("{subject}'s capital: {object}") == ("X's capital : Y", True)
    assert normalise_residual("The Capital of X is the Y.") == normalise_residual("the capital of X is Y")
