"""Edit records as RDF in the edits graph: writing, reading and status changes."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from rdflib import RDF, XSD, Literal, URIRef

from kg.backend import Node, Quad, TripleStore
from kg.records import Edit, EditStatus
from kg.vocab import EDITS_GRAPH, KG, edit_id, edit_iri, entity_id, entity_iri, relation_id, relation_iri


def edit_quads(edit: Edit, seq: int) -> list[Quad]:
    node = edit_iri(edit.id)
    g = EDITS_GRAPH
    quads: list[Quad] = [
        (node, RDF.type, KG.Edit, g),
        (node, KG.seq, Literal(seq, datatype=XSD.integer), g),
        (node, KG.subject, entity_iri(edit.subject), g),
        (node, KG.relation, relation_iri(edit.relation), g),
        (node, KG.object, entity_iri(edit.object), g),
        (node, KG.author, Literal(edit.author), g),
        (node, KG.time, Literal(edit.time.isoformat(), datatype=XSD.dateTime), g),
        (node, KG.note, Literal(edit.note), g),
        (node, KG.source, Literal(edit.source), g),
        (node, KG.status, Literal(edit.status.value), g),
    ]
    quads += [(node, KG.replaces, entity_iri(obj), g) for obj in edit.replaces]
    if edit.superseded_by:
        quads.append((node, KG.supersededBy, edit_iri(edit.superseded_by), g))
    return quads


def status_change(edit: Edit, status: EditStatus, superseded_by: str | None) -> tuple[list[Quad], list[Quad]]:
    """The quads to remove and add to move ``edit`` to a new status."""
    node = edit_iri(edit.id)
    remove: list[Quad] = [(node, KG.status, Literal(edit.status.value), EDITS_GRAPH)]
    if edit.superseded_by:
        remove.append((node, KG.supersededBy, edit_iri(edit.superseded_by), EDITS_GRAPH))
    add: list[Quad] = [(node, KG.status, Literal(status.value), EDITS_GRAPH)]
    if superseded_by:
        add.append((node, KG.supersededBy, edit_iri(superseded_by), EDITS_GRAPH))
    return remove, add


def _edit_from(node: URIRef, props: dict[URIRef, list[Node]]) -> tuple[int, Edit]:
    def one(key: URIRef) -> Node:
        return props[key][0]

    superseded = props.get(KG.supersededBy)
    edit = Edit(
        id=edit_id(node),
        subject=entity_id(one(KG.subject)),
        relation=relation_id(one(KG.relation)),
        object=entity_id(one(KG.object)),
        replaces=tuple(sorted(entity_id(o) for o in props.get(KG.replaces, []))),
        author=str(one(KG.author)),
        time=datetime.fromisoformat(str(one(KG.time))),
        note=str(one(KG.note)),
        status=EditStatus(str(one(KG.status))),
        source=str(one(KG.source)),
        superseded_by=edit_id(superseded[0]) if superseded else None,
    )
    return int(one(KG.seq)), edit


def read_edits(backend: TripleStore, nodes: Iterable[URIRef]) -> list[Edit]:
    """Edits in the order they were made (by sequence number)."""
    found = []
    for node in nodes:
        props: dict[URIRef, list[Node]] = {}
        for _, predicate, obj, _ in backend.quads(node, None, None, EDITS_GRAPH):
            props.setdefault(predicate, []).append(obj)
        if KG.Edit in props.get(RDF.type, []):
            found.append(_edit_from(node, props))
    return [edit for _, edit in sorted(found, key=lambda pair: pair[0])]


def read_all_edits(backend: TripleStore) -> list[Edit]:
    by_node: dict[URIRef, dict[URIRef, list[Node]]] = {}
    for subject, predicate, obj, _ in backend.quads(None, None, None, EDITS_GRAPH):
        by_node.setdefault(subject, {}).setdefault(predicate, []).append(obj)
    found = [_edit_from(node, props) for node, props in by_node.items() if KG.Edit in props.get(RDF.type, [])]
    return [edit for _, edit in sorted(found, key=lambda pair: pair[0])]


def edits_on(backend: TripleStore, subject: str, relation: str) -> list[Edit]:
    """Every edit (any status) of one (subject, relation) key, oldest first, in one query."""
    rows = backend.select(
        "SELECT ?e ?p ?o WHERE { GRAPH ?g { ?e ?key_s ?s ; ?key_r ?r ; ?p ?o } }",
        {
            "g": EDITS_GRAPH,
            "key_s": KG.subject,
            "s": entity_iri(subject),
            "key_r": KG.relation,
            "r": relation_iri(relation),
        },
    )
    by_node: dict[URIRef, dict[URIRef, list[Node]]] = {}
    for row in rows:
        node, predicate = row["e"], row["p"]
        if isinstance(node, URIRef) and isinstance(predicate, URIRef):
            by_node.setdefault(node, {}).setdefault(predicate, []).append(row["o"])
    found = [_edit_from(node, props) for node, props in by_node.items() if KG.Edit in props.get(RDF.type, [])]
    return [edit for _, edit in sorted(found, key=lambda pair: pair[0])]
