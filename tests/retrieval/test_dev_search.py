"""Search over the dev set's 400 background facts ranks the matching fact first."""

from __future__ import annotations

import pytest

from kg.store import FactStore
from retrieval.embedder import Embedder
from retrieval.index import FactIndex


@pytest.mark.slow
def test_every_dev_statement_finds_its_own_fact_first(dev_store: FactStore, embedder: Embedder) -> None:
    index = FactIndex.open(dev_store, None, embedder)
    facts = list(dev_store.current_facts())
    assert len(facts) == 400
    results = index.search_many([index.statement(f) for f in facts], k=1)
    missed = [f for f, hits in zip(facts, results, strict=True) if hits[0].fact.id != f.id]
    assert missed == []


@pytest.mark.slow
def test_dev_questions_retrieve_a_fact_of_their_subject_and_relation(
    dev_store: FactStore, embedder: Embedder
) -> None:
    """A relation's question about a subject ("Which continent is X in?") retrieves an (X, relation) fact."""
    index = FactIndex.open(dev_store, None, embedder)
    keys = sorted({(f.subject, f.relation) for f in dev_store.current_facts()})
    questions = [dev_store.require_relation(r).question(dev_store.require_entity(s).label) for s, r in keys]
    results = index.search_many(questions, k=5)
    found = sum(
        any((h.fact.subject, h.fact.relation) == key for h in hits)
        for key, hits in zip(keys, results, strict=True)
    )
    assert found / len(keys) >= 0.9, f"{found} of {len(keys)} questions retrieved their fact in the top 5"
