"""Entity linking: which of the store's entities a question mentions, with spans and scores.

Labels and aliases are matched first through a dictionary keyed by normalised token sequences
(case, accents, punctuation, articles and the possessive "'s" do not matter), indexed by first token,
so a question costs a few dictionary lookups per word whatever the number of entities. Overlapping
matches are settled longest first. When the dictionary finds nothing, near misses come next
(:mod:`retrieval.fuzzy`: misspelt, partial and differently spelt names, by character similarity); only
when those fail too, n-grams of the question are embedded and compared with the embedded entity names (an exact FAISS index, or IVF when large), which
catches near misses such as misspellings and partial names.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from rdflib import RDF

from kg.normalize import STOPWORDS, Token, check_text, name_key, tokens
from kg.records import Entity
from kg.store import ChangeSet, FactStore
from kg.vocab import KG, SCHEMA_GRAPH, entity_id
from retrieval import vectors
from retrieval.embedder import TextEncoder
from retrieval.fuzzy import FuzzyNames

log = logging.getLogger(__name__)

LABEL, ALIAS, EMBEDDING = "label", "alias", "embedding"
FUZZY, PARTIAL = "fuzzy", "partial"  # near misses (retrieval.fuzzy), tried before embeddings
_SCORES = {LABEL: 1.0, ALIAS: 0.9}
MIN_SIMILARITY = 0.8
NEAR_TIE = 0.1  # a near name this much less similar to the same words than the best is another name, not a homonym
_MAX_NGRAM = 4
_MAX_SPANS = 64
_APPROXIMATE_NAMES_ABOVE = 50_000


@dataclass(frozen=True)
class Mention:
    entity_id: str
    label: str
    text: str
    start: int
    end: int
    score: float
    method: str  # "label" | "alias" | "fuzzy" | "partial" | "embedding"


@dataclass(frozen=True)
class _Name:
    entity_id: str
    text: str
    method: str


class EntityLinker:
    """Label/alias dictionary plus an embedding fallback over entity names."""

    def __init__(self, embedder: TextEncoder | None = None, min_similarity: float = MIN_SIMILARITY) -> None:
        self.embedder = embedder
        self.min_similarity = min_similarity
        self._lock = threading.RLock()
        self._entities: dict[str, Entity] = {}
        self._names: dict[tuple[str, ...], list[_Name]] = {}
        self._lengths: dict[str, set[int]] = {}  # first token -> token lengths of names starting with it
        self._name_list: list[_Name] = []
        self._name_index: vectors.VectorIndex | None = None
        self._embedded = 0  # how many of _name_list are in _name_index
        self._store: FactStore | None = None
        self._revision = 0
        self._maybe_new = False
        self._fuzzy_names: FuzzyNames | None = None  # built on the first near-miss lookup
        self._fuzzy_size = -1

    @classmethod
    def from_entities(cls, entities: Iterable[Entity], embedder: TextEncoder | None = None) -> EntityLinker:
        linker = cls(embedder)
        linker.add(entities)
        return linker

    @classmethod
    def from_store(cls, store: FactStore, embedder: TextEncoder | None = None) -> EntityLinker:
        """A linker over every entity of the store, kept in step with the store's writes."""
        linker = cls(embedder)
        linker._store = store
        store.subscribe(linker._on_change)  # first, so no write between reading and listening is lost
        linker._revision = store.revision()
        linker.add(store.entities())
        return linker

    # ----- the dictionary ---------------------------------------------------------------------

    def add(self, entities: Iterable[Entity]) -> int:
        """Add or replace entities; returns how many were new."""
        added = 0
        with self._lock:
            for entity in entities:
                known = self._entities.get(entity.id)
                if known == entity:
                    continue
                added += known is None
                if known is not None:
                    self._drop_names(known)
                self._entities[entity.id] = entity
                self._fuzzy_names = None
                names = [_Name(entity.id, entity.label, LABEL)]
                names += [_Name(entity.id, alias, ALIAS) for alias in entity.aliases if alias != entity.label]
                for name in names:
                    self._add_name(name)
        return added

    def _add_name(self, name: _Name) -> None:
        key = name_key(name.text)
        if not key:
            return
        bucket = self._names.setdefault(key, [])
        if any(n.entity_id == name.entity_id for n in bucket):
            return  # one name per entity and key: the label, added first, wins over an alias that folds alike
        bucket.append(name)
        bucket.sort(key=lambda n: (n.method != LABEL, n.entity_id))
        self._lengths.setdefault(key[0], set()).add(len(key))
        self._name_list.append(name)

    def _drop_names(self, entity: Entity) -> None:
        for text in (entity.label, *entity.aliases):
            key = name_key(text)
            bucket = [n for n in self._names.get(key, []) if n.entity_id != entity.id]
            if bucket:
                self._names[key] = bucket
            else:
                self._names.pop(key, None)

    def __len__(self) -> int:
        return len(self._entities)

    # ----- following the store ----------------------------------------------------------------

    def _on_change(self, changes: ChangeSet) -> None:
        """Entities a write added or used are fetched now; a missed revision makes the next
        :meth:`link` re-read by counting."""
        if self._store is None:
            return
        try:
            used = {i for f in changes.added for i in (f.subject, f.object)}
            wanted = (used | set(changes.entities)) - self._entities.keys()
            found = [e for e in (self._store.entity(i) for i in sorted(wanted)) if e is not None]
            self.add(found)
            if changes.revision != self._revision + 1:
                self._maybe_new = True
            self._revision = changes.revision
        except Exception:
            log.exception(
                "entity linker could not follow store revision %d; it will re-read", changes.revision
            )
            self._maybe_new = True

    def _ensure_current(self) -> None:
        store = self._store
        if store is None:
            return
        revision = store.revision()
        if revision == self._revision and not self._maybe_new:
            return
        if _entity_count(store) != len(self._entities):
            ids = {
                entity_id(s) for s, _, _, _ in store.backend.quads(None, RDF.type, KG.Entity, SCHEMA_GRAPH)
            }
            found = [e for e in (store.entity(i) for i in sorted(ids - self._entities.keys())) if e]
            log.info("entity linker: %d new entities from the store", self.add(found))
        self._revision = revision
        self._maybe_new = False

    # ----- linking ----------------------------------------------------------------------------

    def link(self, question: str, limit: int = 5) -> list[Mention]:
        """Entities the question mentions, longest match first; embeddings only if no name matches."""
        check_text(question, "question")
        if limit < 1:
            return []
        with self._lock:
            self._ensure_current()
            words = tokens(question)
            found = self._dictionary(question, words, limit)
            found = self._misspelt_around(question, words, found) if found else self._fuzzy(question, words, limit)
            if not found and self.embedder is not None and self._name_list:
                found = self._nearest(self.embedder, question, words, limit)
        return found[:limit]

    def _dictionary(self, question: str, words: list[Token], limit: int) -> list[Mention]:
        spans: list[tuple[int, int, list[_Name]]] = []
        for i, word in enumerate(words):
            for length in sorted(self._lengths.get(word.text, ()), reverse=True):
                if i + length > len(words):
                    continue
                key = tuple(w.text for w in words[i : i + length])
                names = self._names.get(key)
                if names and self._plausible(question, words[i : i + length], names):
                    spans.append((i, i + length, names))
        spans.sort(key=lambda s: (-(s[1] - s[0]), -(words[s[1] - 1].end - words[s[0]].start), s[0]))
        taken: set[int] = set()
        mentions: list[Mention] = []
        for first, last, names in spans:
            if taken & set(range(first, last)):
                continue
            taken |= set(range(first, last))
            start, end = words[first].start, words[last - 1].end
            for name in names:
                entity = self._entities[name.entity_id]
                mentions.append(
                    Mention(
                        entity.id,
                        entity.label,
                        question[start:end],
                        start,
                        end,
                        _SCORES[name.method],
                        name.method,
                    )
                )
            if len(mentions) >= limit:
                break
        return mentions

    def _misspelt_around(self, question: str, words: list[Token], found: list[Mention]) -> list[Mention]:
        """An exact match that is part of a misspelt longer name ("French" in "French Polynusia")
        gives way to that name."""
        names = self._near_names()
        by_start = {w.start: n for n, w in enumerate(words)}
        by_end = {w.end: n + 1 for n, w in enumerate(words)}
        better: list[Mention] = []
        for mention in found:
            first, last = by_start.get(mention.start), by_end.get(mention.end)
            near = names.extend(words, first, last) if first is not None and last is not None else None
            if near is None:
                better.append(mention)
                continue
            start, end = words[near.first].start, words[near.last - 1].end
            for name in self._names.get(near.key, []):
                entity = self._entities[name.entity_id]
                better.append(Mention(entity.id, entity.label, question[start:end], start, end, near.similarity, FUZZY))
        return list({(m.entity_id, m.start): m for m in better}.values())

    def _near_names(self) -> FuzzyNames:
        if self._fuzzy_names is None or self._fuzzy_size != len(self._names):
            self._fuzzy_names = FuzzyNames(self._names)
            self._fuzzy_size = len(self._names)
        return self._fuzzy_names

    def _fuzzy(self, question: str, words: list[Token], limit: int) -> list[Mention]:
        """Misspelt, partial or differently spelt names (retrieval.fuzzy); homonyms all come back,
        for the answering pipeline to settle by which one's facts fit the question, but not names
        much less similar to the same words ("Republic of Estonia" beside "Republic of Macedonia"
        for "Republic of Maceedonia"), which the chain score must not pick for a better fit."""
        mentions: list[Mention] = []
        for near in self._near_names().search(words, limit):
            start, end = words[near.first].start, words[near.last - 1].end
            for name in self._names.get(near.key, []):
                entity = self._entities[name.entity_id]
                score = near.similarity * _SCORES[name.method]
                mentions.append(Mention(entity.id, entity.label, question[start:end], start, end, score, near.kind))
        best: dict[tuple[int, int], float] = {}
        for m in mentions:
            best[m.start, m.end] = max(best.get((m.start, m.end), 0.0), m.score)
        close = [m for m in mentions if m.score >= best[m.start, m.end] - NEAR_TIE]
        return sorted(close, key=lambda m: -m.score)[:limit]

    @staticmethod
    def _plausible(question: str, span: list[Token], names: list[_Name]) -> bool:
        """A span of only stopwords ("who", "it") links only when written exactly as a name ("The Who")."""
        if any(w.text not in STOPWORDS for w in span):
            return True
        head = question[: span[-1].end]
        return any(head.endswith(name.text) for name in names)

    # ----- the embedding fallback -------------------------------------------------------------

    def _nearest(self, embedder: TextEncoder, question: str, words: list[Token], limit: int) -> list[Mention]:
        spans = [
            (i, j)
            for n in range(min(_MAX_NGRAM, len(words)), 0, -1)
            for i in range(len(words) - n + 1)
            for j in (i + n,)
            if words[i].text not in STOPWORDS and words[j - 1].text not in STOPWORDS
        ][:_MAX_SPANS]
        if not spans:
            return []
        index = self._names_indexed(embedder)
        texts = [question[words[i].start : words[j - 1].end] for i, j in spans]
        scores, rows = index.search(embedder.encode(texts), 1)
        ranked = sorted(
            ((float(scores[n][0]), spans[n], int(rows[n][0])) for n in range(len(spans)) if rows[n][0] >= 0),
            key=lambda item: -item[0],
        )
        taken: set[int] = set()
        mentions: list[Mention] = []
        for score, (i, j), row in ranked:
            if score < self.min_similarity or len(mentions) >= limit:
                break
            name = self._name_list[row]
            entity = self._entities[name.entity_id]
            if taken & set(range(i, j)) or name.text not in (entity.label, *entity.aliases):
                continue  # overlaps a better match, or the name was renamed since it was embedded
            taken |= set(range(i, j))
            start, end = words[i].start, words[j - 1].end
            mentions.append(
                Mention(entity.id, entity.label, question[start:end], start, end, score, EMBEDDING)
            )
        return mentions

    def _names_indexed(self, embedder: TextEncoder) -> vectors.VectorIndex:
        """Embed entity names on first need, then only the names added since."""
        todo = self._name_list[self._embedded :]
        if self._name_index is None or todo:
            if todo:
                log.info("entity linker: embedding %d entity names", len(todo))
            embedded = embedder.encode([n.text for n in todo], progress=len(todo) > 2_000)
            rows = np.arange(self._embedded, len(self._name_list), dtype=np.int64)
            if self._name_index is None:
                self._name_index = vectors.build(rows, embedded, _APPROXIMATE_NAMES_ABOVE)
            else:
                self._name_index.add(rows, embedded)
            self._embedded = len(self._name_list)
        return self._name_index


def _entity_count(store: FactStore) -> int:
    rows = store.backend.select(
        "SELECT (COUNT(?s) AS ?n) WHERE { GRAPH ?g { ?s a ?t } }", {"g": SCHEMA_GRAPH, "t": KG.Entity}
    )
    return int(str(rows[0]["n"])) if rows else 0
