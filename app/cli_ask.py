"""``kgedit ask``: answer a multi-hop question over the edited graph; ``kgedit train-qa``: rebuild the
chain scorer (and the scope detector) from questions composed over a training graph."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from app.context import StoreOption, open_store, settings_for
from app.display import lines, plain
from kg.errors import InputError
from kg.records import Origin
from qa.trace import Answer

DEV = Path("../shared/data/dev")


def ask(
    question: Annotated[str | None, typer.Argument(help="The question, e.g. \"Who is the head of state of the country where Big Ben is?\"")] = None,
    system: Annotated[str, typer.Option("--system", help="auto (graph, then the LM loop), graph, or mello.")] = "auto",
    explain: Annotated[bool, typer.Option("--explain", help="Show every hop: fact, origin, candidates.")] = False,
    file: Annotated[Path | None, typer.Option("--file", help="Answer every line of this text file (one question a line).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Write one JSON object per answer (question, answer, answers, grounded, abstained, hops, seconds).")] = False,
    store: StoreOption = None,
) -> None:
    """Answer questions from the current view of the store (edits applied), with their chains.

    When the graph cannot answer, the answer is "cannot answer from the graph" with the reason; a
    language model's guess is printed only as a labelled guess."""
    from app.service.answering import AnsweringService, read_questions

    if system not in ("auto", "graph", "mello"):
        raise InputError(f"--system must be auto, graph or mello, not {system!r}")
    questions = read_questions(question, file)
    settings, fact_store = open_store(store)
    try:
        answering = AnsweringService(settings, fact_store)  # models load once for every question
        for text, answer in zip(questions, answering.answer_all(questions, system), strict=True):
            if as_json:
                typer.echo(json.dumps(answer_record(answer), ensure_ascii=False))
                continue
            if len(questions) > 1:
                typer.echo(f"Q: {plain(text)}")
            typer.echo(lines(answer.shown))
            if explain or not answer.trace.grounded:
                typer.echo(lines(explanation(answer)))
    finally:
        fact_store.close()


def answer_record(answer: Answer) -> dict[str, object]:
    """One answer as the JSON line of ``kgedit ask --json`` (the same fields the UI and API show)."""
    trace = answer.trace
    hops = []
    for hop in trace.hops:
        fact = hop.fact
        hops.append(
            {
                "subject": hop.subject,
                "relation": hop.relation or "",
                "object": hop.object if fact is not None else "",
                "subject_id": fact.subject if fact is not None else None,
                "object_id": fact.object if fact is not None else None,
                "answer": hop.answer,
                "origin": hop.origin.value,
                "inverse": hop.inverse,
                "branches": list(hop.branches),
                "question": hop.question,
            }
        )
    return {
        "question": trace.question,
        "answer": answer.text if not answer.abstained else "",
        "answers": list(answer.answers) if not answer.abstained else [],
        "grounded": trace.grounded,
        "abstained": answer.abstained,
        "reason": trace.reason,
        "guess": answer.guess,
        "links": list(trace.links),
        "hops": hops,
        "seconds": round(trace.seconds, 4),
    }


def explanation(answer: Answer) -> str:
    trace = answer.trace
    lines = [f"system: {trace.system}  grounded: {trace.grounded}  {trace.seconds * 1000:.0f} ms"]
    if trace.reason:
        lines.append(f"why: {trace.reason}")
    for link in trace.links:
        lines.append(f"linked: {link}")
    for n, hop in enumerate(trace.hops, start=1):
        origin = "MODEL (language model guess)" if hop.origin is Origin.MODEL else hop.origin.value
        fact = f" [fact {hop.fact.id}]" if hop.fact else ""
        inverse = " (walked backwards)" if hop.inverse else ""
        lines.append(f"  hop {n}: {hop.question} -> {hop.answer}  ({origin}){inverse}{fact}")
        if len(hop.branches) > 1:
            lines.append(f"         branches: {', '.join(hop.branches)}")
        if hop.note:
            lines.append(f"         {hop.note}")
        for c in hop.candidates:
            mark = "*" if c.used else " "
            lines.append(f"       {mark} {c.score:6.2f}  {c.statement}  ({c.origin.value})")
    for conflict in trace.conflicts:
        lines.append(f"  conflict: {conflict}")
    return "\n".join(lines)


def train_qa(
    graph: Annotated[list[Path] | None, typer.Option("--graph", help="MQuAKE-format file whose world graph to train on (repeatable); never an evaluation file.")] = None,
    facts: Annotated[list[Path] | None, typer.Option("--facts", help="Labelled-triple TSV of extra facts (repeatable).")] = None,
    questions: Annotated[int, typer.Option("--questions", help="How many questions to compose.")] = 6000,
    seed: Annotated[int, typer.Option("--seed", help="Random seed.")] = 0,
    demo: Annotated[bool, typer.Option("--demo/--no-demo", help="Also compose questions over the demo country graph (kgedit kg demo).")] = True,
    out: Annotated[Path | None, typer.Option("--out", help="Where to write the artefacts (default: the cache folder).")] = None,
) -> None:
    """Train the chain scorer and the scope detector on questions composed over a graph."""
    from kg.io.mquake import read_mquake
    from kg.io.tsv import read_triples_tsv
    from kg.relation_table import RelationTable
    from kg.store import FactStore
    from qa.paths import GraphView
    from qa.scope import scope_path, train_scope
    from qa.scorer_training import train_and_save
    from retrieval.embedder import Embedder

    graphs = graph or [DEV / "mquake_dev.json"]
    extra = facts if facts is not None else ([DEV / "background.tsv"] if graph is None else [])
    for path in (*graphs, *extra):
        if not path.is_file():
            raise InputError(f"{path}: no such file")
        if "mquake" in path.parts and "shared" in path.parts:
            raise InputError(f"{path} is evaluation data; train on the dev set or a generated graph")
    settings = settings_for(None)
    table = RelationTable.load()

    def load(with_demo: bool) -> FactStore:
        store = FactStore.open("memory:")
        for path in graphs:
            store.import_bundle(read_mquake(path))
        for path in extra:
            bundle = read_triples_tsv(path)
            bundle.relations = [table.relation(r) for r in sorted({r for _, r, _ in bundle.facts}) if not store.relation(r)]
            store.import_bundle(bundle)
        if with_demo:
            from kg.demo import demo_bundle

            store.import_bundle(demo_bundle())
        return store

    store = load(demo)
    embedder = Embedder(settings.embedding_model, settings.cache_dir)
    view = GraphView(store)
    given = [str(p) for p in (*graphs, *extra)]
    source = ", ".join([*given, *(["the demo graph"] if demo else [])])
    scorer_target = out / "chain_scorer.json" if out else settings.cache_dir / "qa" / "chain_scorer.json"
    scope_target = out / "scope_detector.json" if out else scope_path(settings.cache_dir)
    report = train_and_save(
        view,
        embedder,
        scorer_target,
        count=questions,
        seed=seed,
        source=source,
        forward_view=GraphView(load(False)) if demo else None,  # see train_and_save
        forward_source=", ".join(given) + " (forward chains only)",
    )
    typer.echo(f"chain scorer: {report.examples} questions, train top-1 {report.accuracy:.3f} -> {scorer_target}")
    scope = train_scope(view, embedder, scope_target, count=questions, seed=seed, source=source)
    typer.echo(f"scope detector: {scope.examples} pairs, train accuracy {scope.accuracy:.3f} -> {scope_target}")
