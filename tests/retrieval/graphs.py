"""Generated graphs for retrieval tests and benchmarks."""

from __future__ import annotations

from kg.records import Entity, Relation
from kg.store import ImportBundle

NUMBERED = Relation("P1", "numbered", "{subject} comes before {object}.", "What comes after {subject}?", True)


def numbered_world(count: int) -> ImportBundle:
    """A chain of ``count`` facts over generated entities: enough to cross the IVF threshold."""
    words = ["amber", "birch", "cedar", "delta", "ember", "fjord", "grove", "heath", "islet", "juniper"]
    entities = [
        Entity(f"N{i}", f"{words[i % 10].title()} {words[(i // 10) % 10]} station {i}")
        for i in range(count + 1)
    ]
    facts = [(f"N{i}", "P1", f"N{i + 1}") for i in range(count)]
    return ImportBundle(entities, [NUMBERED], facts, source="test")
