"""The Curate tab: find an entity, see its facts, preview and commit an edit, retract, history,
the edit log, import and export.

Every write runs under the services' write lock and in one Gradio concurrency group, so the queue
applies writes one at a time; each handler has an ``api_name`` so scripts can do the same through
``gradio_client``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import gradio as gr
import pandas as pd

from app.cli_kg import new_entity_id
from app.ui.common import entity_picker, guarded, md_text, relation_picker
from app.ui.impact import preview_edit, render_preview
from app.ui.services import WRITE_GROUP, Services
from app.ui.type_fact import build_type_fact_panel
from kg.errors import InputError
from kg.io import EXPORT_FORMATS, IMPORT_FORMATS, export_file, import_file
from kg.records import EditRequest, EditStatus, Entity

FACT_COLUMNS = ["relation", "object", "object id", "origin", "edit"]
LOG_COLUMNS = [
    "edit",
    "subject",
    "relation",
    "object",
    "replaces",
    "status",
    "author",
    "time",
    "note",
    "source",
]
HISTORY_COLUMNS = ["edit", "time", "author", "object", "replaces", "status", "note"]
_EXPORT_SUFFIX = {
    "turtle": ".ttl",
    "nt": ".nt",
    "nquads": ".nq",
    "tsv": ".tsv",
    "relations": ".tsv",
    "edits": ".json",
}


def facts_frame(services: Services, entity: str) -> pd.DataFrame:
    store = services.store
    rows = []
    for fact in store.facts_about(entity):
        relation = store.relation(fact.relation)
        rows.append(
            [
                relation.label if relation else fact.relation,
                services.label(fact.object),
                fact.object,
                fact.origin.value,
                fact.edit_id or "",
            ]
        )
    return pd.DataFrame(rows, columns=FACT_COLUMNS)


def edit_log_frame(services: Services, status: str) -> pd.DataFrame:
    wanted = None if status in ("", "all") else EditStatus(status)
    rows = [
        [
            e.id,
            services.label(e.subject),
            services.relation_label(e.relation),
            services.label(e.object),
            ", ".join(services.label(r) for r in e.replaces),
            e.status.value + (f" by {e.superseded_by}" if e.superseded_by else ""),
            e.author,
            e.time.isoformat(timespec="seconds"),
            e.note,
            e.source,
        ]
        for e in reversed(services.store.edits(wanted))
    ]
    return pd.DataFrame(rows, columns=LOG_COLUMNS)


def active_edit_choices(services: Services) -> list[tuple[str, str]]:
    return [
        (
            f"{e.id}: {services.label(e.subject)} · {services.relation_label(e.relation)} → {services.label(e.object)}",
            e.id,
        )
        for e in reversed(services.store.edits(EditStatus.ACTIVE))
    ]


def conflicts_markdown(services: Services) -> str:
    found = services.store.conflicts()
    if not found:
        return "No conflicts between edits."
    return "\n".join(
        f"- {md_text(services.label(c.subject))} · {md_text(services.relation_label(c.relation))}: "
        f"{md_text(', '.join(services.label(o) for o in c.objects))}; {md_text(c.resolution)}"
        for c in found
    )


def _object_for(services: Services, text: str | None) -> tuple[str, bool]:
    """The object's id, or (a fresh id, True) when the text names no entity yet."""
    text = (text or "").strip()
    if not text:
        raise InputError("choose or type the new object first")
    try:
        return services.resolve_entity(text, "object").id, False
    except InputError as exc:
        if "ambiguous" in str(exc):
            raise
        return new_entity_id(services.store, text), True


def _replaced(services: Services, text: str | None) -> tuple[str, ...]:
    parts = [p.strip() for p in (text or "").split(",") if p.strip()]
    return tuple(services.resolve_entity(p, "replaced object").id for p in parts)


