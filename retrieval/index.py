"""The FAISS index of current fact statements, kept in step with the fact store.

Every fact of the store's current view is indexed under its own id (``Fact.id``), so a hit maps
straight back to the triple and its origin (edit or base). The index is derived data: the store is
the truth. It follows the store's change sets as they happen, is saved beside the store stamped with
the store revision, and is brought back in step (or rebuilt) from the store whenever the saved copy
is missing, stale, corrupt or built with another model, with a log line saying which.

A followed change is appended to a journal beside the index file (its facts, vectors and removed ids)
instead of rewriting the whole index, which at a million facts is hundreds of megabytes per edit;
the index file is rewritten once the journal holds :data:`JOURNAL_LIMIT` changes, and opening the
index replays the journal.

On a large store only edits are indexed (what in-context editing retrieves): embedding every base
statement of a million-fact graph would take hours at a hundred statements a second, and nothing
that answers from the graph needs it. ``base_facts_up_to`` sets the size up to which base facts are
indexed too (None: always).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from kg.errors import InputError
from kg.normalize import check_text
from kg.records import EditStatus, Fact, Origin
from kg.store import ChangeSet, FactStore
from kg.vocab import CURRENT_GRAPH
from retrieval import index_file, vectors
from retrieval.embedder import TextEncoder
from retrieval.labels import LabelCache

log = logging.getLogger(__name__)

APPROXIMATE_ABOVE = 20_000
MAX_K = 1_000
JOURNAL_LIMIT = 1_000  # journalled changes before the index file is rewritten whole
BASE_FACTS_UP_TO = 50_000  # larger stores index their edits only (minutes to embed, not hours)


@dataclass(frozen=True)
class Hit:
    fact: Fact
    statement: str
    score: float


class FactIndex:
    """Statements of the current facts in a FAISS index; open it with :meth:`open`."""

    def __init__(
        self,
        store: FactStore,
        directory: Path | None,
        embedder: TextEncoder,
        approximate_above: int = APPROXIMATE_ABOVE,
        recall_target: float = 0.95,
        autosave: bool = True,
        base_facts_up_to: int | None = BASE_FACTS_UP_TO,
    ) -> None:
        self.store = store
        self.base_facts_up_to = base_facts_up_to
        self.with_base = True  # decided from the store's size at each (re)build
        self.embedder = embedder
        self.path = directory / index_file.INDEX_FILE if directory is not None else None
        self.approximate_above = approximate_above
        self.recall_target = recall_target
        self.autosave = autosave
        self._lock = threading.RLock()
        self._labels = LabelCache(store)
        self._vectors: vectors.VectorIndex | None = None
        self._facts: dict[int, Fact] = {}
        self._statements: dict[int, str] = {}
        self._edit_ids: set[int] = set()
        self._revision = -1
        self._journalled = 0  # changes in the journal since the last whole save
        self.build_seconds = 0.0

    @classmethod
    def open(
        cls,
        store: FactStore,
        directory: Path | None,
        embedder: TextEncoder,
        approximate_above: int = APPROXIMATE_ABOVE,
        recall_target: float = 0.95,
        autosave: bool = True,
        base_facts_up_to: int | None = BASE_FACTS_UP_TO,
    ) -> FactIndex:
        """Load the saved index, checking its stamp; rebuild or re-sync it from the store if needed."""
        index = cls(store, directory, embedder, approximate_above, recall_target, autosave, base_facts_up_to)
        store.subscribe(index._on_change)  # first, so no write between loading and listening is lost
        index._load_or_build()
        return index

    # ----- loading and building ---------------------------------------------------------------

    def _load_or_build(self) -> None:
        if self.path is None:
            self.rebuild()
            return
        if not self.path.exists():
            log.warning("fact index %s is missing: building it from the store", self.path)
            self.rebuild()
            return
        try:
            snapshot = index_file.load(self.path)
        except index_file.IndexFileError as exc:
            log.warning("fact index is corrupt: %s; rebuilding it from the store", exc)
            self.rebuild()
            return
        stamp = snapshot.stamp
        if stamp.model_id != self.embedder.model_id or stamp.dim != self.embedder.dim:
            log.warning(
                "fact index %s was built with model %s; rebuilding it with %s",
                self.path, stamp.model_id, self.embedder.model_id,
            )  # fmt: skip
            self.rebuild()
            return
        with self._lock:
            self._adopt(snapshot.vectors, snapshot.facts, snapshot.statements)
            self._revision = stamp.revision
            for entry in index_file.replay(self.path, stamp.revision):
                self._replay(entry)
            size = self._decide_scope()
            wrong_scope = len(self._facts) != (size if self.with_base else len(self._edit_ids))
        if wrong_scope and self._revision == self.store.revision():
            log.warning(
                "fact index %s covers other facts than the store's size calls for: re-syncing", self.path
            )
            self.sync()
            return
        if stamp.store_url != self.store.backend.url or self._revision != self.store.revision():
            log.warning(
                "fact index %s is stale (built at revision %d of %s, the store is at revision %d of %s): "
                "bringing it in step", self.path, stamp.revision, stamp.store_url,
                self.store.revision(), self.store.backend.url,
            )  # fmt: skip
            self.sync()

    def rebuild(self) -> None:
        """Re-embed (from the cache where possible) and re-index every current fact of the store."""
        started = time.perf_counter()
        with self._lock:
            revision = self.store.revision()
            facts = self._current()
            self._labels.load_all()
            statements = {fid: self.statement(f) for fid, f in facts.items()}
            ids = np.fromiter(statements, dtype=np.int64, count=len(statements))
            embedded = self.embedder.encode(list(statements.values()), progress=len(statements) > 2_000)
            built = vectors.build(ids, embedded.reshape(len(ids), self.embedder.dim), self.approximate_above,
                                  self.recall_target)  # fmt: skip
            self._adopt(built, facts, statements)
            self._revision = revision
            self.build_seconds = time.perf_counter() - started
            log.info("fact index built: %d facts, %s, %.1f s", len(facts), built.kind, self.build_seconds)
            self.save()

    def sync(self) -> None:
        """Bring a loaded index in step with the store: add, drop and re-label what differs."""
        with self._lock:
            revision = self.store.revision()
            current = self._current()
            gone = [fid for fid in self._facts if fid not in current]
            new = [f for fid, f in current.items() if fid not in self._facts]
            if len(new) > 1_000:
                self._labels.load_all()
            self._remove(gone)
            self._add(new)
            for fact in current.values():
                self._set_fact(fact)
            self._revision = revision
            log.info(
                "fact index in step: %d added, %d removed, %d facts", len(new), len(gone), len(self._facts)
            )
            self._resize()
            self.save()

    def _current(self) -> dict[int, Fact]:
        """The facts the index should hold: every current fact, or on a large store the edits only."""
        self._decide_scope()
        if self.with_base:
            return {f.id: f for f in self.store.current_facts()}
        keys = {(e.subject, e.relation) for e in self.store.edits(EditStatus.ACTIVE)}
        found = (f for s, r in sorted(keys) for f in self.store.objects(s, r))
        return {f.id: f for f in found if f.origin is Origin.EDIT}

    def _decide_scope(self) -> int:
        """Whether base facts are indexed, from the store's size; returns that size."""
        size = self.store.backend.count(CURRENT_GRAPH)
        self.with_base = self.base_facts_up_to is None or size <= self.base_facts_up_to
        return size

    def _wanted(self, fact: Fact) -> bool:
        return self.with_base or fact.origin is Origin.EDIT

    def _adopt(self, built: vectors.VectorIndex, facts: dict[int, Fact], statements: dict[int, str]) -> None:
        self._vectors = built
        self._facts = dict(facts)
        self._statements = dict(statements)
        self._edit_ids = {fid for fid, f in facts.items() if f.origin is Origin.EDIT}

    # ----- following the store ----------------------------------------------------------------

    def _on_change(self, changes: ChangeSet) -> None:
        """Apply one store write. The write has already landed, so a failure here must not reach the
        writer: it is logged and the next search re-syncs from the store instead."""
        try:
            self._follow(changes)
        except Exception:
            log.exception("fact index could not follow store revision %d; it will re-sync", changes.revision)
            self._revision = -1

    def _follow(self, changes: ChangeSet) -> None:
        with self._lock:
            gap = self._revision >= 0 and changes.revision != self._revision + 1
            if gap:
                self._refresh_origins()
            # an edits-only index drops a fact whose edit was retracted back to the base fact
            dropped = [f for f in changes.added if not self._wanted(f)]
            removed = [f.id for f in (*changes.removed, *dropped) if f.id in self._facts]
            self._remove(removed)
            wanted = [f for f in changes.added if self._wanted(f)]
            added = self._add([f for f in wanted if f.id not in self._facts])
            for fact in wanted:
                self._set_fact(fact)
            if self._revision >= 0:
                self._revision = changes.revision
            resized = self._resize()
            if self.autosave and self._revision >= 0:
                entry = index_file.JournalEntry(self._revision, added, removed, wanted)
                self._persist(entry, whole=gap or resized)

    def _persist(self, entry: index_file.JournalEntry, whole: bool) -> None:
        """Journal one followed change; rewrite the whole file only when the journal is long, the
        index changed kind, or origins changed outside the change set (a missed revision)."""
        if self.path is None:
            return
        if whole or self._journalled >= JOURNAL_LIMIT or not self.path.exists():
            self.save()
            return
        index_file.append(self.path, entry)
        self._journalled += 1

    def _replay(self, entry: index_file.JournalEntry) -> None:
        self._remove([fid for fid in entry.removed if fid in self._facts])
        fresh = [(f, s, v) for f, s, v in entry.added if f.id not in self._facts]
        if fresh:
            ids = np.array([f.id for f, _, _ in fresh], dtype=np.int64)
            data = np.array([v for _, _, v in fresh], dtype=np.float32).reshape(len(fresh), -1)
            self._require_vectors().add(ids, data)
            for fact, statement, _ in fresh:
                self._statements[fact.id] = statement
                self._set_fact(fact)
        for fact in entry.origins:
            if fact.id in self._facts:
                self._set_fact(fact)
        self._revision = entry.revision
        self._journalled += 1

    def _add(self, facts: list[Fact]) -> list[tuple[Fact, str, list[float]]]:
        """Embed and index ``facts``; returns each with its statement and vector (for the journal)."""
        if not facts:
            return []
        statements = [self.statement(f) for f in facts]
        ids = np.array([f.id for f in facts], dtype=np.int64)
        embedded = np.asarray(self.embedder.encode(statements), dtype=np.float32).reshape(len(facts), -1)
        self._require_vectors().add(ids, embedded)
        for fact, statement in zip(facts, statements, strict=True):
            self._statements[fact.id] = statement
            self._set_fact(fact)
        return [(f, s, v.tolist()) for f, s, v in zip(facts, statements, embedded, strict=True)]

    def _remove(self, ids: list[int]) -> None:
        if not ids:
            return
        self._require_vectors().remove(np.array(ids, dtype=np.int64))
        for fid in ids:
            self._facts.pop(fid, None)
            self._statements.pop(fid, None)
            self._edit_ids.discard(fid)

    def _set_fact(self, fact: Fact) -> None:
        self._facts[fact.id] = fact
        if fact.origin is Origin.EDIT:
            self._edit_ids.add(fact.id)
        else:
            self._edit_ids.discard(fact.id)

    def _resize(self) -> bool:
        """Switch to IVF when the index outgrows the threshold, back to exact when it shrinks well below."""
        built = self._require_vectors()
        grow = built.kind == vectors.EXACT and built.size > self.approximate_above
        shrink = built.kind == vectors.IVF and built.size < self.approximate_above // 2
        if grow or shrink:
            ids, data = built.vectors()
            self._vectors = vectors.build(ids, data, self.approximate_above, self.recall_target)
            log.info("fact index switched to %s at %d facts", self._vectors.kind, len(ids))
        return grow or shrink

    def _ensure_current(self) -> None:
        """Catch up with writes the store did not report (they change no fact, at most an origin)."""
        if self._revision < 0:
            self.sync()  # a change set could not be applied: the store is the truth
            return
        revision = self.store.revision()
        if revision != self._revision:
            self._refresh_origins()
            self._revision = revision

    def _refresh_origins(self) -> None:
        """Re-read the origin of every fact indexed as an edit: a retract that leaves the object in place
        (the edit had re-asserted a base fact) turns it back to base without any change set."""
        keys = {(self._facts[fid].subject, self._facts[fid].relation) for fid in self._edit_ids}
        for subject, relation in sorted(keys):
            for fact in self.store.objects(subject, relation):
                if fact.id in self._facts:
                    if self._wanted(fact):
                        self._set_fact(fact)
                    else:
                        self._remove([fact.id])

    def _require_vectors(self) -> vectors.VectorIndex:
        if self._vectors is None:
            self._vectors = vectors.exact(self.embedder.dim)
        return self._vectors

    # ----- reading ----------------------------------------------------------------------------

    def statement(self, fact: Fact) -> str:
        """The one-sentence statement of a fact, from its relation's template and the entity labels."""
        relation = self.store.require_relation(fact.relation)
        return relation.statement(self._labels.label(fact.subject), self._labels.label(fact.object))

    def search(self, text: str, k: int = 10, origin: Origin | None = None) -> list[Hit]:
        """The k facts whose statements are closest to ``text``, best first; ``origin`` filters."""
        return self.search_many([text], k, origin)[0]

    def search_many(self, texts: Sequence[str], k: int = 10, origin: Origin | None = None) -> list[list[Hit]]:
        """:meth:`search` for many texts at once: one embedding batch and one FAISS call."""
        for text in texts:
            check_text(text, "search text")
        if not 1 <= k <= MAX_K:
            raise InputError(f"k must be between 1 and {MAX_K}, got {k}")
        queries = self.embedder.encode(list(texts))
        with self._lock:
            self._ensure_current()
            built = self._require_vectors()
            edit_ids = np.fromiter(self._edit_ids, dtype=np.int64, count=len(self._edit_ids))
            if built.size == 0 or origin is Origin.MODEL or (origin is Origin.EDIT and not len(edit_ids)):
                return [[] for _ in texts]
            if origin is Origin.EDIT:
                scores, ids = built.search(queries, min(k, len(edit_ids)), allow=edit_ids)
            else:
                deny = edit_ids if origin is Origin.BASE else None
                scores, ids = built.search(queries, min(k, built.size), deny=deny)
            return [
                [
                    Hit(self._facts[int(fid)], self._statements[int(fid)], float(score))
                    for score, fid in zip(row_scores, row_ids, strict=True)
                    if fid >= 0 and int(fid) in self._facts
                ]
                for row_scores, row_ids in zip(scores, ids, strict=True)
            ]

    def fact_ids(self) -> set[int]:
        with self._lock:
            self._ensure_current()
            return set(self._facts)

    def stats(self) -> dict[str, object]:
        with self._lock:
            built = self._require_vectors()
            return {
                "facts": len(self._facts),
                "scope": "all current facts" if self.with_base else "edits only (a large store)",
                "edit_facts": len(self._edit_ids),
                "kind": built.kind,
                "nprobe": built.nprobe,
                "recall_at_10": built.recall,
                "model": self.embedder.model_id,
                "dim": built.dim,
                "revision": self._revision,
                "store_revision": self.store.revision(),
                "path": str(self.path) if self.path else None,
                "build_seconds": round(self.build_seconds, 3),
            }

    def save(self) -> None:
        """Write the index beside the store (atomically); a no-op for an in-memory index."""
        if self.path is None:
            return
        with self._lock:
            built = self._require_vectors()
            stamp = index_file.Stamp(
                version=index_file.FORMAT_VERSION,
                model_id=self.embedder.model_id,
                dim=built.dim,
                store_url=self.store.backend.url,
                revision=self._revision,
                kind=built.kind,
                nprobe=built.nprobe,
                recall=built.recall,
                count=built.size,
            )
            index_file.save(self.path, index_file.Snapshot(stamp, built, self._facts, self._statements))
            self._journalled = 0
