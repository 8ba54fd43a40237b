"""RDF files: Turtle and N-Triples exports, and N-Quads whole-store backups.

Turtle and N-Triples carry the schema (entities with labels, relations with templates) and facts;
reading them is :mod:`kg.io.rdf_read`. N-Quads carries every named graph, edits and their history
included, so it restores a store exactly.
"""

from __future__ import annotations

import logging
from pathlib import Path

from rdflib import SKOS, XSD, Dataset, Graph, Literal, URIRef

from kg.backend import Quad
from kg.errors import InputError
from kg.store import FactStore
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
