"""The Curate tab: find an entity, see its facts, preview and commit an edit, retract, history,
the edit log, import and export.

Layout and wiring only; what each event does is in :mod:`app.ui.curate_handlers`. Every write runs
in one Gradio concurrency group under the service's write lock, and is followed by a refresh of the
retract list, the edit log and the conflicts (also on every page load, so a second browser sees
what the first one wrote). Each handler has an ``api_name`` so scripts can do the same through
``gradio_client``.
"""

from __future__ import annotations

from typing import Any

import gradio as gr

from app.ui.common import entity_picker, guarded, relation_picker
from app.ui.curate_handlers import FACT_COLUMNS, HISTORY_COLUMNS, LOG_COLUMNS, CurateHandlers
from app.ui.services import UPLOAD_TYPES, WRITE_GROUP, Services
from app.ui.type_fact import build_type_fact_panel
from kg.io import EXPORT_FORMATS, IMPORT_FORMATS

WRITE: dict[str, Any] = {"concurrency_id": WRITE_GROUP, "concurrency_limit": 1}
PRIVATE: dict[str, Any] = {"api_visibility": "private"}


def conflicts_markdown(services: Services) -> str:
    return CurateHandlers(services).conflicts_markdown()


def build_curate_tab(services: Services) -> dict[str, Any]:
    """Lay out the tab inside the current Blocks; returns the pickers other code refreshes and the
    page-load refresh of the write-dependent views."""
    h = CurateHandlers(services)
    with gr.Row():
        entity = entity_picker(services, "Entity (type a label or alias)", elem_id="curate-entity", scale=3)
        show = gr.Button("Show facts", scale=1)
    facts = gr.Dataframe(
        headers=FACT_COLUMNS, interactive=False, label="Current facts", elem_id="curate-facts", wrap=True
    )
    edit = _edit_panel(services)
    typed_commit = build_type_fact_panel(services)
    with gr.Accordion("Retract an edit", open=False):
        with gr.Row():
            edit_pick = gr.Dropdown(
                choices=h.active_edit_choices(), label="Active edit", allow_custom_value=True, scale=3,
                elem_id="retract-pick",
            )  # fmt: skip
            retract_btn = gr.Button("Retract", variant="stop", scale=1, elem_id="retract-button")
        retract_md = gr.Markdown(elem_id="retract-outcome")
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
            value=h.edit_log_frame("all"), headers=LOG_COLUMNS, interactive=False, wrap=True, elem_id="curate-log"
        )
        conflicts_md = gr.Markdown(h.conflicts_markdown(), elem_id="curate-conflicts")
    files = _files_panel(services)

    def refresh_pickers() -> tuple[Any, ...]:
        choices = services.search_entities()
        return tuple(gr.update(choices=choices) for _ in range(4))

    @guarded
    def edit_log(status: str) -> tuple[Any, ...]:
        return h.after_write(status)[1:]

    @guarded
    def show_entity(text: str) -> tuple[Any, str]:
        return h.facts_frame(text), services.resolve_entity(text).id

    pickers = [entity, edit["subject"], edit["object"], hist_subject]
    written = [edit_pick, log_table, conflicts_md]
    # Public API names first: Gradio renames a later event whose name is already taken.
    log_btn.click(edit_log, [log_status], [log_table, conflicts_md], api_name="edit_log")
    entity.change(show_entity, [entity], [facts, edit["subject"]], api_name="entity_facts")
    show.click(show_entity, [entity], [facts, edit["subject"]], **PRIVATE)
    edit_fields = [edit["subject"], edit["relation"], edit["object"], edit["replaces"]]
    edit["preview"].click(guarded(h.preview), [*edit_fields, edit["new"]], [edit["preview_md"]], api_name="preview")
    writes = [
        edit["commit"].click(
            guarded(h.commit), [*edit_fields, edit["author"], edit["note"], edit["new"]],
            [edit["outcome_md"], facts, edit_pick, entity], api_name="add", **WRITE,
        ),
        retract_btn.click(guarded(h.retract), [edit_pick], [retract_md, edit_pick], api_name="retract", **WRITE),
        files["import"].click(
            guarded(h.import_upload), [files["upload"], files["format"], files["strict"]], [files["import_md"]],
            api_name="import", **WRITE,
        ),
        typed_commit,
    ]  # fmt: skip
    for event in writes:
        event.success(refresh_pickers, None, pickers, **PRIVATE).then(h.after_write, [log_status], written, **PRIVATE)
    writes[0].success(lambda: "", None, [edit["preview_md"]], **PRIVATE)  # the preview no longer holds once committed
    hist_btn.click(guarded(h.history), [hist_subject, hist_relation], [hist_md, hist_table], api_name="history")
    log_status.change(edit_log, [log_status], [log_table, conflicts_md], **PRIVATE)
    files["export"].click(guarded(h.export), [files["export_format"]], [files["download"]], api_name="export")
    return {"pickers": pickers, "edit_pick": edit_pick, "refresh": (h.after_write, written)}


def _edit_panel(services: Services) -> dict[str, Any]:
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
        new = gr.Checkbox(
            label="New entity: the object's name is new, even if it looks like an existing label", elem_id="edit-new"
        )
        with gr.Row():
            preview = gr.Button("Preview", elem_id="edit-preview")
            commit = gr.Button("Commit edit", variant="primary", elem_id="edit-commit")
        preview_md = gr.Markdown(elem_id="edit-preview-text")
        outcome_md = gr.Markdown(elem_id="edit-outcome")
    return {
        "subject": subject, "relation": relation, "object": obj, "replaces": replaces, "author": author,
        "note": note, "new": new, "preview": preview, "commit": commit, "preview_md": preview_md,
        "outcome_md": outcome_md,
    }  # fmt: skip


def _files_panel(services: Services) -> dict[str, Any]:
    with gr.Accordion("Import and export", open=False):
        with gr.Row():
            upload = gr.File(
                label=f"File to import (.ttl .nt .nq .tsv .json, at most {services.settings.max_upload_mb} MB)",
                file_types=list(UPLOAD_TYPES),
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
            download = gr.File(label="Download", interactive=False)
    return {
        "upload": upload, "format": import_fmt, "strict": strict, "import": import_btn, "import_md": import_md,
        "export_format": export_fmt, "export": export_btn, "download": download,
    }  # fmt: skip
