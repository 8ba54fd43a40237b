"""The curation operations of kgedit, once, for the command line and the UI alike.

:class:`KgService` takes what a curator typed (names, labels, ids), resolves it, checks it, writes it
under one lock, and returns typed results; ``kgedit kg ...`` and the Curate tab only parse their
inputs and render these results. Writes hold :attr:`KgService.write_lock`, so a preview and the
commit that follows it in one request see the same store.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from app.config import Settings
from app.service.impact import EditPreview, preview_edit
from app.service.names import (
    CloseNameError,
    StoreLabels,
    close_entities,
    new_entity_id,
    resolve_entity,
    resolve_relation,
)
from kg.conflicts import Conflict
from kg.errors import InputError
from kg.records import Edit, EditOutcome, EditRequest, EditStatus, Entity, Fact, Relation, StoreStats
from kg.store import FactHistory, FactStore, ImportBundle, ImportReport

if TYPE_CHECKING:
    from app.service.text_facts import Proposal
    from app.service.text_lm import Generator
    from retrieval.fact_text import FactTextReader


class DuplicateEditError(InputError):
    """The requested fact is already the current view: an edit would change nothing."""


@dataclass(frozen=True)
class AddRequest:
    """An edit as a curator states it: names or ids, resolved by :meth:`KgService.add`."""

    subject: str
    relation: str
    object: str
    replaces: tuple[str, ...] = ()
    author: str = "curator"
    note: str = ""
    source: str = "cli"
    strict: bool = False
    confirm_new: bool = False  # an unknown object name close to an existing label is a new entity


@dataclass(frozen=True)
class ResolvedEdit:
    """An :class:`AddRequest` in the store's ids; ``created`` is the object entity it would create."""

    subject: Entity
    relation: Relation
    object_id: str
    replaces: tuple[str, ...]
    created: Entity | None

    def request(self, author: str, note: str, source: str) -> EditRequest:
        return EditRequest(self.subject.id, self.relation.id, self.object_id, self.replaces, author, note, source)


@dataclass(frozen=True)
class AddResult:
    edit: Edit
    relation: Relation
    outcome: EditOutcome
    created: Entity | None


@dataclass(frozen=True)
class RetractResult:
    edit: Edit
    current: tuple[str, ...]  # the objects of (subject, relation) once the edit is undone


@dataclass(frozen=True)
class FactRow:
    """A current fact seen from one entity: ``other`` is the far end (object, or subject if incoming)."""

    fact: Fact
    relation_label: str
    other: str
    other_label: str
    incoming: bool


@dataclass(frozen=True)
class EntityView:
    entity: Entity
    outgoing: tuple[FactRow, ...]
    incoming: tuple[FactRow, ...]  # facts of other entities that point to this one


@dataclass(frozen=True)
class HistoryView:
    subject: Entity
    relation: Relation
    record: FactHistory