def build_curate_tab(services: Services) -> dict[str, Any]:
    """Lay out the tab inside the current Blocks; returns the pickers other code refreshes."""
    with gr.Row():
        entity = entity_picker(services, "Entity (type a label or alias)", elem_id="curate-entity", scale=3)
        show = gr.Button("Show facts", scale=1)
    facts = gr.Dataframe(
        headers=FACT_COLUMNS, interactive=False, label="Current facts", elem_id="curate-facts", wrap=True
    )
    with gr.Column(variant="panel"):
        gr.Markdown("### Add or change a fact")
        with gr.Row():
            subject = entity_picker(services, "Subject", elem_id="edit-subject")
            relation = relation_picker(services, elem_id="edit-relation")
            obj = entity_picker(services, "New object (pick one, or type a new name)", elem_id="edit-object")
        with gr.Row():
            replaces = gr.Textbox(label="Replaces (multi-valued relations only; comma-separated)")
            author = gr.Textbox(label="Author", value="curator")
            note = gr.Textbox(label="Note (why)")
        with gr.Row():
            preview_btn = gr.Button("Preview", elem_id="edit-preview")
            commit_btn = gr.Button("Commit edit", variant="primary", elem_id="edit-commit")
        preview_md = gr.Markdown(elem_id="edit-preview-text")
        outcome_md = gr.Markdown(elem_id="edit-outcome")
    typed_commit = build_type_fact_panel(services)
    with gr.Accordion("Retract an edit", open=False):
        with gr.Row():
            edit_pick = gr.Dropdown(
                choices=active_edit_choices(services), label="Active edit", allow_custom_value=True, scale=3
            )
            retract_btn = gr.Button("Retract", variant="stop", scale=1)
        retract_md = gr.Markdown()
    with gr.Accordion("History of a fact", open=False):
        with gr.Row():
            hist_subject = entity_picker(services, "Subject")
            hist_relation = relation_picker(services)
            hist_btn = gr.Button("Show history")
        hist_md = gr.Markdown()
        hist_table = gr.Dataframe(headers=HISTORY_COLUMNS, interactive=False)
    with gr.Accordion("Edit log and conflicts", open=False):
        with gr.Row():
            log_status = gr.Radio(["all", "active", "superseded", "retracted"], value="all", label="Status")
            log_btn = gr.Button("Refresh")
        log_table = gr.Dataframe(
            value=edit_log_frame(services, "all"),
            headers=LOG_COLUMNS,
            interactive=False,
            wrap=True,
            elem_id="curate-log",
        )
        conflicts_md = gr.Markdown(conflicts_markdown(services))
    with gr.Accordion("Import and export", open=False):
        with gr.Row():
            upload = gr.File(
                label=f"File to import (.ttl .nt .nq .tsv .json, at most {services.settings.max_upload_mb} MB)",
                file_types=[".ttl", ".nt", ".nq", ".tsv", ".json"],
                type="filepath",
            )
            with gr.Column():
                import_fmt = gr.Dropdown(["auto", *IMPORT_FORMATS], value="auto", label="Import format")
                strict = gr.Checkbox(label="Strict: refuse edits that disagree with active edits")
                import_btn = gr.Button("Import")
        import_md = gr.Markdown()
        with gr.Row():
            export_fmt = gr.Dropdown(list(EXPORT_FORMATS), value="tsv", label="Export format")
            export_btn = gr.Button("Export")
            export_file_out = gr.File(label="Download", interactive=False)

    @guarded
    def show_entity(text: str) -> tuple[pd.DataFrame, str]:
        found = services.resolve_entity(text)
        return facts_frame(services, found.id), found.id

    @guarded
    def preview(subject_text: str, relation_text: str, object_text: str, replaces_text: str) -> str:
        subj = services.resolve_entity(subject_text, "subject")
        rel = services.resolve_relation(relation_text)
        object_id, is_new = _object_for(services, object_text)
        labels = services.labels()
        if is_new:
            labels[object_id] = (object_text or "").strip()
        result = preview_edit(
            services.store, subj.id, rel, object_id, is_new, _replaced(services, replaces_text), labels
        )
        return render_preview(result, labels)

    @guarded
    def commit(
        subject_text: str, relation_text: str, object_text: str, replaces_text: str, who: str, why: str
    ) -> tuple[str, pd.DataFrame, Any, str]:
        with services.write_lock:
            subj = services.resolve_entity(subject_text, "subject")
            rel = services.resolve_relation(relation_text)
            object_id, is_new = _object_for(services, object_text)
            replaced = _replaced(services, replaces_text)
            if is_new:
                services.store.add_entities([Entity(object_id, (object_text or "").strip())])
            outcome = services.store.edit(
                EditRequest(
                    subj.id, rel.id, object_id, replaced, (who or "").strip() or "curator", why or "", "ui"
                )
            )
        e = outcome.edit
        lines = [
            f"**Committed {md_text(e.id)}**: {md_text(services.label(e.subject))} · {md_text(rel.label)} → "
            f"{md_text(services.label(e.object))}"
        ]
        if is_new:
            lines.append(f"- created entity {md_text(services.label(object_id))} ({md_text(object_id)})")
        lines += [f"- supersedes {md_text(services.label(f.object))}" for f in outcome.removed]
        lines += [
            f"- conflict resolved: {md_text(e.id)} wins over {md_text(loser)}" for loser in outcome.superseded_edits
        ]
        return (
            "\n".join(lines),
            facts_frame(services, subj.id),
            gr.update(choices=active_edit_choices(services), value=None),
            subj.id,
        )

    @guarded
    def retract(edit_id: str) -> tuple[str, Any]:
        ident = (edit_id or "").split(":")[0].strip()
        if not ident:
            raise InputError("choose the edit to retract first")
        with services.write_lock:
            edit = services.store.retract(ident)
        now = ", ".join(services.label(f.object) for f in services.store.objects(edit.subject, edit.relation))
        text = (
            f"**Retracted {md_text(edit.id)}**; {md_text(services.label(edit.subject))} · "
            f"{md_text(services.relation_label(edit.relation))} is now: {md_text(now or 'no value')}"
        )
        return text, gr.update(choices=active_edit_choices(services), value=None)

    @guarded
    def history(subject_text: str, relation_text: str) -> tuple[str, pd.DataFrame]:
        subj = services.resolve_entity(subject_text, "subject")
        rel = services.resolve_relation(relation_text)
        record = services.store.history(subj.id, rel.id)
        rows = [
            [
                e.id,
                e.time.isoformat(timespec="seconds"),
                e.author,
                services.label(e.object),
                ", ".join(services.label(r) for r in e.replaces),
                e.status.value + (f" by {e.superseded_by}" if e.superseded_by else ""),
                e.note,
            ]
            for e in record.edits
        ]
        text = (
            f"{md_text(subj.label)} · {md_text(rel.label)}: "
            f"base {md_text(', '.join(services.label(o) for o in record.base) or '(none)')}; "
            f"current {md_text(', '.join(services.label(o) for o in record.current) or '(none)')}; {len(rows)} edits"
        )
        return text, pd.DataFrame(rows, columns=HISTORY_COLUMNS)

    @guarded
    def edit_log(status: str) -> tuple[pd.DataFrame, str]:
        return edit_log_frame(services, status), conflicts_markdown(services)

    @guarded
    def do_import(
        uploaded: str | None, fmt: str, strict_mode: bool, progress: gr.Progress = gr.Progress()
    ) -> str:
        path = services.accept_upload(uploaded, "graph")
        progress(0.1, desc=f"importing {path.name}")
        with services.write_lock:
            report = import_file(services.store, path, None if fmt == "auto" else fmt, bool(strict_mode))
        progress(1.0)
        return (
            f"Imported {report.entities} entities, {report.relations} relations, {report.facts} facts and "
            f"{len(report.edits)} edits from {md_text(path.name)}."
        )

    @guarded
    def do_export(fmt: str) -> str:
        if fmt not in EXPORT_FORMATS:
            raise InputError(f"unknown export format {fmt!r}; choose one of {', '.join(EXPORT_FORMATS)}")
        folder = services.data_path("exports")
        folder.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
        name = f"kgedit-{'edits' if fmt == 'edits' else 'graph'}-{fmt}-{stamp}{_EXPORT_SUFFIX[fmt]}"
        path = folder / name
        export_file(services.store, path, fmt)
        return str(path)

    def refresh_pickers() -> tuple[Any, ...]:
        choices = services.search_entities()
        return tuple(gr.update(choices=choices) for _ in range(4))

    pickers = [entity, subject, obj, hist_subject]
    # Public API names first: Gradio renames a later event whose name is already taken.
    log_btn.click(edit_log, [log_status], [log_table, conflicts_md], api_name="edit_log")
    entity.change(show_entity, [entity], [facts, subject], api_name="entity_facts")
    show.click(show_entity, [entity], [facts, subject], api_visibility="private")
    preview_btn.click(preview, [subject, relation, obj, replaces], [preview_md], api_name="preview")
    commit_btn.click(
        commit,
        [subject, relation, obj, replaces, author, note],
        [outcome_md, facts, edit_pick, entity],
        api_name="add",
        concurrency_id=WRITE_GROUP,
        concurrency_limit=1,
    ).success(refresh_pickers, None, pickers, api_visibility="private").then(
        edit_log, [log_status], [log_table, conflicts_md], api_visibility="private"
    )
    typed_commit.success(refresh_pickers, None, pickers, api_visibility="private").then(
        edit_log, [log_status], [log_table, conflicts_md], api_visibility="private"
    ).then(lambda: gr.update(choices=active_edit_choices(services), value=None), None, [edit_pick],
           api_visibility="private")  # fmt: skip
    retract_btn.click(
        retract,
        [edit_pick],
        [retract_md, edit_pick],
        api_name="retract",
        concurrency_id=WRITE_GROUP,
        concurrency_limit=1,
    ).success(edit_log, [log_status], [log_table, conflicts_md], api_visibility="private")
    hist_btn.click(history, [hist_subject, hist_relation], [hist_md, hist_table], api_name="history")
    log_status.change(edit_log, [log_status], [log_table, conflicts_md], api_visibility="private")
    import_btn.click(
        do_import,
        [upload, import_fmt, strict],
        [import_md],
        api_name="import",
        concurrency_id=WRITE_GROUP,
        concurrency_limit=1,
    ).success(refresh_pickers, None, pickers, api_visibility="private").then(
        edit_log, [log_status], [log_table, conflicts_md], api_visibility="private"
    )
    export_btn.click(do_export, [export_fmt], [export_file_out], api_name="export")
    return {"pickers": pickers, "edit_pick": edit_pick}
