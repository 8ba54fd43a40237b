"""Build kgedit's free-form question benchmark over the demo graph and the dev graph.

Every question is written from patterns of our own (everyday phrasings, different from the ones the
chain scorer is trained on in qa/training_data.py) and its gold answers are computed from the graph:
the set of entities the relation chain reaches. Kinds: ``forward`` (one hop), ``chain`` (two hops,
in several word orders), ``inverse`` (an entity described by a fact pointing at it), ``set`` (a
multi-valued hop, every value expected), ``typo`` (a misspelt name), ``casual`` (lower case, no
question mark), ``unanswerable`` (something the graph does not hold; the right answer is to abstain),
``gap`` (a two-hop chain whose first hop the graph lacks for the entity, while a shorter chain would
answer something else: abstain too).

    .venv/bin/python benchmarks/freeform_questions.py   # writes benchmarks/freeform/{demo,dev}.jsonl

No evaluation data is read: the dev graph is the project's development set.
"""

from __future__ import annotations

import json
import random
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from kg.store import FactStore  # noqa: E402

DEV = ROOT.parent / "shared" / "data" / "dev"
OUT = ROOT / "benchmarks" / "freeform"


def demo_store() -> FactStore:
    from kg.demo import demo_bundle

    store = FactStore.open("memory:")
    store.import_bundle(demo_bundle())
    return store


def dev_store() -> FactStore:
    from kg.io.mquake import read_mquake
    from kg.io.tsv import read_triples_tsv
    from kg.relation_table import RelationTable

    store = FactStore.open("memory:")
    store.import_bundle(read_mquake(DEV / "mquake_dev.json"))
    bundle = read_triples_tsv(DEV / "background.tsv")
    table = RelationTable.load()
    bundle.relations = [table.relation(r) for r in sorted({r for _, r, _ in bundle.facts}) if not store.relation(r)]
    store.import_bundle(bundle)
    return store


class Graph:
    """Forward and backward lookups over the current facts, by label."""

    def __init__(self, store: FactStore) -> None:
        self.label = {e.id: e.label for e in store.entities()}
        self.out: dict[tuple[str, str], list[str]] = {}
        self.into: dict[tuple[str, str], list[str]] = {}
        for f in store.current_facts():
            self.out.setdefault((f.subject, f.relation), []).append(f.object)
            self.into.setdefault((f.object, f.relation), []).append(f.subject)
        self.subjects: dict[str, list[str]] = {}
        for s, r in self.out:
            self.subjects.setdefault(r, []).append(s)
        for r in self.subjects:
            self.subjects[r].sort()

    def walk(self, start: str, chain: list[str]) -> set[str]:
        """Entities reached from ``start`` along ``chain`` ("^R" walks R backwards)."""
        here = {start}
        for relation in chain:
            step: set[str] = set()
            for e in here:
                step |= set(self.into.get((e, relation[1:]), []) if relation.startswith("^") else self.out.get((e, relation), []))
            here = step - {start} if len(chain) > 1 else step
        return here

    def names(self, ids: set[str]) -> list[str]:
        return sorted(self.label[i] for i in ids)

    def unique_label(self, entity: str) -> bool:
        return sum(1 for v in self.label.values() if v == self.label[entity]) == 1


def typo(name: str, rng: random.Random) -> str:
    """A plausible misspelling: swap, drop or double one inner letter of the longest word."""
    words = name.split()
    at = max(range(len(words)), key=lambda i: len(words[i]))
    word = words[at]
    if len(word) < 6:
        return name
    i = rng.randrange(1, len(word) - 2)
    kind = rng.choice(("swap", "drop", "double", "vowel"))
    if kind == "swap":
        word = word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    elif kind == "drop":
        word = word[:i] + word[i + 1 :]
    elif kind == "double":
        word = word[:i] + word[i] + word[i:]
    else:
        vowels = "aeiou"
        spots = [k for k in range(1, len(word) - 1) if word[k] in vowels]
        if spots:
            k = rng.choice(spots)
            word = word[:k] + rng.choice([v for v in vowels if v != word[k]]) + word[k + 1 :]
    words[at] = word
    return " ".join(words)


Pattern = tuple[str, list[str], str]  # (text with {x}, chain, what {x} is: the start relation's subjects)