class KgService:
    """Every curation operation over one store; see the module docstring."""

    def __init__(self, settings: Settings, store: FactStore) -> None:
        self.settings = settings
        self.store = store
        self.write_lock = threading.RLock()
        self._text_reader: FactTextReader | None = None
        self._reader_lock = threading.Lock()

    # ----- names -------------------------------------------------------------------------------

    def resolve_entity(self, text: str | None, role: str = "entity") -> Entity:
        return resolve_entity(self.store, text, role)

    def resolve_relation(self, text: str | None) -> Relation:
        return resolve_relation(self.store, text)

    def label(self, ident: str) -> str:
        found = self.store.entity(ident)
        return found.label if found else ident

    def relation_label(self, ident: str) -> str:
        found = self.store.relation(ident)
        return found.label if found else ident

    def resolve(self, request: AddRequest) -> ResolvedEdit:
        """The request in ids; an unknown object name becomes a new entity unless it looks like a typo
        of an existing label, which needs ``confirm_new`` (:class:`CloseNameError` names the labels)."""
        subject = self.resolve_entity(request.subject, "subject")
        relation = self.resolve_relation(request.relation)
        replaces = tuple(self.resolve_entity(r, "replaced object").id for r in request.replaces)
        text = request.object.strip()
        if not text:
            raise InputError("the new object is empty; give an entity id, label or alias, or a new name")
        if self.store.has_entity(text) or self.store.find_entities(text):
            return ResolvedEdit(subject, relation, self.resolve_entity(text, "object").id, replaces, None)
        if not request.confirm_new:
            close = close_entities(self.store, text)
            if close:
                raise CloseNameError(text, close)
        created = Entity(new_entity_id(self.store, text), text)
        return ResolvedEdit(subject, relation, created.id, replaces, created)

    # ----- edits -------------------------------------------------------------------------------

    def preview(self, request: AddRequest, labels: dict[str, str] | None = None) -> EditPreview:
        """What committing ``request`` would do; writes nothing."""
        resolved = self.resolve(request)
        names = StoreLabels(self.store, labels or {})
        if resolved.created is not None:
            names[resolved.created.id] = resolved.created.label
        return preview_edit(
            self.store,
            resolved.subject.id,
            resolved.relation,
            resolved.object_id,
            resolved.created is not None,
            resolved.replaces,
            names,
        )

    def add(self, request: AddRequest) -> AddResult:
        """Write one edit; a new object entity lands in the same transaction (no orphan on a crash).

        An edit that would leave the current view as it is is refused (:class:`DuplicateEditError`):
        recording it would only add a second copy of the current fact to the log.
        """
        with self.write_lock:
            resolved = self.resolve(request)
            edit = resolved.request(request.author.strip() or "curator", request.note, request.source)
            if resolved.created is None and self.store.preview(edit).unchanged:
                raise DuplicateEditError(
                    f"{resolved.subject.label} · {resolved.relation.label} → {self.label(resolved.object_id)} "
                    "is already the current fact; nothing was written"
                )
            entities = [resolved.created] if resolved.created else []
            report = self.store.import_bundle(ImportBundle(entities=entities, edits=[edit]), strict=request.strict)
        outcome = report.edits[0]
        return AddResult(outcome.edit, resolved.relation, outcome, resolved.created)

    def retract(self, edit_id: str | None) -> RetractResult:
        ident = (edit_id or "").split(":")[0].strip()
        if not ident:
            raise InputError("give the edit to retract, e.g. E12 (list them with 'kgedit kg edits')")
        with self.write_lock:
            edit = self.store.retract(ident)
            current = tuple(f.object for f in self.store.objects(edit.subject, edit.relation))
        return RetractResult(edit, current)

    # ----- reading -----------------------------------------------------------------------------

    def show(self, text: str | None) -> EntityView:
        """An entity with its current facts, both those it states and those pointing to it."""
        entity = self.resolve_entity(text, "entity")
        outgoing = tuple(self._row(f, f.object, False) for f in self.store.facts_about(entity.id))
        incoming = tuple(self._row(f, f.subject, True) for f in self.store.facts_pointing_to(entity.id))
        return EntityView(entity, outgoing, incoming)

    def _row(self, fact: Fact, other: str, incoming: bool) -> FactRow:
        return FactRow(fact, self.relation_label(fact.relation), other, self.label(other), incoming)

    def history(self, subject: str | None, relation: str | None) -> HistoryView:
        entity = self.resolve_entity(subject, "subject")
        found = self.resolve_relation(relation)
        return HistoryView(entity, found, self.store.history(entity.id, found.id))

    def edit_log(self, status: str | None = None) -> list[Edit]:
        """The edit log, oldest first; ``status`` is active, retracted, superseded, or all/None."""
        if status in (None, "", "all"):
            return self.store.edits()
        try:
            wanted = EditStatus(status)
        except ValueError as exc:
            raise InputError(f"unknown status {status!r}; use active, retracted or superseded") from exc
        return self.store.edits(wanted)

    def conflicts(self) -> list[Conflict]:
        return self.store.conflicts()

    def stats(self) -> StoreStats:
        return self.store.stats()

    def relations(self, inferred_only: bool = False) -> list[Relation]:
        return [r for r in self.store.relations() if r.inferred or not inferred_only]

    # ----- files -------------------------------------------------------------------------------

    def import_file(self, path: Path, fmt: str | None = None, strict: bool = False) -> ImportReport:
        """Import a file whole or not at all (an N-Quads file restores a full backup)."""
        from kg.io import import_file

        with self.write_lock:
            return import_file(self.store, path, fmt, strict)

    def export_file(self, path: Path, fmt: str | None = None) -> int:
        """Write the graph, a full backup or the edit log; returns how many records were written."""
        from kg.io import export_file

        return export_file(self.store, path, fmt)

    def load_demo(self) -> int:
        from kg.demo import load_demo

        with self.write_lock:
            return load_demo(self.store)

    # ----- plain text --------------------------------------------------------------------------

    def text_reader(self) -> FactTextReader:
        """The reader of typed facts, built once (it loads the embedding model); it follows the store."""
        with self._reader_lock:
            if self._text_reader is None:
                from app.service.text_facts import text_reader

                self._text_reader = text_reader(self.settings, self.store)
            return self._text_reader

    def propose_text(
        self, text: str, labels: dict[str, str] | None = None, lm: Generator | None = None
    ) -> tuple[list[Proposal], list[str]]:
        """Candidate facts of ``text`` with their previews, and the clauses nothing was read in."""
        from app.service.text_facts import propose

        return propose(self.text_reader(), text, labels, lm)

    def commit_text(
        self, text: str, picked: set[int], author: str, source: str, note: str = "", chosen: list[Proposal] | None = None
    ) -> list[tuple[Proposal, EditOutcome]]:
        """Commit the proposals numbered ``picked``; the text is read again under the write lock
        unless the caller passes the proposals it has just shown (``chosen``). A proposal that is
        already the current fact is not written (as :meth:`add` refuses a duplicate edit): the
        result holds only what was written."""
        from app.service.text_facts import commit

        with self.write_lock:
            if chosen is None:
                proposals, _ = self.propose_text(text)
                chosen = [p for p in proposals if p.number in picked]
                if len(chosen) != len(picked):
                    raise InputError("the candidates changed since the preview; read the text again")
            fresh = [p for p in chosen if not p.preview.unchanged]
            outcomes = commit(self.store, fresh, picked, author.strip() or "curator", source, note)
        return list(zip(fresh, outcomes, strict=True))
