"""The abstention floor is calibrated on composed questions phrased as real ones are: some name a
hop in words kgedit has no name for, and the floor must keep those answered too."""

from __future__ import annotations

import pytest

from qa import scorer_training
from qa.abstention import calibrate
from qa.paths import GraphView
from qa.pipeline import load_scorer
from retrieval.embedder import Embedder
from tests.qa.test_question_shapes import shapes_store


def test_questions_naming_a_hop_in_unheard_words_lower_the_floor_below_the_composed_only_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    store = shapes_store()
    scorer = load_scorer(None, Embedder())
    mixed = calibrate(scorer, GraphView(store), count=80)
    monkeypatch.setattr(scorer_training, "UNHEARD", 0.0)
    composed_only = calibrate(scorer, GraphView(store), count=80)
    assert mixed.threshold < composed_only.threshold
    assert mixed.kept >= 0.99 and mixed.abstained > 0.0
    store.close()
