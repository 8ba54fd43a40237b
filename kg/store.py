"""The fact store: entities, relations, base facts, the edit log and the current view.

Every write is one backend transaction: the records it adds, the edit statuses it changes, and the
current view it updates land together or not at all. The current view is materialised in its own
named graph so that a hop of a multi-hop question is a single index lookup.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from rdflib import RDF, RDFS, SKOS, XSD, Literal, URIRef

from kg import conflicts, editlog, schema
from kg.backend import Quad, TripleStore, open_backend
from kg.conflicts import Conflict
from kg.errors import ConflictError, InputError
from kg.preview import EditEffect
from kg.preview import preview as preview_edit
from kg.records import Edit, EditOutcome, EditRequest, EditStatus, Entity, Fact, Origin, Relation, StoreStats
from kg.relation_inference import infer_relations
from kg.vocab import (
    BASE_GRAPH,
    CURRENT_GRAPH,
    EDITS_GRAPH,
    KG,
    SCHEMA_GRAPH,
    edit_iri,
    entity_id,
    entity_iri,
    relation_id,
    relation_iri,
)

log = logging.getLogger(__name__)
_STORE_NODE = URIRef(str(KG) + "store")


@dataclass(frozen=True)
class ChangeSet:
    """What one write did; listeners (the fact index, the linker) follow the store with it.

    ``added`` holds every current fact of each key the write touched, with its origin now, so a fact
    whose origin changed (an edit retracted back to the same base fact) is reported too.
    """

    added: tuple[Fact, ...] = ()
    removed: tuple[Fact, ...] = ()
    revision: int = 0
    entities: tuple[str, ...] = ()


@dataclass(frozen=True)
class FactHistory:
    subject: str
    relation: str
    base: tuple[str, ...]
    edits: tuple[Edit, ...]
    current: tuple[str, ...]


@dataclass
class ImportBundle:
    """Everything one import brings; :meth:`FactStore.import_bundle` writes it whole or not at all."""

    entities: list[Entity] = field(default_factory=list)
    relations: list[Relation] = field(default_factory=list)
    facts: list[tuple[str, str, str]] = field(default_factory=list)
    edits: list[EditRequest] = field(default_factory=list)
    source: str = ""
    skipped: dict[str, int] = field(default_factory=dict)  # what the reader left out, by reason
    # Labels the file gives for relations it brings no metadata for (an rdfs:label, a TSV column):
    # relations the store does not know are inferred from them and from the facts.
    relation_labels: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Relabel:
    entity: str
    old: str
    new: str


@dataclass(frozen=True)
class ImportReport:
    """What an import wrote, and what it changed or left out that the user should hear about."""

    entities: int
    relations: int
    facts: int
    edits: tuple[EditOutcome, ...]
    relabelled: tuple[Relabel, ...] = ()
    skipped: tuple[tuple[str, int], ...] = ()
    inferred: tuple[str, ...] = ()  # ids of relations whose metadata this import inferred
    restored_edits: int = 0  # edit records a full backup brought back (they are not re-applied)

    @property
    def edit_count(self) -> int:
        """Edits this import wrote: applied ones, or those a restored backup held."""
        return len(self.edits) + self.restored_edits

    def notices(self) -> list[str]:
        """What the user should hear beyond the counts: relabelled entities and what was left out."""
        found = [f"left out {reason}: {n}" for reason, n in self.skipped]
        if self.relabelled:
            shown = "; ".join(f"{r.entity}: {r.old!r} -> {r.new!r}" for r in self.relabelled[:5])
            more = f" and {len(self.relabelled) - 5} more" if len(self.relabelled) > 5 else ""
            found.append(
                f"relabelled {len(self.relabelled)} {'entity' if len(self.relabelled) == 1 else 'entities'} "
                f"({shown}{more}); each old label is kept as an alias"
            )
        return found


Listener = Callable[[ChangeSet], None]
Key = tuple[str, str]


class FactStore:
    """Domain operations over any :class:`TripleStore` backend."""

    def __init__(self, backend: TripleStore) -> None:
        self.backend = backend
        self._lock = threading.RLock()
        self._listeners: list[Listener] = []
        self._relations: dict[str, Relation] | None = None
        self._next_seq: int | None = None

    @classmethod
    def open(cls, url: str, read_only: bool = False) -> FactStore:
        """``read_only`` is for commands that only read: they work while another process (the app)
        holds an embedded store, from a snapshot of it, and any write is refused."""
        return cls(open_backend(url, read_only))

    def close(self) -> None:
        self.backend.close()

    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)

    # ----- schema -----------------------------------------------------------------------------

    def entity(self, ident: str) -> Entity | None:
        return schema.read_entity(self.backend, ident)

    def require_entity(self, ident: str, what: str = "entity") -> Entity:
        found = self.entity(ident)
        if found is None:
            raise InputError(f"unknown {what} {ident!r}: add it first (kgedit kg import, or the Curate tab)")
        return found

    def has_entity(self, ident: str) -> bool:
        return any(True for _ in self.backend.quads(entity_iri(ident), RDF.type, KG.Entity, SCHEMA_GRAPH))

    def entities(self) -> Iterator[Entity]:
        return iter(schema.all_entities(self.backend))

    def find_entities(self, text: str) -> list[Entity]:
        """Entities whose label or an alias is exactly ``text`` (the linker does fuzzy matching)."""
        nodes = {s for s, _, _, _ in self.backend.quads(None, RDFS.label, Literal(text), SCHEMA_GRAPH)}
        nodes |= {s for s, _, _, _ in self.backend.quads(None, SKOS.altLabel, Literal(text), SCHEMA_GRAPH)}
        found = (self.entity(entity_id(n)) for n in nodes if str(n).startswith(str(entity_iri(""))))
        return sorted((e for e in found if e is not None), key=lambda e: e.id)

    def relation(self, ident: str) -> Relation | None:
        return self._relation_table().get(ident)

    def require_relation(self, ident: str) -> Relation:
        found = self.relation(ident)
        if found is None:
            known = ", ".join(sorted(self._relation_table())[:12]) or "none yet"
            raise InputError(
                f"unknown relation {ident!r}: import its metadata first (kgedit kg import relations.tsv); "
                f"known relations include: {known}"
            )
        return found

    def relations(self) -> list[Relation]:
        return sorted(self._relation_table().values(), key=lambda r: r.id)

    def _relation_table(self) -> dict[str, Relation]:
        if self._relations is None:
            table = {}
            for ident in schema.all_relation_ids(self.backend):
                relation = schema.read_relation(self.backend, ident)
                if relation is not None:
                    table[ident] = relation
            self._relations = table
        return self._relations

    def add_entities(self, entities: Iterable[Entity]) -> int:
        return self.import_bundle(ImportBundle(entities=list(entities))).entities

    def add_relations(self, relations: Iterable[Relation]) -> int:
        return self.import_bundle(ImportBundle(relations=list(relations))).relations

    def add_facts(self, triples: Iterable[tuple[str, str, str]], source: str = "") -> int:
        return self.import_bundle(ImportBundle(facts=list(triples), source=source)).facts

    # ----- the current view -------------------------------------------------------------------

    def objects(self, subject: str, relation: str) -> list[Fact]:
        """Current facts of one (subject, relation), each with its origin (edit or base)."""
        s, r = entity_iri(subject), relation_iri(relation)
        found = [entity_id(o) for _, _, o, _ in self.backend.quads(s, r, None, CURRENT_GRAPH)]
        if not found:
            return []
        active = {e.object: e.id for e in self.edits_on(subject, relation) if e.status is EditStatus.ACTIVE}
        return [
            Fact(subject, relation, o, Origin.EDIT if o in active else Origin.BASE, active.get(o))
            for o in sorted(found)
        ]

    def facts_about(self, subject: str) -> list[Fact]:
        """Every current fact whose subject is ``subject``."""
        relations = {
            relation_id(p)
            for _, p, _, _ in self.backend.quads(entity_iri(subject), None, None, CURRENT_GRAPH)
        }
        return [fact for relation in sorted(relations) for fact in self.objects(subject, relation)]

    def facts_pointing_to(self, obj: str) -> list[Fact]:
        keys = {
            (entity_id(s), relation_id(p))
            for s, p, _, _ in self.backend.quads(None, None, entity_iri(obj), CURRENT_GRAPH)
        }
        return [f for s, r in sorted(keys) for f in self.objects(s, r) if f.object == obj]

    def current_facts(self) -> Iterator[Fact]:
        """All current facts; origins come from one read of the active edits."""
        active = {
            (e.subject, e.relation, e.object): e.id for e in self.edits() if e.status is EditStatus.ACTIVE
        }
        read = getattr(self.backend, "iri_triples", None)  # plain strings, where the backend can
        if read is not None:
            triples: Iterable[tuple[str, str, str]] = read(CURRENT_GRAPH)
        else:
            triples = ((s, p, o) for s, p, o, _ in self.backend.quads(None, None, None, CURRENT_GRAPH))
        ids: dict[str, str] = {}  # IRI -> id, local: a million facts name each entity many times
        for s, p, o in triples:
            subject = ids.get(s) or ids.setdefault(s, entity_id(s))
            obj = ids.get(o) or ids.setdefault(o, entity_id(o))
            triple = (subject, ids.get(p) or ids.setdefault(p, relation_id(p)), obj)
            edit = active.get(triple)
            yield Fact(*triple, origin=Origin.EDIT if edit else Origin.BASE, edit_id=edit)

    def base_objects(self, subject: str, relation: str) -> set[str]:
        s, r = entity_iri(subject), relation_iri(relation)
        return {entity_id(o) for _, _, o, _ in self.backend.quads(s, r, None, BASE_GRAPH)}

    # ----- edits ------------------------------------------------------------------------------

    def edits(self, status: EditStatus | None = None) -> list[Edit]:
        found = editlog.read_all_edits(self.backend)
        return [e for e in found if status is None or e.status is status]

    def edits_on(self, subject: str, relation: str) -> list[Edit]:
        return editlog.edits_on(self.backend, subject, relation)

    def get_edit(self, ident: str) -> Edit:
        found = editlog.read_edits(self.backend, [edit_iri(ident)])
        if not found:
            raise InputError(f"unknown edit id {ident!r}: list edits with 'kgedit kg history' or 'kg show'")
        return found[0]

    def edit(self, request: EditRequest, strict: bool = False) -> EditOutcome:
        return self.edit_many([request], strict=strict)[0]

    def edit_many(self, requests: Iterable[EditRequest], strict: bool = False) -> list[EditOutcome]:
        """Apply edits in order, in one transaction. Strict mode refuses any disagreeing edit."""
        return list(self.import_bundle(ImportBundle(edits=list(requests)), strict=strict).edits)

    def retract(self, ident: str) -> Edit:
        return self.retract_many([ident])[0]

    def retract_many(self, idents: Iterable[str]) -> list[Edit]:
        """Retract edits in one transaction; what they superseded comes back."""
        with self._lock:
            wanted = list(dict.fromkeys(idents))
            targets = [self.get_edit(i) for i in wanted]
            for target in targets:
                if target.status is EditStatus.RETRACTED:
                    raise InputError(f"edit {target.id} is already retracted")
            plan = _Plan(self)
            for target in targets:
                plan.key_edits(target.subject, target.relation)
                plan.set_status(target, EditStatus.RETRACTED, None)
            changes = plan.commit()
            retracted = [self.get_edit(t.id) for t in targets]
        self._notify(changes)
        return retracted

    def history(self, subject: str, relation: str) -> FactHistory:
        self.require_entity(subject, "subject")
        self.require_relation(relation)
        return FactHistory(
            subject,
            relation,
            tuple(sorted(self.base_objects(subject, relation))),
            tuple(self.edits_on(subject, relation)),
            tuple(f.object for f in self.objects(subject, relation)),
        )

    def preview(self, request: EditRequest) -> EditEffect:
        """What ``request`` would supersede and which active edits it would override; writes nothing."""
        return preview_edit(self, request)

    def conflicts(self) -> list[Conflict]:
        by_key: dict[Key, list[Edit]] = {}
        for edit in self.edits():
            by_key.setdefault((edit.subject, edit.relation), []).append(edit)
        found = (conflicts.find_conflict(s, r, edits) for (s, r), edits in sorted(by_key.items()))
        return [c for c in found if c is not None]

    # ----- bulk writes ------------------------------------------------------------------------

    def import_bundle(self, bundle: ImportBundle, strict: bool = False) -> ImportReport:
        """Validate everything first, then write entities, relations, facts and edits in one go."""
        with self._lock:
            plan = _Plan(self)
            report = plan.add_bundle(bundle, strict)
            changes = plan.commit()
        self._notify(changes)
        return report

    def stats(self) -> StoreStats:
        counts: dict[str, int] = {}
        for edit in self.edits():
            counts[edit.status.value] = counts.get(edit.status.value, 0) + 1
        # counted by the store, not by reading every entity back (a second at 100,000 entities)
        rows = self.backend.select(
            "SELECT (COUNT(?e) AS ?n) WHERE { GRAPH ?g { ?e a ?kind } }", {"g": SCHEMA_GRAPH, "kind": KG.Entity}
        )
        entity_count = int(rows[0]["n"]) if rows else 0
        return StoreStats(
            entities=entity_count,
            relations=len(self._relation_table()),
            base_facts=self.backend.count(BASE_GRAPH),
            current_facts=self.backend.count(CURRENT_GRAPH),
            edits=counts,
        )

    def revision(self) -> int:
        """A counter bumped by every write: derived data (the fact index) stamps it to detect staleness."""
        values = [int(o) for _, _, o, _ in self.backend.quads(_STORE_NODE, KG.revision, None, SCHEMA_GRAPH)]
        return max(values, default=0)

    def _notify(self, changes: ChangeSet) -> None:
        if not changes.revision:
            return  # nothing was written
        for listener in self._listeners:
            listener(changes)

    def _take_seq(self) -> int:
        if self._next_seq is None:
            seqs = [int(o) for _, _, o, _ in self.backend.quads(None, KG.seq, None, EDITS_GRAPH)]
            self._next_seq = max(seqs, default=0) + 1
        seq = self._next_seq
        self._next_seq += 1
        return seq


class _Plan:
    """One transaction being prepared: quads to remove and add, and the keys whose view must change."""

    def __init__(self, store: FactStore) -> None:
        self.store = store
        self.backend = store.backend
        self.remove: list[Quad] = []
        self.add: list[Quad] = []
        self.keys: dict[Key, list[Edit]] = {}
        self.new_base: dict[Key, set[str]] = {}
        self.new_entities: set[str] = set()
        self.new_relations: dict[str, Relation] = {}
        self.relations_changed = False
        self.new_edits: dict[str, int] = {}  # id -> seq of edits created by this plan

    def key_edits(self, subject: str, relation: str) -> list[Edit]:
        key = (subject, relation)
        if key not in self.keys:
            self.keys[key] = self.store.edits_on(subject, relation)
        return self.keys[key]

    def set_status(self, edit: Edit, status: EditStatus, superseded_by: str | None) -> None:
        edits = self.key_edits(edit.subject, edit.relation)
        index = next(i for i, e in enumerate(edits) if e.id == edit.id)
        current = edits[index]
        if current.status is status and current.superseded_by == superseded_by:
            return
        edits[index] = replace(current, status=status, superseded_by=superseded_by)
        if edit.id not in self.new_edits:
            remove, add = editlog.status_change(current, status, superseded_by)
            self.remove += remove
            self.add += add

    def relation(self, ident: str) -> Relation:
        if ident in self.new_relations:
            return self.new_relations[ident]
        return self.store.require_relation(ident)

    def entity_known(self, ident: str) -> bool:
        return ident in self.new_entities or self.store.has_entity(ident)

    def add_bundle(self, bundle: ImportBundle, strict: bool) -> ImportReport:
        relabelled = []
        for i, entity in enumerate(bundle.entities):
            _check_entity(entity, f"entity #{i + 1}")
            relabel = self._relabel(entity, strict)
            if relabel:
                relabelled.append(relabel)
            self.new_entities.add(entity.id)
            self.add += schema.entity_quads(entity)
        for relation in bundle.relations:
            _check_relation(relation)
            self.new_relations[relation.id] = relation
            self.add += schema.relation_quads(relation)
            # a relations file overrides what an earlier import inferred (or gave) for the same id
            self.remove += self.backend.quads(relation_iri(relation.id), None, None, SCHEMA_GRAPH)
        inferred = self.infer_relations(bundle)
        facts = 0
        known = self.new_relations.keys() | self.store._relation_table().keys()
        for i, (s, r, o) in enumerate(bundle.facts):
            if r not in known or s not in self.new_entities or o not in self.new_entities:
                # the common case (both ends labelled in this import) needs no message or lookup
                self._check_triple(s, r, o, f"fact #{i + 1} ({s}, {r}, {o})")
            if o in self.new_base.setdefault((s, r), set()):
                continue
            self.new_base[(s, r)].add(o)
            self.add.append((entity_iri(s), relation_iri(r), entity_iri(o), BASE_GRAPH))
            facts += 1
        outcomes = [self._add_edit(request, strict, bundle.source) for request in bundle.edits]
        return ImportReport(
            len(bundle.entities),
            len(bundle.relations),
            facts,
            tuple(outcomes),
            tuple(relabelled),
            tuple(sorted(bundle.skipped.items())),
            inferred,
        )

    def infer_relations(self, bundle: ImportBundle) -> tuple[str, ...]:
        """Metadata for the bundle's fact relations that neither the bundle nor the store describes."""
        unknown = {r for _, r, _ in bundle.facts} - self.new_relations.keys()
        unknown = {r for r in unknown if self.store.relation(r) is None}
        for relation in infer_relations(unknown, bundle.facts, bundle.relation_labels):
            _check_relation(relation)
            self.new_relations[relation.id] = relation
            self.add += schema.relation_quads(relation)
        return tuple(sorted(unknown))

    def _relabel(self, entity: Entity, strict: bool) -> Relabel | None:
        """A stored entity given another label: the new one replaces it and the old stays as an alias,
        so the entity keeps one label and the old name still finds it; strict mode refuses."""
        if entity.id in self.new_entities:
            return None
        node = entity_iri(entity.id)
        old = [o for _, _, o, _ in self.backend.quads(node, RDFS.label, None, SCHEMA_GRAPH)]
        if not old or old == [Literal(entity.label)]:
            return None
        if strict:
            raise InputError(
                f"entity {entity.id!r} is labelled {str(old[0])!r} in the store but {entity.label!r} here; "
                "import without --strict to relabel it (the old label is kept as an alias)"
            )
        self.remove += [(node, RDFS.label, o, SCHEMA_GRAPH) for o in old]
        self.add += [(node, SKOS.altLabel, o, SCHEMA_GRAPH) for o in old]
        return Relabel(entity.id, str(old[0]), entity.label)

    def _check_triple(self, s: str, r: str, o: str, where: str) -> None:
        self.relation(r)  # raises InputError for an unknown relation
        for ident, role in ((s, "subject"), (o, "object")):
            if not self.entity_known(ident):
                raise InputError(f"{where}: unknown {role} entity {ident!r}; give it a label first")

    def _add_edit(self, request: EditRequest, strict: bool, source: str) -> EditOutcome:
        where = f"edit ({request.subject}, {request.relation}, {request.object})"
        for text in (request.subject, request.relation, request.object, request.note, request.author, request.source):
            check_text(text, f"{where}: a field")
        if not request.subject or not self.entity_known(request.subject):
            raise InputError(f"{where}: the subject {request.subject!r} does not exist in the store")
        relation = self.relation(request.relation)
        if not request.object or not self.entity_known(request.object):
            raise InputError(f"{where}: the new object {request.object!r} does not exist in the store")
        edits = self.key_edits(request.subject, request.relation)
        before = self._view(request.subject, request.relation)
        if strict and relation.functional:
            clash = [e for e in edits if e.status is EditStatus.ACTIVE and e.object != request.object]
            if clash:
                raise ConflictError(
                    f"{where} disagrees with active edit {clash[-1].id} "
                    f"({clash[-1].subject}, {clash[-1].relation}, {clash[-1].object}); "
                    "retract that edit first, or apply without strict mode (the newer edit wins)"
                )
        replaces = tuple(sorted(before - {request.object})) if relation.functional else request.replaces
        seq = self.store._take_seq()
        edit = Edit(
            id=f"E{seq}",
            subject=request.subject,
            relation=request.relation,
            object=request.object,
            replaces=replaces,
            author=request.author or "anonymous",
            time=datetime.now(UTC),
            note=request.note,
            source=request.source or source,
        )
        self.new_edits[edit.id] = seq
        edits.append(edit)
        superseded = self._resolve(request.subject, request.relation)
        removed = tuple(
            Fact(request.subject, request.relation, o)
            for o in sorted(before - self._view(request.subject, request.relation))
        )
        return EditOutcome(edit, removed, tuple(superseded))

    def _resolve(self, subject: str, relation: str) -> list[str]:
        edits = self.key_edits(subject, relation)
        decided = conflicts.resolve(edits, self.relation(relation).functional)
        newly_superseded = []
        for edit in list(edits):
            if edit.id not in decided:
                continue
            status, by = decided[edit.id]
            if status is EditStatus.SUPERSEDED and edit.status is not EditStatus.SUPERSEDED:
                newly_superseded.append(edit.id)
            self.set_status(edit, status, by)
        return newly_superseded

    def _view(self, subject: str, relation: str) -> set[str]:
        base = self.store.base_objects(subject, relation) | self.new_base.get((subject, relation), set())
        return conflicts.current_objects(
            base, self.key_edits(subject, relation), self.relation(relation).functional
        )

    def commit(self) -> ChangeSet:
        for subject, relation in list(self.keys):
            self._resolve(subject, relation)
        added: list[Fact] = []
        removed: list[Fact] = []
        for (s, r), objects in self.new_base.items():
            if (s, r) not in self.keys:
                added += [Fact(s, r, o) for o in objects]
        for (s, r), edits in self.keys.items():
            self.add += [
                q
                for e in edits
                if e.id in self.new_edits
                for q in editlog.edit_quads(e, self.new_edits[e.id])
            ]
            active = {e.object: e.id for e in edits if e.status is EditStatus.ACTIVE}
            view = self._view(s, r)
            stored = {
                entity_id(o)
                for _, _, o, _ in self.backend.quads(entity_iri(s), relation_iri(r), None, CURRENT_GRAPH)
            }
            for o in sorted(stored - view):
                removed.append(Fact(s, r, o))
            for o in sorted(view):
                added.append(Fact(s, r, o, Origin.EDIT if o in active else Origin.BASE, active.get(o)))
        self.add += [
            (entity_iri(f.subject), relation_iri(f.relation), entity_iri(f.object), CURRENT_GRAPH)
            for f in added
        ]
        self.remove += [
            (entity_iri(f.subject), relation_iri(f.relation), entity_iri(f.object), CURRENT_GRAPH)
            for f in removed
        ]
        if not self.add and not self.remove:
            return ChangeSet()
        revision = self.store.revision() + 1
        old = list(self.backend.quads(_STORE_NODE, KG.revision, None, SCHEMA_GRAPH))
        self.add.append((_STORE_NODE, KG.revision, Literal(revision, datatype=XSD.integer), SCHEMA_GRAPH))
        try:
            if self.remove:
                self.backend.apply(self.remove + old, self.add)
            else:
                self.backend.apply((), self.add)
                self.backend.apply(old, ())  # stale counters are harmless: revision() takes the max
        except Exception:
            self.store._next_seq = None
            raise
        if self.new_relations:
            self.store._relations = None
        return ChangeSet(tuple(added), tuple(removed), revision, tuple(sorted(self.new_entities)))


