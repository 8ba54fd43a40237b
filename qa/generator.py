"""MQuAKE-format cases generated from any graph: chains of 2-4 hops, counterfactual edits, questions.

This is how kgedit is tested at scale and how anything learned gets training data (never from
evaluation sets). A chain follows facts whose (subject, relation) has exactly one object, so each
hop has one answer. Edits replace a hop's object with another object of the same relation, and the
new chain continues from there. All cases share one table of edits, and no case's new chain relies
on an unedited fact that another case edits, so every case's edits can be loaded together without
contradicting any other case's gold answer. Questions are composed from relation templates.
"""

from __future__ import annotations

import json
import logging
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tqdm import tqdm

from kg.errors import InputError
from kg.files import write_text
from kg.records import Entity
from kg.relation_table import RelationEntry, RelationTable, derived_entry
from kg.store import FactStore

log = logging.getLogger(__name__)
Key = tuple[str, str]
Triple = tuple[str, str, str]


@dataclass(frozen=True)
class GeneratorConfig:
    cases: int = 3000
    seed: int = 0
    min_hops: int = 2
    max_hops: int = 4
    passes: int = 3


@dataclass
class _World:
    """The graph as functional hops, plus the shared edit table and the keys chains rely on."""

    hops: dict[Key, str]
    out: dict[str, list[str]]
    ranges: dict[str, list[str]]
    edits: dict[Key, str] = field(default_factory=dict)
    frozen: set[Key] = field(default_factory=set)

    def edited(self, key: Key) -> str | None:
        return self.edits.get(key, self.hops.get(key))


