"""Hostile questions through the graph answering pipeline (qa/pipeline.py): a clear error or an
answer, never a crash, a hang or a changed store; and real questions still get the right answer."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from kg.errors import KgeditError
from kg.store import FactStore
from qa.systems import System, SystemContext, make_system
from tests.robustness.test_hostile_input import INJECTIONS, snapshot
from tests.support import tiny_world

SECONDS_PER_QUESTION = 20.0  # far above a normal answer: only a hang gets near it


@pytest.fixture(scope="module")
def answering(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[FactStore, System]]:
    store = FactStore.open("memory:")
    store.import_bundle(tiny_world())
    system = make_system("graph", store, SystemContext(cache_dir=tmp_path_factory.mktemp("cache")))
    system.answer("What is the capital of Italy?")  # loads the models, so timings below are per answer
    yield store, system
    store.close()


questions = st.one_of(
    st.sampled_from(INJECTIONS),
    st.text(max_size=200),
    st.sampled_from(INJECTIONS).map(lambda bad: f"What is the capital of {bad}?"),
    st.sampled_from(INJECTIONS).map(lambda bad: f"Who is the head of government of France {bad}"),
)


@pytest.mark.slow
@given(question=questions)
@example(question="What is the capital of France?\x00 } ; DROP ALL ; {")
@example(question="x" * 1_000_000)
@example(question="What is the capital of Fr\udcffance?")
@example(question="Who is the spouse of the head of government of <urn:x> ?p ?o")
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_hostile_questions_get_an_answer_or_a_clear_error_and_change_nothing(
    answering: tuple[FactStore, System], question: str
) -> None:
    store, system = answering
    before = snapshot(store)
    began = time.perf_counter()
    try:
        answer = system.answer(question)
    except KgeditError as exc:
        assert str(exc)
    else:
        assert answer.trace.question == question
        assert answer.trace.grounded or answer.trace.reason
    assert time.perf_counter() - began < SECONDS_PER_QUESTION
    assert snapshot(store) == before


@pytest.mark.slow
def test_real_questions_still_answered_after_hostile_ones(answering: tuple[FactStore, System]) -> None:
    store, system = answering
    assert system.answer('What is the capital of France? "} ; DROP ALL ; {').text == "Paris"
    assert system.answer("Who is the spouse of the head of government of France?").text == "Brigitte Macron"
    assert [f.object for f in store.objects("Q142", "P36")] == ["Q90"]


def test_pipeline_module_is_present() -> None:
    assert (Path(__file__).resolve().parents[2] / "qa" / "pipeline.py").exists()
