"""Finding the best relation chains from a linked entity: the one search shared by answering,
training and calibration, so that what the scorer is trained and calibrated on is what it meets."""

from __future__ import annotations

import numpy as np

from qa.chain_scorer import ChainScorer, QuestionView
from qa.paths import GraphView, Path, enumerate_paths
from qa.scorer_training import open_relations

RANKED = 50  # runners-up kept for the trace


def ranked_paths(
    scorer: ChainScorer, view: GraphView, question: QuestionView, start: str, keep: int = RANKED
) -> list[tuple[Path, float]]:
    """The candidate paths from ``start`` for ``question``, best first, with their scores."""
    opened = open_relations(scorer, question, view.relations())
    paths = enumerate_paths(view, start, open_relations=opened)
    if not paths:
        return []
    scores = scorer.score(question, paths, view)
    order = np.argsort(-scores, kind="stable")
    return [(paths[i], float(scores[i])) for i in order[:keep]]


def best_score(scorer: ChainScorer, view: GraphView, question: QuestionView, start: str) -> float | None:
    ranked = ranked_paths(scorer, view, question, start, keep=1)
    return ranked[0][1] if ranked else None