class CaseGenerator:
    """Generates consistent MQuAKE-format cases from the current view of a store."""

    def __init__(self, store: FactStore, relations: RelationTable | None = None) -> None:
        self.store = store
        self.table = relations or RelationTable.load()
        self.entities: dict[str, Entity] = {e.id: e for e in store.entities()}
        self.entries: dict[str, RelationEntry] = {}
        for relation in store.relations():
            known = self.table.entry(relation.id, relation.label) if relation.id in self.table else None
            self.entries[relation.id] = RelationEntry(relation, known.phrase if known else derived_entry(
                relation.id, relation.label).phrase)
        self.world = self._world()
        self._used: set[tuple[Triple, ...]] = set()

    def _world(self) -> _World:
        objects: dict[Key, set[str]] = {}
        for fact in self.store.current_facts():
            if fact.relation in self.entries:
                objects.setdefault((fact.subject, fact.relation), set()).add(fact.object)
        hops = {key: next(iter(objs)) for key, objs in objects.items() if len(objs) == 1}
        out: dict[str, list[str]] = {}
        ranges: dict[str, set[str]] = {}
        for (s, r), o in sorted(hops.items()):
            out.setdefault(s, []).append(r)
            ranges.setdefault(r, set()).add(o)
        return _World(hops, out, {r: sorted(objs) for r, objs in ranges.items() if len(objs) > 1})

    def paths(self, hops: int) -> list[list[Triple]]:
        """Chains of ``hops`` hops in the unedited graph that use no (subject, relation) twice.

        A chain may come back to an entity, as MQuAKE's do ("the country of citizenship of the head of
        state of France" is France).
        """
        found: list[list[Triple]] = []

        def extend(chain: list[Triple], current: str) -> None:
            if len(chain) == hops:
                found.append(list(chain))
                return
            used = {(s, r) for s, r, _ in chain}
            for relation in self.world.out.get(current, []):
                obj = self.world.hops[(current, relation)]
                if (current, relation) not in used:
                    chain.append((current, relation, obj))
                    extend(chain, obj)
                    chain.pop()

        for start in sorted(self.world.out):
            extend([], start)
        return found

    def generate(self, config: GeneratorConfig, progress: bool = True) -> list[dict[str, Any]]:
        """Up to ``config.cases`` distinct cases, balanced over hop counts; fewer is an error."""
        rng = random.Random(config.seed)
        pools = {n: self.paths(n) for n in range(config.min_hops, config.max_hops + 1)}
        for pool in pools.values():
            rng.shuffle(pool)
        if not any(pools.values()):
            raise InputError("the graph has no chains of facts with a single object per (subject, relation)")
        cases: list[dict[str, Any]] = []
        with tqdm(total=config.cases, unit="case", desc="bench make", disable=not progress) as bar:
            for _ in range(config.passes):
                for chain in _round_robin(list(pools.values())):
                    if len(cases) >= config.cases:
                        break
                    made = self._one_case(rng, chain)
                    if made is not None:
                        made["case_id"] = len(cases) + 1
                        cases.append(made)
                        bar.update(1)
                for pool in pools.values():
                    pool[:] = [c for c in pool if tuple(c) not in self._used]
        if len(cases) < config.cases:
            total = sum(len(p) for p in pools.values())
            raise InputError(
                f"could make only {len(cases)} of {config.cases} distinct consistent cases from this graph "
                f"(it has {total} unused chains of {config.min_hops}-{config.max_hops} hops left); "
                "ask for fewer cases or add facts"
            )
        return cases

    def _one_case(self, rng: random.Random, chain: list[Triple]) -> dict[str, Any] | None:
        if tuple(chain) in self._used:
            return None
        hops = len(chain)
        relations = [r for _, r, _ in chain]
        choices = list(range(1, hops + 1))
        wanted = rng.choices(choices, weights=[2.0 ** -i for i in range(hops)])[0]
        fallbacks = [{i} for i in rng.sample(range(hops), hops)]  # when the drawn positions cannot be edited
        made = None
        for positions in [set(rng.sample(range(hops), wanted)), *fallbacks]:
            made = self._edited_chain(rng, chain[0][0], relations, positions)
            if made is not None and made[0][-1][2] != chain[-1][2]:
                break
        if made is None:
            return None
        new_triples, edit_keys = made
        if new_triples[-1][2] == chain[-1][2]:
            return None
        self._used.add(tuple(chain))
        for s, r, o in new_triples:
            if (s, r) in edit_keys:
                self.world.edits[(s, r)] = o
            else:
                self.world.frozen.add((s, r))
        return self._case(chain, new_triples, [t for t in new_triples if (t[0], t[1]) in edit_keys])

    def _edited_chain(
        self, rng: random.Random, start: str, relations: Sequence[str], positions: set[int]
    ) -> tuple[list[Triple], set[Key]] | None:
        """The new chain over the shared edit table, adding edits at ``positions`` where allowed."""
        chain: list[Triple] = []
        edit_keys: set[Key] = set()
        current = start
        for i, relation in enumerate(relations):
            key = (current, relation)
            if any((s, r) == key for s, r, _ in chain):
                return None
            if key in self.world.edits:
                obj: str | None = self.world.edits[key]
                edit_keys.add(key)
            elif i in positions and key not in self.world.frozen and key in self.world.hops:
                obj = self._counterfactual(rng, key, relations[i + 1 :])
                if obj is None:
                    return None
                edit_keys.add(key)
            else:
                obj = self.world.hops.get(key)
            if obj is None:
                return None
            chain.append((current, relation, obj))
            current = obj
        return (chain, edit_keys) if edit_keys else None

    def _counterfactual(self, rng: random.Random, key: Key, rest: Sequence[str]) -> str | None:
        """Another object of the same relation from which the rest of the chain can be walked."""
        true = self.world.hops[key]
        candidates = [o for o in self.world.ranges.get(key[1], []) if o != true and o != key[0]]
        rng.shuffle(candidates)
        for obj in candidates[:50]:
            current, ok = obj, True
            for relation in rest:
                nxt = self.world.edited((current, relation))
                if nxt is None:
                    ok = False
                    break
                current = nxt
            if ok:
                return obj
        return None

    # ----- MQuAKE JSON ------------------------------------------------------------------------

    def _label(self, ident: str) -> str:
        return self.entities[ident].label if ident in self.entities else ident

    def _aliases(self, ident: str) -> list[str]:
        return list(self.entities[ident].aliases) if ident in self.entities else []

    def _hop(self, triple: Triple) -> dict[str, Any]:
        s, r, o = triple
        relation = self.entries[r].relation
        return {
            "question": relation.question(self._label(s)),
            "cloze": relation.cloze(self._label(s)),
            "answer": self._label(o),
            "answer_alias": self._aliases(o),
        }

    def questions(self, start: str, relations: Sequence[str]) -> list[str]:
        """Three phrasings composed from templates: nested noun phrases inside the last question."""
        phrase = self._label(start)
        for relation in relations[:-1]:
            phrase = self.entries[relation].noun_phrase(phrase)
        last = self.entries[relations[-1]]
        full = last.noun_phrase(phrase)
        wh = "Who" if last.relation.question_template.startswith("Who") else "What"
        options = [last.relation.question(phrase), f"{wh} is {full}?", f"Tell me {full}.", f"Can you name {full}?"]
        return list(dict.fromkeys(options))[:3]

    def _case(self, chain: list[Triple], new_chain: list[Triple], edits: list[Triple]) -> dict[str, Any]:
        relations = [r for _, r, _ in chain]
        rewrites = []
        for s, r, o in edits:
            relation = self.entries[r].relation
            true = self.world.hops[(s, r)]
            rewrites.append(
                {
                    "prompt": relation.cloze("{}"),
                    "relation_id": r,
                    "target_new": {"str": self._label(o), "id": o},
                    "target_true": {"str": self._label(true), "id": true},
                    "subject": self._label(s),
                    "question": relation.question(self._label(s)),
                }
            )

        def labelled(triples: list[Triple]) -> list[list[str]]:
            return [[self._label(s), self.entries[r].relation.label, self._label(o)] for s, r, o in triples]

        return {
            "case_id": 0,
            "requested_rewrite": rewrites,
            "questions": self.questions(chain[0][0], relations),
            "answer": self._label(chain[-1][2]),
            "answer_alias": self._aliases(chain[-1][2]),
            "new_answer": self._label(new_chain[-1][2]),
            "new_answer_alias": self._aliases(new_chain[-1][2]),
            "single_hops": [self._hop(t) for t in chain],
            "new_single_hops": [self._hop(t) for t in new_chain],
            "orig": {
                "triples": [list(t) for t in chain],
                "triples_labeled": labelled(chain),
                "new_triples": [list(t) for t in new_chain],
                "new_triples_labeled": labelled(new_chain),
                "edit_triples": [list(t) for t in edits],
            },
        }


