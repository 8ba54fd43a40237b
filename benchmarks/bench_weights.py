"""Weight-editing benchmark on the dev set: ROME per edit, MEMIT on all edits, statistics sample size.

Loads ../shared/data/dev (MQuAKE-format cases, relations.tsv templates, background facts) into an
in-memory store, turns its 67 distinct edits into requests, and prints efficacy, paraphrase,
neighbourhood and seconds per edit. Key statistics come from Python's own documentation text by
default (shares nothing with the dev set, so neighbourhood is not flattered) and are cached under
--cache; their computation time is reported separately and excluded from seconds per edit.

    .venv/bin/python benchmarks/bench_weights.py --method rome --threads 1
    .venv/bin/python benchmarks/bench_weights.py --method memit
    .venv/bin/python benchmarks/bench_weights.py --method rome --edits 12 --sweep 1000,10000,90000
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from editors.deltas import WeightDelta  # noqa: E402
from editors.lm import LanguageModel, load_lm  # noqa: E402
from editors.locate import context_prefixes
from editors.memit import MemitHyperParams  # noqa: E402
from editors.methods import DEFAULT_LM  # noqa: E402
from editors.precision import COMPUTE_DTYPES, matmul_dtype  # noqa: E402
from editors.requests import WeightRequest, requests_from_store  # noqa: E402
from editors.rome import RomeHyperParams, measure, rank_one  # noqa: E402
from editors.stats import (  # noqa: E402
    TextSample,
    sample_from_file,
    sample_from_python_docs,
    sample_from_statements,
    shrunk,
)
from editors.values import ValueSearch  # noqa: E402
from editors.weight_eval import EditEvaluator, EditScore, Summary, neighbours_from_store, summarise  # noqa: E402
from editors.weights import StatsSettings, WeightEditor  # noqa: E402
from kg.io.mquake import read_mquake  # noqa: E402
from kg.io.tsv import read_relations_tsv, read_triples_tsv  # noqa: E402
from kg.store import FactStore, ImportBundle  # noqa: E402

DEV = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "dev"


def dev_store(folder: Path = DEV) -> FactStore:
    """The dev world graph (cases + background facts, dev relation templates) with its 67 edits."""
    store = FactStore.open("memory:")
    cases = read_mquake(folder / "mquake_dev.json")
    relations = read_relations_tsv(folder / "relations.tsv")
    background = read_triples_tsv(folder / "background.tsv")
    store.import_bundle(
        ImportBundle(entities=cases.entities, relations=relations.relations, facts=cases.facts)
    )
    store.import_bundle(ImportBundle(entities=background.entities, facts=background.facts))
    store.import_bundle(ImportBundle(edits=cases.edits))
    return store


def text_sample(source: str, store: FactStore) -> TextSample:
    if source == "python-docs":
        return sample_from_python_docs()
    if source == "graph":
        relations = {r.id: r for r in store.relations()}
        labels = {e.id: e.label for e in store.entities()}
        return sample_from_statements(
            relations[f.relation].statement(labels[f.subject], labels[f.object])
            for f in store.current_facts()
        )
    return sample_from_file(Path(source))


def run_rome(editor: WeightEditor, evaluator: EditEvaluator, requests: list[WeightRequest]) -> dict:
    scores: list[EditScore] = []
    seconds: list[float] = []
    cpu: list[float] = []
    for request in requests:
        start, start_cpu = time.perf_counter(), time.process_time()
        delta = editor.compute([request], "rome")
        seconds.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
        with editor.applied(delta):
            scores += evaluator.score([request])
        logging.info(
            "%s %r -> %s: %.1f s %s",
            request.edit_id,
            request.prompt,
            request.target_new,
            seconds[-1],
            scores[-1],
        )
    summary = summarise(scores)
    return {
        "summary": summary,
        "median_s": statistics.median(seconds),
        "median_cpu_s": statistics.median(cpu),
        "total_s": sum(seconds),
    }


def run_sweep(
    lm: LanguageModel,
    cache: Path,
    sample: TextSample | None,
    rome: RomeHyperParams,
    evaluator: EditEvaluator,
    requests: list[WeightRequest],
    budgets: list[int],
) -> dict[int, Summary]:
    """ROME per edit with statistics from each token budget. The search for δ does not depend on the
    statistics, so it runs once per edit and only the closed-form update changes with the budget."""
    editors = {
        n: WeightEditor(lm, cache, StatsSettings(tokens=n, sample=sample, from_model=sample is None), rome)
        for n in budgets
    }
    layer = rome.layer if rome.layer is not None else editors[budgets[0]].patcher.layout.rome_layer()
    inverses = {
        n: torch.linalg.inv(shrunk(e.moments([layer])[layer], rome.shrink).double())
        for n, e in editors.items()
    }
    prefixes = context_prefixes(lm.model, lm.tokenizer, rome.prefixes, rome.prefix_length, rome.seed)
    scores: dict[int, list[EditScore]] = {n: [] for n in budgets}
    seconds, cpu = [], []
    for request in requests:
        start, start_cpu = time.perf_counter(), time.process_time()
        measured = measure(lm.model, lm.tokenizer, request, layer, prefixes, rome.search)
        seconds.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
        for n in budgets:
            delta = WeightDelta(lm.name, "rome", (request.edit_id,), (rank_one(measured, inverses[n]),))
            with editors[n].applied(delta):
                scores[n] += evaluator.score([request])
        logging.info(
            "%s: %s", request.edit_id, {n: (s[-1].efficacy, s[-1].neighbours_kept) for n, s in scores.items()}
        )
    print(
        f"ROME seconds per edit (search for δ; the closed form takes milliseconds): median "
        f"{statistics.median(seconds):.1f} s wall, {statistics.median(cpu):.1f} s CPU"
    )
    return {n: summarise(s) for n, s in scores.items()}


def run_memit(editor: WeightEditor, evaluator: EditEvaluator, requests: list[WeightRequest]) -> dict:
    start, start_cpu = time.perf_counter(), time.process_time()
    delta = editor.compute(requests, "memit")
    seconds = time.perf_counter() - start
    cpu = time.process_time() - start_cpu
    with editor.applied(delta):
        summary = summarise(evaluator.score())
    return {"summary": summary, "total_s": seconds, "cpu_s": cpu, "per_edit_s": seconds / len(requests)}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", default=DEFAULT_LM)
    parser.add_argument("--method", choices=["rome", "memit", "both"], default="both")
    parser.add_argument("--edits", type=int, default=0, help="first N dev edits (0: all 67)")
    parser.add_argument("--every", type=int, default=1, help="every Nth dev edit (a spread-out subset)")
    parser.add_argument(
        "--stats-source", default="python-docs", help="python-docs, graph, model, or a text file"
    )
    parser.add_argument("--stats-tokens", type=int, default=10_000)
    parser.add_argument("--sweep", default="", help="comma-separated token budgets to compare (ROME)")
    parser.add_argument("--layer", type=int, default=None)
    parser.add_argument("--memit-layers", default="", help="e.g. 3,4,5,6,7,8")
    parser.add_argument("--cov-weight", type=float, default=MemitHyperParams().cov_weight)
    parser.add_argument("--shrink", type=float, default=RomeHyperParams().shrink)
    parser.add_argument("--prefixes", type=int, default=RomeHyperParams().prefixes)
    parser.add_argument("--prefix-length", type=int, default=RomeHyperParams().prefix_length)
    parser.add_argument("--steps", type=int, default=ValueSearch().steps)
    parser.add_argument("--lr", type=float, default=None, help="the value search's lr (default: each method's own)")
    parser.add_argument("--stop-loss", type=float, default=ValueSearch().stop_loss)
    parser.add_argument("--kl-factor", type=float, default=None, help="the value search's KL weight (default: each method's own)")
    parser.add_argument("--weight-decay", type=float, default=None, help="the value search's δ decay (default: each method's own)")
    parser.add_argument(
        "--compute-dtype", choices=COMPUTE_DTYPES, default=ValueSearch().compute_dtype,
        help="the value search's matrix multiplies (auto: bfloat16 where the CPU has it natively)",
    )
    parser.add_argument("--device", default="auto")
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch's default)")
    parser.add_argument(
        "--cache", type=Path, default=Path(os.environ.get("KGEDIT_HOME", "~/.kgedit")).expanduser() / "cache"
    )
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    if args.threads:
        torch.set_num_threads(args.threads)

    store = dev_store()
    requests = requests_from_store(store)
    requests = requests[:: args.every]
    if args.edits:
        requests = requests[: args.edits]
    start = time.perf_counter()
    lm = load_lm(args.model, cache_dir=args.cache, device=args.device)
    print(
        f"model {args.model} on {lm.device} ({next(lm.model.parameters()).dtype}), loaded in {time.perf_counter() - start:.1f} s"
    )
    print(
        f"torch threads {torch.get_num_threads()}, CPU load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
    )
    model_dtype = next(lm.model.parameters()).dtype
    print(f"value search multiplies in {matmul_dtype(args.compute_dtype, model_dtype, lm.device)} ({args.compute_dtype})")
    evaluator = EditEvaluator(lm.model, lm.tokenizer, requests, neighbours_from_store(store, requests))
    evaluator.baseline()
    print("unedited:", summarise(evaluator.score()).line())

    sample = None if args.stats_source == "model" else text_sample(args.stats_source, store)
    shape = {"prefixes": args.prefixes, "prefix_length": args.prefix_length}
    rome = RomeHyperParams(layer=args.layer, shrink=args.shrink, **shape)
    overrides = {
        name: value
        for name, value in (("lr", args.lr), ("kl_factor", args.kl_factor), ("weight_decay", args.weight_decay))
        if value is not None
    }
    search = {"steps": args.steps, "stop_loss": args.stop_loss, "compute_dtype": args.compute_dtype, **overrides}
    rome = replace(rome, search=replace(rome.search, **search))
    memit_layers = tuple(int(x) for x in args.memit_layers.split(",")) if args.memit_layers else None
    memit = MemitHyperParams(layers=memit_layers, cov_weight=args.cov_weight, shrink=args.shrink, **shape)
    memit = replace(memit, search=replace(memit.search, **search))
    results: dict[str, object] = {}
    if args.sweep:
        budgets = [int(x) for x in args.sweep.split(",")]
        for tokens, summary in run_sweep(lm, args.cache, sample, rome, evaluator, requests, budgets).items():
            print(f"ROME  [{tokens} tok of {sample.source if sample else 'model text'}] {summary.line()}")
            results[f"sweep-{tokens}"] = vars(summary)
        budgets = []
    else:
        budgets = [args.stats_tokens]
    for tokens in budgets:
        editor = WeightEditor(
            lm,
            args.cache,
            StatsSettings(tokens=tokens, sample=sample, from_model=sample is None),
            rome,
            memit,
        )
        start = time.perf_counter()
        layers = [editor.rome.layer if editor.rome.layer is not None else editor.patcher.layout.rome_layer()]
        layers += list(memit_layers or editor.patcher.layout.memit_layers())
        editor.moments(sorted(set(layers)))
        stats_s = time.perf_counter() - start
        print(
            f"statistics: {tokens} tokens of {sample.source if sample else 'model text'}, {stats_s:.1f} s (cached after the first run)"
        )
        if args.method in ("rome", "both"):
            out = run_rome(editor, evaluator, requests)
            print(
                f"ROME  [{tokens} tok] {out['summary'].line()}  median {out['median_s']:.1f} s/edit (CPU {out['median_cpu_s']:.1f} s), total {out['total_s']:.0f} s"
            )
            results[f"rome-{tokens}"] = {**out, "summary": vars(out["summary"])}
        if args.method in ("memit", "both"):
            out = run_memit(editor, evaluator, requests)
            print(
                f"MEMIT [{tokens} tok] {out['summary'].line()}  total {out['total_s']:.0f} s, CPU {out['cpu_s']:.0f} s ({out['per_edit_s']:.1f} s/edit)"
            )
            results[f"memit-{tokens}"] = {**out, "summary": vars(out["summary"])}
    if args.json:
        args.json.write_text(json.dumps(results, indent=1, default=str))


if __name__ == "__main__":
    main()
