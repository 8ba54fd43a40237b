"""Retrieval benchmark: the fact index and the entity linker on a generated graph of 100,000 facts.

Prints build time, search latency (median, p95) end to end and for the FAISS lookup alone, the
approximate index's recall@10 against exact search on real question embeddings, and entity-linker
latency on 1,000 questions over 100,000 entities. The graph is generated: pseudo-word entity names and
the dev set's relation templates (../shared/data/dev/relations.tsv). Vectors are cached under
--cache-dir, so a second run skips the embedding work and shows the index build time alone.

    .venv/bin/python benchmarks/bench_retrieval.py --facts 100000 --entities 100000 --questions 1000
"""

from __future__ import annotations

import argparse
import logging
import random
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from kg.io.tsv import read_relations_tsv  # noqa: E402
from kg.records import Entity, Relation  # noqa: E402
from kg.store import FactStore, ImportBundle  # noqa: E402
from retrieval import vectors  # noqa: E402
from retrieval.defaults import DEFAULT_EMBEDDING_MODEL  # noqa: E402
from retrieval.embedder import Embedder  # noqa: E402
from retrieval.index import FactIndex  # noqa: E402
from retrieval.linker import EntityLinker  # noqa: E402

RELATIONS_TSV = Path(__file__).resolve().parents[2] / "shared" / "data" / "dev" / "relations.tsv"
_ONSETS = ["b", "br", "c", "d", "dr", "f", "g", "gr", "k", "l", "m", "n", "p", "r", "s", "st", "t", "v", "z"]
_VOWELS = ["a", "e", "i", "o", "u", "ai", "ei", "ou"]
_CODAS = ["", "n", "r", "l", "s", "th", "nd", "rk"]
_KINDS = ["", "", "", "City", "River", "Republic", "University", "Records", "FC", "Island", "Group"]


def pseudo_word(rng: random.Random) -> str:
    return "".join(
        rng.choice(_ONSETS) + rng.choice(_VOWELS) + rng.choice(_CODAS) for _ in range(rng.randint(1, 3))
    )


def generate(entities: int, facts: int, relations: list[Relation], seed: int = 0) -> ImportBundle:
    """Unique pseudo-word names (some with an alias), random facts over the given relations."""
    rng = random.Random(seed)
    names: set[str] = set()
    people: list[Entity] = []
    while len(people) < entities:
        words = [pseudo_word(rng).title() for _ in range(rng.randint(1, 3))]
        kind = rng.choice(_KINDS)
        label = " ".join(words + ([kind] if kind else []))
        if label in names:
            continue
        names.add(label)
        aliases = (words[-1],) if len(words) > 1 and rng.random() < 0.2 else ()
        people.append(Entity(f"G{len(people)}", label, aliases))
    triples: set[tuple[str, str, str]] = set()
    while len(triples) < facts:
        s, o = rng.randrange(entities), rng.randrange(entities)
        if s != o:
            triples.add((f"G{s}", rng.choice(relations).id, f"G{o}"))
    return ImportBundle(people, relations, sorted(triples), source="bench")


class Clock:
    """Wall time and this process's CPU time per call: on a shared, overloaded CPU the wall time
    measures the neighbours too, while CPU time approximates the latency on an idle machine."""

    def __init__(self) -> None:
        self.wall: list[float] = []
        self.cpu: list[float] = []
        self._wall = self._cpu = 0.0

    def __enter__(self) -> Clock:
        self._wall, self._cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall.append(time.perf_counter() - self._wall)
        self.cpu.append(time.process_time() - self._cpu)

    def __str__(self) -> str:
        return f"wall {percentiles(self.wall)}; CPU time {percentiles(self.cpu)}"


