"""Scale: a user's own graph of N triples (default 1,000,000) imported and answered over, end to end.

The graph is generated as Turtle in its own namespace with its own camelCase predicates: no Wikidata
ids and no relations file, so every relation's label, templates and functional flag are inferred by
the import. A tenth of the entities are hubs with 25 facts each (20 single-valued relations, five
multi-valued facts); the others have 7 or 8. Every entity has a unique two-word label.

For each backend (each in its own process, so memory peaks do not mix):
- **import**: ``kgedit kg import graph.ttl`` as a subprocess, its wall time and peak resident memory;
- **answers**: N composed questions of 2-4 hops ("What is the mentor of the home town of Kamoru
  Telvan?", from the inferred question templates), answered by the graph pipeline (qa/pipeline.py,
  with the packaged embedding model and chain scorer loaded first), each checked against the truth
  the generator kept; median and p95 latency;
- **edits**: single edits with their conflict check on the imported store; median and p95 latency.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_scale.py --backend oxigraph
    .venv/bin/python benchmarks/bench_scale.py --triples 100000 --questions 100 --backend both

Virtuoso is installed with apt when missing and started on 127.0.0.1 with a throw-away database.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

NS = "http://data.example.org/"
# Single-valued predicates (a subject has one object); hubs have all of them, others six.
FUNCTIONAL = [
    "mentor", "homeTown", "employer", "favouriteBook", "bestFriend", "landlord", "doctor", "coach",
    "publisher", "birthCity", "headOfHousehold", "neighbour", "rival", "guardian", "ownerOfRecord",
    "primarySponsor", "tailor", "bankBranch", "dentist", "patron",
]  # fmt: skip
# Multi-valued predicates; "speaks" carries an rdfs:label that replaces its local name.
MULTI = ["speaks", "collaborator"]
HUB_FACTS, OTHER_FUNCTIONAL = 25, 6
SYLLABLES = [
    "ka", "mo", "ru", "tel", "van", "si", "do", "ra", "bel", "nu", "qui", "zor", "em", "pa", "lin",
    "tor", "ve", "xi", "han", "gu", "lo", "mer", "fa", "den", "o", "sul", "wy", "ne", "jo", "cas",
]  # fmt: skip


def name(i: int) -> str:
    """A unique two-word label for entity ``i`` (30**4 = 810,000 names, then numbered)."""
    n = len(SYLLABLES)
    first = SYLLABLES[i % n] + SYLLABLES[i // n % n]
    second = SYLLABLES[i // n**2 % n] + SYLLABLES[i // n**3 % n] + "ia"
    return (
        f"{first.title()} {second.title()} {i // n**4}" if i >= n**4 else f"{first.title()} {second.title()}"
    )


@dataclass
class World:
    """What the generator knows: each entity's single-valued facts, by predicate index."""

    entities: int
    truth: list[dict[int, int]]
    triples: int


def entity_count(triples: int) -> int:
    """Entities so that labels + hub facts + other facts come to ``triples``: N(1 + 2.5 + 0.9*7.2)."""
    return max(100, round(triples / 9.98))


def generate(path: Path, triples: int, seed: int) -> World:
    """Write the graph as Turtle; every entity gets a label, hubs 25 facts, the others 7 or 8."""
    rng = random.Random(seed)
    n = entity_count(triples)
    hubs = n // 10
    budget = triples - n - hubs * HUB_FACTS  # facts left for the non-hubs
    others = n - hubs
    extra = max(0, budget - others * (OTHER_FUNCTIONAL + 1))  # non-hubs with an 8th fact
    truth: list[dict[int, int]] = []
    written = 0
    with path.open("w", encoding="utf-8") as out:
        out.write(f"@prefix e: <{NS}id/> .\n@prefix v: <{NS}vocab/> .\n")
        out.write("@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .\n")
        out.write('v:speaks rdfs:label "language spoken" .\n')
        for i in range(n):
            lines = [f'e:E{i} rdfs:label "{name(i)}"']
            hub = i < hubs
            chosen = range(len(FUNCTIONAL)) if hub else rng.sample(range(len(FUNCTIONAL)), OTHER_FUNCTIONAL)
            facts = {j: rng.randrange(n) for j in chosen}
            truth.append(facts)
            lines += [f"v:{FUNCTIONAL[j]} e:E{o}" for j, o in facts.items()]
            multi = HUB_FACTS - len(FUNCTIONAL) if hub else 1 + (i - hubs < extra)
            for k in range(multi):
                lines.append(f"v:{MULTI[k % len(MULTI)]} e:E{rng.randrange(n)}")
            written += len(lines)
            out.write(" ;\n    ".join(lines) + " .\n")
    return World(n, truth, written)


