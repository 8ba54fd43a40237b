"""Timings of the evaluation machinery without a language model (prints figures; no assertions).

Run: .venv/bin/python benchmarks/bench_eval.py [--cases N]
Steps: load MQuAKE-CF-3k, build the KG-setting store, find inconsistent cases with all edits, load
and retract all edits at once, load and retract each case's edits (batch size 1), and generate cases
from the dev graph plus background facts.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from kg.io.mquake import edit_request
from qa.consistency import inconsistent_case_ids
from qa.generator import CaseGenerator, GeneratorConfig, graph_store
from qa.harness import Setting, prepare_store
from qa.mquake import load_cases

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
T = TypeVar("T")


def timed(label: str, step: Callable[[], T]) -> T:
    began = time.perf_counter()
    result = step()
    print(f"{label:<55} {time.perf_counter() - began:8.2f} s")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases", type=int, default=1800, help="cases to generate from the dev graph")
    args = parser.parse_args()
    cases = timed("load MQuAKE-CF-3k (3,000 cases)", lambda: load_cases(DATA / "mquake" / "MQuAKE-CF-3k.json"))
    store = timed("build the KG-setting store (world graph)", lambda: prepare_store(cases, Setting.KG))
    broken = timed("inconsistent cases with all edits loaded", lambda: inconsistent_case_ids(cases))
    print(f"{'  -> inconsistent cases':<55} {len(broken):8d}")
    requests = list({r.triple: edit_request(r, c.case_id) for c in cases for r in c.graph.rewrites}.values())
    outcomes = timed(f"load all {len(requests)} distinct edits (edit_many)", lambda: store.edit_many(requests))
    timed("retract them (retract_many)", lambda: store.retract_many([o.edit.id for o in outcomes]))

    def batch_one() -> None:
        for case in cases:
            done = store.edit_many([edit_request(r, case.case_id) for r in case.graph.rewrites])
            store.retract_many([o.edit.id for o in done])

    timed("batch size 1: load + retract each case's edits", batch_one)
    dev = graph_store([DATA / "dev" / "mquake_dev.json"], [DATA / "dev" / "background.tsv"])
    made = timed(
        f"generate {args.cases} consistent cases from dev graph + background",
        lambda: CaseGenerator(dev).generate(GeneratorConfig(cases=args.cases, seed=2), progress=False),
    )
    print(f"{'  -> cases made':<55} {len(made):8d}")


if __name__ == "__main__":
    main()
