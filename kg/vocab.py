"""IRIs of kgedit's RDF vocabulary, its named graphs, and the mapping between ids and IRIs.

Ids are what users and datasets use ("Q30", "E:Japan", "P36"); IRIs are what the graph stores.
The mapping is reversible and percent-encodes anything that is not safe in an IRI.
"""

from __future__ import annotations

from functools import lru_cache
from urllib.parse import quote, unquote

from rdflib import Namespace, URIRef

BASE_IRI = "http://kgedit.org/"
ENTITY = Namespace(BASE_IRI + "entity/")
RELATION = Namespace(BASE_IRI + "relation/")
EDIT = Namespace(BASE_IRI + "edit/")
KG = Namespace(BASE_IRI + "vocab#")

# Named graphs: base facts and edits are kept apart so an edit never destroys a base fact;
# CURRENT is the materialised current view, updated in the same transaction as each edit.
BASE_GRAPH = URIRef(BASE_IRI + "graph/base")
CURRENT_GRAPH = URIRef(BASE_IRI + "graph/current")
EDITS_GRAPH = URIRef(BASE_IRI + "graph/edits")
SCHEMA_GRAPH = URIRef(BASE_IRI + "graph/schema")

_SAFE = "-._~:!$&'()*+,;=@"


@lru_cache(maxsize=1 << 18)
def _to_iri(namespace: Namespace, ident: str) -> URIRef:
    """Memoised: an import names each entity dozens of times, and quoting is most of an IRI's cost."""
    return URIRef(str(namespace) + quote(ident, safe=_SAFE))


@lru_cache(maxsize=1 << 18)
def _from_iri(namespace: Namespace, iri: str) -> str:
    text = str(iri)
    prefix = str(namespace)
    if not text.startswith(prefix):
        raise ValueError(f"{text} is not in namespace {prefix}")
    return unquote(text[len(prefix) :])


def entity_iri(ident: str) -> URIRef:
    return _to_iri(ENTITY, ident)


def entity_id(iri: str) -> str:
    return _from_iri(ENTITY, iri)


def relation_iri(ident: str) -> URIRef:
    return _to_iri(RELATION, ident)


def relation_id(iri: str) -> str:
    return _from_iri(RELATION, iri)


def edit_iri(ident: str) -> URIRef:
    return _to_iri(EDIT, ident)


def edit_id(iri: str) -> str:
    return _from_iri(EDIT, iri)