def questions(world: World, count: int, seed: int) -> list[tuple[int, list[int], int]]:
    """(start, chain of predicate indexes, answer) for composed 2-4 hop questions along the truth."""
    rng = random.Random(seed + 1)
    found = []
    while len(found) < count:
        start = rng.randrange(world.entities)
        node, chain = start, []
        for _ in range(rng.randint(2, 4)):
            options = [j for j in world.truth[node] if not chain or j != chain[-1]]
            if not options:
                break
            j = rng.choice(options)
            chain.append(j)
            node = world.truth[node][j]
        if len(chain) >= 2:
            found.append((start, chain, node))
    return found


def percentiles(seconds: list[float]) -> dict[str, float]:
    ordered = sorted(seconds)
    return {
        "median_ms": round(statistics.median(ordered) * 1000, 2),
        "p95_ms": round(ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))] * 1000, 2),
    }


def run_import(url: str, path: Path, home: Path) -> dict:
    """``kgedit kg import`` in a child process: wall time and the child's peak resident memory."""
    env = {**os.environ, "KGEDIT_HOME": str(home), "HF_HUB_OFFLINE": "1"}
    command = [
        sys.executable,
        "-m",
        "app.cli",
        "kg",
        "import",
        str(path),
        "--store",
        url,
    ]  # = kgedit kg import
    began = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True, cwd=ROOT)
    wall = time.perf_counter() - began
    if done.returncode != 0:
        raise RuntimeError(f"import failed ({done.returncode}): {done.stderr[-2000:]}")
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return {
        "import_s": round(wall, 1),
        "import_peak_rss_mib": round(peak_kib / 1024),
        "import_output": done.stdout,
    }


def run_backend(backend: str, triples: int, n_questions: int, n_edits: int, seed: int, budget: float) -> dict:
    from kg.store import FactStore
    from tests.servers.virtuoso import VirtuosoServer

    work = Path(tempfile.mkdtemp(prefix=f"bench-scale-{backend}-"))
    server = None
    if backend == "virtuoso":
        server = VirtuosoServer(work / "virtuoso", buffers=340_000).start()  # 2.6 GiB page cache
        url = server.store_url
    else:
        url = f"oxigraph:{work / 'store'}"
    result: dict = {"backend": backend}
    try:
        began = time.perf_counter()
        world = generate(work / "graph.ttl", triples, seed)
        result.update(triples=world.triples, entities=world.entities)
        result["generate_s"] = round(time.perf_counter() - began, 1)
        result.update(run_import(url, work / "graph.ttl", work / "home"))
        store = FactStore.open(url)
        stats = store.stats()
        result["base_facts"], result["relations"] = stats.base_facts, stats.relations
        result["inferred"] = {
            r.id.rsplit("/", 1)[-1]: [r.label, "functional" if r.functional else "multi-valued"]
            for r in store.relations()
            if r.inferred
        }
        relations = [store.require_relation(f"{NS}vocab/{p}") for p in FUNCTIONAL]
        rng = random.Random(seed + 2)
        # edits on the store alone, before anything listens; the questions below must follow them
        result["edit_latency"] = percentiles(edit_batch(store, world, relations, rng, n_edits))
        asked = questions(world, n_questions, seed)
        result.update(answer_questions(store, work, relations, asked, budget))
        # and with the answering system listening (its graph view and linker follow every write)
        result["edit_latency_listening"] = percentiles(edit_batch(store, world, relations, rng, n_edits))
        result["edits"] = n_edits
        store.close()
        result["answer_process_peak_rss_mib"] = round(
            resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        )
        if server is not None:
            result["server_peak_rss_mib"] = round(server.rss_peak_kib() / 1024)
    finally:
        if server is not None:
            server.stop()
        shutil.rmtree(work, ignore_errors=True)
    return result


def edit_batch(store, world: World, relations: list, rng: random.Random, count: int) -> list[float]:  # type: ignore[no-untyped-def]
    """``count`` single edits of facts the entities have, each timed; the truth follows them."""
    from kg.records import EditRequest

    seconds = []
    for _ in range(count):
        subject = rng.randrange(world.entities)
        j = rng.choice(list(world.truth[subject]))
        new = rng.randrange(world.entities)
        began = time.perf_counter()
        store.edit(EditRequest(f"{NS}id/E{subject}", relations[j].id, f"{NS}id/E{new}", author="bench"))
        seconds.append(time.perf_counter() - began)
        world.truth[subject][j] = new
    return seconds