def _round_robin(pools: list[list[list[Triple]]]) -> list[list[Triple]]:
    """Chains taken in turn from each hop count, so a short run stays balanced over hop counts."""
    out = []
    for i in range(max((len(p) for p in pools), default=0)):
        out += [p[i] for p in pools if i < len(p)]
    return out


def write_cases(path: Path, cases: list[dict[str, Any]]) -> None:
    write_text(path, json.dumps(cases, indent=1, ensure_ascii=False))


def graph_store(
    mquake_files: Sequence[Path], fact_files: Sequence[Path], relations: RelationTable | None = None
) -> FactStore:
    """An in-memory store of the world graphs of MQuAKE files plus labelled-triple TSV files."""
    from kg.io.mquake import graph_bundle, read_graphs
    from kg.io.tsv import read_triples_tsv
    from kg.store import ImportBundle

    table = relations or RelationTable.load()
    store = FactStore.open("memory:")
    for path in mquake_files:
        store.import_bundle(graph_bundle(read_graphs(path), table, with_edits=False, source=f"mquake:{path.name}"))
    for path in fact_files:
        bundle = read_triples_tsv(path)
        known = {r.id for r in store.relations()}
        new_relations = [table.relation(r) for r in sorted({r for _, r, _ in bundle.facts} - known)]
        entities = [e for e in bundle.entities if not store.has_entity(e.id)]
        store.import_bundle(ImportBundle(entities, new_relations, bundle.facts, source=bundle.source))
    return store
