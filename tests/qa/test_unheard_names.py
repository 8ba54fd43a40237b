"""Training hides the names a composed question used for one hop, so the scorer also learns chains
whose hops a question names in words kgedit has no name for."""

from __future__ import annotations

import numpy as np

from kg.records import Relation
from qa.chain_scorer import ChainScorer
from qa.phrasing import aliases
from retrieval.embedder import Embedder

CAPITAL = Relation("P36", "capital", "The capital of {subject} is {object}.", "What is the capital of {subject}?", True, "P36")


def test_a_relation_is_known_only_by_the_names_the_question_does_not_use_and_then_by_all_again() -> None:
    names = aliases(CAPITAL)
    assert len(names) > 1 and names[0] == "capital"
    scorer = ChainScorer(Embedder())
    everything = scorer.relation_vectors(CAPITAL).copy()
    with scorer.names_unheard(CAPITAL, "What is the capital of X?") as hidden:
        assert hidden
        left = scorer.relation_vectors(CAPITAL)
        assert len(left) < len(names)
        assert not np.isclose(left @ scorer.vectors(["capital"])[0], 1.0, atol=1e-4).any()
    assert np.array_equal(scorer.relation_vectors(CAPITAL), everything)


def test_a_question_using_none_of_the_names_hides_nothing() -> None:
    scorer = ChainScorer(Embedder())
    with scorer.names_unheard(CAPITAL, "Where is X ruled from?") as hidden:
        assert not hidden
        assert len(scorer.relation_vectors(CAPITAL)) == len(aliases(CAPITAL))
