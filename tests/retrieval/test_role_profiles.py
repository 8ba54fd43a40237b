"""Role profiles: how well an entity fits a relation's slot, read from the graph's own facts."""

from __future__ import annotations

from kg.records import Entity, Relation
from kg.store import FactStore, ImportBundle
from retrieval.role_profiles import UNKNOWN_FIT, RoleProfiles

BORDER = Relation("P47", "shares border with", "{subject} borders {object}.", "What borders {subject}?", False)


def test_an_entity_fits_the_slots_its_kind_fills(tiny_store: FactStore) -> None:
    profiles = RoleProfiles(tiny_store)
    assert profiles.fit("Q90", "P36", as_subject=False) == 1.0  # Paris is a capital
    assert profiles.fit("Q220", "P36", as_subject=False) == 1.0
    assert profiles.fit("Q142", "P36", as_subject=False) == 0.0  # France is no city
    assert profiles.fit("Q142", "P36", as_subject=True) == 1.0
    assert profiles.fit("Q456", "P36", as_subject=False) == UNKNOWN_FIT  # Lyon has no facts yet


def test_roles_follow_the_store_after_a_write(tiny_store: FactStore) -> None:
    profiles = RoleProfiles(tiny_store)
    assert profiles.fit("Q456", "P36", as_subject=False) == UNKNOWN_FIT
    tiny_store.add_facts([("Q38", "P36", "Q456")])
    assert profiles.fit("Q456", "P36", as_subject=False) == 1.0


def test_a_relation_stated_both_ways_is_symmetric(tiny_store: FactStore) -> None:
    countries = [Entity(f"C{i}", f"Country {i}") for i in range(4)]
    pairs = [("C0", "C1"), ("C1", "C2"), ("C2", "C3")]
    facts = [(a, "P47", b) for a, b in pairs] + [(b, "P47", a) for a, b in pairs]
    tiny_store.import_bundle(ImportBundle(countries, [BORDER], facts))
    profiles = RoleProfiles(tiny_store)
    assert profiles.symmetric("P47")
    assert not profiles.symmetric("P36")
