"""Adding facts from plain text: propose checked triples, then commit only the ones chosen.

One operation for the command line (``kgedit kg add-text``), the Curate tab's "Type a fact" box and
its API route. :func:`propose` reads the text (:class:`retrieval.fact_text.FactTextReader`) and runs
every candidate through the same preview as a hand-made edit (what it supersedes, conflicts, the
multi-hop answers it changes); it writes nothing. :func:`commit` writes the chosen proposals in one
transaction, each edit's provenance naming the sentence it came from. A low-confidence candidate is
committed only when the caller says the curator picked it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from app.config import Settings
from app.service.impact import EditPreview, preview_edit
from app.service.names import StoreLabels, new_entity_id
from app.service.text_lm import Generator, lm_candidates
from kg.errors import InputError
from kg.records import EditOutcome, EditRequest, Entity
from kg.store import FactStore, ImportBundle
from retrieval.embedder import Embedder
from retrieval.fact_text import HIGH_CONFIDENCE, CandidateTriple, FactTextReader

log = logging.getLogger(__name__)

EXAMPLE = "The capital of Chile is Valparaíso"
PROVENANCE_CHARS = 500  # the sentence kept in an edit's source is cut here


@dataclass(frozen=True)
class Proposal:
    """A candidate with the id its object would get and what committing it would do."""

    number: int  # 1-based, in text order: how a curator picks it
    candidate: CandidateTriple
    object_id: str  # the existing entity, or the id a new entity would be created with
    preview: EditPreview

    @property
    def high_confidence(self) -> bool:
        return self.candidate.confidence >= HIGH_CONFIDENCE

    def as_json(self) -> dict[str, Any]:
        """The record ``add-text --dry-run --json`` prints, one per line."""
        c = self.candidate
        return {
            "number": self.number,
            "text": c.text,
            "subject": c.subject,
            "subject_label": c.subject_label,
            "relation": c.relation,
            "relation_label": c.relation_label,
            "object": self.object_id,
            "object_label": c.object_label,
            "new_object": c.new_object,
            "confidence": c.confidence,
            "high_confidence": self.high_confidence,
            "form": c.form,
            "replaces": list(self.replaces),
            "supersedes": list(self.preview.supersedes),
            "conflicts": list(self.preview.conflicts),
            "changed_answers": len(self.preview.chains) + self.preview.more_chains,
            "spans": {
                "subject": [c.subject_span.start, c.subject_span.end],
                "object": [c.object_span.start, c.object_span.end],
                "clause": [c.clause.start, c.clause.end],
            },
            "method": c.method,
        }

    @property
    def replaces(self) -> tuple[str, ...]:
        return self.candidate.replaces


def text_reader(settings: Settings, store: FactStore) -> FactTextReader:
    """The reader with the configured embedding model; the fitted relation model is cached on disk."""
    embedder = Embedder(settings.embedding_model, cache_dir=settings.cache_dir, device=settings.device)
    return FactTextReader(store, embedder, cache_dir=settings.cache_dir)


def propose(
    reader: FactTextReader,
    text: str,
    labels: dict[str, str] | None = None,
    lm: Generator | None = None,
) -> tuple[list[Proposal], list[str]]:
    """Candidates of ``text`` with their previews, and the clauses nothing was found in.

    With ``lm``, each clause the relation model could not read gets the language model's guess,
    marked as such and below the commit threshold. Raises :class:`InputError` when the text is
    empty or states no fact kgedit can read.
    """
    if not isinstance(text, str) or not text.strip():
        raise InputError(f"the text is empty: type a fact, e.g. '{EXAMPLE}'")
    store = reader.store
    reading = reader.read(text)
    names = StoreLabels(store, labels or {})
    proposals: list[Proposal] = []
    new_ids: dict[str, str] = {}
    taken: set[str] = set()
    guessed = lm_candidates(lm, reader, reading.unread) if lm is not None and reading.unread else []
    still_unread = [u for u in reading.unread if not any(g.clause == u.clause for g in guessed)]
    ordered = sorted([*reading.candidates, *guessed], key=lambda c: c.clause.start)
    seen: set[tuple[str, str, str]] = set()
    unique = []
    for candidate in ordered:  # a fact stated twice in a paragraph is one candidate
        triple = (candidate.subject, candidate.relation, candidate.object or "+" + candidate.object_label.casefold())
        if triple not in seen:
            seen.add(triple)
            unique.append(candidate)
    for number, candidate in enumerate(unique, start=1):
        relation = store.require_relation(candidate.relation)
        if candidate.new_object:
            key = candidate.object_label.casefold()
            if key not in new_ids:
                ident = new_entity_id(store, candidate.object_label, taken)
                new_ids[key] = ident
                taken.add(ident)
            object_id = new_ids[key]
        else:
            object_id = candidate.object or ""
        names.setdefault(object_id, candidate.object_label)
        preview = preview_edit(
            store, candidate.subject, relation, object_id, candidate.new_object, candidate.replaces, names
        )
        proposals.append(Proposal(number, candidate, object_id, preview))
    if not proposals:
        unread = "; ".join(f"'{u.clause.text}'" for u in still_unread[:3])
        raise InputError(
            "no fact found in the text"
            + (f" ({unread})" if unread else "")
            + f": name an entity the graph knows and what is true of it, e.g. '{EXAMPLE}', "
            "or add it field by field with 'kgedit kg add SUBJECT RELATION OBJECT'"
        )
    return proposals, [u.clause.text for u in still_unread]


def commit(
    store: FactStore,
    chosen: list[Proposal],
    picked: set[int],
    author: str,
    channel: str,
    note: str = "",
) -> list[EditOutcome]:
    """Write the chosen proposals in one transaction; new objects are created with them.

    ``picked`` holds the numbers the curator chose one by one: a low-confidence proposal is refused
    unless its number is there, so no bulk "accept all" can slip one through.
    """
    refused = [p.number for p in chosen if not p.high_confidence and p.number not in picked]
    if refused:
        raise InputError(
            f"candidate(s) {', '.join(map(str, refused))} have low confidence; choose them one by one to commit them"
        )
    entities: dict[str, Entity] = {}
    requests: list[EditRequest] = []
    for proposal in chosen:
        c = proposal.candidate
        if c.new_object and not store.has_entity(proposal.object_id):
            entities.setdefault(proposal.object_id, Entity(proposal.object_id, c.object_label))
        source = f'text ({channel}): "{c.text[:PROVENANCE_CHARS]}"'
        requests.append(
            EditRequest(c.subject, c.relation, proposal.object_id, c.replaces, author or "curator", note, source)
        )
    if not requests:
        return []
    report = store.import_bundle(ImportBundle(entities=list(entities.values()), edits=requests))
    log.info("add-text: %d edits from text (%s)", len(report.edits), channel)
    return list(report.edits)
