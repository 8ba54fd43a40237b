"""The Curate tab's rendering of an edit preview (computed by :mod:`app.service.impact`)."""

from __future__ import annotations

from collections.abc import Mapping

from app.service.impact import EditPreview
from app.ui.markup import md_text


def render_preview(preview: EditPreview, label: Mapping[str, str]) -> str:
    """Markdown for the Curate tab; every label, question and chain is escaped (see ``md_text``)."""

    def name(ident: str) -> str:
        return f"**{md_text(label.get(ident, ident))}**"

    rel = preview.relation
    lines = [
        f"### Preview: {name(preview.subject)} · {md_text(rel.label)} → {name(preview.new_object)}"
        + (" (new entity)" if preview.new_entity else "")
    ]
    if preview.unchanged:
        lines.append("This fact is already in the current view; committing it writes nothing.")
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
