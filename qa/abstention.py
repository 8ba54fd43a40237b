"""Calibrating when the graph pipeline should say "cannot answer from the graph".

The chain scorer always has a best chain, even for a question about something the graph does not hold
(a head of state on a graph of capitals, a population, a date). Its score is lower then, because no
relation of the chain is mentioned and the composed chain reads unlike the question. The threshold is
set on questions kgedit composes itself over the training graph, never on evaluation questions:
answerable ones (relation chains that exist) and unanswerable ones (the same phrasings over relations
of the relation table that the graph does not have, and attribute questions no relation answers).
It is the lowest score that keeps nearly every answerable question answered while abstaining on as
many unanswerable ones as possible. The answerable questions are phrased as the scorer's training
questions are: half of them name one hop in words none of its relation's names use
(:data:`qa.scorer_training.UNHEARD`), as real questions often do. Composed questions in kgedit's own
words alone score higher than real ones, so a floor set on them alone abstains on real questions
the best chain answers (on the dev set, three of the fifteen questions it got wrong were such
abstentions). The forward weights' floor is set on kgedit's own phrasings only, as it also decides
when to search backward readings (:func:`qa.scorer_training.train_and_save`).
"""

from __future__ import annotations

import logging
import random
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import numpy as np

from kg.records import Relation
from kg.relation_table import RelationTable
from qa.chain_scorer import ChainScorer
from qa.paths import GraphView
from qa.phrasing import aliases, content_words
from qa.scorer_training import mask, names_unheard, unheard_hop
from qa.search import ranked_paths
from qa.training_data import Example, QuestionComposer, sample_examples

log = logging.getLogger(__name__)

KEEP_ANSWERABLE = 0.998  # share of composed answerable questions the threshold must leave answered

# Questions about attributes, not relations: no chain of facts answers them (our own phrasings).
ATTRIBUTE_PATTERNS = (
    "What is the population of {x}?",
    "How many people live in {x}?",
    "When was {x} founded?",
    "In what year was {x} established?",
    "How big is {x}?",
    "What is the area of {x} in square kilometres?",
    "how old is {x}",
    "What is the GDP of {x}?",
    "Tell me the date {x} became independent.",
    "How tall is {x}?",
    "What is the phone code of {x}?",
    "what time zone is {x} in",
    "Name the national anthem of {x}.",
    "What is {x} famous for?",
    "Who founded {x}?",
    "What is the motto of {x}?",
)


SAME_MEANING = 0.75  # an absent relation named this much like a present one is not a different question


def absent_relations(view: GraphView, scorer: ChainScorer | None = None) -> list[Relation]:
    """Relations of the relation table that the graph holds no fact of (what it cannot answer).
    With ``scorer``, those whose names mean what a present relation's names mean are left out
    ("languages spoken" where the graph has "official language"): asking for them is not asking for
    something the graph lacks."""
    present = {r.id for r in view.relations()} | {r.wikidata_id for r in view.relations() if r.wikidata_id}
    table = RelationTable.load()
    absent = [r for r in (table.get(i) for i in table.ids() if i not in present) if r is not None]
    if scorer is None or not view.relations():
        return absent
    held = np.concatenate([scorer.relation_vectors(r) for r in view.relations()])
    words = {w for r in view.relations() for w in _words(r)}
    return [
        r
        for r in absent
        if float((scorer.relation_vectors(r) @ held.T).max()) < SAME_MEANING and not words & _words(r)
    ]


def _words(relation: Relation) -> set[str]:
    """The content words of a relation's names ("language used" -> language, used)."""
    return {w for name in aliases(relation) for w in content_words(name)}


@dataclass(frozen=True)
class Calibration:
    threshold: float
    answerable: int
    unanswerable: int
    kept: float  # share of answerable questions scoring at or above the threshold
    abstained: float  # share of unanswerable questions scoring below it


