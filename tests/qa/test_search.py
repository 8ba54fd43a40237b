"""The bounded search: exact where today's full enumeration was, bounded where a hub would explode it."""

from __future__ import annotations

import numpy as np
import pytest

from kg.records import Entity, Relation
from kg.store import FactStore, ImportBundle
from qa.paths import GraphView, enumerate_paths
from qa.pipeline import load_scorer
from qa.scorer_training import mask
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
