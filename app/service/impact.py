"""What an edit would do before it is committed: what it supersedes, conflicts, and chains it changes.

The store decides what is superseded and which active edits lose (:meth:`kg.store.FactStore.preview`,
the conflict rule of ``kg/conflicts.py``); this module adds what only the layer above ``kg`` can say:
the multi-hop answers that change. A chain changes when it passes through the edited (subject,
relation): chains that arrive at the subject by a fact pointing to it, and chains that continue from
the old object versus the new one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from kg.records import EditRequest, Relation
from kg.store import FactStore
from qa.phrasing import canonical_question

MAX_CHAINS = 12
Namer = Callable[[str], str]


@dataclass(frozen=True)
class ChainChange:
    """One two-hop chain through the edited fact: its text before and after the edit."""

    question: str
    before: str
    after: str


@dataclass
class EditPreview:
    subject: str
    relation: Relation
    new_object: str
    new_entity: bool
    current: list[str] = field(default_factory=list)
    supersedes: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)
    chains: list[ChainChange] = field(default_factory=list)
    more_chains: int = 0
    unchanged: bool = False


def preview_edit(
    store: FactStore,
    subject: str,
    relation: Relation,
    new_object: str,
    new_entity: bool,
    replaces: tuple[str, ...] = (),
    label: Mapping[str, str] | None = None,
) -> EditPreview:
    """Compute the preview without writing anything; ``new_object`` may be an id not yet in the store."""
    labels = label or {}

    def name(ident: str) -> str:
        return labels.get(ident, ident)

    effect = store.preview(EditRequest(subject, relation.id, new_object, replaces))
    preview = EditPreview(subject, relation, new_object, new_entity, current=list(effect.current))
    preview.supersedes = list(effect.supersedes)
    preview.unchanged = effect.unchanged
    preview.conflicts = [
        f"active edit {edit.id} says {name(edit.object)}; the newer edit wins, so {edit.id} "
        "will be marked superseded (retracting this one brings it back)"
        for edit in effect.overridden
    ]
    if preview.unchanged or (not preview.supersedes and not relation.functional):
        return preview  # no answer changes: the fact is already current, or an object is only added
    chains = _arriving(store, subject, relation, preview.supersedes, new_object, name)
    chains += _continuing(store, subject, relation, preview.supersedes, new_object, new_entity, name)
    preview.chains = chains[:MAX_CHAINS]
    preview.more_chains = max(0, len(chains) - MAX_CHAINS)
    return preview


def _arriving(store: FactStore, subject: str, relation: Relation, old: list[str], new: str, name: Namer) -> list[ChainChange]:
    chains = []
    for fact in store.facts_pointing_to(subject):
        first = store.relation(fact.relation)
        if first is None:
            continue
        head = f"{name(fact.subject)} —{first.label}→ {name(subject)} —{relation.label}→ "
        chains.append(
            ChainChange(
                canonical_question([first, relation], name(fact.subject)),
                head + (", ".join(name(o) for o in old) or "(nothing)"),
                head + name(new),
            )
        )
    return chains


def _continuing(
    store: FactStore, subject: str, relation: Relation, old: list[str], new: str, new_entity: bool, name: Namer
) -> list[ChainChange]:
    chains = []
    new_facts = {} if new_entity else _by_relation(store, new)
    for o in old:
        for rel_id, objects in sorted(_by_relation(store, o).items()):
            after = new_facts.get(rel_id, [])
            second = store.relation(rel_id)
            if sorted(after) == sorted(objects) or second is None:
                continue
            chains.append(
                ChainChange(
                    canonical_question([relation, second], name(subject)),
                    f"{name(subject)} —{relation.label}→ {name(o)} —{second.label}→ "
                    f"{', '.join(name(x) for x in objects)}",
                    f"{name(subject)} —{relation.label}→ {name(new)} —{second.label}→ "
                    f"{', '.join(name(x) for x in after) or '(unknown to the graph)'}",
                )
            )
    return chains


def _by_relation(store: FactStore, entity: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for fact in store.facts_about(entity):
        found.setdefault(fact.relation, []).append(fact.object)
    return found

