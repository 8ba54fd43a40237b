"""Fact store benchmark: bulk import throughput and single-edit latency on a 100,000-triple store.

Targets (issue 3): import of 100,000 triples under 60 s; median edit (with its conflict check) under 20 ms.
Run: .venv/bin/python benchmarks/bench_store.py [--triples 100000] [--edits 300]
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from pathlib import Path

from kg.records import EditRequest, Entity, Relation
from kg.store import FactStore, ImportBundle

RELATIONS = [
    Relation(
        f"R{i}",
        f"relation {i}",
        f"The relation {i} of {{subject}} is {{object}}.",
        f"What is relation {i} of {{subject}}?",
        i % 3 != 0,
    )
    for i in range(20)
]


def generated_bundle(triples: int, seed: int = 0) -> ImportBundle:
    rng = random.Random(seed)
    entity_count = triples // 2
    entities = [Entity(f"N{i}", f"entity {i}") for i in range(entity_count)]
    facts = set()
    while len(facts) < triples:
        facts.add(
            (f"N{rng.randrange(entity_count)}", rng.choice(RELATIONS).id, f"N{rng.randrange(entity_count)}")
        )
    return ImportBundle(entities, RELATIONS, sorted(facts), source="bench")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--triples", type=int, default=100_000)
    parser.add_argument("--edits", type=int, default=300)
    args = parser.parse_args()
    bundle = generated_bundle(args.triples)
    with tempfile.TemporaryDirectory() as tmp:
        store = FactStore.open(f"oxigraph:{Path(tmp) / 'store'}")
        start = time.perf_counter()
        store.import_bundle(bundle)
        store.backend.flush()
        seconds = time.perf_counter() - start
        print(
            f"import: {args.triples:,} triples + {len(bundle.entities):,} entities in {seconds:.1f} s "
            f"({args.triples / seconds:,.0f} triples/s; target < 60 s)"
        )

        rng = random.Random(1)
        facts = bundle.facts
        latencies = []
        for i in range(args.edits):
            subject, relation, _ = facts[rng.randrange(len(facts))]
            # Half the edits hit keys edited before, so the conflict rule has work to do.
            if i % 2 and latencies:
                subject, relation = facts[i % 50][0], facts[i % 50][1]
            request = EditRequest(
                subject, relation, f"N{rng.randrange(len(bundle.entities))}", author="bench"
            )
            t0 = time.perf_counter()
            store.edit(request)
            latencies.append((time.perf_counter() - t0) * 1000)
        latencies.sort()
        p95 = latencies[int(0.95 * (len(latencies) - 1))]
        print(
            f"edit latency on {args.triples:,} triples ({args.edits} edits): median {statistics.median(latencies):.1f} ms, "
            f"p95 {p95:.1f} ms (target median < 20 ms)"
        )
        print(f"conflicts resolved by the newer-edit rule: {len(store.conflicts())}")
        store.close()


if __name__ == "__main__":
    main()
