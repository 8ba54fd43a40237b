"""System ``mello``: the MeLLo/PokeMQA-style in-context loop, traced like every other system.

The loop itself lives in :mod:`editors.incontext`; this module wires it to the store's fact index,
the trained scope detector and the configured language model, and turns its steps into a trace: a
step whose answer came from an in-scope retrieved fact carries that fact (origin edit or base), a
step that kept the model's guess is marked MODEL.
"""

from __future__ import annotations

import time

from editors.incontext import InContextEditor, InContextResult
from kg.records import Origin
from kg.store import FactStore
from qa.paths import GraphView
from qa.scope import load_scope
from qa.systems import SystemContext, register_system
from qa.trace import Answer, Candidate, Hop, Trace


class MelloSystem:
    def __init__(self, editor: InContextEditor, name: str = "mello") -> None:
        self.editor = editor
        self.name = name

    def answer(self, question: str) -> Answer:
        began = time.perf_counter()
        result = self.editor.run(question)
        trace = to_trace(question, self.name, result)
        trace.seconds = time.perf_counter() - began
        return Answer(final_answer(result, trace), trace)


def final_answer(result: InContextResult, trace: Trace) -> str:
    """The loop's answer, never one the trace says was replaced: when the model's final answer
    repeats a guess that a retrieved fact contradicted at the last step, the fact's answer stands."""
    last = result.steps[-1] if result.steps else None
    if last is not None and last.replaced and _same(result.answer, last.guess):
        trace.conflicts.append(f"final answer {result.answer!r} was the replaced guess; {last.answer!r} stands")
        return last.answer
    return result.answer


def _same(a: str, b: str) -> bool:
    return " ".join(a.lower().split()).strip(" .") == " ".join(b.lower().split()).strip(" .")


def to_trace(question: str, system: str, result: InContextResult) -> Trace:
    trace = Trace(question, system)
    for step in result.steps:
        candidates = tuple(
            Candidate(c.statement, c.fact.id, c.in_scope, c.fact.origin, c.fact.edit_id, used=c.fact == step.fact)
            for c in step.checked
        )
        if step.fact is not None:
            verb = "contradicted the model's guess" if step.replaced else "agreed with the model's guess"
            note = f"retrieved fact in scope ({verb} {step.guess!r})"
            trace.hops.append(
                Hop(step.question, step.answer, step.fact, step.fact.origin, step.fact.relation, candidates, note)
            )
            if step.replaced:
                trace.conflicts.append(f"{step.question}: model guess {step.guess!r} replaced by {step.answer!r}")
        else:
            note = "no retrieved fact in scope: the language model's guess is kept"
            trace.hops.append(Hop(step.question, step.answer, None, Origin.MODEL, None, candidates, note))
    trace.grounded = bool(trace.hops) and all(h.fact is not None for h in trace.hops)
    ending = "the model wrote a final answer" if result.finished else "stopped after the last step"
    trace.reason = f"language-model decomposition, {len(result.steps)} step(s); {ending}"
    return trace


def make_mello(store: FactStore, context: SystemContext) -> MelloSystem:
    from editors.lm import load_lm
    from retrieval.embedder import Embedder
    from retrieval.index import FactIndex

    embedder = Embedder(context.embedding_model, context.cache_dir)
    index = FactIndex.open(store, context.index_dir, embedder)
    view = GraphView(store)
    scope = load_scope(context.cache_dir, embedder, view)
    lm = load_lm(context.lm, context.cache_dir, context.device)
    view.refresh()
    return MelloSystem(InContextEditor(lm, index, scope, view.label))


register_system("mello", make_mello)
