"""Curate's "Type a fact" box: a sentence in, candidate triples out, each previewed, accepted or rejected.

The preview and the commit are two stateless calls on the same text (``/add_text_preview`` and
``/add_text_commit`` in the API), so a script can do through ``gradio_client`` what a curator does
here. The commit reads the text again under the write lock and writes only the candidates chosen;
high-confidence ones come filled in, a low-confidence one only when the curator adds its number.
"""

from __future__ import annotations

import re
from typing import Any

import gradio as gr

from app.service.text_facts import Proposal
from app.ui.common import guarded, md_text
from app.ui.impact import render_preview
from app.ui.services import WRITE_GROUP, Services
from kg.errors import InputError


def _render(services: Services, proposals: list[Proposal], unread: list[str]) -> str:
    labels = services.labels()
    parts = []
    for p in proposals:
        c = p.candidate
        labels[p.object_id] = c.object_label
        level = "high confidence" if p.high_confidence else "**low confidence**: add its number to commit it"
        parts.append(
            f"#### Candidate {p.number}: {md_text(c.subject_label)} · {md_text(c.relation_label)} → "
            f"{md_text(c.object_label)} · confidence {c.confidence:.2f} ({level})\n"
            f"From: *{md_text(c.text)}*  \n"
            f"Triple: {md_text(c.subject)} · {md_text(c.relation)} → {md_text(p.object_id)}"
            + (" (a new entity)" if c.new_object else "")
            + "\n\n"
            + render_preview(p.preview, labels)
        )
    parts += [f"- Nothing found in: *{md_text(clause)}*" for clause in unread]
    return "\n\n".join(parts)


def build_type_fact_panel(services: Services) -> Any:
    """Lay out the panel in the current Blocks; returns the commit event for the tab to chain refreshes on."""
    with gr.Column(variant="panel"):
        gr.Markdown("### Type a fact\nWrite one or more facts in plain words; nothing is written until you accept.")
        text = gr.Textbox(
            label="Fact(s)",
            placeholder="e.g. Chile moved its capital to Valparaíso. fix - Bhutan pays in the Indian rupee",
            lines=2,
            elem_id="fact-text",
        )
        read_btn = gr.Button("Read", elem_id="fact-read")
        candidates_md = gr.Markdown(elem_id="fact-candidates")
        chosen = gr.Textbox(
            label="Candidates to commit (numbers, e.g. 1, 3; high-confidence ones are filled in)",
            elem_id="fact-choices",
        )
        with gr.Row():
            author = gr.Textbox(label="Author", value="curator")
            note = gr.Textbox(label="Note (why)")
        with gr.Row():
            accept_btn = gr.Button("Accept selected", variant="primary", elem_id="fact-accept")
            reject_btn = gr.Button("Reject all", variant="stop", elem_id="fact-reject")
        outcome_md = gr.Markdown(elem_id="fact-outcome")

    @guarded
    def read_typed_fact(sentence: str) -> tuple[str, str]:
        proposals, unread = services.kg.propose_text(sentence or "", services.labels())
        ticked = ", ".join(str(p.number) for p in proposals if p.high_confidence)
        return _render(services, proposals, unread), ticked

    @guarded
    def accept_typed_facts(sentence: str, numbers: str | None, who: str, why: str) -> tuple[str, str]:
        parts = [n.strip() for n in re.split(r"[,\s]+", numbers or "") if n.strip()]
        if any(not n.isdigit() for n in parts):
            raise InputError("give the numbers of the candidates to commit, e.g. 1, 3")
        picked = {int(n) for n in parts}
        if not picked:
            raise InputError("tick at least one candidate to commit, or reject them all")
        committed = services.kg.commit_text(sentence or "", picked, who or "", "ui", why or "")
        lines = []
        for proposal, outcome in committed:
            e = outcome.edit
            lines.append(
                f"**Committed {md_text(e.id)}**: {md_text(services.label(e.subject))} · "
                f"{md_text(services.relation_label(e.relation))} → {md_text(services.label(e.object))}"
                + ("" if not proposal.candidate.new_object else " (created)")
            )
            lines += [f"- supersedes {md_text(services.label(f.object))}" for f in outcome.removed]
        written = {proposal.number for proposal, _ in committed}
        lines += [f"Candidate {n} is already the current fact; nothing was written." for n in sorted(picked - written)]
        return "\n".join(lines), ""

    def reject_typed_facts() -> tuple[str, str, str]:
        return "Rejected; nothing was written.", "", ""

    # Function names are unique in the app: an event without an api_name takes its function's name,
    # and Gradio renames a later event whose name is taken (the Curate tab's own /preview).
    read_btn.click(read_typed_fact, [text], [candidates_md, chosen], api_name="add_text_preview")
    text.submit(read_typed_fact, [text], [candidates_md, chosen], api_visibility="private")
    reject_btn.click(reject_typed_facts, None, [outcome_md, candidates_md, chosen], api_visibility="private")
    return accept_btn.click(
        accept_typed_facts,
        [text, chosen, author, note],
        [outcome_md, chosen],
        api_name="add_text_commit",
        concurrency_id=WRITE_GROUP,
        concurrency_limit=1,
    )
