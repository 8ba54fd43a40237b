"""The Chat tab: ask a multi-hop question, get the answer with its chain of hops.

Answering is :class:`app.service.answering.AnsweringService`'s (through ``Services.system``);
:func:`chat_reply` renders an answer and can be called in a test without a browser. Each hop shows
the sub-question, its answer, the fact behind it and that fact's origin as a badge
(edit, base, or model guess); the retrieved candidates are folded away until asked for.
"""

from __future__ import annotations

import html
from typing import Any

import gradio as gr

from app.ui.common import badge, guarded, md_text
from app.ui.services import Services
from kg.errors import InputError
from qa.trace import CANNOT_ANSWER, Answer, Hop

CHAT_SYSTEMS = ("auto", "graph", "mello")
ASK_HANDLERS = 16  # questions waiting on their lane at once; more wait in Gradio's queue


def available_systems() -> list[str]:
    """The chat's systems in preference order, then any other registered system (e.g. ``lm``)."""
    from qa.systems import system_names

    known = system_names()
    return [s for s in CHAT_SYSTEMS if s in known] + [s for s in known if s not in CHAT_SYSTEMS]


def hop_fact_text(services: Services, hop: Hop) -> str:
    if hop.fact is None:
        return ""
    relation = services.store.relation(hop.fact.relation)
    subject, obj = services.label(hop.fact.subject), services.label(hop.fact.object)
    if relation is None:
        return f"({subject}, {hop.fact.relation}, {obj})"
    return relation.statement(subject, obj)


def chain_markdown(services: Services, answer: Answer) -> str:
    """The compact chain under an answer in the chat transcript (Markdown: every user text escaped)."""
    lines = [f"**{md_text(answer.text or 'no answer')}**" if not answer.abstained else f"**{CANNOT_ANSWER}**"]
    if answer.abstained and answer.guess:
        lines.append(f"_Language model guess (not from the graph): {md_text(answer.guess)}_")
    for i, hop in enumerate(answer.trace.hops, 1):
        fact = hop_fact_text(services, hop)
        edit_id = hop.fact.edit_id if hop.fact else None
        lines.append(
            f"{i}. {md_text(hop.question)} → **{md_text(hop.answer)}** {badge(hop.origin.value, edit_id)}"
            + (f"  \n   _{md_text(fact)}_" if fact else "")
        )
    if not answer.trace.grounded and answer.trace.reason:
        lines.append(f"_Not fully grounded in the graph: {md_text(answer.trace.reason)}_")
    return "\n".join(lines)


def chain_html(services: Services, answer: Answer) -> str:
    """The detailed chain panel: hops, facts, badges, conflicts and candidates on demand."""
    trace = answer.trace
    esc = html.escape
    parts = [
        '<div class="kg-chain">',
        f'<div class="kg-answer">Answer: {esc(answer.text or "no answer")}</div>'
        if not answer.abstained
        else f'<div class="kg-answer">{esc(CANNOT_ANSWER)}: {esc(trace.reason)}</div>'
        + (f'<div class="kg-guess">Language model guess (not from the graph): {esc(answer.guess)}</div>' if answer.guess else ""),
        f"<div>system <b>{esc(trace.system)}</b> · {trace.seconds:.2f} s"
        + (f" · linked: {esc(', '.join(services.label(e) for e in trace.linked))}" if trace.linked else "")
        + "</div><ol>",
    ]
    for hop in trace.hops:
        edit_id = hop.fact.edit_id if hop.fact else None
        fact = hop_fact_text(services, hop)
        parts.append(
            f'<li class="kg-hop"><span class="kg-hop-q">{esc(hop.question)}</span> → '
            f"<b>{esc(hop.answer)}</b> {badge(hop.origin.value, edit_id)}"
            + (f"<br><i>{esc(fact)}</i>" if fact else "")
            + (f"<br><small>{esc(hop.note)}</small>" if hop.note else "")
            + "</li>"
        )
    parts.append("</ol>")
    if not trace.grounded and trace.reason:
        parts.append(f"<div>Not fully grounded: {esc(trace.reason)}</div>")
    for conflict in trace.conflicts:
        parts.append(f"<div>Conflict resolved: {esc(conflict)}</div>")
    candidates = [(i, c) for i, hop in enumerate(trace.hops, 1) for c in hop.candidates]
    if candidates:
        rows = "".join(
            f"<tr><td>{i}</td><td>{esc(c.statement)}</td><td>{c.score:.3f}</td>"
            f"<td>{badge(c.origin.value, c.edit_id)}</td><td>{'✓' if c.used else ''}</td></tr>"
            for i, c in candidates
        )
        parts.append(
            f"<details><summary>Retrieved candidates ({len(candidates)})</summary><table>"
            "<tr><th>hop</th><th>statement</th><th>score</th><th>origin</th><th>used</th></tr>"
            f"{rows}</table></details>"
        )
    parts.append("</div>")
    return "".join(parts)


