"""The graph pipeline on a tiny graph built in code, with the packaged embedding model and scorer."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from kg.records import EditRequest, Origin
from kg.store import FactStore
from qa.chain_scorer import FEATURES, ChainScorer
from qa.paths import GraphView, enumerate_paths
from qa.pipeline import AutoPipeline, GraphPipeline, load_scorer
from qa.trace import Answer, Trace
from retrieval.embedder import Embedder
from retrieval.linker import EntityLinker
from tests.qa.qa_support import tiny_lm, tiny_store


@pytest.fixture(scope="module")
def embedder() -> Embedder:
    return Embedder()


@pytest.fixture
def store() -> Iterator[FactStore]:
    facts = tiny_store()
    yield facts
    facts.close()


def pipeline(store: FactStore, embedder: Embedder, lm_dir: Path | None = None) -> GraphPipeline:
    lm = (lambda: tiny_lm(lm_dir)) if lm_dir is not None else None
    return GraphPipeline(store, load_scorer(None, embedder), EntityLinker.from_store(store, embedder), lm)


def test_two_hop_answer_follows_an_edit_and_traces_it(store: FactStore, embedder: Embedder) -> None:
    store.edit(EditRequest("murakami", "P27", "italy", replaces=("japan",)))
    answer = pipeline(store, embedder).answer("What is the capital of the country of citizenship of the author of Kafka on the Shore?")
    assert answer.text == "Rome"
    hops = answer.trace.hops
    assert [h.relation for h in hops] == ["P50", "P27", "P36"]
    assert hops[1].origin is Origin.EDIT and hops[1].fact is not None and hops[1].fact.edit_id
    assert "replaces Japan" in hops[1].note
    assert hops[0].origin is Origin.BASE
    assert any(c.used for c in hops[2].candidates)
    assert answer.trace.grounded and answer.trace.linked == ["kafka"]


def test_retracting_the_edit_brings_the_original_answer_back(store: FactStore, embedder: Embedder) -> None:
    system = pipeline(store, embedder)
    outcome = store.edit(EditRequest("japan", "P38", "euro"))
    question = "Which currency is used in the country of citizenship of Haruki Murakami?"
    assert system.answer(question).text == "euro"
    store.retract(outcome.edit.id)
    again = system.answer(question)
    assert again.text == "Japanese yen"
    assert all(h.origin is Origin.BASE for h in again.trace.hops)


def test_paraphrased_questions_pick_the_right_chain(store: FactStore, embedder: Embedder) -> None:
    system = pipeline(store, embedder)
    assert system.answer("Who is the head of state of the country Haruki Murakami is a citizen of?").text == "Naruhito"
    assert system.answer("In which city was the author of Kafka on the Shore born?").text == "Kyoto"
    assert system.answer("What is the capital of James Joyce's country of citizenship?").text == "Dublin"


def test_unknown_entity_is_reported_as_ungrounded(store: FactStore, embedder: Embedder) -> None:
    answer = pipeline(store, embedder).answer("Who is the spouse of Zorblax Quintillion?")
    assert answer.text == ""
    assert not answer.trace.grounded
    assert "linking" in answer.trace.reason and answer.trace.hops == []


def test_hop_missing_from_the_graph_goes_to_the_language_model(
    store: FactStore, embedder: Embedder, tmp_path: Path
) -> None:
    answer = pipeline(store, embedder, tmp_path).answer("What is the currency of the country of citizenship of James Joyce?")
    hops = answer.trace.hops
    assert [h.relation for h in hops] == ["P27", "P38"]
    assert hops[0].origin is Origin.BASE and hops[0].answer == "Ireland"
    assert hops[1].origin is Origin.MODEL and hops[1].fact is None
    assert "language model" in hops[1].note
    assert answer.abstained and answer.text == "" and answer.guess == hops[1].answer  # a labelled guess only
    assert not answer.trace.grounded and "no currency" in answer.trace.reason


def test_missing_hop_without_a_language_model_is_ungrounded(store: FactStore, embedder: Embedder) -> None:
    answer = pipeline(store, embedder).answer("What is the currency of the country of citizenship of James Joyce?")
    assert not answer.trace.grounded
    assert answer.trace.hops[-1].origin is Origin.MODEL and answer.text == ""


def test_conflicting_edits_are_resolved_and_reported(store: FactStore, embedder: Embedder) -> None:
    store.edit(EditRequest("japan", "P36", "kyoto"))
    store.edit(EditRequest("japan", "P36", "rome"))
    answer = pipeline(store, embedder).answer("What is the capital of Japan?")
    assert answer.text == "Rome"
    assert answer.trace.conflicts and "newer edit wins" in answer.trace.conflicts[0]


class _Fallback:
    name = "fallback"

    def answer(self, question: str) -> Answer:
        return Answer("from the fallback", Trace(question, self.name, reason="fallback answered"))


def test_auto_hands_ungrounded_questions_to_its_fallback(store: FactStore, embedder: Embedder) -> None:
    system = AutoPipeline(pipeline(store, embedder), _Fallback)
    grounded = system.answer("What is the capital of Italy?")
    assert grounded.text == "Rome" and grounded.trace.system == "auto"
    other = system.answer("Who painted the Zorblax Nebula?")
    assert other.abstained and other.text == "" and other.trace.system == "auto"
    assert other.guess == "from the fallback" and not other.trace.grounded
    assert other.trace.reason.startswith("no entity")


def _view_and_scorer(store: FactStore, embedder: Embedder) -> tuple[GraphView, ChainScorer]:
    view = GraphView(store)
    view.refresh()
    return view, load_scorer(None, embedder)


def test_scorer_sees_what_a_cut_short_chain_leaves_unexplained(store: FactStore, embedder: Embedder) -> None:
    view, scorer = _view_and_scorer(store, embedder)
    question = scorer.read_question("Which city is the capital of the country X is a citizen of?")
    paths = [p for p in enumerate_paths(view, "joyce") if p.relations in (("P27",), ("P27", "P36"))]
    features = scorer.features(question, paths, view)
    rows = {p.relations: dict(zip(FEATURES, row, strict=True)) for p, row in zip(paths, features, strict=True)}
    short, full = rows[("P27",)], rows[("P27", "P36")]
    assert short["gain_next"] > full["gain_next"] + 0.05  # "capital" is left for one more hop to explain
    assert full["gain_last"] > 0.05 and full["type_match"] > short["type_match"]  # a capital is a city


def test_a_question_of_stopwords_only_still_gets_scored(store: FactStore, embedder: Embedder) -> None:
    view, scorer = _view_and_scorer(store, embedder)
    paths = enumerate_paths(view, "joyce")
    rows = scorer.features(scorer.read_question("Who is X?"), paths, view)
    assert rows.shape[0] == len(paths) and not np.isnan(rows).any()
