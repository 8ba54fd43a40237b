"""PokeMQA-style scope detector: is a retrieved fact about *this* sub-question?

Raw similarity between a sub-question and a fact statement is a poor judge: "Who is the head of
state of France?" is close to "The head of government of France is ..." and to "The head of state of
Spain is ...". The detector reads a few signals (statement similarity, similarity to the relation's
own question about the fact's subject, whether the subject is named, how strongly the relation is
mentioned) and a logistic model trained on generated single-hop questions over a graph (right fact vs.
the subject's other facts and the relation's other subjects) turns them into a probability.
"""

from __future__ import annotations

import json
import logging
import random
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from kg.errors import ModelError
from kg.files import write_text
from kg.records import Fact
from qa.chain_scorer import ChainScorer
from qa.paths import GraphView
from qa.training_data import QuestionComposer
from retrieval.embedder import TextEncoder

log = logging.getLogger(__name__)

FEATURES = ("statement_sim", "question_sim", "subject_named", "relation_mention", "bias")
VERSION = 1
ARTEFACT = "scope_detector.json"


def scope_path(cache_dir: Path) -> Path:
    return cache_dir / "qa" / ARTEFACT


@dataclass
class ScopeReport:
    examples: int
    accuracy: float


class ScopeDetector:
    """``probability(question, fact)``: the chance that ``fact`` answers ``question``."""

    def __init__(self, encoder: TextEncoder, view: GraphView, weights: np.ndarray | None = None) -> None:
        self.view = view
        self.text = ChainScorer(encoder)  # its embedding cache and relation-mention reading
        self.weights = weights if weights is not None else np.zeros(len(FEATURES), dtype=np.float32)

    def features(self, question: str, facts: list[Fact]) -> np.ndarray:
        self.view.refresh()
        read = self.text.read_question(question)
        rows = np.zeros((len(facts), len(FEATURES)), dtype=np.float32)
        lowered = question.lower()
        for i, fact in enumerate(facts):
            relation = self.view.relation(fact.relation)
            subject = self.view.label(fact.subject)
            obj = self.view.label(fact.object)
            if relation is None:
                continue
            vectors = self.text.vectors([relation.statement(subject, obj), relation.question(subject)])
            rows[i, 0] = float(vectors[0] @ read.vector)
            rows[i, 1] = float(vectors[1] @ read.vector)
            rows[i, 2] = 1.0 if subject.lower() in lowered else 0.0
            rows[i, 3] = self.text.mention(read, relation)
            rows[i, 4] = 1.0
        return rows

    def probability(self, question: str, facts: list[Fact]) -> np.ndarray:
        if not facts:
            return np.zeros(0, dtype=np.float32)
        logits = self.features(question, facts) @ self.weights
        return (1.0 / (1.0 + np.exp(-logits))).astype(np.float32)

    def save(self, path: Path, meta: dict[str, object]) -> None:
        payload = {"version": VERSION, "features": list(FEATURES), "weights": self.weights.tolist(), **meta}
        write_text(path, json.dumps(payload, indent=2))

    @classmethod
    def load(cls, path: Path, encoder: TextEncoder, view: GraphView) -> ScopeDetector:
        try:
            payload = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise ModelError(f"cannot read the scope detector {path}: {exc}; rebuild it with 'kgedit train-qa'") from exc
        if payload.get("version") != VERSION or payload.get("features") != list(FEATURES):
            raise ModelError(f"{path} was made by another version of kgedit; rebuild it with 'kgedit train-qa'")
        return cls(encoder, view, np.asarray(payload["weights"], dtype=np.float32))


def load_scope(cache_dir: Path | None, encoder: TextEncoder, view: GraphView) -> ScopeDetector:
    """The detector rebuilt under ``cache_dir`` if any, else the packaged one."""
    if cache_dir is not None and scope_path(cache_dir).exists():
        return ScopeDetector.load(scope_path(cache_dir), encoder, view)
    with resources.as_file(resources.files("qa").joinpath("data", ARTEFACT)) as path:
        if not path.exists():
            raise ModelError("no trained scope detector found; build one with 'kgedit train-qa'")
        return ScopeDetector.load(path, encoder, view)


def training_pairs(view: GraphView, count: int, seed: int) -> list[tuple[str, Fact, bool]]:
    """(single-hop question, fact, in scope?) pairs: each right fact with up to four wrong ones."""
    rng = random.Random(seed)
    composer = QuestionComposer(rng)
    facts = [f for s in view.subjects() for fs in view.out(s).values() for f in fs]
    by_relation: dict[str, list[Fact]] = {}
    for fact in facts:
        by_relation.setdefault(fact.relation, []).append(fact)
    pairs: list[tuple[str, Fact, bool]] = []
    for fact in rng.sample(facts, min(count, len(facts))) if facts else []:
        relation = view.relation(fact.relation)
        if relation is None:
            continue
        question = composer.compose([relation], view.label(fact.subject))
        pairs.append((question, fact, True))
        same_subject = [f for fs in view.out(fact.subject).values() for f in fs if f.relation != fact.relation]
        same_relation = [f for f in by_relation[fact.relation] if f.subject != fact.subject]
        for pool in (same_subject, same_relation):
            for wrong in rng.sample(pool, min(2, len(pool))):
                pairs.append((question, wrong, False))
    return pairs


def train_scope(
    view: GraphView, encoder: TextEncoder, target: Path, count: int = 2000, seed: int = 0, source: str = ""
) -> ScopeReport:
    view.refresh()
    detector = ScopeDetector(encoder, view)
    pairs = training_pairs(view, count, seed)
    if not pairs:
        raise ModelError("the training graph has no facts to compose scope questions from")
    rows = [detector.features(q, [f])[0] for q, f, _ in tqdm(pairs, desc="scope features", unit="pair", disable=None)]
    x = torch.from_numpy(np.stack(rows))
    y = torch.tensor([float(right) for _, _, right in pairs])
    w = torch.zeros(x.shape[1], requires_grad=True)
    optimiser = torch.optim.Adam([w], lr=0.05)
    for _ in range(400):
        optimiser.zero_grad()
        loss = torch.nn.functional.binary_cross_entropy_with_logits(x @ w, y) + 1e-3 * (w[:-1] ** 2).sum()
        loss.backward()
        optimiser.step()
    detector.weights = w.detach().numpy().astype(np.float32)
    accuracy = float((((x @ w.detach()) > 0).float() == y).float().mean())
    detector.save(target, {"trained_on": source, "pairs": len(pairs), "train_accuracy": accuracy, "rebuild": "kgedit train-qa"})
    log.info("scope detector: %d pairs, train accuracy %.3f", len(pairs), accuracy)
    return ScopeReport(len(pairs), accuracy)
