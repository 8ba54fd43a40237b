"""Which relation a sentence states between the two names in it, and which way round.

A logistic regression over two views of the residual text (the sentence with its names replaced by
``X`` and ``Y``, see :mod:`retrieval.relation_patterns`): its sentence embedding, which carries
paraphrases the patterns never spelt out ("now pays in" near "currency"), and its word n-grams, which
keep short cue words sharp ("born", "capital"). It is trained from the store's relations only, in about
a second once the pattern embeddings are cached, so a store with its own relations gets its own model.
"""

from __future__ import annotations

import hashlib
import logging
import pickle
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from kg.files import write_bytes
from kg.records import Relation
from retrieval.embedder import TextEncoder
from retrieval.relation_patterns import NONE, Residual, split_label, training_residuals

log = logging.getLogger(__name__)

EMBEDDING_WEIGHT = 1.0  # relative weight of the embedding view against the n-gram view
_VERSION = "relation-model-1"
REGULARISATION = 8.0  # logistic regression's C: patterns are few and clean, so fit them closely


@dataclass(frozen=True)
class RelationGuess:
    """One reading of a residual: the relation (None for "no fact"), the direction, the probability."""

    relation: str | None
    subject_first: bool
    probability: float


class RelationModel:
    """Fitted on construction; :meth:`guesses` reads many residuals in one embedding batch."""

    def __init__(
        self,
        embedder: TextEncoder,
        relations: Iterable[Relation],
        paraphrases: dict[str, list[str]] | None = None,
    ) -> None:
        chosen = list(relations)
        self.embedder = embedder
        self.relations = tuple(sorted({r.id for r in chosen}))
        self._fit(training_residuals(chosen, paraphrases))
        log.info(
            "relation model: %d relations, %d training residuals, %d labels",
            len(self.relations),
            len(self.examples),
            len(self.labels),
        )

    def _fit(self, examples: Sequence[Residual]) -> None:
        self.examples = list(examples)
        self._ngrams = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, token_pattern=r"[^\s]+", lowercase=False)
        features = self._features([e.text for e in self.examples], fit=True)
        self._model = LogisticRegression(C=REGULARISATION, solver="newton-cg", tol=1e-3, max_iter=300)
        self._model.fit(features, [e.label for e in self.examples])
        self.labels: list[str] = [str(c) for c in self._model.classes_]

    @classmethod
    def cached(
        cls, embedder: TextEncoder, relations: Iterable[Relation], cache_dir: Path | None = None
    ) -> RelationModel:
        """The model for these relations, read from ``cache_dir`` when one was fitted on the same
        residuals with the same embedding model (fitting takes seconds, reading milliseconds)."""
        chosen = list(relations)
        if cache_dir is None:
            return cls(embedder, chosen)
        examples = training_residuals(chosen)
        digest = hashlib.blake2b(digest_size=12)
        for part in (_VERSION, embedder.model_id, *(f"{e.text}\x1f{e.label}" for e in examples)):
            digest.update(part.encode() + b"\x1e")
        path = cache_dir / "relation-model" / f"{digest.hexdigest()}.pkl"
        if path.is_file():
            try:
                with path.open("rb") as handle:
                    model = pickle.load(handle)
                if isinstance(model, cls):
                    model.embedder = embedder
                    return model
            except Exception:  # a torn or foreign file: fit again and replace it
                log.warning("relation model cache %s is unreadable; fitting again", path.name)
        model = cls(embedder, chosen)
        encoder, model.embedder = model.embedder, None  # type: ignore[assignment]
        try:
            write_bytes(path, pickle.dumps(model))
        finally:
            model.embedder = encoder
        return model

    @classmethod
    def from_examples(cls, embedder: TextEncoder, examples: Sequence[Residual]) -> RelationModel:
        """A model fitted on given residuals (tests, or a caller that composes its own)."""
        model = cls.__new__(cls)
        model.embedder = embedder
        model.relations = tuple(sorted({s[0] for e in examples if (s := split_label(e.label))}))
        model._fit(examples)
        return model

    def _features(self, texts: Sequence[str], fit: bool = False) -> sparse.csr_matrix:
        dense = np.asarray(self.embedder.encode(list(texts)), dtype=np.float32) * EMBEDDING_WEIGHT
        grams = self._ngrams.fit_transform(texts) if fit else self._ngrams.transform(texts)
        return sparse.hstack([sparse.csr_matrix(dense), grams], format="csr")

    def guesses(self, residuals: Sequence[str], top: int = 4) -> list[list[RelationGuess]]:
        """The ``top`` most probable readings of each residual, best first."""
        if not residuals:
            return []
        probabilities = self._model.predict_proba(self._features(residuals))
        found = []
        for row in probabilities:
            order = np.argsort(-row)[:top]
            readings = []
            for column in order:
                label = self.labels[int(column)]
                parsed = split_label(label)
                if label == NONE or parsed is None:
                    readings.append(RelationGuess(None, True, float(row[column])))
                else:
                    readings.append(RelationGuess(parsed[0], parsed[1], float(row[column])))
            found.append(readings)
        return found
