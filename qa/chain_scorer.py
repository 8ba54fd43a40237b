"""Scores candidate relation paths against a question: which chain of relations is it asking about?

The graph already fixes the order of the hops (a path exists only where the facts connect), so the
scorer mostly decides *which* relations the question mentions and *how many* hops it takes. It uses a
few features per path, all relation-agnostic so that they carry over to relations never trained on:

* similarity of the question (entity masked as "X") to the chain's composed nested question, to it
  as an open statement, and the best of those and of the chain as one noun phrase ("What is a
  neighbour of X?"): a question is phrased one way, and "list the neighbours of X" reads like the
  noun phrase, not like "Which place shares a border with X?", so that no chain wins only because
  its inner hops are phrased with the words the question happens to use;
* how strongly each relation of the path is mentioned (best n-gram match against the relation's label
  and Wikidata aliases, "next to" and "born in" included), as the minimum and mean over the hops;
* how much of the question the path explains (coverage of its content words), so that a path which
  leaves a mentioned relation out, or adds one the question does not mention, loses; the asked type
  ("which country") is explained by a chain whose answers are of that type, so that no hop is added
  only because its name is the asked type (the country that uses the balboa is not a city in it);
* what the last hop adds to that coverage (a needless last hop, or a needless LM hop, adds nothing)
  and what one more hop from the path's end would add (a chain cut short leaves words it explains);
* whether the asked type ("which city", a place for "where") fits the last relation's objects or names;
* the hop count, a missing final hop (answered by the language model), and whether the graph does
  answer that relation along another path (then the question most likely meant that path);
* a missing hop in the middle of the chain, with the rest of the chain past it (its own weight:
  the chain past a gap competes with a shorter chain that answers something else, which a missing
  last hop never does);
* a who/person match, whether the path passes an edit, and a step straight back to the entity
  before, weighted by how often that pair of relations undoes itself in the graph;
* the share of hops walked backwards (qa.inverse), alone and with the question's inverse cues
  ("whose", "with ... as", "uses").
* the share of consecutive hops that the question names further out from its entity, one after the
  other (a sentence embedding barely sees word order, and on a dense graph every ordering of the
  relations a question names is a walk).

A linear model over the features is trained with a softmax over each question's candidates on
questions composed by :mod:`qa.training_data`; the weights are a small JSON artefact cached under
``cache_dir``.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from kg.errors import ModelError
from kg.files import write_text
from kg.records import Relation
from qa.inverse import is_inverse
from qa.paths import GraphView, Walk
from qa.phrasing import (
    aliases,
    answer_type,
    asked_type,
    canonical_question,
    content_words,
    head_noun,
    ngrams,
    noun_question,
    phrase_grams,
    statement_question,
)
from retrieval.embedder import TextEncoder

log = logging.getLogger(__name__)

FEATURES = (
    "sim",
    "sim_statement",
    "mention_min",
    "mention_mean",
    "coverage",
    "hops1",
    "hops2",
    "hops3",
    "hops4",
    "missing",
    "who_person",
    "who_other",
    "backtrack",
    "edits",
    "type_match",
    "gain_last",
    "gain_next",
    "missing_elsewhere",
    "inverse",
    "inverse_cued",
    "sim_best",
    "ordered",
    "past_gap",
)
VERSION = 10
# how a question describes an entity by a fact pointing at it ("the country whose capital is Lima",
# "with Lima as its capital", "of which Lima is the capital", "the country that uses the yen")
INVERSE_CUES = re.compile(r"\bwhose\b|\bas (?:its|their|the)\b|\bof which\b|\b(?:has|have|having|uses|use|used|using)\b")
ARTEFACT = "chain_scorer.json"
# the columns read from the chain's composed texts (the only features that need them embedded)
TEXT_COLUMNS = (FEATURES.index("sim"), FEATURES.index("sim_statement"), FEATURES.index("sim_best"))


@dataclass
class QuestionView:
    """What the scorer reads from one masked question, computed once for all its candidate paths."""

    text: str
    vector: np.ndarray
    words: list[str]
    word_vectors: np.ndarray
    gram_vectors: np.ndarray
    who: bool
    asked: np.ndarray | None  # embedding of the answer type the question asks for ("which country")
    inverse_cues: float = 0.0  # share of INVERSE_CUES among the question's words (0..1, capped)
    asked_at: tuple[int, ...] = ()  # positions in ``words`` of the asked type
    gram_distance: np.ndarray | None = None  # per n-gram, characters between it and the masked entity
    repeats: tuple[tuple[int, ...], ...] = ()  # positions in ``words`` of each word used more than once
    positions: dict[str, float] = field(default_factory=dict)  # memo of :meth:`ChainScorer.mentioned_at`


class ChainScorer:
    """Linear scorer over path features; ``weights`` come from :func:`train` (or :meth:`load`)."""

    def __init__(
        self,
        encoder: TextEncoder,
        weights: np.ndarray | None = None,
        abstain_below: float | None = None,
    ) -> None:
        self.encoder = encoder
        self.weights = weights if weights is not None else np.zeros(len(FEATURES), dtype=np.float32)
        # a best chain scoring below this answers nothing (qa.abstention calibrates it); None: never abstain
        self.abstain_below = abstain_below
        # weights (and floor) for all-forward candidates: a scorer trained on forward chains only
        # ranks those better than one that also had to learn backward hops (see qa.search)
        self.forward_weights: np.ndarray | None = None
        self.forward_abstain_below: float | None = None
        self._relation_vectors: dict[str, np.ndarray] = {}

    def vectors(self, texts: Sequence[str]) -> np.ndarray:
        """The texts' embeddings, one row each (the encoder remembers what it embedded before)."""
        if not texts:
            return np.zeros((0, 1), dtype=np.float32)
        return np.asarray(self.encoder.encode(list(texts)), dtype=np.float32)

    # ----- question-level ---------------------------------------------------------------------

    def read_question(self, masked: str) -> QuestionView:
        """Embed the question, its content words and n-grams, and its asked type in one batch."""
        return self.read_masked([masked])[0]

    def read_masked(self, texts: Sequence[str]) -> list[QuestionView]:
        """:meth:`read_question` for several maskings of one question, embedded in one batch
        (the maskings share most of their words and n-grams, so each is embedded once)."""
        parts = []
        batch: list[str] = []
        for masked in texts:
            words = content_words(masked) or [masked]
            grams = list(dict.fromkeys([*ngrams(words), *phrase_grams(masked)])) or [masked]
            asked = asked_type(masked)
            parts.append((masked, words, grams, asked))
            batch += [masked, *words, *grams, *([asked] if asked else [])]
        self.vectors(list(dict.fromkeys(batch)))
        views = []
        for masked, words, grams, asked in parts:
            lowered = masked.lower()
            views.append(
                QuestionView(
                    text=masked,
                    vector=self.vectors([masked])[0],
                    words=words,
                    word_vectors=self.vectors(words),
                    gram_vectors=self.vectors(grams),
                    who=lowered.startswith("who") or " who" in lowered or "whom" in lowered,
                    asked=self.vectors([asked])[0] if asked else None,
                    inverse_cues=_cues(lowered),
                    asked_at=tuple(i for i, w in enumerate(words) if asked and w == asked),
                    gram_distance=_distances(masked, grams),
                    repeats=_repeats(words),
                )
            )
        return views

    def relation_vectors(self, relation: Relation) -> np.ndarray:
        if relation.id not in self._relation_vectors:
            self._relation_vectors[relation.id] = self.vectors(list(aliases(relation)))
        return self._relation_vectors[relation.id]

    @contextmanager
    def names_unheard(self, relation: Relation, question: str) -> Iterator[bool]:
        """For the duration, ``relation`` is known only by its names whose words the question does
        not use, as if the question had phrased it in words kgedit has no name for (training: real
        questions often do, composed ones never). Yields whether names were hidden: not when the question
        uses none of them, nor when it uses all (nothing would be left to know the relation by)."""
        asked = set(content_words(question))
        kept = [n for n in aliases(relation) if not set(content_words(n)) & asked]
        if not kept or len(kept) == len(aliases(relation)):
            yield False
            return
        before = self._relation_vectors.get(relation.id)
        self._relation_vectors[relation.id] = self.vectors(kept)
        try:
            yield True
        finally:
            if before is None:
                self._relation_vectors.pop(relation.id, None)
            else:
                self._relation_vectors[relation.id] = before

    def mention(self, question: QuestionView, relation: Relation) -> float:
        """How strongly the question mentions ``relation``: best n-gram against its names (cosine)."""
        return float((question.gram_vectors @ self.relation_vectors(relation).T).max())

    def mentioned_at(self, question: QuestionView, relation: Relation) -> float:
        """How far from the masked entity the question mentions ``relation`` (its best n-gram)."""
        if relation.id not in question.positions:
            if question.gram_distance is None or not len(question.gram_distance):
                return 0.0
            best = int((question.gram_vectors @ self.relation_vectors(relation).T).max(axis=1).argmax())
            question.positions[relation.id] = float(question.gram_distance[best])
        return question.positions[relation.id]

    def outwards(self, question: QuestionView, chain: Sequence[Relation]) -> float:
        """Share of consecutive hops the question names further out from its entity, each hop after
        the one before: the order of the words, which a sentence embedding barely sees."""
        if len(chain) < 2:
            return 0.0
        at = [self.mentioned_at(question, r) for r in chain]
        return sum(a < b for a, b in zip(at, at[1:], strict=False)) / (len(at) - 1)

    def mentions(self, question: QuestionView, relations: Sequence[Relation]) -> dict[str, float]:
        return {r.id: self.mention(question, r) for r in relations}

    def _word_support(self, question: QuestionView, relation: Relation) -> np.ndarray:
        """For each content word of the question, how well ``relation`` explains it (0..1)."""
        if not question.words:
            return np.zeros(0, dtype=np.float32)
        sims = question.word_vectors @ self.relation_vectors(relation).T
        return np.clip(sims.max(axis=1), 0.0, 1.0)

    # ----- path-level -------------------------------------------------------------------------

    def warm(self, paths: Sequence[Walk], view: GraphView) -> None:
        """Embed the chain texts of ``paths`` not seen before in one batch (training warms many
        questions' candidates at once: far faster than a small batch per question)."""
        chains = [[r for r in (view.relation(x) for x in key) if r is not None] for key in {p.relations for p in paths}]
        self.vectors([text for chain in chains for text in _chain_texts(chain)])

    def features(
        self, question: QuestionView, paths: Sequence[Walk], view: GraphView, texts: bool = True
    ) -> np.ndarray:
        """One row per path. Without ``texts`` the columns read from the chains' composed texts
        (:data:`TEXT_COLUMNS`) stay zero, so nothing new is embedded; :meth:`fill_texts` adds them."""
        rows = np.zeros((len(paths), len(FEATURES)), dtype=np.float32)
        if not paths:
            return rows
        # many walks share a relation chain, and every feature of a chain is computed once
        keys = [p.relations for p in paths]
        distinct = list(dict.fromkeys(keys))
        row_of = {key: n for n, key in enumerate(distinct)}
        unique = [[r for r in (view.relation(x) for x in key) if r is not None] for key in distinct]
        chains = [unique[row_of[key]] for key in keys]
        answered = {p.relations[-1] for p in paths if not p.missing}
        support: dict[str, np.ndarray] = {}
        mention: dict[str, float] = {}
        width = len(question.words)

        def supported(relation: Relation) -> np.ndarray:
            if relation.id not in support:
                mention[relation.id] = self.mention(question, relation)
                support[relation.id] = self._word_support(question, relation)
            return support[relation.id]

        fits: dict[str, float] = {}

        def fit(last: Relation) -> float:
            """How well the kind of thing ``last`` reaches fits the asked type (cosine)."""
            if last.id not in fits:
                assert question.asked is not None
                kind = float(self.vectors([answer_type(last)])[0] @ question.asked)
                if not is_inverse(last.id):  # an inverse's names say what it starts from, not what it reaches
                    kind = max(kind, float((self.relation_vectors(last) @ question.asked).max()))
                fits[last.id] = kind
            return fits[last.id]

        coverage: dict[tuple[str, ...], np.ndarray] = {}
        coverage_mean: dict[tuple[str, ...], float] = {}

        def covered(chain: Sequence[Relation]) -> np.ndarray:
            """Per content word, how well the chain explains it; many paths share a chain."""
            key = tuple(r.id for r in chain)
            if key not in coverage:
                supports = [supported(r) for r in chain]
                cover = np.max(np.stack(supports), axis=0) if supports and width else np.zeros(width, dtype=np.float32)
                if question.repeats and supports and width:
                    # a word the question uses twice ("the tailor of the guardian of the tailor") is
                    # explained twice only by two hops: its n-th use by the n-th best hop for it
                    ranked = -np.sort(-np.stack(supports), axis=0)
                    for positions in question.repeats:
                        for n, at in enumerate(positions):
                            cover[at] = ranked[n, at] if n < len(ranked) else 0.0
                if question.asked_at and chain:
                    at_type = list(question.asked_at)
                    cover[at_type] = np.maximum(cover[at_type], np.clip(fit(chain[-1]), 0.0, 1.0))
                coverage[key] = cover
                coverage_mean[key] = float(cover.mean()) if width else 0.0
            return coverage[key]

        def covered_mean(chain: Sequence[Relation]) -> float:
            covered(chain)
            return coverage_mean[tuple(r.id for r in chain)]

        next_gain: dict[tuple[str, frozenset[str]], float] = {}
        ordered: dict[tuple[str, ...], float] = {}
        for i, (path, chain) in enumerate(zip(paths, chains, strict=True)):
            cover = covered(chain)
            ms = [mention[r.id] for r in chain] or [0.0]
            last_person = bool(chain) and head_noun(chain[-1]) == "person"
            row = rows[i]
            row[2] = min(ms)
            row[3] = sum(ms) / len(ms)
            row[4] = covered_mean(chain)
            row[4 + min(path.hops, 4)] = 1.0
            row[9] = 1.0 if path.missing else 0.0
            row[22] = 1.0 if path.beyond else 0.0
            row[10] = 1.0 if question.who and last_person else 0.0
            row[11] = 1.0 if question.who and not last_person else 0.0
            row[12] = max(
                (
                    view.return_rate(path.facts[k].relation, path.facts[k + 1].relation)
                    for k in range(len(path.facts) - 1)
                    if path.reached(k + 1) == path.left(k)
                ),
                default=0.0,
            )
            backwards = sum(path.inverse)
            row[18] = backwards / max(1, path.hops)
            row[19] = row[18] * question.inverse_cues
            row[13] = float(path.edits > 0)
            if keys[i] not in ordered:
                ordered[keys[i]] = self.outwards(question, chain)
            row[21] = ordered[keys[i]]
            row[17] = float(path.missing in answered) if path.missing else 0.0
            if question.asked is not None and chain:
                row[14] = fit(chain[-1])
            if width:
                row[15] = row[4] - covered_mean(chain[:-1])
                if not path.missing:
                    key = (path.end, frozenset(r.id for r in chain))
                    if key not in next_gain:
                        next_gain[key] = self._next_gain(cover, path.end, key[1], view, supported)
                    row[16] = next_gain[key]
        if texts:
            self.fill_texts(question, paths, view, rows, range(len(paths)))
        return rows

    def fill_texts(
        self, question: QuestionView, paths: Sequence[Walk], view: GraphView, rows: np.ndarray, which: Iterable[int]
    ) -> None:
        """Write the :data:`TEXT_COLUMNS` of the rows ``which``, embedding the texts of their chains
        not seen before in one batch."""
        which = list(which)
        keys = list(dict.fromkeys(paths[i].relations for i in which))
        if not keys:
            return
        chains = [[r for r in (view.relation(x) for x in key) if r is not None] for key in keys]
        texts = [text for chain in chains for text in _chain_texts(chain)[:3]]
        sims = (self.vectors(texts) @ question.vector).reshape(len(keys), 3)
        of = {key: n for n, key in enumerate(keys)}
        for i in which:
            nested, statement, noun = sims[of[paths[i].relations]]
            rows[i, TEXT_COLUMNS] = (nested, statement, max(nested, statement, noun))

    @staticmethod
    def _next_gain(
        cover: np.ndarray,
        end: str,
        used: frozenset[str],
        view: GraphView,
        supported: Callable[[Relation], np.ndarray],
    ) -> float:
        """How much more of the question one more hop from ``end`` would explain (a truncated chain
        leaves words that a relation at its end explains; a complete one leaves nothing to gain)."""
        nexts = [r for r in (view.relation(x) for x in view.out(end) if x not in used) if r is not None]
        if not nexts:
            return 0.0
        extended = np.maximum(cover[None, :], np.stack([supported(r) for r in nexts]))
        return float(extended.mean(axis=1).max() - cover.mean())

    def score(self, question: QuestionView, paths: Sequence[Walk], view: GraphView, forward: bool = False) -> np.ndarray:
        return self.features(question, paths, view) @ self.weights_for(forward)

    def weights_for(self, forward: bool = False) -> np.ndarray:
        return self.forward_weights if forward and self.forward_weights is not None else self.weights

    def floor(self, forward: bool = False) -> float | None:
        return self.forward_abstain_below if forward and self.forward_weights is not None else self.abstain_below

    # ----- persistence ------------------------------------------------------------------------

    def save(self, path: Path, meta: dict[str, object]) -> None:
        """Write the weights atomically (temp file, fsync, rename) with a version stamp."""
        payload = {
            "version": VERSION,
            "features": list(FEATURES),
            "weights": self.weights.tolist(),
            "abstain_below": self.abstain_below,
            **(
                {"forward": {"weights": self.forward_weights.tolist(), "abstain_below": self.forward_abstain_below}}
                if self.forward_weights is not None
                else {}
            ),
            **meta,
        }
        write_text(path, json.dumps(payload, indent=2))

    @classmethod
    def load(cls, path: Path, encoder: TextEncoder) -> ChainScorer:
        try:
            payload = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise ModelError(f"cannot read the chain scorer {path}: {exc}; rebuild it with 'kgedit train-qa'") from exc
        if payload.get("version") != VERSION or payload.get("features") != list(FEATURES):
            raise ModelError(f"{path} was made by another version of kgedit; rebuild it with 'kgedit train-qa'")
        floor = payload.get("abstain_below")
        weights = np.asarray(payload["weights"], dtype=np.float32)
        scorer = cls(encoder, weights, float(floor) if floor is not None else None)
        forward = payload.get("forward")
        if isinstance(forward, dict):
            scorer.forward_weights = np.asarray(forward["weights"], dtype=np.float32)
            if scorer.forward_weights.shape != weights.shape:
                raise ModelError(f"{path}: the forward weights do not fit the features; rebuild it with 'kgedit train-qa'")
            below = forward.get("abstain_below")
            scorer.forward_abstain_below = float(below) if below is not None else None
        return scorer


