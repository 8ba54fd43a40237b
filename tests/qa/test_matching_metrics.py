"""Answer matching on tricky pairs, and the metrics on hand-computed examples."""

from __future__ import annotations

import pytest

from kg.normalize import normalize
from qa.matching import MatchMode, is_correct, match
from qa.metrics import EDIT, MULTI_HOP, SINGLE_HOP, CaseRecord, QuestionRecord, full_summary, summarize

USA_ALIASES = ["United States of America", "U.S.", "USA", "the United States", "America"]


@pytest.mark.parametrize(
    ("prediction", "golds"),
    [
        ("U.S.", USA_ALIASES),
        ("u. s. a.", USA_ALIASES),
        ("The United States", USA_ALIASES),
        ("the Beatles", ["Beatles"]),
        ("Beatles", ["The Beatles"]),
        ("Sao Paulo", ["São Paulo"]),
        ("Kolinda Grabar Kitarović", ["Kolinda Grabar-Kitarović"]),
        ("New York City.", ["New York City"]),
        ("  PARIS ", ["Paris"]),
        ("Washington DC", ["Washington, D.C."]),
        ("Procter and Gamble", ["Procter & Gamble"]),
    ],
)
def test_equivalent_answers_match_exactly(prediction: str, golds: list[str]) -> None:
    assert match(prediction, golds) is MatchMode.EXACT


@pytest.mark.parametrize(
    ("prediction", "golds"),
    [
        ("Paris Hilton", ["Paris"]),
        ("United Kingdom", USA_ALIASES),
        ("Georgia", ["Georgia (country)"]),
        ("", ["Paris"]),
        ("the", ["The The"]),
        ("Donald Trump", ["Donald Trump Jr."]),
    ],
)
def test_different_answers_do_not_match(prediction: str, golds: list[str]) -> None:
    assert not is_correct(prediction, golds)


def test_contains_mode_accepts_short_sentences_but_not_long_ones() -> None:
    assert match("It is Paris.", ["Paris"], MatchMode.CONTAINS) is MatchMode.CONTAINS
    assert not is_correct("It is Paris.", ["Paris"])  # exact mode
    rambling = "well I think that maybe the answer could be something like Paris or Rome or Berlin"
    assert not is_correct(rambling, ["Paris"], MatchMode.CONTAINS)
    assert not is_correct("Parisian", ["Paris"], MatchMode.CONTAINS)  # whole words only


def test_normalize_drops_case_accents_punctuation_and_articles() -> None:
    assert normalize("The U.S.A.") == "usa"
    assert normalize("Émile Zola's") == "emile zolas"
    assert normalize("A Tale of Two Cities") == "tale of two cities"


def _q(kind: str, correct: bool, index: int = 0, original: bool = False) -> QuestionRecord:
    return QuestionRecord(kind, index, f"{kind}{index}", "a", ["g"], correct, original=original)


def _case(case_id: str, hops: int, edits: int, questions: list[QuestionRecord], consistent: bool = True) -> CaseRecord:
    return CaseRecord("all", 0, case_id, hops, edits, consistent, [], questions)


def hand_cases() -> list[CaseRecord]:
    return [
        # right on one of three questions; both hops right; its one edit recalled
        _case("1", 2, 1, [_q(MULTI_HOP, False), _q(MULTI_HOP, True, 1), _q(MULTI_HOP, False, 2),
                          _q(SINGLE_HOP, True), _q(SINGLE_HOP, True, 1), _q(EDIT, True)]),
        # wrong everywhere, answers the old answer; one hop wrong; one of two edits recalled
        _case("2", 3, 2, [_q(MULTI_HOP, False, original=True), _q(MULTI_HOP, False, 1),
                          _q(SINGLE_HOP, True), _q(SINGLE_HOP, False, 1), _q(SINGLE_HOP, True, 2),
                          _q(EDIT, True), _q(EDIT, False, 1)], consistent=False),
        # all questions right, no single hops asked
        _case("3", 2, 1, [_q(MULTI_HOP, True), _q(MULTI_HOP, True, 1)]),
    ]


def test_metrics_on_hand_computed_cases() -> None:
    metrics = summarize(hand_cases())
    assert metrics["cases"] == 3 and metrics["questions"] == 7
    assert metrics["multi_hop_accuracy"] == pytest.approx(2 / 3)
    assert metrics["question_accuracy"] == pytest.approx(3 / 7)
    assert metrics["hop_wise_accuracy"] == pytest.approx(1 / 2) and metrics["hop_wise_cases"] == 2
    assert metrics["edit_wise_success"] == pytest.approx(2 / 3) and metrics["edited_facts"] == 3
    assert metrics["original_answer_rate"] == pytest.approx(1 / 3)


def test_breakdowns_by_hops_and_edits() -> None:
    summary = full_summary(hand_cases())
    assert summary["by_hops"]["2"]["multi_hop_accuracy"] == 1.0
    assert summary["by_hops"]["3"]["multi_hop_accuracy"] == 0.0
    assert summary["by_edits"]["1"]["cases"] == 2 and summary["by_edits"]["2"]["edit_wise_success"] == 0.5


def test_metrics_of_nothing_are_none() -> None:
    assert summarize([])["multi_hop_accuracy"] is None
