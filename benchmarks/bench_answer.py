"""Latency of the graph answering path (median and p95 per question), with its accuracy on the way.

Loads an MQuAKE-format file's world graph with all its edits (KG setting, batch "all") into an
in-memory store, warms the models up on a few questions, then times every question of every case
(the first time each is asked: cold caches). With ``--warm`` it then times a second pass, caches filled
(the chain texts each question needs are embedded once per process).

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_answer.py \
        --data ../shared/data/dev/mquake_dev.json --background ../shared/data/dev/background.tsv
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from kg.io.mquake import read_mquake
from kg.io.tsv import read_triples_tsv
from kg.relation_table import RelationTable
from kg.store import FactStore
from qa.matching import is_correct
from qa.mquake import load_cases
from qa.systems import SystemContext, make_system


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=Path("../shared/data/dev/mquake_dev.json"))
    parser.add_argument("--background", type=Path, default=None)
    parser.add_argument("--system", default="graph")
    parser.add_argument("--cache", type=Path, default=Path.home() / ".kgedit" / "cache")
    parser.add_argument("--limit", type=int, default=0, help="Time only the first N cases (0: all).")
    parser.add_argument(
        "--no-edits",
        action="store_true",
        help="Load the world graph without any edit and score against the original answers.",
    )
    parser.add_argument("--warm", action="store_true", help="Also time a second pass with caches warm.")
    args = parser.parse_args()

    began = time.perf_counter()
    store = FactStore.open("memory:")
    bundle = read_mquake(args.data)
    if args.no_edits:
        bundle.edits = []
    store.import_bundle(bundle)
    if args.background:
        bundle = read_triples_tsv(args.background)
        table = RelationTable.load()
        bundle.relations = [table.relation(r) for r in sorted({r for _, r, _ in bundle.facts}) if not store.relation(r)]
        store.import_bundle(bundle)
    load_seconds = time.perf_counter() - began
    cases = load_cases(args.data)[: args.limit or None]
    system = make_system(args.system, store, SystemContext(cache_dir=args.cache))
    for case in cases[:5]:
        system.answer(case.questions[0])  # warm-up: models loaded, caches filled
    seconds: list[float] = []
    right = cases_right = 0
    for case in cases:
        golds = case.original_golds if args.no_edits else case.new_golds
        any_right = False
        for question in case.questions:
            start = time.perf_counter()
            answer = system.answer(question)
            seconds.append(time.perf_counter() - start)
            ok = is_correct(answer.text, golds)
            right += ok
            any_right |= ok
        cases_right += any_right
    print(f"data: {args.data} ({len(cases)} cases, {len(seconds)} questions), system {args.system}")
    print(f"store load: {load_seconds:.1f} s; facts: {store.stats().current_facts}")
    print(f"latency per question (cold): {_latency(seconds)}")
    if args.warm:
        warm = []
        for case in cases:
            for question in case.questions:
                start = time.perf_counter()
                system.answer(question)
                warm.append(time.perf_counter() - start)
        print(f"latency per question (warm): {_latency(warm)}")
    against = "original answers, no edits loaded" if args.no_edits else "new answers, all edits loaded"
    print(f"multi-hop accuracy ({against}): {cases_right / len(cases):.3f}; per question {right / len(seconds):.3f}")


def _latency(seconds: list[float]) -> str:
    ordered = sorted(seconds)
    p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]
    return f"median {statistics.median(seconds) * 1000:.1f} ms, p95 {p95 * 1000:.1f} ms"


if __name__ == "__main__":
    main()