EMPTY_QUESTION = "Type a question first, e.g. *What is the currency of the country whose capital is Paris?*"


ChatReply = tuple[list[dict[str, Any]], str, dict[str, Any] | None, str]


def empty_question_reply(history: list[dict[str, Any]] | None) -> ChatReply:
    """What Chat shows for an empty question: one plain message in the chat, not an error on every
    output (a raised error marks the chat, the chain and the trace each with a red pill)."""
    messages = list(history or [])
    if not messages or EMPTY_QUESTION not in str(messages[-1].get("content")):
        messages.append({"role": "assistant", "content": EMPTY_QUESTION})
    return messages, "", None, ""


def chat_reply(services: Services, text: str, history: list[dict[str, Any]] | None, name: str) -> ChatReply:
    """What Chat shows after a question: the transcript with the answer and its chain, the chain
    panel, the trace and an emptied question box. The question waits for its lane
    (:mod:`app.ui.admission`) and is answered by the system ``name`` of :class:`AnsweringService`."""
    text = (text or "").strip()
    if not text:
        return empty_question_reply(history)
    if name not in available_systems():
        raise InputError(f"unknown system {name!r}; choose one of {', '.join(available_systems())}")
    services.questions.check(text)
    answer = services.questions.run(text, lambda: services.system(name).answer(text))
    messages = list(history or []) + [
        {"role": "user", "content": md_text(text)},
        {"role": "assistant", "content": chain_markdown(services, answer)},
    ]
    return messages, chain_html(services, answer), answer.to_dict(), ""


def build_chat_tab(services: Services) -> dict[str, Any]:
    systems = available_systems()
    chatbot = gr.Chatbot(label="Multi-hop questions", elem_id="chat-log", height=420)
    with gr.Row():
        question = gr.Textbox(
            label="Question",
            placeholder="e.g. What is the currency of the country whose capital is Paris?",
            elem_id="chat-question",
            scale=5,
        )
        system = gr.Dropdown(systems, value=systems[0] if systems else None, label="System", scale=1)
        ask_btn = gr.Button("Ask", variant="primary", elem_id="chat-ask", scale=1)
    chain = gr.HTML(elem_id="chat-chain", label="Chain of the last answer")
    with gr.Accordion("Trace (JSON)", open=False):
        trace_json = gr.JSON()
    clear = gr.Button("Clear chat", size="sm")

    @guarded
    def ask(
        text: str, history: list[dict[str, Any]] | None, name: str, progress: gr.Progress = gr.Progress()
    ) -> ChatReply:
        progress(0.1, desc=f"answering with the {name} system (models load on the first question)")
        return chat_reply(services, text, history, name)

    outputs = [chatbot, chain, trace_json, question]
    # Handlers only wait for services.questions, which bounds the real work; see app/ui/admission.py.
    ask_btn.click(
        ask, [question, chatbot, system], outputs, api_name="ask", concurrency_limit=ASK_HANDLERS, concurrency_id="ask"
    )
    question.submit(
        ask,
        [question, chatbot, system],
        outputs,
        api_visibility="private",
        concurrency_limit=ASK_HANDLERS,
        concurrency_id="ask",
    )
    clear.click(lambda: ([], "", None), None, [chatbot, chain, trace_json], api_visibility="private")
    return {}
