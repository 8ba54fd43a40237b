"""What the Curate tab's events do: parse the widgets' values, call the service, render the result.

Kept apart from the layout (``app/ui/curate.py``) so each handler can be called in a test without a
browser. Every write returns, or is followed by, :meth:`CurateHandlers.after_write`, so the retract
list, the edit log and the conflicts never lag behind the store.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import gradio as gr
import pandas as pd

from app.service.curation import AddRequest, DuplicateEditError
from app.service.names import CloseNameError
from app.ui.impact import render_preview
from app.ui.markup import md_text
from app.ui.services import Services
from kg.errors import InputError
from kg.io import EXPORT_FORMATS

FACT_COLUMNS = ["relation", "object", "object id", "origin", "edit"]
LOG_COLUMNS = ["edit", "subject", "relation", "object", "replaces", "status", "author", "time", "note", "source"]
HISTORY_COLUMNS = ["edit", "time", "author", "object", "replaces", "status", "note"]
EXPORT_SUFFIX = {"turtle": ".ttl", "nt": ".nt", "nquads": ".nq", "tsv": ".tsv", "relations": ".tsv", "edits": ".json"}
NEW_ENTITY_HINT = "tick 'New entity' to create it"


class CurateHandlers:
    """The Curate tab's handlers over one :class:`Services`; they return what the widgets show."""

    def __init__(self, services: Services) -> None:
        self.services = services

    # ----- views ------------------------------------------------------------------------------

    def facts_frame(self, entity: str) -> pd.DataFrame:
        """An entity's facts; those of other entities that point to it are marked incoming (←)."""
        view = self.services.kg.show(entity)
        rows = [
            [r.relation_label, self.services.label(r.other), r.other, r.fact.origin.value, r.fact.edit_id or ""]
            for r in view.outgoing
        ]
        rows += [
            [f"← {r.relation_label} of", self.services.label(r.other), r.other, r.fact.origin.value, r.fact.edit_id or ""]
            for r in view.incoming
        ]
        return pd.DataFrame(rows, columns=FACT_COLUMNS)

    def edit_log_frame(self, status: str | None) -> pd.DataFrame:
        s = self.services
        rows = [
            [
                e.id,
                s.label(e.subject),
                s.relation_label(e.relation),
                s.label(e.object),
                ", ".join(s.label(r) for r in e.replaces),
                e.status.value + (f" by {e.superseded_by}" if e.superseded_by else ""),
                e.author,
                e.time.isoformat(timespec="seconds"),
                e.note,
                e.source,
            ]
            for e in reversed(s.kg.edit_log(status))
        ]
        return pd.DataFrame(rows, columns=LOG_COLUMNS)

    def active_edit_choices(self) -> list[tuple[str, str]]:
        return self.services.active_edit_choices()

    def conflicts_markdown(self) -> str:
        s = self.services
        found = s.kg.conflicts()
        if not found:
            return "No conflicts between edits."
        return "\n".join(
            f"- {md_text(s.label(c.subject))} · {md_text(s.relation_label(c.relation))}: "
            f"{md_text(', '.join(s.label(o) for o in c.objects))}; {md_text(c.resolution)}"
            for c in found
        )

    def after_write(self, status: str | None = "all") -> tuple[Any, pd.DataFrame, str]:
        """The retract list, the edit log and the conflicts as the store now has them."""
        return (
            gr.update(choices=self.active_edit_choices(), value=None),
            self.edit_log_frame(status),
            self.conflicts_markdown(),
        )

    # ----- edits ------------------------------------------------------------------------------

    def request(
        self, subject: str | None, relation: str | None, obj: str | None, replaces: str | None,
        author: str = "curator", note: str = "", confirm_new: bool = False,
    ) -> AddRequest:  # fmt: skip
        s = self.services
        subj = s.resolve_entity(subject, "subject")
        rel = s.resolve_relation(relation)
        obj_text = (obj or "").strip()
        if not obj_text:
            raise InputError("choose or type the new object first")
        by_display = [i for d, i in s.entity_choices() if d == obj_text]
        parts = tuple(p.strip() for p in (replaces or "").split(",") if p.strip())
        replaced = tuple(s.resolve_entity(p, "replaced object").id for p in parts)
        return AddRequest(
            subj.id, rel.id, by_display[0] if len(by_display) == 1 else obj_text, replaced,
            (author or "").strip() or "curator", note or "", "ui", confirm_new=bool(confirm_new),
        )  # fmt: skip

    def preview(
        self, subject: str | None, relation: str | None, obj: str | None, replaces: str | None, confirm_new: bool = False
    ) -> str:
        labels = self.services.labels()
        try:
            result = self.services.kg.preview(self.request(subject, relation, obj, replaces, confirm_new=confirm_new), labels)
        except CloseNameError as exc:
            raise InputError(f"{exc} ({NEW_ENTITY_HINT})") from exc
        labels.setdefault(result.new_object, (obj or "").strip())
        return render_preview(result, labels)

    def commit(
        self, subject: str | None, relation: str | None, obj: str | None, replaces: str | None,
        who: str | None, why: str | None, confirm_new: bool = False,
    ) -> tuple[str, pd.DataFrame, Any, str]:  # fmt: skip
        """Outcome, the subject's facts, the retract list, the subject; a duplicate writes nothing."""
        s = self.services
        request = self.request(subject, relation, obj, replaces, who or "", why or "", confirm_new)
        try:
            result = s.kg.add(request)
        except CloseNameError as exc:
            raise InputError(f"{exc} ({NEW_ENTITY_HINT})") from exc
        except DuplicateEditError as exc:
            return f"**Not committed**: {md_text(str(exc))}.", self.facts_frame(request.subject), gr.update(), request.subject
        e = result.edit
        lines = [
            f"**Committed {md_text(e.id)}**: {md_text(s.label(e.subject))} · {md_text(result.relation.label)} → "
            f"{md_text(s.label(e.object))}"
        ]
        if result.created is not None:
            lines.append(f"- created entity {md_text(result.created.label)} ({md_text(result.created.id)})")
        lines += [f"- supersedes {md_text(s.label(f.object))}" for f in result.outcome.removed]
        lines += [f"- conflict resolved: {md_text(e.id)} wins over {md_text(x)}" for x in result.outcome.superseded_edits]
        return "\n".join(lines), self.facts_frame(e.subject), gr.update(choices=self.active_edit_choices(), value=None), e.subject

    def retract(self, edit_id: str | None) -> tuple[str, Any]:
        s = self.services
        if not (edit_id or "").strip():
            raise InputError("choose the edit to retract first")
        result = s.kg.retract(edit_id)
        edit = result.edit
        now = ", ".join(s.label(o) for o in result.current)
        text = (
            f"**Retracted {md_text(edit.id)}**; {md_text(s.label(edit.subject))} · "
            f"{md_text(s.relation_label(edit.relation))} is now: {md_text(now or 'no value')}"
        )
        return text, gr.update(choices=self.active_edit_choices(), value=None)

    def history(self, subject: str | None, relation: str | None) -> tuple[str, pd.DataFrame]:
        s = self.services
        view = s.kg.history(s.resolve_entity(subject, "subject").id, s.resolve_relation(relation).id)
        record = view.record
        rows = [
            [
                e.id,
                e.time.isoformat(timespec="seconds"),
                e.author,
                s.label(e.object),
                ", ".join(s.label(r) for r in e.replaces),
                e.status.value + (f" by {e.superseded_by}" if e.superseded_by else ""),
                e.note,
            ]
            for e in record.edits
        ]
        text = (
            f"{md_text(view.subject.label)} · {md_text(view.relation.label)}: "
            f"base {md_text(', '.join(s.label(o) for o in record.base) or '(none)')}; "
            f"current {md_text(', '.join(s.label(o) for o in record.current) or '(none)')}; {len(rows)} edits"
        )
        return text, pd.DataFrame(rows, columns=HISTORY_COLUMNS)

    # ----- files ------------------------------------------------------------------------------

    def import_upload(self, uploaded: str | None, fmt: str, strict: bool) -> str:
        path = self.services.accept_upload(uploaded, "graph")
        report = self.services.kg.import_file(path, None if fmt == "auto" else fmt, bool(strict))
        return (
            f"Imported {report.entities} entities, {report.relations} relations, {report.facts} facts and "
            f"{report.edit_count} edits from {md_text(path.name)}."
        )

    def export(self, fmt: str) -> str:
        if fmt not in EXPORT_FORMATS:
            raise InputError(f"unknown export format {fmt!r}; choose one of {', '.join(EXPORT_FORMATS)}")
        folder = self.services.data_path("exports")
        folder.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
        path = folder / f"kgedit-{'edits' if fmt == 'edits' else 'graph'}-{fmt}-{stamp}{EXPORT_SUFFIX[fmt]}"
        self.services.kg.export_file(path, fmt)
        return str(path)