def _chain_texts(chain: Sequence[Relation]) -> tuple[str, str, str, str]:
    """What the question is compared with: the chain as a nested question, as an open statement, as
    one noun phrase, and the kind of thing it reaches."""
    return (
        canonical_question(chain),
        statement_question(chain),
        noun_question(chain),
        answer_type(chain[-1]) if chain else "",
    )


def _distances(masked: str, grams: Sequence[str]) -> np.ndarray:
    """Characters from each n-gram's first word to the masked entity "X": a question names the hop
    nearest its entity first in "the A of the B of X" and in "X's B's A" alike."""
    lowered = masked.lower()
    entity = re.search(r"\bX\b", masked)
    anchor = entity.start() if entity else 0
    found = (re.search(rf"\b{re.escape(gram.split()[0])}\b", lowered) if gram.split() else None for gram in grams)
    return np.asarray([abs(f.start() - anchor) if f else 0 for f in found], dtype=np.float32)


def _repeats(words: Sequence[str]) -> tuple[tuple[int, ...], ...]:
    at: dict[str, list[int]] = {}
    for i, word in enumerate(words):
        at.setdefault(word, []).append(i)
    return tuple(tuple(positions) for positions in at.values() if len(positions) > 1)


def _cues(lowered: str) -> float:
    return min(1.0, len(INVERSE_CUES.findall(lowered)) / 2.0)
