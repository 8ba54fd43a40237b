"""RDF files: Turtle and N-Triples exports, and N-Quads whole-store backups.

Turtle and N-Triples carry the schema (entities with labels, relations with templates) and facts;
reading them is :mod:`kg.io.rdf_read`. N-Quads carries every named graph, edits and their history
included, so it restores a store exactly.
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

from rdflib import SKOS, Dataset, Graph, Literal, URIRef

from kg.backend import Node, Quad
from kg.errors import InputError
from kg.oxigraph_backend import to_ox
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
_BACKUP_HEADER = "# kgedit backup v1"
_BACKUP_TRAILER = "# kgedit backup end:"


def restore_nquads(store: FactStore, path: Path) -> int:
    """Load a kgedit N-Quads backup into an empty store, edits and history included.

    The whole file is checked against the count and checksum its last line carries before
    anything is parsed or written, so a truncated or altered backup is refused with the store untouched.
    """
    if store.stats().entities or store.edits():
        raise InputError(
            f"{path}: an N-Quads backup restores a whole store and needs an empty one; "
            "to merge facts into this store, import Turtle, N-Triples or TSV instead"
        )
    expected = verify_backup(path)
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
    if len(quads) != expected:
        raise InputError(f"{path}: the backup declares {expected} quads but {len(quads)} were read")
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
    """A full backup: every quad of kgedit's graphs, then a trailer with their count and checksum."""
    count = 0
    digest = hashlib.sha256()
    with path.open("wb") as handle:
        handle.write(f"{_BACKUP_HEADER}\n".encode())
        for graph in OUR_GRAPHS:
            for s, p, o, g in store.backend.quads(None, None, None, graph):
                line = f"<{s}> <{p}> {_n3(o)} <{g}> .\n".encode()
                handle.write(line)
                digest.update(line)
                count += 1
        handle.write(f"{_BACKUP_TRAILER} {count} quads sha256 {digest.hexdigest()}\n".encode())
    return count


def verify_backup(path: Path) -> int:
    """The number of quads a kgedit backup holds, after checking its trailer's count and checksum."""
    digest = hashlib.sha256()
    count = 0
    trailer = b""
    with path.open("rb") as handle:
        first = handle.readline()
        if first.rstrip(b"\r\n") != _BACKUP_HEADER.encode():
            raise InputError(
                f"{path}: not a kgedit backup (its first line is not {_BACKUP_HEADER!r}); "
                "restore only files written by 'kgedit kg export FILE.nq', or import Turtle or TSV instead"
            )
        for line in handle:
            if trailer:
                if line.strip():
                    raise InputError(f"{path}: data after the backup's last line; the file was altered")
                continue
            if line.startswith(_BACKUP_TRAILER.encode()):
                trailer = line
                continue
            digest.update(line)
            count += 1
    if not trailer:
        raise InputError(
            f"{path}: the backup is incomplete (its closing line is missing: the file was cut short, "
            f"{count} quads read); nothing was restored. Use a complete backup."
        )
    fields = trailer.decode("ascii", "replace").split()
    try:
        declared, checksum = int(fields[-4]), fields[-1]
    except (IndexError, ValueError) as exc:
        raise InputError(f"{path}: the backup's closing line is damaged; nothing was restored") from exc
    if declared != count or checksum != digest.hexdigest():
        raise InputError(
            f"{path}: the backup does not match its checksum ({count} quads read, {declared} declared); "
            "the file is damaged or was edited; nothing was restored"
        )
    return count


def _n3(term: Node) -> str:
    """A term in N-Triples syntax, written by Oxigraph: every line break inside a literal escaped,
    so that one quad is one line (rdflib's ``n3()`` writes long-string literals across lines)."""
    return str(to_ox(term))