def unanswerable_questions(
    view: GraphView, count: int, seed: int = 0, scorer: ChainScorer | None = None
) -> Iterator[tuple[str, str, tuple[int, int]]]:
    """(question, start entity, span of its name): relations the graph lacks, phrased as answerable
    questions are, and attribute questions; half of the relation ones come after a real hop."""
    rng = random.Random(seed)
    composer = QuestionComposer(rng, view.relation)
    absent = absent_relations(view, scorer)
    starts = sorted(s for s in view.subjects() if view.out(s))
    made = 0
    while starts and made < count:
        start = rng.choice(starts)
        label = view.label(start)
        if rng.random() < 0.3 or not absent:
            question = rng.choice(ATTRIBUTE_PATTERNS).format(x=label)
        else:
            chain = [rng.choice(absent)]
            first = view.relation(rng.choice(sorted(view.out(start))))
            if first is not None and rng.random() < 0.5:
                chain.insert(0, first)
            question = composer.compose(chain, label)
        at = question.find(label)
        if at < 0:
            continue
        made += 1
        yield question, start, (at, at + len(label))


def calibrate(
    scorer: ChainScorer,
    view: GraphView,
    count: int = 600,
    seed: int = 0,
    backwards: bool = True,
    unheard: bool = True,
) -> Calibration:
    """The abstention threshold for ``scorer`` on ``view`` (see the module docstring); without
    ``backwards``, for its forward weights on forward walks and forward questions; without
    ``unheard``, on questions in kgedit's own words only (a higher floor)."""
    view.refresh()
    composed = sample_examples(view, count, seed=seed + 7, backwards=0.15 if backwards else 0.0)
    good = _answerable_scores(scorer, view, composed, random.Random(seed + 13) if unheard else None, backwards)
    bad = _scores(scorer, view, unanswerable_questions(view, count, seed=seed + 11, scorer=scorer), backwards)
    if not len(good):
        raise ValueError("the graph has no facts to compose answerable questions from")
    floor = _best_cut(good, bad, float(np.quantile(good, 1.0 - KEEP_ANSWERABLE)))
    result = Calibration(
        floor, len(good), len(bad), float(np.mean(good >= floor)), float(np.mean(bad < floor)) if len(bad) else 0.0
    )
    log.info(
        "abstention threshold %.3f: %.1f%% of %d answerable kept, %.1f%% of %d unanswerable abstained",
        floor, 100 * result.kept, result.answerable, 100 * result.abstained, result.unanswerable,
    )
    return result


def _best_cut(good: np.ndarray, bad: np.ndarray, ceiling: float) -> float:
    """The cut at or below ``ceiling`` that best separates good (kept: >= cut) from bad (< cut)."""
    best, best_value = ceiling, -1.0
    for cut in sorted({*good.tolist(), *bad.tolist(), ceiling}):
        if cut > ceiling:
            break
        value = float(np.mean(good >= cut)) + (float(np.mean(bad < cut)) if len(bad) else 0.0)
        if value > best_value:
            best, best_value = cut, value
    return float(best)


def _answerable_scores(
    scorer: ChainScorer, view: GraphView, composed: Iterable[Example], rng: random.Random | None, backwards: bool
) -> np.ndarray:
    """Best-chain scores of composed answerable questions, with ``rng`` some with a hop in unheard words."""
    found = []
    for example in composed:
        with names_unheard(scorer, unheard_hop(view, example, rng) if rng else None, example):
            read = scorer.read_question(mask(example.question, example.span))
            ranked = ranked_paths(scorer, view, read, example.start, keep=1, backwards=backwards)
        if ranked:
            found.append(ranked[0][1])
    return np.asarray(found, dtype=np.float64)


def _scores(
    scorer: ChainScorer, view: GraphView, items: Iterator[tuple[str, str, tuple[int, int]]], backwards: bool = True
) -> np.ndarray:
    found = []
    for question, start, span in items:
        read = scorer.read_question(mask(question, span))
        ranked = ranked_paths(scorer, view, read, start, keep=1, backwards=backwards)
        if ranked:
            found.append(ranked[0][1])
    return np.asarray(found, dtype=np.float64)
