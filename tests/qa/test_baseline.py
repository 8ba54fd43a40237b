"""The unedited-LM baseline system with the real default model (slow: loads SmolLM2)."""

from __future__ import annotations

from pathlib import Path

import pytest

from kg.records import Origin
from kg.store import FactStore
from qa.baseline import short_answer
from qa.systems import SystemContext, make_system, reads_store, system_names


def test_short_answer_keeps_the_first_line_without_lead_in_or_full_stop() -> None:
    assert short_answer(" The answer is Paris.\nQ: next") == "Paris"
    assert short_answer("Tokyo") == "Tokyo"
    assert short_answer("") == ""


def test_lm_is_a_registered_system() -> None:
    assert "lm" in system_names()


@pytest.mark.slow
def test_lm_baseline_answers_in_batches_with_a_model_trace(tmp_path: Path) -> None:
    system = make_system("lm", FactStore.open("memory:"), SystemContext(cache_dir=tmp_path, device="cpu"))
    assert not reads_store(system)
    questions = ["What is the capital of France?", "Who wrote the novel Don Quixote?"]
    batched = system.answer_many(questions)  # type: ignore[attr-defined]
    single = [system.answer(q) for q in questions]
    assert [a.text for a in batched] == [a.text for a in single]
    assert batched[0].text == "Paris"
    hop = batched[0].trace.hops[0]
    assert hop.origin is Origin.MODEL and not batched[0].trace.grounded and batched[0].trace.system == "lm"
