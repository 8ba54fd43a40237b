"""Which step failed, in aggregate, for the wrong multi-hop answers of a harness run.

Reads the harness's ``progress.jsonl`` and the MQuAKE-format file it ran on, and sorts every wrong
multi-hop answer by its first failing step (linking, relation chain, LM-fallback hop, contradicted
gold...) using only ids and relations from the trace, never the question text.

    .venv/bin/python benchmarks/answer_errors.py OUT/progress.jsonl DATA.json [--consistent]
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path

from qa.mquake import load_cases


def failing_step(record: dict, question: dict, start: str, chain: tuple[str, ...]) -> str:
    trace = question["trace"]
    hops = trace["hops"]
    relations = tuple(h["relation"] for h in hops)
    if trace["reason"].startswith("graph:"):
        return "not grounded by the graph (the LM loop answered)"
    if start not in trace["linked"]:
        return "linking (gold subject not among the linked entities)"
    if any(h["origin"] == "model" for h in hops):
        return "relation chain ended in an LM-fallback hop"
    if relations != chain:
        if len(relations) < len(chain):
            cut = "the start of" if chain[: len(relations)] == relations else "not a part of"
            return f"relation chain: too few hops ({cut} the gold chain)"
        if len(relations) > len(chain):
            return "relation chain: too many hops"
        return "relation chain: wrong relations"
    if not record["consistent"]:
        return "chain right; gold contradicted by another case's edit"
    return "chain right, answer differs (multi-valued relation, alias)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("progress", type=Path)
    parser.add_argument("data", type=Path)
    parser.add_argument("--consistent", action="store_true", help="Only the cases the harness marks consistent.")
    args = parser.parse_args()
    cases = {c.case_id: c for c in load_cases(args.data)}
    counts: Counter[str] = Counter()
    total = 0
    for line in args.progress.read_text(encoding="utf-8").splitlines():
        entry = json.loads(line)
        if entry.get("type") != "case":
            continue
        record = entry["record"]
        if args.consistent and not record["consistent"]:
            continue
        case = cases[record["case_id"]]
        start = case.graph.new_triples[0][0]
        chain = tuple(t[1] for t in case.graph.new_triples)
        for question in record["questions"]:
            if question["kind"] != "multi_hop":
                continue
            total += 1
            if not question["correct"]:
                counts[failing_step(record, question, start, chain)] += 1
    print(f"multi-hop questions: {total}, wrong: {sum(counts.values())}")
    for step, count in counts.most_common():
        print(f"  {count:6d}  {step}")


if __name__ == "__main__":
    main()
