"""How well an entity fits a relation's subject or object slot, learnt from the graph's own facts.

The graph has no entity types, but the roles an entity plays are a good stand-in: cities are objects
of "capital" and subjects of "country"; currencies are objects of "currency". An entity fits the object
slot of a relation as well as its roles match the roles of that relation's known objects. This settles
what the words alone cannot: "Luxembourg" the city or the country, "Paris is the capital of France"
read either way round, and which of two relations with similar wording ("country" or "citizenship")
a sentence means.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter

from kg.store import FactStore

log = logging.getLogger(__name__)

SYMMETRIC_MIN_FACTS = 4  # fewer facts say nothing about whether a relation reads both ways
SYMMETRIC_SHARE = 0.5  # this share of facts also stated the other way round makes a relation symmetric
UNKNOWN_FIT = 0.5  # an entity with no facts at all: nothing speaks for it or against it
_SUBJECT, _OBJECT = "s", "o"


class RoleProfiles:
    """Per entity, the (slot, relation) roles it plays; per relation slot, how often each role occurs
    among its fillers. Rebuilt from the store's current facts when the store's revision changes."""

    def __init__(self, store: FactStore) -> None:
        self.store = store
        self._lock = threading.Lock()
        self._revision = -1
        self._roles: dict[str, set[tuple[str, str]]] = {}
        self._profiles: dict[tuple[str, str], dict[tuple[str, str], float]] = {}
        self._symmetric: set[str] = set()

    def _current(self) -> None:
        revision = self.store.revision()
        if revision == self._revision:
            return
        roles: dict[str, set[tuple[str, str]]] = {}
        pairs: dict[str, set[tuple[str, str]]] = {}
        for fact in self.store.current_facts():
            roles.setdefault(fact.subject, set()).add((_SUBJECT, fact.relation))
            roles.setdefault(fact.object, set()).add((_OBJECT, fact.relation))
            pairs.setdefault(fact.relation, set()).add((fact.subject, fact.object))
        symmetric = {
            r
            for r, held in pairs.items()
            if len(held) >= SYMMETRIC_MIN_FACTS and sum((o, s) in held for s, o in held) >= SYMMETRIC_SHARE * len(held)
        }
        fillers: dict[tuple[str, str], set[str]] = {}
        for entity, held in roles.items():
            for role in held:
                fillers.setdefault(role, set()).add(entity)
        profiles: dict[tuple[str, str], dict[tuple[str, str], float]] = {}
        for slot, members in fillers.items():
            counts: Counter[tuple[str, str]] = Counter()
            for member in members:
                counts.update(roles[member])
            profiles[slot] = {role: n / len(members) for role, n in counts.items()}
        self._roles, self._profiles, self._symmetric, self._revision = roles, profiles, symmetric, revision
        log.debug("role profiles: %d entities, %d relation slots", len(roles), len(profiles))

    def fit(self, entity: str, relation: str, as_subject: bool) -> float:
        """0..1: how much ``entity`` looks like the subject (or object) of ``relation``."""
        with self._lock:
            self._current()
            held = self._roles.get(entity)
            slot = (_SUBJECT if as_subject else _OBJECT, relation)
            if not held:
                return UNKNOWN_FIT
            if slot in held:
                return 1.0
            profile = self._profiles.get(slot)
            if not profile:
                return UNKNOWN_FIT
            return max((profile.get(role, 0.0) for role in held), default=0.0)

    def holds(self, entity: str, relation: str, as_subject: bool) -> bool:
        with self._lock:
            self._current()
            return (_SUBJECT if as_subject else _OBJECT, relation) in self._roles.get(entity, set())

    def symmetric(self, relation: str) -> bool:
        """Whether the graph states this relation both ways round ("shares border with"), so a
        sentence's word order, not the model's guess of direction, decides the subject."""
        with self._lock:
            self._current()
            return relation in self._symmetric
