"""Entities and relations as RDF: how their records become quads and come back."""

from __future__ import annotations

from collections.abc import Iterable

from rdflib import RDF, RDFS, SKOS, XSD, Literal, URIRef

from kg.backend import Node, Quad, TripleStore
from kg.records import Entity, Relation
from kg.vocab import KG, SCHEMA_GRAPH, entity_id, entity_iri, relation_id, relation_iri


def entity_quads(entity: Entity) -> list[Quad]:
    node = entity_iri(entity.id)
    quads: list[Quad] = [
        (node, RDF.type, KG.Entity, SCHEMA_GRAPH),
        (node, RDFS.label, Literal(entity.label), SCHEMA_GRAPH),
    ]
    quads += [(node, SKOS.altLabel, Literal(alias), SCHEMA_GRAPH) for alias in entity.aliases]
    if entity.wikidata_id:
        quads.append((node, KG.wikidata, Literal(entity.wikidata_id), SCHEMA_GRAPH))
    return quads


def relation_quads(relation: Relation) -> list[Quad]:
    node = relation_iri(relation.id)
    quads: list[Quad] = [
        (node, RDF.type, KG.Relation, SCHEMA_GRAPH),
        (node, RDFS.label, Literal(relation.label), SCHEMA_GRAPH),
        (node, KG.statementTemplate, Literal(relation.statement_template), SCHEMA_GRAPH),
        (node, KG.questionTemplate, Literal(relation.question_template), SCHEMA_GRAPH),
        (node, KG.functional, Literal(relation.functional, datatype=XSD.boolean), SCHEMA_GRAPH),
    ]
    if relation.wikidata_id:
        quads.append((node, KG.wikidata, Literal(relation.wikidata_id), SCHEMA_GRAPH))
    if relation.inferred:
        quads.append((node, KG.inferred, Literal(True, datatype=XSD.boolean), SCHEMA_GRAPH))
    return quads


def _properties(backend: TripleStore, node: URIRef) -> dict[URIRef, list[Node]]:
    props: dict[URIRef, list[Node]] = {}
    for _, predicate, obj, _ in backend.quads(node, None, None, SCHEMA_GRAPH):
        props.setdefault(predicate, []).append(obj)
    return props


def read_entity(backend: TripleStore, ident: str) -> Entity | None:
    props = _properties(backend, entity_iri(ident))
    if KG.Entity not in props.get(RDF.type, []):
        return None
    return _entity_from(ident, props)


def _entity_from(ident: str, props: dict[URIRef, list[Node]]) -> Entity:
    wikidata = props.get(KG.wikidata)
    return Entity(
        id=ident,
        label=str(props.get(RDFS.label, [ident])[0]),
        aliases=tuple(sorted(str(a) for a in props.get(SKOS.altLabel, []))),
        wikidata_id=str(wikidata[0]) if wikidata else None,
    )


def read_relation(backend: TripleStore, ident: str) -> Relation | None:
    props = _properties(backend, relation_iri(ident))
    if KG.Relation not in props.get(RDF.type, []):
        return None
    wikidata = props.get(KG.wikidata)
    functional = props.get(KG.functional, [Literal(True)])[0]
    return Relation(
        id=ident,
        label=str(props[RDFS.label][0]),
        statement_template=str(props[KG.statementTemplate][0]),
        question_template=str(props[KG.questionTemplate][0]),
        functional=bool(functional.toPython()) if isinstance(functional, Literal) else True,
        wikidata_id=str(wikidata[0]) if wikidata else None,
        inferred=bool(props.get(KG.inferred)),
    )


def all_entities(backend: TripleStore) -> Iterable[Entity]:
    """Every entity, read in one pass over the schema graph (fast enough for 100,000s)."""
    by_node: dict[URIRef, dict[URIRef, list[Node]]] = {}
    for subject, predicate, obj, _ in backend.quads(None, None, None, SCHEMA_GRAPH):
        by_node.setdefault(subject, {}).setdefault(predicate, []).append(obj)
    for node, props in by_node.items():
        if KG.Entity in props.get(RDF.type, []):
            yield _entity_from(entity_id(node), props)


def all_relation_ids(backend: TripleStore) -> list[str]:
    return sorted(relation_id(s) for s, _, _, _ in backend.quads(None, RDF.type, KG.Relation, SCHEMA_GRAPH))
