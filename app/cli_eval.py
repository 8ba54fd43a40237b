"""``kgedit eval`` (MQuAKE-format evaluation) and ``kgedit bench`` (case generation)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

from app.context import settings_for
from app.display import console, lines, plain
from kg.errors import InputError

eval_app = typer.Typer(help="Evaluate answering systems on MQuAKE-format data.", no_args_is_help=True)
bench_app = typer.Typer(help="Make MQuAKE-format benchmark cases from a graph.", no_args_is_help=True)


@eval_app.command("mquake")
def mquake(
    path: Annotated[Path, typer.Argument(help="MQuAKE-format JSON file (MQuAKE-CF-3k, v2, MQuAKE-T, or made by bench make).")],
    out: Annotated[Path, typer.Option("--out", help="Folder for summary.json, results.json, summary.md and plots.")],
    setting: Annotated[str, typer.Option("--setting", help="kg: base facts in the store; model: only the edits.")] = "kg",
    batch: Annotated[str, typer.Option("--batch", help="Edit batch sizes, comma-separated: 1,100,1000,all.")] = "1,100,all",
    system: Annotated[str, typer.Option("--system", help="Answering system: lm, graph, mello, auto, weights...")] = "lm",
    background: Annotated[Path | None, typer.Option("--background", help="Extra base facts (TSV: subject_id, subject_label, relation_id, relation_label, object_id, object_label); KG setting only.")] = None,
    sample: Annotated[int | None, typer.Option("--sample", help="Evaluate N cases drawn stratified by hop count and number of edits.")] = None,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the sample.")] = 0,
    match: Annotated[str, typer.Option("--match", help="exact: the whole answer must equal a gold; contains: a short answer may hold one.")] = "exact",
    single_hops: Annotated[bool, typer.Option("--single-hops/--no-single-hops", help="Also ask single hops and edited facts (hop-wise, edit-wise metrics).")] = True,
    lm: Annotated[str | None, typer.Option("--lm", help="Language model name or path (default from settings).")] = None,
    device: Annotated[str | None, typer.Option("--device", help="auto, cpu or cuda (default from settings).")] = None,
    fresh: Annotated[bool, typer.Option("--fresh", help="Ignore results already in --out and start over.")] = False,
) -> None:
    """Evaluate a system on an MQuAKE-format file by edit batch; resumes an interrupted run in --out."""
    from app.service.evaluating import EvaluationRequest, evaluate
    from qa.report import markdown

    request = EvaluationRequest(
        path, out, setting, batch, system, background, sample, seed, match, single_hops, lm, device, fresh
    )
    for note in request.notes():
        console.print(f"note: {note}")
    result = evaluate(settings_for(None), request)
    console.print(lines(markdown(result.summary)))
    console.print(f"reports written to {plain(out, 400)}")


@bench_app.command("make")
def make(
    out: Annotated[Path, typer.Option("--out", help="Where to write the MQuAKE-format JSON.")],
    graph: Annotated[list[Path] | None, typer.Option("--graph", help="MQuAKE-format file whose world graph to use (repeatable).")] = None,
    facts: Annotated[list[Path] | None, typer.Option("--facts", help="Labelled-triple TSV of extra facts (repeatable).")] = None,
    store: Annotated[str | None, typer.Option("--store", help="Use the current view of this store instead of files.")] = None,
    cases: Annotated[int, typer.Option("--cases", help="How many cases to make.")] = 3000,
    seed: Annotated[int, typer.Option("--seed", help="Random seed.")] = 0,
) -> None:
    """Make consistent MQuAKE-format cases (2-4 hops) with counterfactual edits from a graph."""
    from kg.store import FactStore
    from qa.consistency import edit_conflicts, inconsistent_case_ids
    from qa.generator import CaseGenerator, GeneratorConfig, graph_store, write_cases
    from qa.mquake import load_cases

    if cases < 1:
        raise InputError("--cases must be at least 1")
    began = time.perf_counter()
    if graph or facts:
        source = graph_store(list(graph or []), list(facts or []))
    else:
        source = FactStore.open(settings_for(store).store_url)
    made = CaseGenerator(source).generate(GeneratorConfig(cases=cases, seed=seed))
    write_cases(out, made)
    loaded = load_cases(out)
    broken, clashes = inconsistent_case_ids(loaded), edit_conflicts(loaded)
    if broken or clashes:
        raise InputError(f"generated cases are inconsistent ({len(broken)} cases, {len(clashes)} edit clashes); please report")
    console.print(
        f"{len(loaded)} cases written to {out} in {time.perf_counter() - began:.1f} s; "
        "checked: no two edits conflict and every case stays consistent with all edits loaded"
    )
