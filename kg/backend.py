"""The low-level quad store every backend implements, and the registry that picks one by URL.

The fact store above speaks only this protocol, so the same domain code and the same test suite run
on the in-memory store, Oxigraph on disk and a remote SPARQL endpoint. The registry has the shape of
the answering systems' one (:mod:`qa.systems`): a module registers its factories when imported, and
:data:`PROVIDERS` names the module to import for a scheme not registered yet, so opening a local
store never loads the SPARQL client.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Protocol, runtime_checkable

from rdflib import Literal, URIRef

from kg.errors import InputError

Node = URIRef | Literal
Quad = tuple[URIRef, URIRef, Node, URIRef]


@runtime_checkable
class TripleStore(Protocol):
    """A quad store with SPARQL SELECT, atomic change sets and pattern lookups.

    ``select`` binds every value from ``bindings`` as an RDF term (never pasted as text).
    ``apply`` removes then adds quads in one transaction: all of it lands, or none.
    """

    url: str

    def select(self, query: str, bindings: Mapping[str, Node] | None = None) -> list[dict[str, Node]]: ...

    def quads(
        self,
        subject: URIRef | None = None,
        predicate: URIRef | None = None,
        obj: Node | None = None,
        graph: URIRef | None = None,
    ) -> Iterator[Quad]: ...

    def count(self, graph: URIRef) -> int: ...

    def apply(self, remove: Iterable[Quad] = (), add: Iterable[Quad] = ()) -> None: ...

    def flush(self) -> None: ...

    def close(self) -> None: ...


BackendFactory = Callable[[str], TripleStore]
_REGISTRY: dict[str, BackendFactory] = {}
_READERS: dict[str, BackendFactory] = {}

# scheme -> module whose import registers that backend (kept as text so nothing loads early).
PROVIDERS: dict[str, str] = {
    "memory": "kg.oxigraph_backend",
    "oxigraph": "kg.oxigraph_backend",
    "sparql+http": "kg.sparql_backend",
    "sparql+https": "kg.sparql_backend",
}


def register_backend(scheme: str, factory: BackendFactory, reader: BackendFactory | None = None) -> None:
    """``reader`` opens the store for a command that only reads, where that differs (an embedded
    store another process holds can still be read from a snapshot)."""
    _REGISTRY[scheme] = factory
    if reader is not None:
        _READERS[scheme] = reader


def open_backend(url: str, read_only: bool = False) -> TripleStore:
    """Open a store from a URL-like setting: ``memory:``, ``oxigraph:PATH``, ``sparql+http://...``."""
    scheme, sep, _ = url.partition(":")
    if sep and scheme not in _REGISTRY and scheme in PROVIDERS:
        importlib.import_module(PROVIDERS[scheme])
    if not sep or scheme not in _REGISTRY:
        known = ", ".join(sorted(f"{name}:" for name in set(_REGISTRY) | set(PROVIDERS)))
        raise InputError(f"unknown store URL {url!r}: it must start with one of {known}")
    if read_only and scheme in _READERS:
        return _READERS[scheme](url)
    return _REGISTRY[scheme](url)
