"""RDF files: Turtle and N-Triples merge into a store; N-Quads is a whole-store backup.

Turtle and N-Triples carry the schema (entities with labels, relations with templates) and facts.
N-Quads carries every named graph, edits and their history included, so it restores a store exactly.
IRIs from Wikidata (``wd:Q30``, ``wdt:P36``) map to ids "Q30" and "P36"; other foreign IRIs keep the
full IRI as their id.
"""

from __future__ import annotations

import logging
from pathlib import Path

from rdflib import RDF, RDFS, SKOS, XSD, Dataset, Graph, Literal, URIRef

from kg.backend import Quad
from kg.errors import InputError
from kg.records import Entity, Relation
from kg.store import FactStore, ImportBundle
from kg.vocab import (
    BASE_GRAPH,
    BASE_IRI,
    CURRENT_GRAPH,
    EDITS_GRAPH,
    ENTITY,
    KG,
    RELATION,
    SCHEMA_GRAPH,
    entity_iri,
    relation_iri,
)

log = logging.getLogger(__name__)

WIKIDATA_ENTITY = "http://www.wikidata.org/entity/"
WIKIDATA_DIRECT = "http://www.wikidata.org/prop/direct/"
OUR_GRAPHS = (SCHEMA_GRAPH, BASE_GRAPH, EDITS_GRAPH, CURRENT_GRAPH)


def _local_id(iri: URIRef, ours: str) -> str:
    from urllib.parse import unquote

    text = str(iri)
    if text.startswith(ours):
        return unquote(text[len(ours) :])
    for prefix in (WIKIDATA_ENTITY, WIKIDATA_DIRECT):
        if text.startswith(prefix):
            return text[len(prefix) :]
    return text


def _parse(path: Path, fmt: str) -> Graph:
    graph = Graph()
    try:
        graph.parse(path, format=fmt)
    except Exception as exc:  # rdflib's parsers raise many types (BadSyntax, IndexError, ...) on bad input
        message = " ".join(str(exc).strip().splitlines()) or type(exc).__name__
        raise InputError(f"{path}: not valid {fmt}: {message[:400]}") from exc
    return graph


def read_rdf(path: Path, fmt: str) -> ImportBundle:
    graph = _parse(path, fmt)
    relation_nodes = {n for n in graph.subjects(RDF.type, KG.Relation) if isinstance(n, URIRef)}
    relations = []
    for node in sorted(relation_nodes):

        def text(predicate: URIRef, node: URIRef = node) -> str:
            value = graph.value(node, predicate)
            if value is None:
                raise InputError(f"{path}: relation <{node}> has no {predicate.split('#')[-1]}")
            return str(value)

        functional = graph.value(node, KG.functional)
        wikidata = graph.value(node, KG.wikidata)
        relations.append(
            Relation(
                _local_id(node, str(RELATION)),
                text(RDFS.label),
                text(KG.statementTemplate),
                text(KG.questionTemplate),
                bool(functional.toPython()) if isinstance(functional, Literal) else True,
                str(wikidata) if wikidata else None,
            )
        )
    labels: dict[URIRef, str] = {}
    aliases: dict[URIRef, list[str]] = {}
    wikidata_ids: dict[URIRef, str] = {}
    facts = []
    skipped = 0
    for s, p, o in graph:
        if s in relation_nodes or not isinstance(s, URIRef) or not isinstance(p, URIRef) or p == RDF.type:
            continue
        if p == RDFS.label:
            labels[s] = str(o)
        elif p == SKOS.altLabel:
            aliases.setdefault(s, []).append(str(o))
        elif p == KG.wikidata:
            wikidata_ids[s] = str(o)
        elif isinstance(o, URIRef):
            facts.append((_local_id(s, str(ENTITY)), _local_id(p, str(RELATION)), _local_id(o, str(ENTITY))))
        else:
            skipped += 1
    if skipped:
        log.warning("%s: skipped %d literal-valued triples that are not labels or aliases", path, skipped)
    # Unlabelled IRIs must already exist in the store; the import checks that.
    bundle_entities = [
        Entity(_local_id(node, str(ENTITY)), label, tuple(sorted(aliases.get(node, []))), wikidata_ids.get(node))
        for node, label in labels.items()
    ]
    return ImportBundle(bundle_entities, relations, facts, source=f"import:{path.name}")


def restore_nquads(store: FactStore, path: Path) -> int:
    """Load a kgedit N-Quads backup into an empty store, edits and history included."""
    if store.stats().entities or store.edits():
        raise InputError(
            f"{path}: an N-Quads backup restores a whole store and needs an empty one; "
            "to merge facts into this store, import Turtle, N-Triples or TSV instead"
        )
    dataset = Dataset()
    try:
        dataset.parse(path, format="nquads")
    except Exception as exc:
        raise InputError(f"{path}: not valid N-Quads: {str(exc)[:400]}") from exc
    quads: list[Quad] = []
    for s, p, o, g in dataset.quads((None, None, None, None)):
        graph = URIRef(str(g.identifier)) if g is not None and hasattr(g, "identifier") else URIRef(str(g))
        if graph not in OUR_GRAPHS:
            raise InputError(f"{path}: quad in graph <{graph}> is not part of a kgedit backup")
        if not isinstance(s, URIRef) or not isinstance(p, URIRef) or not isinstance(o, URIRef | Literal):
            raise InputError(f"{path}: blank nodes are not part of a kgedit backup")
        quads.append((s, p, o, graph))
    store.backend.apply((), quads)
    store._relations = None
    return len(quads)


def write_graph(store: FactStore, path: Path, fmt: str) -> int:
    """Schema plus the current view as plain triples (Turtle or N-Triples)."""
    graph = Graph()
    graph.bind("kg", KG)
    graph.bind("entity", ENTITY)
    graph.bind("rel", RELATION)
    graph.bind("skos", SKOS)
    for s, p, o, _ in store.backend.quads(None, None, None, SCHEMA_GRAPH):
        if str(s).startswith(BASE_IRI) and p != KG.revision:
            graph.add((s, p, o))
    for fact in store.current_facts():
        graph.add((entity_iri(fact.subject), relation_iri(fact.relation), entity_iri(fact.object)))
    graph.serialize(destination=path, format=fmt, encoding="utf-8")
    return len(graph)


def write_nquads(store: FactStore, path: Path) -> int:
    count = 0
    with path.open("w", encoding="utf-8") as handle:
        for graph in OUR_GRAPHS:
            for s, p, o, g in store.backend.quads(None, None, None, graph):
                handle.write(f"<{s}> <{p}> {_n3(o)} <{g}> .\n")
                count += 1
    return count


def _n3(term: object) -> str:
    if isinstance(term, URIRef):
        return f"<{term}>"
    assert isinstance(term, Literal)
    if term.datatype == XSD.string:
        return Literal(str(term)).n3()
    return term.n3()