def answer_questions(  # type: ignore[no-untyped-def]
    store, work: Path, relations: list, asked: list[tuple[int, list[int], int]], budget: float
) -> dict:
    """The graph pipeline with its models loaded first; every answer checked against the truth.
    Answering stops after ``budget`` seconds (the figures then cover the questions answered)."""
    from qa.phrasing import canonical_question
    from qa.systems import SystemContext, make_system

    began = time.perf_counter()
    system = make_system("graph", store, SystemContext(cache_dir=work / "cache"))
    system.answer(f"What is the mentor of {name(0)}?")  # loads the models and builds the graph view
    setup = time.perf_counter() - began
    seconds, right, wrong = [], 0, []
    deadline = time.perf_counter() + budget
    for start, chain, end in asked:
        if time.perf_counter() > deadline:
            break
        text = canonical_question([relations[j] for j in chain], name(start))
        began = time.perf_counter()
        answer = system.answer(text)
        seconds.append(time.perf_counter() - began)
        if answer.text == name(end):
            right += 1
        elif len(wrong) < 5:
            wrong.append({"question": text, "expected": name(end), "got": answer.text})
    return {
        "setup_s": round(setup, 1),
        "questions": len(seconds),
        "questions_asked": len(asked),
        "correct": right,
        "accuracy": round(right / len(seconds), 4),
        "latency": percentiles(seconds),
        "wrong_examples": wrong,
    }


def show(result: dict) -> None:
    print(f"\n== {result['backend']}: {result['triples']:,} triples, {result['entities']:,} entities")
    print(f"generating the Turtle file: {result['generate_s']} s")
    print(
        f"kgedit kg import: {result['import_s']} s wall, peak memory {result['import_peak_rss_mib']} MiB "
        f"({result['base_facts']:,} base facts, {result['relations']} relations, all inferred: "
        f"{len(result['inferred']) == result['relations']})"
    )
    print(f"answering setup (models loaded, graph view built): {result['setup_s']} s")
    lat = result["latency"]
    print(
        f"{result['questions']} of {result['questions_asked']} composed 2-4 hop questions answered: accuracy {100 * result['accuracy']:.1f}% "
        f"({result['correct']}), latency median {lat['median_ms']} ms, p95 {lat['p95_ms']} ms"
    )
    edits, listening = result["edit_latency"], result["edit_latency_listening"]
    print(
        f"edit with conflict check ({result['edits']} each): median {edits['median_ms']} ms, p95 "
        f"{edits['p95_ms']} ms on the store; with the answering system listening: median "
        f"{listening['median_ms']} ms, p95 {listening['p95_ms']} ms"
    )
    memory = f"peak memory of the answering process {result['answer_process_peak_rss_mib']} MiB"
    if "server_peak_rss_mib" in result:
        memory += f", Virtuoso server {result['server_peak_rss_mib']} MiB"
    print(memory)
    for example in result["wrong_examples"]:
        print(f"  wrong: {example}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--triples", type=int, default=1_000_000)
    parser.add_argument("--backend", choices=["oxigraph", "virtuoso", "both"], default="oxigraph")
    parser.add_argument("--questions", type=int, default=500)
    parser.add_argument("--edits", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--answer-budget", type=float, default=1800, help="Seconds for answering, at most.")
    parser.add_argument("--json", type=Path, help="Also write the figures to this JSON file.")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        os.environ.setdefault("TQDM_DISABLE", "1")  # no progress bars between the figures
        result = run_backend(
            args.backend, args.triples, args.questions, args.edits, args.seed, args.answer_budget
        )
        print("RESULT " + json.dumps(result), flush=True)
        return
    results = []
    for backend in ["oxigraph", "virtuoso"] if args.backend == "both" else [args.backend]:
        command = [sys.executable, __file__, "--child", "--backend", backend, "--triples", str(args.triples),
                   "--questions", str(args.questions), "--edits", str(args.edits), "--seed", str(args.seed),
                   "--answer-budget", str(args.answer_budget)]  # fmt: skip
        out = subprocess.run(command, stdout=subprocess.PIPE, text=True, check=True).stdout
        result = json.loads(next(line for line in out.splitlines() if line.startswith("RESULT "))[7:])
        results.append(result)
        show(result)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
