"""Entity labels for statements, read once in bulk and then one at a time as facts arrive."""

from __future__ import annotations

from rdflib import RDFS

from kg.store import FactStore
from kg.vocab import ENTITY, SCHEMA_GRAPH, entity_id


class LabelCache:
    """id -> label, so building statements for 100,000 facts is one pass over the labels, not 100,000 reads."""

    def __init__(self, store: FactStore) -> None:
        self.store = store
        self._labels: dict[str, str] = {}

    def load_all(self) -> None:
        prefix = str(ENTITY)
        labels: dict[str, str] = {}
        for node, _, label, _ in self.store.backend.quads(None, RDFS.label, None, SCHEMA_GRAPH):
            if str(node).startswith(prefix):
                labels.setdefault(entity_id(node), str(label))
        self._labels = labels

    def label(self, ident: str) -> str:
        found = self._labels.get(ident)
        if found is None:
            entity = self.store.entity(ident)
            found = entity.label if entity is not None else ident
            self._labels[ident] = found
        return found
