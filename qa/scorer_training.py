"""Training the chain scorer on questions composed over a graph (never on evaluation questions).

For each composed question the candidates are what the pipeline would see: every path from the
question's entity over the graph, plus missing-hop paths for the relations the question mentions
most (here also where entities of that kind seldom have the relation, as harder negatives). One
example in ten pretends its last fact is absent from the graph, so the scorer learns when a hop
should go to the language model, and one in ten a fact at an earlier hop, so it learns that the
chain past a gap fits the question better than a shorter chain that answers something else; one in
two hides the names its words used for one hop (:data:`UNHEARD`), as real questions often name a
relation in words no name of it holds (the questions kgedit got wrong most often took a chain one
hop short for that reason). The fit is a softmax over each question's candidates (the composed
chain is the right one), with a little L2; it takes well under a minute on a CPU.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from kg.records import Relation
from qa.chain_scorer import ChainScorer, QuestionView
from qa.paths import GraphView, Walk
from qa.phrasing import content_words, ngrams, phrase_grams
from qa.search import candidate_paths, open_relations
from qa.training_data import BACKWARDS, Example, sample_examples
from retrieval.embedder import TextEncoder

log = logging.getLogger(__name__)
WARM_EVERY = 250  # questions whose candidates' chain texts are embedded in one batch
UNHEARD = 0.5  # share of questions with one hop phrased in words none of its relation's names use
DROP_LAST = 0.1  # share of questions whose last fact is pretended absent
DROP_MIDDLE = 0.1  # share of questions whose fact at an earlier hop is pretended absent


@dataclass
class FitReport:
    examples: int
    accuracy: float  # share of training questions whose top-scored path has the composed chain
    loss: float


def mask(question: str, span: tuple[int, int]) -> str:
    """The question with the linked entity's mention replaced by "X" (the scorer never sees names)."""
    return question[: span[0]] + "X" + question[span[1] :]


def candidates_for(
    scorer: ChainScorer, view: GraphView, example: Example, dropped: int | None, backwards: bool = True
) -> tuple[QuestionView, list[Walk], np.ndarray]:
    """The candidate paths of one example and a mask of the right ones; with ``dropped``, as if the
    graph lacked the example's fact at that hop (the right candidate is then the walk up to it, that
    hop missing, and the rest of the chain beyond it)."""
    question = scorer.read_question(mask(example.question, example.span))
    opened = open_relations(scorer, question, view.relations())
    paths = candidate_paths(scorer, view, question, example.start, opened, only_expected=False, backwards=backwards)
    gold = example.facts
    if dropped is None:
        right = np.array([p.relations == example.relations and not p.missing for p in paths])
        return question, paths, right
    k = dropped
    if k == len(gold) - 1:
        paths = [p for p in paths if p.facts[: k + 1] != gold and not (p.missing and p.facts == gold)]
    else:  # the whole (entity, relation) key is absent, so no other object of it can be walked either
        key = example.relations[k]
        paths = [p for p in paths if not (p.facts[:k] == gold[:k] and len(p.relations) > k and p.relations[k] == key)]
    target = Walk(example.start, gold[:k], gold[k].relation, example.inverse[:k], example.relations[k + 1 :])
    if target not in paths:
        paths.append(target)
    right = np.array([p == target for p in paths])
    return question, paths, right


def _dropped(example: Example, rng: random.Random) -> int | None:
    """Which hop a training question pretends the graph lacks: the last in :data:`DROP_LAST` of them,
    one in the middle (with only forward hops after it, as the search continues past a gap) in
    :data:`DROP_MIDDLE` of those with two or more hops, else none."""
    draw = rng.random()
    if draw < DROP_LAST:
        return len(example.facts) - 1
    middle = [k for k in range(len(example.facts) - 1) if not any(example.inverse[k:])]
    if middle and draw < DROP_LAST + DROP_MIDDLE:
        return rng.choice(middle)
    return None


def fit(
    view: GraphView, encoder: TextEncoder, count: int = 6000, seed: int = 0, epochs: int = 300, backwards: bool = True
) -> tuple[ChainScorer, FitReport]:
    """Fit the weights on composed questions; without ``backwards``, on forward chains and forward
    walks only (the weights the answering pipeline scores forward walks with)."""
    view.refresh()
    scorer = ChainScorer(encoder)
    examples = list(sample_examples(view, count, seed=seed, backwards=BACKWARDS if backwards else 0.0))
    rng = random.Random(seed + 1)
    _warm(scorer, examples, view)
    rows: list[np.ndarray] = []
    rights: list[np.ndarray] = []
    for at in tqdm(range(0, len(examples), WARM_EVERY), desc="chain-scorer features", unit="chunk", disable=None):
        chunk = []
        for example in examples[at : at + WARM_EVERY]:
            unheard = unheard_hop(view, example, rng)
            with names_unheard(scorer, unheard, example):
                question, paths, right = candidates_for(scorer, view, example, _dropped(example, rng), backwards)
            if right.any() and len(paths) > 1:
                chunk.append((example, unheard, question, paths, right))
        scorer.warm([p for *_, paths, _ in chunk for p in paths], view)
        for example, unheard, question, paths, right in chunk:
            with names_unheard(scorer, unheard, example):
                rows.append(scorer.features(question, paths, view))
            rights.append(right)
    weights, loss, accuracy = _softmax_fit(rows, rights, epochs, seed)
    scorer.weights = weights
    report = FitReport(len(rows), accuracy, loss)
    log.info("chain scorer: %d questions, train top-1 %.3f, loss %.3f", report.examples, accuracy, loss)
    return scorer, report


