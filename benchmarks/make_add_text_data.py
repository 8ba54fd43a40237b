"""Compose the add-text benchmark's curator sentences over the demo and dev graphs, gold triples known.

Sentences come from ``add_text/patterns.tsv`` (written apart from the relation model's training
paraphrases, in other words) with the forms curators use: plain statements, lower case without a full
stop, corrections ("fix - ..."), news style ("BREAKING: ..."), colon forms, and two-fact paragraphs.
Objects are another object the graph already has for that relation (a change), the current object
(a restatement), or an invented name that names no entity (a proposed new entity).

    .venv/bin/python benchmarks/make_add_text_data.py   # writes add_text/composed.jsonl, handwritten.jsonl
"""

from __future__ import annotations

import json
import random
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks.add_text_graphs import open_graphs  # noqa: E402
from kg.store import FactStore  # noqa: E402

HERE = Path(__file__).resolve().parent / "add_text"
SEED = 17
PER_GRAPH = {"demo": 150, "dev": 200}
# Relations whose objects are proper names, so an invented name reads as one.
NAMED_OBJECTS = {
    "P36", "P38", "P6", "P35", "P19", "P20", "P50", "P69", "P108", "P112", "P127", "P159", "P169", "P175",
    "P26", "P286", "P54", "P449", "P740", "P176", "P178", "P264", "P17",
}  # fmt: skip
INVENTED = [
    "Port Avelin", "Nova Tessaly", "Dunmore Bay", "Kestrel Falls", "Mara Ellison", "Tomas Reyvik",
    "Ines Calloway", "Orrin Vale", "Silverholm", "Caldera Springs", "Brightwater Union", "Quillon",
    "Harrowgate", "Lysandra Moore", "Pellam Cross", "Vintry Hill", "Oskar Lindqvist", "Marisol Ortega",
    "Eastvale", "Corwen Mark", "Tarrow Crown", "Zephyr Group", "Ardent Systems", "Halden",
]  # fmt: skip
PREFIXES = [("fix - ", "correction"), ("correction: ", "correction"), ("BREAKING: ", "news"), ("Update: ", "news")]


def read_patterns(path: Path) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            relation, pattern = line.split("\t")
            found.setdefault(relation, []).append(pattern)
    return found


def style(rng: random.Random, sentence: str) -> tuple[str, str]:
    """A sentence in one of the forms curators write, and the form's name."""
    roll = rng.random()
    if roll < 0.2:
        return sentence.lower(), "lowercase"
    if roll < 0.35:
        prefix, form = rng.choice(PREFIXES)
        return prefix + sentence, form
    return sentence[0].upper() + sentence[1:] + ".", "statement"


def compose(store: FactStore, graph: str, count: int, patterns: dict[str, list[str]], rng: random.Random) -> list[dict]:
    by_relation: dict[str, list[tuple[str, str]]] = {}
    for fact in store.current_facts():
        if fact.relation in patterns:
            by_relation.setdefault(fact.relation, []).append((fact.subject, fact.object))
    for pairs in by_relation.values():
        pairs.sort()  # the store's iteration order is not fixed; the composed set must be
    relations = sorted(by_relation)
    label = {e.id: e.label for e in store.entities()}
    shared = {name for name, n in Counter(label.values()).items() if n > 1}  # homonyms: no gold to pick
    rows: list[dict] = []
    while len(rows) < count:
        facts = []
        for _ in range(2 if rng.random() < 0.1 else 1):
            relation = rng.choice(relations)
            subject, current = rng.choice(by_relation[relation])
            roll = rng.random()
            if roll < 0.25 and relation in NAMED_OBJECTS:
                obj, obj_label, new = None, rng.choice(INVENTED), True
            elif roll < 0.4:
                obj, obj_label, new = current, label[current], False
            else:
                others = sorted({o for _, o in by_relation[relation]} - {current})
                if not others:
                    continue
                obj = rng.choice(others)
                obj_label, new = label[obj], False
            if label[subject] == obj_label or label[subject] in shared or obj_label in shared:
                continue
            pattern = rng.choice(patterns[relation])
            sentence = pattern.format(subject=label[subject], object=obj_label)
            facts.append((sentence, {"subject": subject, "relation": relation, "object": obj,
                                     "object_label": obj_label, "new_object": new}))  # fmt: skip
        if not facts:
            continue
        styled = [style(rng, s) for s, _ in facts]
        text = " ".join(s if s.endswith(".") or len(styled) == 1 else s + "." for s, _ in styled)
        rows.append({"graph": graph, "text": text, "form": "paragraph" if len(facts) > 1 else styled[0][1],
                     "gold": [g for _, g in facts], "source": "composed"})  # fmt: skip
    return rows


def handwritten(graphs: dict[str, FactStore], path: Path) -> list[dict]:
    """The hand-written sentences with their gold labels resolved to entity ids (each must be unique)."""
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        graph, text, golds = line.split("\t")
        store = graphs[graph]
        gold = []
        for triple in golds.split(" ;; "):
            subject, relation, obj = (part.strip() for part in triple.split("|"))
            found = [resolve(store, subject, f"line {number}")]
            new = obj.startswith("+")
            gold.append({"subject": found[0], "relation": relation,
                         "object": None if new else resolve(store, obj, f"line {number}"),
                         "object_label": obj.lstrip("+"), "new_object": new})  # fmt: skip
        rows.append({"graph": graph, "text": text, "form": "handwritten", "gold": gold, "source": "handwritten"})
    return rows


def resolve(store: FactStore, label: str, where: str) -> str:
    found = store.find_entities(label)
    if len(found) != 1:
        raise SystemExit(f"{where}: {label!r} names {len(found)} entities")
    return found[0].id


def write(rows: list[dict], out: Path) -> None:
    out.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    print(f"wrote {len(rows)} sentences to {out}")


def main() -> None:
    rng = random.Random(SEED)
    patterns = read_patterns(HERE / "patterns.tsv")
    graphs = open_graphs()
    rows: list[dict] = []
    for graph, store in graphs.items():
        rows += compose(store, graph, PER_GRAPH[graph], patterns, rng)
    write(rows, HERE / "composed.jsonl")
    write(handwritten(graphs, HERE / "handwritten.tsv"), HERE / "handwritten.jsonl")
    held_out = [r | {"form": "heldout", "source": "heldout"} for r in handwritten(graphs, HERE / "heldout.tsv")]
    write(held_out, HERE / "heldout.jsonl")


if __name__ == "__main__":
    main()
