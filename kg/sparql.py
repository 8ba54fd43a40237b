"""Binding values into SPARQL as RDF terms, the same way for every backend.

Values are written by rdflib's own N-Triples serialiser into a ``VALUES`` block placed at the start
of the query's WHERE group, so user text is always a quoted, escaped RDF term and never SPARQL syntax.
"""

from __future__ import annotations

from collections.abc import Mapping

from rdflib import Literal, URIRef

from kg.errors import StoreError

Node = URIRef | Literal


def term_n3(term: Node) -> str:
    if isinstance(term, URIRef):
        text = str(term)
        if any(ch in text for ch in '<>"{}|^`\\ \n\r\t'):
            raise StoreError(f"IRI {text!r} contains characters that are not allowed in an IRI")
        return f"<{text}>"
    if isinstance(term, Literal):
        return term.n3()
    raise StoreError(f"cannot bind {term!r}: only IRIs and literals can be bound")


def bind(query: str, bindings: Mapping[str, Node] | None) -> str:
    if not bindings:
        return query
    marker = query.find("WHERE {")
    if marker < 0:
        raise StoreError("internal error: a query with bindings must have a 'WHERE {' group")
    names = " ".join(f"?{name}" for name in bindings)
    values = " ".join(term_n3(value) for value in bindings.values())
    block = f" VALUES ({names}) {{ ({values}) }} "
    cut = marker + len("WHERE {")
    return query[:cut] + block + query[cut:]
