"""Score ``kgedit kg add-text``'s reading of curator sentences against gold triples.

    .venv/bin/python benchmarks/bench_add_text.py [--set composed|handwritten|heldout|all] [--errors]

Sentences: ``add_text/composed.jsonl`` (composed over the demo and dev graphs with the benchmark's own
patterns, see ``make_add_text_data.py``), ``add_text/handwritten.jsonl`` (written by hand) and
``add_text/heldout.jsonl`` (written by hand after the reader was frozen, measured once). Each gold
triple is matched with the candidate at its place in the text (or an exactly matching one). Exact means
subject, relation and object all right; a new object is right when it is proposed as new with the gold
label. "High-confidence wrong" counts gold triples whose candidate is wrong (or missing while another
candidate is offered) at or above the commit threshold, plus extra high-confidence candidates. The
time is per sentence with the models loaded (each graph reads one sentence first).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.add_text_graphs import open_graphs  # noqa: E402
from retrieval.embedder import Embedder  # noqa: E402
from retrieval.fact_text import HIGH_CONFIDENCE, CandidateTriple, FactTextReader  # noqa: E402
from retrieval.relation_model import RelationModel  # noqa: E402

DATA = ROOT / "benchmarks" / "add_text"
SYMMETRIC = {"P47", "P26", "P3373"}  # shares border with, spouse, sibling: true both ways round
SETS = {"composed": ["composed.jsonl"], "handwritten": ["handwritten.jsonl"], "heldout": ["heldout.jsonl"]}


def load(names: list[str]) -> list[dict[str, Any]]:
    rows = []
    for name in names:
        for line in (DATA / name).read_text(encoding="utf-8").splitlines():
            if line.strip():
                rows.append(json.loads(line))
    return rows


def object_right(gold: dict[str, Any], c: CandidateTriple) -> bool:
    if gold["new_object"]:
        return c.new_object and c.object_label.casefold() == gold["object_label"].casefold()
    return not c.new_object and c.object == gold["object"]


def exact(gold: dict[str, Any], c: CandidateTriple) -> bool:
    swapped = (c.subject, c.object) == (gold["object"], gold["subject"])
    if gold["relation"] in SYMMETRIC and c.relation == gold["relation"] and not c.new_object and swapped:
        return True  # "Hungary borders Albania" states (Albania, borders, Hungary) as well
    return c.subject == gold["subject"] and c.relation == gold["relation"] and object_right(gold, c)


def align(golds: list[dict[str, Any]], candidates: list[CandidateTriple]) -> list[CandidateTriple | None]:
    """Each gold triple's candidate: an exact match if one is offered, else the one at its place."""
    free = list(range(len(candidates)))
    found: list[CandidateTriple | None] = []
    for n, gold in enumerate(golds):
        hit = next((i for i in free if exact(gold, candidates[i])), None)
        if hit is None and n in free:
            hit = n
        if hit is None and free:
            hit = free[0]
        if hit is not None:
            free.remove(hit)
        found.append(candidates[hit] if hit is not None else None)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", choices=["composed", "handwritten", "heldout", "all"], default="all")
    parser.add_argument("--errors", action="store_true", help="print every sentence read wrong")
    parser.add_argument("--cache", type=Path, default=ROOT / "test-artifacts" / "add-text-cache")
    parser.add_argument(
        "--warm", action="store_true", help="keep sentence embeddings between sentences (repeats then cost nothing)"
    )
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (1 is fastest on a busy 2-core box)")
    args = parser.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    names = [n for key, files in SETS.items() if args.set in (key, "all") for n in files]
    rows = load(names)
    fitting = Embedder(cache_dir=args.cache)  # the training residuals' vectors are cached on disk
    reading = Embedder()  # sentences are embedded afresh: no disk cache, memory cleared per sentence
    started = time.perf_counter()
    readers = {}
    for graph, store in open_graphs().items():
        model = RelationModel.cached(fitting, store.relations(), args.cache)
        model.embedder = reading
        readers[graph] = FactTextReader(store, reading, model=model)
        readers[graph].read("France is in Europe.")  # loads the models, warms torch
    print(f"models loaded and fitted in {time.perf_counter() - started:.1f} s")
    counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    times: list[float] = []
    for row in rows:
        reader = readers[row["graph"]]
        if not args.warm:
            reading._memory.clear()  # an unseen sentence's residuals are never in the cache
        t0 = time.perf_counter()
        candidates = reader.read(row["text"]).candidates
        times.append((time.perf_counter() - t0) * 1000)
        golds = row["gold"]
        for gold, c in zip(golds, align(golds, candidates), strict=True):
            for key in ("all", f"source:{row['source']}", f"form:{row['form']}", f"graph:{row['graph']}"):
                tally = counts[key]
                tally["triples"] += 1
                if c is None:
                    tally["missed"] += 1
                    continue
                right = exact(gold, c)
                tally["exact"] += right
                tally["subject"] += c.subject == gold["subject"]
                tally["relation"] += c.relation == gold["relation"]
                tally["object"] += object_right(gold, c)
                tally["high"] += c.confidence >= HIGH_CONFIDENCE
                tally["high_wrong"] += (not right) and c.confidence >= HIGH_CONFIDENCE
            if args.errors and (c is None or not exact(gold, c)):
                got = "nothing" if c is None else (
                    f"({c.subject}, {c.relation}, {'+' + c.object_label if c.new_object else c.object}) {c.confidence:.2f}"
                )
                want = f"({gold['subject']}, {gold['relation']}, {'+' + gold['object_label'] if gold['new_object'] else gold['object']})"
                print(f"  WRONG [{row['source']}/{row['form']}] {row['text']!r}\n      want {want}\n      got  {got}")
        used = {id(c) for c in align(golds, candidates) if c is not None}
        for extra in [c for c in candidates if id(c) not in used]:
            if args.errors:
                print(f"  EXTRA [{row['source']}/{row['form']}] {row['text']!r}\n      got  ({extra.subject}, "
                      f"{extra.relation}, {'+' + extra.object_label if extra.new_object else extra.object}) "
                      f"{extra.confidence:.2f}")  # fmt: skip
            for key in ("all", f"source:{row['source']}", f"form:{row['form']}", f"graph:{row['graph']}"):
                counts[key]["extra"] += 1
                counts[key]["high_wrong"] += extra.confidence >= HIGH_CONFIDENCE
    print(f"{len(rows)} sentences, {counts['all']['triples']} gold triples; high confidence = {HIGH_CONFIDENCE}")
    header = f"{'slice':24} {'triples':>7} {'exact':>7} {'subj':>7} {'rel':>7} {'obj':>7} {'missed':>6} {'hi-conf':>7} {'hi-wrong':>8}"
    print(header)
    for key in sorted(counts, key=lambda k: (k != "all", k)):
        t = counts[key]
        n = t["triples"] or 1

        def pct(name: str, tally: dict[str, int] = t, total: int = n) -> str:
            return f"{100 * tally[name] / total:6.1f}%"

        print(
            f"{key:24} {t['triples']:7d} {pct('exact')} {pct('subject')} {pct('relation')} {pct('object')} "
            f"{t['missed']:6d} {pct('high')} {pct('high_wrong'):>8}"
        )
    print(
        f"time per sentence: median {statistics.median(times):.1f} ms, "
        f"p90 {sorted(times)[int(0.9 * len(times))]:.1f} ms, max {max(times):.1f} ms"
    )


if __name__ == "__main__":
    main()
