"""Distractor facts make a graph dense without changing any fact a question's chain uses."""

from __future__ import annotations

from qa.distractors import make_distractors
from tests.qa.qa_support import FACTS


def test_distractors_triple_the_graph_and_never_touch_an_existing_key() -> None:
    dense = make_distractors(FACTS, factor=3.0, seed=1)
    keys = {(s, r) for s, r, _ in FACTS}
    assert len(FACTS) + len(dense.facts) >= 2.8 * len(FACTS)
    assert not keys & {(s, r) for s, r, _ in dense.facts}
    objects = {r: {o for _, q, o in FACTS if q == r} for _, r, _ in FACTS}
    new = {e.id for e in dense.entities}
    for s, r, o in dense.facts:
        assert o in objects.get(r, set()) or o in new  # the object is of the relation's own kind
        assert s != o
    # a person of the graph (an author's object) gets what persons usually have: citizenship, birthplace
    assert any(s == "joyce" and r == "P19" for s, r, _ in dense.facts)


def test_distractors_are_repeatable_and_none_below_factor_one() -> None:
    assert make_distractors(FACTS, 3.0, seed=4) == make_distractors(FACTS, 3.0, seed=4)
    assert make_distractors(FACTS, 1.0).facts == []
