"""A user's own graph end to end: Turtle with unknown predicates imports and answers multi-hop
questions; the graph view's statistics stay cheap on large graphs."""

from __future__ import annotations

from pathlib import Path

import pytest

import qa.paths
from kg.io import import_file
from kg.records import EditRequest
from kg.store import FactStore
from qa.paths import GraphView, sampled
from qa.pipeline import GraphPipeline, load_scorer
from retrieval.embedder import Embedder
from retrieval.linker import EntityLinker

EX = "http://data.example.org/"
TURTLE = f"""
@prefix e: <{EX}id/> .
@prefix v: <{EX}vocab/> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
e:ada rdfs:label "Ada Quill" ; v:mentor e:bob ; v:homeTown e:lyon .
e:bob rdfs:label "Bob Marsh" ; v:mentor e:cleo ; v:homeTown e:turin .
e:cleo rdfs:label "Cleo Vance" ; v:mentor e:ada ; v:homeTown e:oslo .
e:lyon rdfs:label "Lyon" ; v:twinCity e:turin .
e:turin rdfs:label "Turin" ; v:twinCity e:oslo .
e:oslo rdfs:label "Oslo" ; v:twinCity e:lyon .
"""


@pytest.fixture
def store(tmp_path: Path) -> FactStore:
    path = tmp_path / "people.ttl"
    path.write_text(TURTLE, encoding="utf-8")
    facts = FactStore.open("memory:")
    report = import_file(facts, path)
    assert len(report.inferred) == 3  # no relations file: every predicate was inferred
    return facts


def test_a_two_hop_question_over_unknown_predicates_is_answered(store: FactStore) -> None:
    embedder = Embedder()
    pipeline = GraphPipeline(store, load_scorer(None, embedder), EntityLinker.from_store(store, embedder))
    answer = pipeline.answer("What is the home town of the mentor of Ada Quill?")
    assert answer.text == "Turin"
    assert [h.relation for h in answer.trace.hops] == [EX + "vocab/mentor", EX + "vocab/homeTown"]
    assert answer.trace.grounded


def test_statistics_are_counted_over_an_even_sample_of_a_large_graph(
    store: FactStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    view = GraphView(store)
    view.refresh()
    out = {s: view.out(s) for s in view.subjects()}
    assert sampled(out) == out
    monkeypatch.setattr(qa.paths, "STATS_SAMPLE", 2)
    assert len(sampled(out)) == 2 and set(sampled(out)) <= set(out)


def test_the_view_follows_an_edit_in_its_by_object_index(store: FactStore) -> None:
    view = GraphView(store)
    view.refresh()
    mentor = EX + "vocab/mentor"
    assert [f.subject for f in view.into(EX + "id/bob")[mentor]] == [EX + "id/ada"]
    store.edit(EditRequest(EX + "id/ada", mentor, EX + "id/cleo"))
    assert mentor not in view.into(EX + "id/bob")
    assert sorted(f.subject for f in view.into(EX + "id/cleo")[mentor]) == [EX + "id/ada", EX + "id/bob"]