DEMO_PATTERNS: dict[str, list[Pattern]] = {
    "forward": [
        ("What's the capital city of {x}?", ["P36"], "P36"),
        ("Which currency do people pay with in {x}?", ["P38"], "P38"),
        ("On which continent do we find {x}?", ["P30"], "P30"),
        ("{x} is a city in which country?", ["P17"], "P17"),
        ("Could you tell me what money {x} uses?", ["P38"], "P38"),
        ("Which city serves as the seat of government of {x}?", ["P36"], "P36"),
    ],
    "chain": [
        ("What money is used in the country {x} belongs to?", ["P17", "P38"], "P17"),
        ("{x} lies in a country; which continent is that country on?", ["P17", "P30"], "P17"),
        ("What is the official language of the nation where {x} is located?", ["P17", "P37"], "P17"),
        ("In the country where {x} lies, what currency do shops accept?", ["P17", "P38"], "P17"),
    ],
    "inverse": [
        ("{x} is the capital of which country?", ["^P36"], "^P36"),
        ("Which nation has its government seated in {x}?", ["^P36"], "^P36"),
        ("What currency is used in the country whose capital is {x}?", ["^P36", "P38"], "^P36"),
        ("Which continent is the country with {x} as its capital on?", ["^P36", "P30"], "^P36"),
        ("Which country uses the {x}?", ["^P38"], "^P38"),
        ("What is the capital of the country that pays with the {x}?", ["^P38", "P36"], "^P38"),
    ],
    "set": [
        ("Which countries border {x}?", ["P47"], "P47"),
        ("List the neighbours of {x}.", ["P47"], "P47"),
        ("What are the official languages of {x}?", ["P37"], "P37"),
        ("Name the capitals of the countries next to {x}.", ["P47", "P36"], "P47"),
        ("What currencies are used by {x}'s neighbours?", ["P47", "P38"], "P47"),
    ],
    "typo": [
        ("What is the capital of {x}?", ["P36"], "P36"),
        ("Which currency does {x} use?", ["P38"], "P38"),
        ("Which continent is {x} in?", ["P30"], "P30"),
    ],
    "casual": [
        ("capital of {x}", ["P36"], "P36"),
        ("what currency does {x} have", ["P38"], "P38"),
        ("which country is {x} the capital of", ["^P36"], "^P36"),
        ("tell me what continent {x} is on", ["P30"], "P30"),
    ],
    "unanswerable": [
        ("Who is the president of {x}?", [], "P36"),
        ("What is the population of {x}?", [], "P36"),
        ("How many square kilometres does {x} cover?", [], "P36"),
        ("When did {x} become independent?", [], "P36"),
        ("Who is the prime minister of {x}?", [], "P36"),
        ("What is the national dish of {x}?", [], "P36"),
        ("What is the highest mountain in {x}?", [], "P36"),
        ("What is the dialling code of {x}?", [], "P36"),
        ("Who founded {x}?", [], "P36"),
        ("How many people live in {x}?", [], "P17"),
        ("What is the capital of Wakanda?", [], "P36"),
        ("Which currency is used in Narnia?", [], "P36"),
    ],
    # a chain through a hop the graph lacks for {x} (islands have no neighbours in the graph), while
    # a shorter chain would answer something else ({x}'s own currency): the right answer is to abstain
    "gap": [
        ("What currencies are used by {x}'s neighbours?", ["P47", "P38"], "P38"),
        ("Name the capitals of the countries next to {x}.", ["P47", "P36"], "P36"),
        ("Which languages are spoken in the countries bordering {x}?", ["P47", "P37"], "P37"),
        ("What is the currency of {x}'s neighbouring countries?", ["P47", "P38"], "P38"),
    ],
}

DEV_PATTERNS: dict[str, list[Pattern]] = {
    "forward": [
        ("Who wrote {x}?", ["P50"], "P50"),
        ("Where does {x} have its head office?", ["P159"], "P159"),
        ("What is {x}'s nationality?", ["P27"], "P27"),
        ("Which company manufactures the {x}?", ["P176"], "P176"),
    ],
    "chain": [
        ("In which city was the author of {x} born?", ["P50", "P19"], "P50"),
        ("What is the capital of the country {x} is a citizen of?", ["P27", "P36"], "P27"),
        ("Which city hosts the headquarters of the maker of the {x}?", ["P176", "P159"], "P176"),
    ],
    "inverse": [
        ("Which book was written by {x}?", ["^P50"], "^P50"),
        ("Which company is headquartered in {x}?", ["^P159"], "^P159"),
    ],
    "unanswerable": [
        ("How tall is {x}?", [], "P27"),
        ("What is the net worth of {x}?", [], "P27"),
        ("When did {x} get married?", [], "P27"),
        ("How many pages does {x} have?", [], "P50"),
    ],
}


def compose(graph: Graph, patterns: dict[str, list[Pattern]], per: dict[str, int], seed: int) -> Iterator[dict[str, object]]:
    rng = random.Random(seed)
    for kind, options in patterns.items():
        made = 0
        seen: set[str] = set()
        tries = 0
        while made < per[kind] and tries < per[kind] * 50:
            tries += 1
            text, chain, start_of = rng.choice(options)
            pool = graph.subjects.get(start_of.lstrip("^"), [])
            if start_of.startswith("^"):
                pool = sorted({o for (s, r), os in graph.out.items() if r == start_of[1:] for o in os})
            if kind == "gap":
                pool = [e for e in pool if not graph.walk(e, chain[:1])]
            if not pool:
                continue
            start = rng.choice(pool)
            if not graph.unique_label(start):
                continue
            name = graph.label[start]
            golds = graph.names(graph.walk(start, chain)) if chain and kind != "gap" else []
            if chain and kind != "gap" and not golds:
                continue
            if kind == "inverse" and chain and len(golds) > 3:
                continue
            shown = typo(name, rng) if kind == "typo" else name
            if kind == "typo" and shown == name:
                continue
            question = text.replace("{x}", shown)
            if question in seen:
                continue
            seen.add(question)
            made += 1
            answerable = bool(chain) and kind != "gap"
            yield {"question": question, "kind": kind, "answerable": answerable, "golds": golds, "chain": chain, "start": start}


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    demo_counts = {"forward": 50, "chain": 45, "inverse": 50, "set": 45, "typo": 40, "casual": 30, "unanswerable": 60, "gap": 20}
    dev_counts = {"forward": 25, "chain": 25, "inverse": 15, "unanswerable": 25}
    for name, store, patterns, counts in (
        ("demo", demo_store(), DEMO_PATTERNS, demo_counts),
        ("dev", dev_store(), DEV_PATTERNS, dev_counts),
    ):
        graph = Graph(store)
        rows = list(compose(graph, patterns, counts, seed=13))
        path = OUT / f"{name}.jsonl"
        path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
        print(f"{path.relative_to(ROOT)}: {len(rows)} questions")


if __name__ == "__main__":
    main()
