"""Score kgedit's free-form benchmark: right / abstained / confidently wrong, per kind.

    .venv/bin/python benchmarks/bench_freeform.py [--set demo|dev|all] [--out answers.jsonl]

Questions and gold answers come from ``benchmarks/freeform_questions.py`` (gold = the set of entities
the question's relation chain reaches in the graph). An answerable question is right when the answer
set equals the gold set (after normalisation), abstained when the system says it cannot answer, and
confidently wrong otherwise. An unanswerable question (kinds ``unanswerable`` and ``gap``, a chain
through a hop the graph lacks) is right only when the system abstains. The
graph system runs without a language model, so every answer shown is a graph answer.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]
UNANSWERABLE = ("unanswerable", "gap")  # kinds whose right answer is to abstain
sys.path.insert(0, str(ROOT))

from benchmarks.freeform_questions import OUT, demo_store, dev_store  # noqa: E402
from qa.matching import normalize  # noqa: E402


def run(name: str, out: list[dict[str, object]], warm: bool) -> Counter[tuple[str, str]]:
    """Answer every question of one set; with ``warm``, each is answered once first (caches filled)
    and the second answer is timed."""
    from qa.pipeline import GraphPipeline, load_scorer
    from retrieval.embedder import Embedder
    from retrieval.linker import EntityLinker

    store = demo_store() if name == "demo" else dev_store()
    embedder = Embedder()
    system = GraphPipeline(store, load_scorer(None, embedder), EntityLinker.from_store(store, embedder))
    system.answer("What is the capital of nothing?")  # warm the view and the models
    tally: Counter[tuple[str, str]] = Counter()
    lines = (OUT / f"{name}.jsonl").read_text(encoding="utf-8").splitlines()
    cold: dict[str, float] = {}
    for line in lines if warm else ():
        question = str(json.loads(line)["question"])
        began = time.perf_counter()
        system.answer(question)
        cold[question] = time.perf_counter() - began
    for line in lines:
        row = json.loads(line)
        began = time.perf_counter()
        answer = system.answer(str(row["question"]))
        seconds = time.perf_counter() - began
        golds = {normalize(g) for g in row["golds"]}  # type: ignore[union-attr]
        given = {normalize(a) for a in answer.answers}
        if answer.abstained:
            outcome = "abstained"
        elif row["answerable"] and given == golds:
            outcome = "right"
        else:
            outcome = "wrong"
        kind = str(row["kind"])
        tally[kind, outcome] += 1
        tally[kind, "n"] += 1
        out.append({
            **row, "set": name, "outcome": outcome, "answers": answer.answers, "reason": answer.trace.reason,
            "seconds": seconds, "cold_seconds": cold.get(str(row["question"]), seconds),
        })
    store.close()
    return tally


def report(tally: Counter[tuple[str, str]], title: str) -> None:
    kinds = sorted({k for k, _ in tally})
    print(f"\n{title}\n| kind | n | right | abstained | confidently wrong |\n|---|---|---|---|---|")
    for kind in kinds:
        n = tally[kind, "n"]
        right = tally[kind, "abstained"] if kind in UNANSWERABLE else tally[kind, "right"]
        abstained = tally[kind, "abstained"]
        print(f"| {kind} | {n} | {100 * right / n:.1f}% | {100 * abstained / n:.1f}% | {100 * tally[kind, 'wrong'] / n:.1f}% |")
    answerable = [k for k in kinds if k not in UNANSWERABLE]
    unanswerable = [k for k in kinds if k in UNANSWERABLE]
    n_ans = sum(tally[k, "n"] for k in answerable)
    n_un = sum(tally[k, "n"] for k in unanswerable)
    total = n_ans + n_un
    if n_ans:
        print(f"answerable right: {100 * sum(tally[k, 'right'] for k in answerable) / n_ans:.1f}% of {n_ans}")
    if n_un:
        print(f"unanswerable abstained: {100 * sum(tally[k, 'abstained'] for k in unanswerable) / n_un:.1f}% of {n_un}")
    print(f"confidently wrong overall: {100 * sum(tally[k, 'wrong'] for k in kinds) / total:.1f}% of {total}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", choices=("demo", "dev", "all"), default="all")
    parser.add_argument("--out", type=Path, help="write every answer with its outcome (JSON lines)")
    parser.add_argument("--warm", action="store_true", help="time a second pass with caches filled (cold too)")
    args = parser.parse_args()
    names = ["demo", "dev"] if args.set == "all" else [args.set]
    rows: list[dict[str, object]] = []
    overall: Counter[tuple[str, str]] = Counter()
    for name in names:
        tally = run(name, rows, args.warm)
        report(tally, f"## {name} graph")
        overall.update(tally)
    if len(names) > 1:
        report(overall, "## both graphs")
    for label, key in (("warm" if args.warm else "first pass", "seconds"), ("cold", "cold_seconds")):
        seconds = sorted(float(r[key]) for r in rows)  # type: ignore[arg-type]
        print(f"latency per question ({label}): median {1000 * statistics.median(seconds):.1f} ms, "
              f"p95 {1000 * seconds[int(0.95 * (len(seconds) - 1))]:.1f} ms")
        if not args.warm:
            break
    if args.out:
        args.out.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")


if __name__ == "__main__":
    main()