def check_text(value: str, what: str) -> None:
    """Refuse text that is not valid Unicode: lone surrogates (from undecodable bytes) cannot be
    stored, hashed or sent, and would fail later, far from where they came in."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise InputError(
            f"{what} is not valid Unicode (undecodable bytes at character {exc.start}); fix its encoding or retype it"
        ) from exc


def _check_entity(entity: Entity, where: str) -> None:
    if not isinstance(entity.id, str) or not entity.id.strip():
        raise InputError(f"{where}: empty entity id")
    if not isinstance(entity.label, str) or not entity.label.strip():
        raise InputError(f"{where} ({entity.id}): empty label; every entity needs a label")
    for text in (entity.id, entity.label, *entity.aliases):
        check_text(text, f"{where}: a name or id")


def _check_relation(relation: Relation) -> None:
    where = f"relation {relation.id!r}"
    if not relation.id.strip() or not relation.label.strip():
        raise InputError(f"{where}: empty id or label")
    if "{subject}" not in relation.statement_template or "{object}" not in relation.statement_template:
        raise InputError(f"{where}: the statement template must contain {{subject}} and {{object}}")
    if "{subject}" not in relation.question_template:
        raise InputError(f"{where}: the question template must contain {{subject}}")
    for text in (relation.id, relation.label, relation.statement_template, relation.question_template):
        check_text(text, f"{where}: a label or template")