def unheard_hop(view: GraphView, example: Example, rng: random.Random) -> Relation | None:
    """The hop of ``example`` to phrase in unknown words, for :data:`UNHEARD` of the examples: a real
    question often names a relation in words none of its names use, which a composed one never does,
    and a scorer that only saw composed questions learns to cut such a hop off the chain."""
    if rng.random() >= UNHEARD:
        return None
    return view.relation(rng.choice(example.relations))


@contextmanager
def names_unheard(scorer: ChainScorer, relation: Relation | None, example: Example) -> Iterator[None]:
    """While open, ``relation`` (if any) is known only by names ``example``'s words do not use."""
    if relation is None:
        yield
        return
    with scorer.names_unheard(relation, mask(example.question, example.span)):
        yield


def _warm(scorer: ChainScorer, examples: list[Example], view: GraphView) -> None:
    """Embed every text the features will need in large batches (much faster than one at a time)."""
    texts: list[str] = []
    for example in examples:
        masked = mask(example.question, example.span)
        words = content_words(masked)
        texts += [masked, *words, *ngrams(words), *phrase_grams(masked)]
    batch = 512
    for at in tqdm(range(0, len(texts), batch), desc="embedding questions", unit="batch", disable=None):
        scorer.vectors(texts[at : at + batch])
    for relation in view.relations():
        scorer.relation_vectors(relation)


def _softmax_fit(
    rows: list[np.ndarray], rights: list[np.ndarray], epochs: int, seed: int
) -> tuple[np.ndarray, float, float]:
    torch.manual_seed(seed)
    width = rows[0].shape[1]
    longest = max(r.shape[0] for r in rows)
    x = torch.zeros(len(rows), longest, width)
    valid = torch.zeros(len(rows), longest, dtype=torch.bool)
    gold = torch.zeros(len(rows), longest, dtype=torch.bool)
    for i, (r, marks) in enumerate(zip(rows, rights, strict=True)):
        x[i, : len(r)] = torch.from_numpy(r)
        valid[i, : len(r)] = True
        gold[i, : len(r)] = torch.from_numpy(marks)
    w = torch.zeros(width, requires_grad=True)
    optimiser = torch.optim.Adam([w], lr=0.05)
    loss = torch.tensor(0.0)
    for _ in range(epochs):
        optimiser.zero_grad()
        scores = (x @ w).masked_fill(~valid, -1e9)
        total = torch.logsumexp(scores, dim=1)
        right = torch.logsumexp(scores.masked_fill(~gold, -1e9), dim=1)
        loss = (total - right).mean() + 1e-3 * (w * w).sum()
        loss.backward()
        optimiser.step()
    with torch.no_grad():
        scores = (x @ w).masked_fill(~valid, -1e9)
        best = scores.argmax(dim=1)
        accuracy = float(gold[torch.arange(len(rows)), best].float().mean())
    return w.detach().numpy().astype(np.float32), float(loss.detach()), accuracy


def train_and_save(
    view: GraphView,
    encoder: TextEncoder,
    target: Path,
    count: int = 6000,
    seed: int = 0,
    source: str = "",
    forward_view: GraphView | None = None,
    forward_source: str = "",
) -> FitReport:
    """Fit and calibrate both weight sets and save them. The forward weights may come from another
    graph (``forward_view``): they rank the long forward chains of multi-hop questions, and a graph
    whose chains are short and repetitive (the demo's countries, capitals and borders) teaches them
    to cut such chains short, while the full weights need it for backward hops and sets."""
    from qa.abstention import calibrate  # it searches with this module's helpers

    forward_view = forward_view or view
    scorer, report = fit(view, encoder, count=count, seed=seed)
    calibration = calibrate(scorer, view, seed=seed)
    scorer.abstain_below = calibration.threshold
    forward, forward_report = fit(forward_view, encoder, count=count, seed=seed, backwards=False)
    scorer.forward_weights = forward.weights
    # The forward floor also decides when a forward reading is doubtful enough to search backward
    # readings too (qa.pipeline), so it stays set on kgedit's own phrasings: one set as low as the
    # full floor takes forward walks for answers where a backward reading is the right one.
    forward_calibration = calibrate(forward, forward_view, seed=seed, backwards=False, unheard=False)
    scorer.forward_abstain_below = forward_calibration.threshold
    scorer.save(
        target,
        {
            "trained_on": source,
            "examples": report.examples,
            "train_accuracy": report.accuracy,
            "seed": seed,
            "abstention": {
                "answerable_kept": calibration.kept,
                "unanswerable_abstained": calibration.abstained,
                "questions": calibration.answerable + calibration.unanswerable,
            },
            "forward_trained_on": forward_source or source,
            "forward_train_accuracy": forward_report.accuracy,
            "forward_abstention": {
                "answerable_kept": forward_calibration.kept,
                "unanswerable_abstained": forward_calibration.abstained,
            },
            "rebuild": "kgedit train-qa",
        },
    )
    return report
