"""Dense graphs for testing: same-kind distractor facts added to any graph.

A graph built from a benchmark's gold chains is an oracle: an entity has one or two relations, so the
walker rarely has to choose. Real graphs are denser. This module gives every entity the relations its
kind usually has, with objects of the right type, and then adds new entities of each kind with a full
set of such facts, until the graph holds ``factor`` times its facts. It never adds a fact on a
(subject, relation) key the graph already has, so no existing chain, gold answer or edit changes.

An entity's kind is the relation that most often points at it ("objects of country of citizenship"),
or, for entities nothing points at, the relation it most often has itself. A relation is usual for a
kind when at least ``USUAL_SHARE`` of the kind's entities have it; its objects are drawn from the
relation's own objects in the graph.
"""

from __future__ import annotations

import logging
import random
from collections import Counter, defaultdict
from dataclasses import dataclass

from kg.records import Entity

log = logging.getLogger(__name__)

USUAL_SHARE = 0.2
_SYLLABLES = ("ka", "lo", "ri", "ven", "tor", "mi", "sa", "dun", "el", "quor", "an", "bre", "zi", "hal", "mo", "tre")


@dataclass
class Distractors:
    entities: list[Entity]
    facts: list[tuple[str, str, str]]


def kinds(facts: list[tuple[str, str, str]]) -> dict[str, str]:
    """Entity -> kind (see the module docstring)."""
    incoming: dict[str, Counter[str]] = defaultdict(Counter)
    outgoing: dict[str, Counter[str]] = defaultdict(Counter)
    for s, r, o in facts:
        incoming[o][r] += 1
        outgoing[s][r] += 1
    found = {e: "in:" + c.most_common(1)[0][0] for e, c in incoming.items()}
    for e, c in outgoing.items():
        found.setdefault(e, "out:" + c.most_common(1)[0][0])
    return found


def make_distractors(facts: list[tuple[str, str, str]], factor: float = 3.0, seed: int = 0) -> Distractors:
    """Facts (and new entities) that bring ``facts`` to about ``factor`` times as many."""
    if factor <= 1.0 or not facts:
        return Distractors([], [])
    rng = random.Random(seed)
    kind_of = kinds(facts)
    members: dict[str, list[str]] = defaultdict(list)
    for entity, kind in sorted(kind_of.items()):
        members[kind].append(entity)
    keys = {(s, r) for s, r, _ in facts}
    held: dict[str, Counter[str]] = defaultdict(Counter)
    for s, r in keys:
        held[kind_of[s]][r] += 1
    objects: dict[str, list[str]] = defaultdict(list)
    for _, r, o in sorted(set(facts)):
        objects[r].append(o)
    usual = {
        kind: sorted(r for r, n in counts.items() if n >= USUAL_SHARE * len(members[kind]))
        for kind, counts in held.items()
    }
    target = int(factor * len(facts)) - len(facts)
    added: list[tuple[str, str, str]] = []

    def give(entity: str, kind: str) -> None:
        for relation in usual.get(kind, []):
            if (entity, relation) in keys or len(added) >= target:
                continue
            pool = [o for o in objects[relation] if o != entity]
            if pool:
                added.append((entity, relation, rng.choice(pool)))
                keys.add((entity, relation))

    for entity in sorted(kind_of):
        give(entity, kind_of[entity])
    new_entities: list[Entity] = []
    kinds_with_facts = sorted(k for k in usual if usual[k])
    while len(added) < target and kinds_with_facts:
        kind = rng.choice(kinds_with_facts)
        ident = f"distractor:{len(new_entities)}"
        new_entities.append(Entity(ident, _name(rng)))
        before = len(added)
        give(ident, kind)
        if kind.startswith("in:"):  # something points at real entities of this kind: point at this one too
            relation = kind[3:]
            subjects = [s for s, r, _ in facts if r == relation]
            if subjects and len(added) < target:
                added.append((f"distractor:{len(new_entities) - 1}:of", relation, ident))
                new_entities.append(Entity(f"distractor:{len(new_entities) - 1}:of", _name(rng)))
        if len(added) == before:
            kinds_with_facts.remove(kind)
    log.info("distractors: %d facts and %d new entities added to %d facts", len(added), len(new_entities), len(facts))
    return Distractors(new_entities, added)


def _name(rng: random.Random) -> str:
    """A made-up proper name, unlike any real label (so linking is not confused by it)."""
    def word() -> str:
        return "".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(2, 3))).capitalize()

    return f"{word()} {word()}"
