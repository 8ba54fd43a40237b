"""The bounded search: exact where today's full enumeration was, bounded where a hub would explode it."""

from __future__ import annotations

import numpy as np
import pytest

from kg.records import Entity, Relation
from kg.store import FactStore, ImportBundle
from qa.paths import GraphView, Walk, enumerate_paths
from qa.pipeline import load_scorer
from qa.scorer_training import candidates_for, mask
from qa.search import FRONTIER, candidate_paths, open_relations
from qa.training_data import sample_examples
from retrieval.embedder import Embedder
from tests.qa.qa_support import tiny_store


@pytest.fixture(scope="module")
def embedder() -> Embedder:
    return Embedder()


def test_forward_search_finds_the_same_best_walk_as_full_enumeration(embedder: Embedder) -> None:
    store = tiny_store()
    view = GraphView(store)
    view.refresh()
    scorer = load_scorer(None, embedder)
    for example in sample_examples(view, 60, seed=3, backwards=0.0):
        question = scorer.read_question(mask(example.question, example.span))
        opened = open_relations(scorer, question, view.relations())
        full = enumerate_paths(view, example.start, open_relations=opened)
        bounded = candidate_paths(scorer, view, question, example.start, opened, backwards=False)
        assert set(bounded) == set(full)  # a graph this small is searched exhaustively
        best_full = full[int(np.argmax(scorer.score(question, full, view)))]
        best_bounded = bounded[int(np.argmax(scorer.score(question, bounded, view)))]
        assert best_full == best_bounded
    store.close()


def test_a_hub_walked_backwards_stays_within_the_bound(embedder: Embedder) -> None:
    """1,000 countries on one continent, each with a capital: the walk back from the continent and on
    keeps at most FRONTIER walks per hop instead of every one."""
    relations = [
        Relation("P30", "continent", "{subject} is in {object}.", "Which continent is {subject} in?", True, "P30"),
        Relation("P36", "capital", "The capital of {subject} is {object}.", "What is the capital of {subject}?", True, "P36"),
    ]
    entities = [Entity("africa", "Africa")] + [Entity(f"c{i}", f"Country {i}") for i in range(1000)]
    entities += [Entity(f"k{i}", f"City {i}") for i in range(1000)]
    facts = [(f"c{i}", "P30", "africa") for i in range(1000)] + [(f"c{i}", "P36", f"k{i}") for i in range(1000)]
    store = FactStore.open("memory:")
    store.import_bundle(ImportBundle(entities=entities, relations=relations, facts=facts))
    view = GraphView(store)
    view.refresh()
    scorer = load_scorer(None, embedder)
    question = scorer.read_question("What are the capitals of the countries in X?")
    paths = candidate_paths(scorer, view, question, "africa")
    assert len(paths) <= 6 * FRONTIER + 10
    assert any(p.relations == ("^P30", "P36") for p in paths)
    store.close()


def test_composed_training_questions_walk_some_hops_backwards() -> None:
    store = tiny_store()
    view = GraphView(store)
    view.refresh()
    examples = list(sample_examples(view, 200, seed=2))
    backwards = [e for e in examples if any(e.inverse)]
    assert len(backwards) > 8
    for example in backwards:
        assert any(r.startswith("^") for r in example.relations)
        start, end = example.span
        assert example.question[start:end] == view.label(example.start)
        # the walk is connected whichever way each hop goes
        from qa.paths import Walk

        walk = Walk(example.start, example.facts, None, example.inverse)
        assert all(walk.left(i + 1) == walk.reached(i) for i in range(len(example.facts) - 1))
    store.close()


def test_a_hop_the_graph_lacks_in_the_middle_of_a_chain_is_a_candidate(embedder: Embedder) -> None:
    """Japan has a capital and a currency but no borders, which countries usually have: "the
    currency of Japan's neighbours" gets the candidate that says so (the missing border hop, then
    the currency past it), which the walk to Japan's own currency alone would answer wrongly."""
    from tests.qa.test_question_shapes import shapes_store

    store = shapes_store()
    view = GraphView(store)
    view.refresh()
    scorer = load_scorer(None, embedder)
    question = scorer.read_question("What is the currency of X's neighbours?")
    paths = candidate_paths(scorer, view, question, "JPN", ["P47", "P38"])
    past = [p for p in paths if p.beyond]
    assert Walk("JPN", (), "P47", (), ("P38",)) in past
    assert all(p.missing == "P47" and p.relations == ("P47", *p.beyond) for p in past)
    assert ("P38",) in {p.relations for p in paths if not p.missing}  # Japan's own currency is still one
    # Peru has neighbours: no gap to walk past, only the real chain
    peru = candidate_paths(scorer, view, question, "PER", ["P47", "P38"])
    assert not [p for p in peru if p.missing == "P47"]
    assert any(p.relations == ("P47", "P38") and not p.missing for p in peru)
    store.close()
    # where only a few countries have borders (2 of 7), lacking them is no gap to go past
    sparse = shapes_store(borders=[("PER", "CHL"), ("CHL", "PER")])
    view = GraphView(sparse)
    view.refresh()
    paths = candidate_paths(scorer, view, question, "JPN", ["P47", "P38"])
    assert Walk("JPN", (), "P47") in paths and not [p for p in paths if p.beyond]
    sparse.close()


def test_training_pretends_a_middle_fact_absent_and_marks_the_walk_past_it_right(embedder: Embedder) -> None:
    store = tiny_store()
    view = GraphView(store)
    view.refresh()
    scorer = load_scorer(None, embedder)
    example = next(e for e in sample_examples(view, 200, seed=4, backwards=0.0) if len(e.facts) >= 2)
    _, paths, right = candidates_for(scorer, view, example, 0)
    [target] = [p for p, r in zip(paths, right, strict=True) if r]
    assert target == Walk(example.start, (), example.facts[0].relation, (), example.relations[1:])
    first = example.relations[0]
    assert not [p for p in paths if p.facts and p.relations[0] == first]  # no walk through the absent key
    store.close()
