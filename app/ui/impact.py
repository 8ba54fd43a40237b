"""What an edit would do before it is committed: what it supersedes, conflicts, and chains it changes.

The Curate tab shows this preview so a curator sees the consequences of a change first. A multi-hop
answer changes when its chain passes through the edited (subject, relation): chains that arrive at the
subject by a fact pointing to it, and chains that continue from the old object versus the new one.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from app.ui.markup import md_text
from kg.records import EditStatus, Relation
from kg.store import FactStore
from qa.phrasing import canonical_question

MAX_CHAINS = 12


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
    label: dict[str, str] | None = None,
) -> EditPreview:
    """Compute the preview without writing anything; ``new_object`` may be a label not yet in the store."""
    labels = label or {}

    def name(ident: str) -> str:
        return labels.get(ident, ident)

    current = [f.object for f in store.objects(subject, relation.id)]
    preview = EditPreview(subject, relation, new_object, new_entity, current=current)
    if relation.functional:
        preview.supersedes = [o for o in current if o != new_object]
    else:
        preview.supersedes = [o for o in replaces if o in current]
    preview.unchanged = new_object in current and not preview.supersedes
    for edit in store.edits_on(subject, relation.id):
        if edit.status is EditStatus.ACTIVE and relation.functional and edit.object != new_object:
            preview.conflicts.append(
                f"active edit {edit.id} says {name(edit.object)}; the newer edit wins, so {edit.id} "
                "will be marked superseded (retracting this one brings it back)"
            )
    if not preview.supersedes and not relation.functional:
        return preview
    old = preview.supersedes
    chains: list[ChainChange] = []
    for fact in store.facts_pointing_to(subject):
        first = store.relation(fact.relation)
        if first is None:
            continue
        question = canonical_question([first, relation], name(fact.subject))
        chains.append(
            ChainChange(
                question,
                f"{name(fact.subject)} —{first.label}→ {name(subject)} —{relation.label}→ "
                f"{', '.join(name(o) for o in old) or '(nothing)'}",
                f"{name(fact.subject)} —{first.label}→ {name(subject)} —{relation.label}→ {name(new_object)}",
            )
        )
    new_facts = {} if new_entity else _by_relation(store, new_object)
    for o in old:
        for rel_id, objects in sorted(_by_relation(store, o).items()):
            after = new_facts.get(rel_id, [])
            if sorted(after) == sorted(objects):
                continue
            second = store.relation(rel_id)
            if second is None:
                continue
            question = canonical_question([relation, second], name(subject))
            chains.append(
                ChainChange(
                    question,
                    f"{name(subject)} —{relation.label}→ {name(o)} —{second.label}→ "
                    f"{', '.join(name(x) for x in objects)}",
                    f"{name(subject)} —{relation.label}→ {name(new_object)} —{second.label}→ "
                    f"{', '.join(name(x) for x in after) or '(unknown to the graph)'}",
                )
            )
    preview.chains = chains[:MAX_CHAINS]
    preview.more_chains = max(0, len(chains) - MAX_CHAINS)
    return preview


def _by_relation(store: FactStore, entity: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for fact in store.facts_about(entity):
        found.setdefault(fact.relation, []).append(fact.object)
    return found


def render_preview(preview: EditPreview, label: dict[str, str]) -> str:
    """Markdown for the Curate tab; every label, question and chain is escaped (see ``md_text``)."""

    def name(ident: str) -> str:
        return f"**{md_text(label.get(ident, ident))}**"

    rel = preview.relation
    lines = [
        f"### Preview: {name(preview.subject)} · {md_text(rel.label)} → {name(preview.new_object)}"
        + (" (new entity)" if preview.new_entity else "")
    ]
    if preview.unchanged:
        lines.append("This fact is already in the current view; committing records it as an edit.")
    kind = "functional (one object)" if rel.functional else "multi-valued"
    lines.append(f"- Relation *{md_text(rel.label)}* is {kind}.")
    lines.append(f"- Now: {', '.join(name(o) for o in preview.current) or 'no value'}.")
    if preview.supersedes:
        lines.append(f"- **Supersedes**: {', '.join(name(o) for o in preview.supersedes)}.")
    else:
        lines.append("- Supersedes nothing; the object is added.")
    if preview.conflicts:
        lines += [f"- **Conflict**: {md_text(c)}." for c in preview.conflicts]
    else:
        lines.append("- No conflict with other active edits.")
    if preview.chains:
        lines.append(f"\n**Multi-hop answers this changes** ({len(preview.chains) + preview.more_chains}):")
        for chain in preview.chains:
            lines.append(
                f"- *{md_text(chain.question)}*  \n  before: {md_text(chain.before)}  \n  after: {md_text(chain.after)}"
            )
        if preview.more_chains:
            lines.append(f"- … and {preview.more_chains} more chains.")
    else:
        lines.append("- No multi-hop chain of the graph passes through this fact.")
    return "\n".join(lines)
