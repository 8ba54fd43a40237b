"""How well an entity fits a relation's subject or object slot, learnt from the graph's own facts.

The graph has no entity types, but the roles an entity plays are a good stand-in: cities are objects
of "capital" and subjects of "country"; currencies are objects of "currency". An entity fits the object
slot of a relation as well as its roles match the roles of that relation's known objects. This settles
what the words alone cannot: "Luxembourg" the city or the country, "Paris is the capital of France"
read either way round, and which of two relations with similar wording ("country" or "citizenship")
a sentence means.

Everything is read from the store's indexes on demand and from a bounded sample of each relation's
facts, so a read costs the same on a demo graph and on a million triples, and no write waits for it.
An entity's roles are re-read after any write; a relation's profile is kept for a while, since one
edit hardly moves what its subjects and objects look like.
"""

from __future__ import annotations

import itertools
import logging
import threading
from collections import Counter

from kg.store import FactStore
from kg.vocab import CURRENT_GRAPH, entity_id, entity_iri, relation_id, relation_iri

log = logging.getLogger(__name__)

SAMPLE_FACTS = 300  # facts of a relation read to profile its slots
ROLE_SCAN = 2_000  # facts of one entity read for its roles (a hub such as "United Nations" has many)
PROFILE_REVISIONS = 50  # a relation's profile is read again after this many writes
SYMMETRIC_MIN_FACTS = 4  # fewer facts say nothing about whether a relation reads both ways
SYMMETRIC_SHARE = 0.5  # this share of facts also stated the other way round makes a relation symmetric
UNKNOWN_FIT = 0.5  # an entity with no facts at all: nothing speaks for it or against it
_SUBJECT, _OBJECT = "s", "o"
Role = tuple[str, str]


class RoleProfiles:
    """Per entity, the (slot, relation) roles it plays; per relation slot, how often each role occurs
    among a sample of its fillers."""

    def __init__(self, store: FactStore) -> None:
        self.store = store
        self._lock = threading.Lock()
        self._revision = -1
        self._roles: dict[str, frozenset[Role]] = {}
        self._profiles: dict[Role, tuple[int, dict[Role, float]]] = {}
        self._symmetric: dict[str, tuple[int, bool]] = {}

    def _now(self) -> int:
        revision = self.store.revision()
        if revision != self._revision:
            self._roles.clear()
            self._revision = revision
        return revision

    def roles(self, entity: str) -> frozenset[Role]:
        with self._lock:
            self._now()
            return self._roles_of(entity)

    def _roles_of(self, entity: str) -> frozenset[Role]:
        found = self._roles.get(entity)
        if found is None:
            node, backend = entity_iri(entity), self.store.backend
            out = itertools.islice(backend.quads(node, None, None, CURRENT_GRAPH), ROLE_SCAN)
            into = itertools.islice(backend.quads(None, None, node, CURRENT_GRAPH), ROLE_SCAN)
            found = frozenset(
                {(_SUBJECT, relation_id(p)) for _, p, _, _ in out} | {(_OBJECT, relation_id(p)) for _, p, _, _ in into}
            )
            self._roles[entity] = found
        return found

    def _sample(self, relation: str) -> list[tuple[str, str]]:
        quads = self.store.backend.quads(None, relation_iri(relation), None, CURRENT_GRAPH)
        return [(entity_id(s), entity_id(o)) for s, _, o, _ in itertools.islice(quads, SAMPLE_FACTS)]

    def _profile(self, slot: Role, revision: int) -> dict[Role, float]:
        cached = self._profiles.get(slot)
        if cached is not None and revision - cached[0] < PROFILE_REVISIONS:
            return cached[1]
        side, relation = slot
        fillers = {s if side == _SUBJECT else o for s, o in self._sample(relation)}
        counts: Counter[Role] = Counter()
        for filler in fillers:
            counts.update(self._roles_of(filler))
        profile = {role: n / len(fillers) for role, n in counts.items()} if fillers else {}
        self._profiles[slot] = (revision, profile)
        return profile

    def fit(self, entity: str, relation: str, as_subject: bool) -> float:
        """0..1: how much ``entity`` looks like the subject (or object) of ``relation``."""
        with self._lock:
            revision = self._now()
            held = self._roles_of(entity)
            slot = (_SUBJECT if as_subject else _OBJECT, relation)
            if not held:
                return UNKNOWN_FIT
            if slot in held:
                return 1.0
            profile = self._profile(slot, revision)
            if not profile:
                return UNKNOWN_FIT
            return max((profile.get(role, 0.0) for role in held), default=0.0)

    def symmetric(self, relation: str) -> bool:
        """Whether the graph states this relation both ways round ("shares border with"), so a
        sentence's word order, not the model's guess of direction, decides the subject."""
        with self._lock:
            revision = self._now()
            cached = self._symmetric.get(relation)
            if cached is not None and revision - cached[0] < PROFILE_REVISIONS:
                return cached[1]
            pairs = set(self._sample(relation))
            node = relation_iri(relation)
            both = sum(
                any(True for _ in self.store.backend.quads(entity_iri(o), node, entity_iri(s), CURRENT_GRAPH))
                for s, o in pairs
            )
            answer = len(pairs) >= SYMMETRIC_MIN_FACTS and both >= SYMMETRIC_SHARE * len(pairs)
            self._symmetric[relation] = (revision, answer)
            return answer