def percentiles(samples: list[float]) -> str:
    ms = sorted(s * 1000 for s in samples)
    return f"median {statistics.median(ms):.2f} ms, p95 {ms[int(0.95 * (len(ms) - 1))]:.2f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--facts", type=int, default=100_000)
    parser.add_argument("--entities", type=int, default=100_000)
    parser.add_argument("--questions", type=int, default=1_000)
    parser.add_argument("--model", default=DEFAULT_EMBEDDING_MODEL)
    parser.add_argument("--cache-dir", type=Path, default=Path.home() / ".cache" / "kgedit-bench")
    parser.add_argument("--approximate-above", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--scale-to", type=int, default=0, help="Also time FAISS on this many synthetic vectors."
    )
    parser.add_argument(
        "--only", choices=["all", "index", "linker"], default="all", help="Which part to run."
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")

    relations = read_relations_tsv(RELATIONS_TSV).relations
    bundle = generate(args.entities, args.facts, relations, args.seed)
    store = FactStore.open("memory:")
    started = time.perf_counter()
    store.import_bundle(bundle)
    print(f"graph: {args.entities:,} entities, {args.facts:,} facts, {len(relations)} relations "
          f"(store import {time.perf_counter() - started:.1f} s)")  # fmt: skip

    if args.only in ("all", "index"):
        bench_index(args, store, relations, bundle)
    if args.only in ("all", "linker"):
        bench_linker(args, store, relations, bundle)


def bench_index(
    args: argparse.Namespace, store: FactStore, relations: list[Relation], bundle: ImportBundle
) -> None:
    embedder = Embedder(args.model, cache_dir=args.cache_dir)
    started = time.perf_counter()
    index = FactIndex.open(store, None, embedder, approximate_above=args.approximate_above)
    first_build = time.perf_counter() - started
    started = time.perf_counter()
    index.rebuild()
    warm_build = time.perf_counter() - started
    stats = index.stats()
    print(f"index build: {first_build:.1f} s first (embedding what the cache lacks), "
          f"{warm_build:.1f} s with every statement cached; kind {stats['kind']}, nprobe {stats['nprobe']}, "
          f"build-time recall@10 estimate {stats['recall_at_10']}")  # fmt: skip

    rng = random.Random(args.seed + 1)
    facts = list(store.current_facts())
    sample = [facts[rng.randrange(len(facts))] for _ in range(args.questions)]
    labels = {e.id: e.label for e in bundle.entities}
    by_id = {r.id: r for r in relations}
    questions = [by_id[f.relation].question(labels[f.subject]) for f in sample]

    fresh = Embedder(args.model)  # no disk cache: each question goes through the model
    fresh.encode(["warm up"])
    embedding = Clock()
    for question in questions:
        with embedding:
            fresh.encode([question])
    print(
        f"query embedding alone (one new question through the model; CPU time sums torch threads): {embedding}"
    )

    queries = embedder.encode(questions)  # batched; FactIndex.search below finds them in the cache
    search = Clock()
    found = 0
    for fact, question in zip(sample, questions, strict=True):
        with search:
            hits = index.search(question, k=10)
        found += any((h.fact.subject, h.fact.relation) == (fact.subject, fact.relation) for h in hits)
    print(f"FactIndex.search with the query vector cached (lookup, filters, hit objects): {search}")
    print(f"  a fact of the asked (subject, relation) in the top 10: {found / len(sample):.3f}")

    built = index._require_vectors()
    lookup = Clock()
    for row in range(len(queries)):
        with lookup:
            built.search(queries[row : row + 1], 10)
    print(f"FAISS lookup alone ({built.kind}): {lookup}")

    ids, data = built.vectors()
    exact = vectors.exact(built.dim)
    exact.add(ids, data)
    _, approximate_ids = built.search(queries, 10)
    _, exact_ids = exact.search(queries, 10)
    print(f"recall@10 of the {built.kind} index against exact search, on the {len(queries)} question vectors: "
          f"{vectors.recall_at_k(approximate_ids, exact_ids):.4f}")  # fmt: skip
    if args.scale_to > len(ids):
        bench_scaled(args, data, queries)


def bench_scaled(args: argparse.Namespace, data: np.ndarray, queries: np.ndarray) -> None:
    """FAISS figures at a size whose embedding this machine cannot afford: synthetic vectors, said so."""
    rng = np.random.default_rng(args.seed)
    n = args.scale_to
    mixed = data[rng.integers(0, len(data), n)] + 0.5 * data[rng.integers(0, len(data), n)]
    mixed = (mixed + 0.05 * rng.standard_normal(mixed.shape)).astype(np.float32)
    mixed /= np.linalg.norm(mixed, axis=1, keepdims=True)
    ids = rng.integers(0, 2**62, size=n, dtype=np.int64)
    started = time.perf_counter()
    built = vectors.build(ids, mixed, args.approximate_above)
    build_seconds = time.perf_counter() - started
    lookup = Clock()
    for row in range(len(queries)):
        with lookup:
            built.search(queries[row : row + 1], 10)
    exact = vectors.exact(built.dim)
    exact.add(ids, mixed)
    recall = vectors.recall_at_k(built.search(queries, 10)[1], exact.search(queries, 10)[1])
    print(f"SYNTHETIC {n:,} vectors (each = real statement vector + 0.5 x another + noise, normalised): "
          f"{built.kind} build {build_seconds:.1f} s, nprobe {built.nprobe}; FAISS lookup {lookup}; "
          f"recall@10 against exact on the real question vectors {recall:.4f}")  # fmt: skip


def bench_linker(
    args: argparse.Namespace, store: FactStore, relations: list[Relation], bundle: ImportBundle
) -> None:
    rng = random.Random(args.seed + 2)
    started = time.perf_counter()
    linker = EntityLinker.from_store(store)
    print(f"linker: {len(linker):,} entities loaded in {time.perf_counter() - started:.1f} s")
    people = bundle.entities
    asked = []
    for n in range(args.questions):
        entity = people[rng.randrange(len(people))]
        relation = relations[n % len(relations)]
        name = entity.aliases[0] if entity.aliases and n % 3 == 0 else entity.label
        variant = [name, name.lower(), name.upper() + "'s"][n % 3]
        asked.append((entity.id, relation.question(variant)))
    linking = Clock()
    right = 0
    for entity_id, question in asked:
        with linking:
            mentions = linker.link(question)
        right += any(m.entity_id == entity_id for m in mentions)
    print(f"linker on {len(asked)} questions: {linking}; the asked entity among the mentions: "
          f"{right / len(asked):.3f}")  # fmt: skip


if __name__ == "__main__":
    main()
