"""The MeLLo/PokeMQA-style loop: retrieval, the scope detector, and replacing contradicted guesses."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from editors.incontext import InContextEditor
from kg.records import EditRequest, Origin
from kg.store import FactStore
from qa.mello import MelloSystem
from qa.paths import GraphView
from qa.scope import load_scope
from retrieval.embedder import Embedder
from retrieval.index import FactIndex
from tests.qa.qa_support import tiny_lm, tiny_store


@pytest.fixture(scope="module")
def embedder() -> Embedder:
    return Embedder()


@pytest.fixture
def store() -> Iterator[FactStore]:
    facts = tiny_store()
    yield facts
    facts.close()


def editor(store: FactStore, embedder: Embedder, tmp_path: Path) -> InContextEditor:
    view = GraphView(store)
    view.refresh()
    index = FactIndex.open(store, None, embedder)
    return InContextEditor(tiny_lm(tmp_path), index, load_scope(None, embedder, view), view.label)


def test_in_scope_edit_replaces_a_contradicted_guess(store: FactStore, embedder: Embedder, tmp_path: Path) -> None:
    loop = editor(store, embedder, tmp_path)
    store.edit(EditRequest("japan", "P36", "kyoto"))
    step = loop.check("What is the capital of Japan?", "Tokyo")
    assert step.answer == "Kyoto" and step.replaced
    assert step.fact is not None and step.fact.origin is Origin.EDIT


def test_agreeing_fact_keeps_the_guess(store: FactStore, embedder: Embedder, tmp_path: Path) -> None:
    step = editor(store, embedder, tmp_path).check("What is the capital of Italy?", "Rome")
    assert step.answer == "Rome" and not step.replaced and step.fact is not None


def test_scope_detector_prefers_the_fact_about_the_asked_relation(
    store: FactStore, embedder: Embedder, tmp_path: Path
) -> None:
    loop = editor(store, embedder, tmp_path)
    step = loop.check("Who is the head of state of Italy?", "Giorgia Meloni")
    assert step.fact is not None and step.fact.relation == "P35" and step.answer == "Sergio Mattarella"
    scores = {c.fact.relation: c.in_scope for c in step.checked if c.fact.subject == "italy"}
    assert scores["P35"] > max(v for r, v in scores.items() if r != "P35")


def test_conflicting_retrieved_facts_resolve_to_the_one_in_scope(
    store: FactStore, embedder: Embedder, tmp_path: Path
) -> None:
    loop = editor(store, embedder, tmp_path)
    store.edit(EditRequest("japan", "P36", "rome"))  # both Japan and Italy now say "The capital ... is Rome"
    step = loop.check("What is the capital of Italy?", "Milan")
    assert step.fact is not None and step.fact.subject == "italy" and step.answer == "Rome"


def test_out_of_scope_question_keeps_the_model_guess(store: FactStore, embedder: Embedder, tmp_path: Path) -> None:
    step = editor(store, embedder, tmp_path).check("Who composed the Zorblax Symphony?", "Nobody")
    assert step.fact is None and step.answer == "Nobody"


def test_mello_system_returns_a_trace_for_every_step(store: FactStore, embedder: Embedder, tmp_path: Path) -> None:
    answer = MelloSystem(editor(store, embedder, tmp_path)).answer("What is the capital of Italy?")
    assert answer.trace.system == "mello"
    assert "language-model decomposition" in answer.trace.reason
    for hop in answer.trace.hops:
        assert hop.origin is Origin.MODEL or hop.fact is not None
