"""From what a curator types to the store's ids: entities and relations, with "did you mean".

One resolver for the command line, the UI and plain-text curation. An id, an exact label or an
exact alias resolves; anything else is an error that names the closest labels, so a typo is caught
at the prompt instead of becoming a new entity.
"""

from __future__ import annotations

import re

from rapidfuzz import fuzz, process

from kg.errors import InputError
from kg.records import Entity, Relation
from kg.store import FactStore

CLOSE_CUTOFF = 80.0  # character similarity (0..100) at which a name is a likely typo of a label ('Eurro' ~ 'Euro': 89)
SUGGESTIONS = 3


class CloseNameError(InputError):
    """A name that is no entity yet but is close to existing labels: creating it needs a confirmation."""

    def __init__(self, text: str, close: list[Entity]) -> None:
        self.text = text
        self.close = close
        super().__init__(
            f"no entity is called {text!r}, but it is close to {_listing(close)}: "
            f"use that entity, or confirm that {text!r} is a new entity"
        )


def resolve_entity(store: FactStore, text: str | None, role: str = "entity") -> Entity:
    """An entity by id, else by exact label or alias; ambiguity and unknown names are errors."""
    text = (text or "").strip()
    if not text:
        raise InputError(f"the {role} is empty; give an entity id, label or alias")
    found = store.entity(text)
    if found is not None:
        return found
    matches = store.find_entities(text)
    if len(matches) == 1:
        return matches[0]
    if matches:
        raise InputError(f"the {role} {text!r} is ambiguous: {_listing(matches[:5])}; use an id")
    close = close_entities(store, text)
    hint = f"; did you mean {_listing(close)}?" if close else "; give an id, label or alias"
    raise InputError(f"no entity is called {text!r} (the {role}){hint}")


def close_entities(store: FactStore, text: str) -> list[Entity]:
    """Entities whose label or an alias is spelt almost like ``text``, closest first."""
    wanted = text.strip().casefold()
    named = [(name.casefold(), entity) for entity in store.entities() for name in (entity.label, *entity.aliases)]
    scored: dict[str, tuple[float, Entity]] = {}
    matches = process.extract(wanted, [n for n, _ in named], scorer=fuzz.ratio, score_cutoff=CLOSE_CUTOFF, limit=None)
    for _, ratio, at in matches:  # the same maintained matcher as the linker's (retrieval.fuzzy)
        entity = named[at][1]
        if ratio > scored.get(entity.id, (0.0, entity))[0]:
            scored[entity.id] = (ratio, entity)
    ranked = sorted(scored.values(), key=lambda pair: (-pair[0], pair[1].id))
    return [entity for _, entity in ranked[:SUGGESTIONS]]


def resolve_relation(store: FactStore, text: str | None) -> Relation:
    """A relation by id, label, or the "label (id)" a picker shows; else an error naming close labels."""
    text = (text or "").strip()
    if not text:
        raise InputError("the relation is empty; give a relation id (P36) or label (capital)")
    found = store.relation(text)
    if found is not None:
        return found
    lowered = text.lower()
    relations = store.relations()
    for relation in relations:
        if lowered in (relation.label.lower(), f"{relation.label} ({relation.id})".lower()):
            return relation
    labels = [r.label.lower() for r in relations]
    found_close = process.extract(lowered, labels, scorer=fuzz.ratio, score_cutoff=CLOSE_CUTOFF, limit=SUGGESTIONS)
    close = [label for label, _, _ in found_close]
    hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    raise InputError(f"unknown relation {text!r}{hint} (list them with 'kgedit kg relations')")


def new_entity_id(store: FactStore, label: str, taken: set[str] | frozenset[str] = frozenset()) -> str:
    """A fresh ``kg:`` id made from the label, unused by the store and by ``taken``."""
    base = re.sub(r"[^0-9A-Za-z]+", "_", label.strip())[:60].strip("_") or "entity"
    ident, n = f"kg:{base}", 1
    while store.has_entity(ident) or ident in taken:
        n += 1
        ident = f"kg:{base}_{n}"
    return ident


class StoreLabels(dict[str, str]):
    """Labels for a preview, read from the store as the preview asks for them (a graph may be too
    large to map every label up front)."""

    def __init__(self, store: FactStore, known: dict[str, str]) -> None:
        super().__init__(known)
        self.store = store

    def get(self, key: str, default: str | None = None) -> str:  # type: ignore[override]
        if key not in self:
            found = self.store.entity(key)
            self[key] = found.label if found else (default if default is not None else key)
        return self[key]


def _listing(entities: list[Entity]) -> str:
    return ", ".join(f"{e.label!r} ({e.id})" for e in entities)
