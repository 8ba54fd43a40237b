"""Scale: a generated graph of N triples (default 1,000,000) in the embedded store and in Virtuoso.

For each backend, in its own process (so memory peaks do not mix): load time of one atomic import
of the whole graph, peak memory, multi-hop answer latency (median, p95) on generated 2-4 hop
questions, and edit latency. Each question names its start entity by label ("What is the capital of
the country of citizenship of Kamoru Telvan?"); answering links the label to the entity exactly,
then walks the current view hop by hop with ``FactStore.objects``, and every answer is checked
against the generated truth. ``--pipeline N`` also times the full graph pipeline (qa/pipeline.py:
embedding-based linking, path scoring) on N of the questions; it embeds every entity name first.

    .venv/bin/python benchmarks/bench_scale.py                        # both backends, 1,000,000 triples
    .venv/bin/python benchmarks/bench_scale.py --triples 100000 --backend oxigraph --pipeline 50

Virtuoso is installed with apt when missing and started on 127.0.0.1 with a throw-away database.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from kg.io.tsv import read_relations_tsv  # noqa: E402
from kg.records import EditRequest, Entity, Relation  # noqa: E402
from kg.store import FactStore, ImportBundle  # noqa: E402

RELATIONS_TSV = ROOT.parent / "shared" / "data" / "dev" / "relations.tsv"
RELATION_COUNT = 10
SYLLABLES = [
    "ka", "mo", "ru", "tel", "van", "si", "do", "ra", "bel", "nu", "qui", "zor", "em", "pa", "lin",
    "tor", "ve", "xi", "han", "gu", "lo", "mer", "fa", "den", "o", "sul", "wy", "ne", "jo", "cas",
]  # fmt: skip


def name(i: int) -> str:
    """A unique two-word label for entity ``i`` (30**4 = 810,000 names)."""
    n = len(SYLLABLES)
    first = SYLLABLES[i % n] + SYLLABLES[i // n % n]
    second = SYLLABLES[i // n**2 % n] + SYLLABLES[i // n**3 % n] + "ia"
    return f"{first.title()} {second.title()} {i // n**4}" if i >= n**4 else f"{first.title()} {second.title()}"


def relations() -> list[Relation]:
    functional = [r for r in read_relations_tsv(RELATIONS_TSV).relations if r.functional]
    return functional[:RELATION_COUNT]


def world(triples: int, seed: int) -> tuple[ImportBundle, list[list[int]]]:
    rels = relations()
    count = triples // len(rels)
    rng = random.Random(seed)
    truth = [[rng.randrange(count) for _ in rels] for _ in range(count)]
    entities = [Entity(f"E{i}", name(i)) for i in range(count)]
    facts = [(f"E{i}", rel.id, f"E{truth[i][j]}") for i in range(count) for j, rel in enumerate(rels)]
    return ImportBundle(entities, rels, facts, source="bench"), truth


def percentiles(seconds: list[float]) -> dict[str, float]:
    ordered = sorted(seconds)
    return {
        "median_ms": round(statistics.median(ordered) * 1000, 2),
        "p95_ms": round(ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))] * 1000, 2),
    }


def questions(count: int, entities: int, seed: int) -> list[tuple[int, list[int]]]:
    rng = random.Random(seed + 1)
    return [
        (rng.randrange(entities), [rng.randrange(RELATION_COUNT) for _ in range(rng.randint(2, 4))])
        for _ in range(count)
    ]


def follow(truth: list[list[int]], start: int, chain: list[int]) -> int:
    node = start
    for j in chain:
        node = truth[node][j]
    return node


def answer_by_hops(store: FactStore, rels: list[Relation], start: int, chain: list[int]) -> str | None:
    found = store.find_entities(name(start))
    if len(found) != 1:
        return None
    node = found[0].id
    for j in chain:
        objects = store.objects(node, rels[j].id)
        if len(objects) != 1:
            return None
        node = objects[0].object
    return node


def run_backend(backend: str, triples: int, n_questions: int, n_edits: int, pipeline: int, seed: int) -> dict:
    from tests.servers.virtuoso import VirtuosoServer

    work = Path(tempfile.mkdtemp(prefix=f"bench-scale-{backend}-"))
    server = None
    if backend == "virtuoso":
        server = VirtuosoServer(work / "virtuoso", buffers=340_000).start()  # 2.6 GiB page cache
        url = server.store_url
    else:
        url = f"oxigraph:{work / 'store'}"
    result: dict = {"backend": backend, "triples": triples}
    try:
        began = time.perf_counter()
        bundle, truth = world(triples, seed)
        result["generate_s"] = round(time.perf_counter() - began, 1)
        store = FactStore.open(url)
        began = time.perf_counter()
        store.import_bundle(bundle)
        store.backend.flush()
        result["load_s"] = round(time.perf_counter() - began, 1)
        stats = store.stats()
        result["base_facts"] = stats.base_facts
        result["entities"] = stats.entities
        rels = bundle.relations
        del bundle

        asked = questions(n_questions, len(truth), seed)
        seconds, right = [], 0
        for start, chain in asked:
            began = time.perf_counter()
            got = answer_by_hops(store, rels, start, chain)
            seconds.append(time.perf_counter() - began)
            right += got == f"E{follow(truth, start, chain)}"
        result["hops_questions"] = len(asked)
        result["hops_correct"] = right
        result["hops_latency"] = percentiles(seconds)

        rng = random.Random(seed + 2)
        seconds = []
        for _ in range(n_edits):
            subject, j, new = rng.randrange(len(truth)), rng.randrange(len(rels)), rng.randrange(len(truth))
            began = time.perf_counter()
            store.edit(EditRequest(f"E{subject}", rels[j].id, f"E{new}", author="bench"))
            seconds.append(time.perf_counter() - began)
            truth[subject][j] = new
        result["edits"] = n_edits
        result["edit_latency"] = percentiles(seconds)
        right = 0
        for start, chain in asked:
            right += answer_by_hops(store, rels, start, chain) == f"E{follow(truth, start, chain)}"
        result["hops_correct_after_edits"] = right

        if pipeline:
            from qa.systems import SystemContext, make_system

            began = time.perf_counter()
            system = make_system("graph", store, SystemContext(cache_dir=work / "cache"))
            system.answer(f"Who is the head of government of {name(0)}?")
            result["pipeline_setup_s"] = round(time.perf_counter() - began, 1)
            from qa.phrasing import canonical_question

            seconds, right = [], 0
            for start, chain in asked[:pipeline]:
                text = canonical_question([rels[j] for j in chain], name(start))
                began = time.perf_counter()
                answer = system.answer(text)
                seconds.append(time.perf_counter() - began)
                right += answer.text == name(follow(truth, start, chain))
            result["pipeline_questions"] = min(pipeline, len(asked))
            result["pipeline_correct"] = right
            result["pipeline_latency"] = percentiles(seconds)
        store.close()
        result["client_peak_rss_mib"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
        if server is not None:
            result["server_peak_rss_mib"] = round(server.rss_peak_kib() / 1024)
    finally:
        if server is not None:
            server.stop()
        shutil.rmtree(work, ignore_errors=True)
    return result


def show(result: dict) -> None:
    print(f"\n== {result['backend']}: {result['base_facts']:,} base facts, {result['entities']:,} entities")
    print(f"load (one atomic import): {result['load_s']} s (generating the graph: {result['generate_s']} s)")
    memory = f"peak memory: client process {result['client_peak_rss_mib']} MiB"
    if "server_peak_rss_mib" in result:
        memory += f", Virtuoso server {result['server_peak_rss_mib']} MiB"
    print(memory)
    hops = result["hops_latency"]
    print(
        f"multi-hop answers by label link + hops ({result['hops_questions']} questions, 2-4 hops): "
        f"median {hops['median_ms']} ms, p95 {hops['p95_ms']} ms; correct {result['hops_correct']}"
        f"/{result['hops_questions']} (after edits {result['hops_correct_after_edits']})"
    )
    edits = result["edit_latency"]
    print(f"edit latency ({result['edits']} edits): median {edits['median_ms']} ms, p95 {edits['p95_ms']} ms")
    if "pipeline_latency" in result:
        pipe = result["pipeline_latency"]
        print(
            f"graph pipeline ({result['pipeline_questions']} questions; setup incl. embedding every name "
            f"{result['pipeline_setup_s']} s): median {pipe['median_ms']} ms, p95 {pipe['p95_ms']} ms; "
            f"correct {result['pipeline_correct']}/{result['pipeline_questions']}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--triples", type=int, default=1_000_000)
    parser.add_argument("--backend", choices=["oxigraph", "virtuoso", "both"], default="both")
    parser.add_argument("--questions", type=int, default=500)
    parser.add_argument("--edits", type=int, default=200)
    parser.add_argument("--pipeline", type=int, default=0, help="Also time the graph pipeline on N questions.")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, help="Also write the figures to this JSON file.")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        result = run_backend(args.backend, args.triples, args.questions, args.edits, args.pipeline, args.seed)
        print("RESULT " + json.dumps(result), flush=True)
        return
    results = []
    for backend in ["oxigraph", "virtuoso"] if args.backend == "both" else [args.backend]:
        command = [sys.executable, __file__, "--child", "--backend", backend, "--triples", str(args.triples),
                   "--questions", str(args.questions), "--edits", str(args.edits),
                   "--pipeline", str(args.pipeline), "--seed", str(args.seed)]  # fmt: skip
        out = subprocess.run(command, stdout=subprocess.PIPE, text=True, check=True).stdout
        result = json.loads(next(line for line in out.splitlines() if line.startswith("RESULT "))[7:])
        results.append(result)
        show(result)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
