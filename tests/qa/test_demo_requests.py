"""Requests typed without a question word ("List ...", "give me all ...") on the demo country graph,
with the packaged models: the plural after the request word is what is asked for, and the request
words ask for nothing the graph must hold. Gold answers are read from the graph."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from kg.demo import load_demo
from kg.store import FactStore
from qa.pipeline import GraphPipeline, load_scorer
from retrieval.embedder import Embedder
from retrieval.linker import EntityLinker


@pytest.fixture(scope="module")
def system() -> Iterator[GraphPipeline]:
    store = FactStore.open("memory:")
    load_demo(store)
    embedder = Embedder()
    yield GraphPipeline(store, load_scorer(None, embedder), EntityLinker.from_store(store, embedder))
    store.close()


def gold(system: GraphPipeline, country: str, relation: str) -> set[str]:
    [ident] = [e for e in system.view.subjects() if system.view.label(e) == country]
    return {system.view.label(f.object) for f in system.view.objects(ident, relation)}


@pytest.mark.parametrize(
    ("question", "country", "relation"),
    [
        ("List the countries bordering Poland.", "Poland", "P47"),  # countries, not their capitals
        ("give me all the languages spoken in Switzerland", "Switzerland", "P37"),
        ("List the neighbours of Austria.", "Austria", "P47"),
        ("Show me the capital of Peru", "Peru", "P36"),
    ],
)
def test_a_request_without_a_question_word_is_answered_from_the_graph(
    system: GraphPipeline, question: str, country: str, relation: str
) -> None:
    answer = system.answer(question)
    assert set(answer.answers) == gold(system, country, relation), answer.trace.reason
    assert answer.trace.grounded
