"""The MQuAKE evaluation harness: settings, edit batches, asking, judging, resuming.

For each batch size k (1, 100, 1000, all), the cases are taken k at a time: the batch's edits are
loaded into the store together (``edit_many``), every question of its cases is asked, and the edits
are retracted (``retract_many``) before the next batch, as the MQuAKE paper defines it.

*KG setting*: the store holds the world graph of the whole file (every case's original chain and the
unedited hops of its new chain) plus optional background facts; *model setting*: the store holds
only entities and relation metadata, so the batch's edits are the only facts in it.
"""

from __future__ import annotations

import hashlib
import logging
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from tqdm import tqdm

from kg.errors import InputError
from kg.io.mquake import edit_request, graph_bundle
from kg.records import EditStatus
from kg.relation_table import RelationTable
from kg.store import FactStore, ImportBundle
from qa.consistency import contradictions
from qa.matching import MatchMode, match
from qa.metrics import EDIT, MULTI_HOP, SINGLE_HOP, CaseRecord, QuestionRecord
from qa.mquake import Case
from qa.runlog import RunLog
from qa.systems import System, reads_store
from qa.trace import Answer

log = logging.getLogger(__name__)
ALL = "all"


class Setting(StrEnum):
    KG = "kg"
    MODEL = "model"

    @property
    def description(self) -> str:
        if self is Setting.KG:
            return "KG setting: the store holds the world graph of the file (plus background facts) and the batch's edits"
        return "model setting: the store holds only the batch's edits; other knowledge must come from the model"


@dataclass(frozen=True)
class HarnessConfig:
    setting: Setting
    batch_sizes: tuple[str, ...] = ("1", "100", "1000", ALL)
    match_mode: MatchMode = MatchMode.EXACT
    single_hops: bool = True
    cases_per_step: int = 16


def parse_batch_sizes(text: str) -> tuple[str, ...]:
    """"1,100,all" -> ("1", "100", "all"); sizes are positive whole numbers or ``all``."""
    sizes = []
    for part in (p.strip().lower() for p in text.split(",")):
        if part != ALL and not (part.isdigit() and int(part) > 0):
            raise InputError(f"--batch: {part!r} is not a positive whole number or 'all' (example: 1,100,all)")
        if part not in sizes:
            sizes.append(part)
    if not sizes:
        raise InputError("--batch: give at least one batch size (example: 1,100,all)")
    return tuple(sizes)


def stratified_sample(cases: Sequence[Case], n: int, seed: int) -> list[Case]:
    """``n`` cases drawn at random within each (hop count, edit count) group, in proportion to its size."""
    if n >= len(cases):
        return list(cases)
    groups: dict[tuple[int, int], list[Case]] = {}
    for case in cases:
        groups.setdefault((case.hops, case.edit_count), []).append(case)
    quotas = {key: n * len(group) / len(cases) for key, group in groups.items()}
    counts = {key: int(q) for key, q in quotas.items()}
    by_remainder = sorted(quotas, key=lambda k: (quotas[k] - counts[k], k), reverse=True)
    for key in by_remainder[: n - sum(counts.values())]:
        counts[key] += 1
    rng = random.Random(seed)
    chosen = {id(c) for key in sorted(groups) for c in rng.sample(groups[key], counts[key])}
    return [c for c in cases if id(c) in chosen]


def prepare_store(
    world: Sequence[Case],
    setting: Setting,
    background: ImportBundle | None = None,
    relations: RelationTable | None = None,
) -> FactStore:
    """An in-memory store for the setting: entities and relations always, base facts in the KG setting."""
    table = relations or RelationTable.load()
    bundle = graph_bundle([c.graph for c in world], table, with_facts=setting is Setting.KG, with_edits=False)
    store = FactStore.open("memory:")
    store.import_bundle(bundle)
    if background is not None and setting is Setting.KG:
        known = {e.id for e in bundle.entities}
        have = {r.id for r in bundle.relations}
        extra = sorted({r for _, r, _ in background.facts} - have)
        store.import_bundle(
            ImportBundle(
                entities=[e for e in background.entities if e.id not in known],
                relations=[table.relation(r) for r in extra],
                facts=background.facts,
                source=background.source,
            )
        )
    return store


def file_digest(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:16]


class Harness:
    """Runs one system over cases in one setting, for each batch size, into a run log."""

    def __init__(self, store: FactStore, system: System, config: HarnessConfig, runlog: RunLog) -> None:
        self.store = store
        self.system = system
        self.config = config
        self.runlog = runlog
        self._cache: dict[str, Answer] = {}
        self._ahead: list[Case] = []
        self._position: dict[str, int] = {}

    def run(self, cases: Sequence[Case], progress: bool = True) -> dict[str, list[CaseRecord]]:
        total = len(cases) * len(self.config.batch_sizes)
        done = sum(1 for b in self.config.batch_sizes for c in cases if self.runlog.done(b, c.case_id))
        with tqdm(total=total, initial=done, unit="case", disable=not progress, desc="eval") as bar:
            for label in self.config.batch_sizes:
                size = len(cases) if label == ALL else int(label)
                self._ahead = [c for c in cases if not self.runlog.done(label, c.case_id)]
                self._position = {c.case_id: i for i, c in enumerate(self._ahead)}
                for index, start in enumerate(range(0, len(cases), size)):
                    self._run_batch(label, index, cases[start : start + size], bar)
        return {
            label: [self.runlog.records[(label, c.case_id)] for c in cases] for label in self.config.batch_sizes
        }

    def _run_batch(self, label: str, index: int, batch: Sequence[Case], bar: tqdm) -> None:
        todo = [c for c in batch if not self.runlog.done(label, c.case_id)]
        if not todo:
            return
        bar.set_description(f"eval batch={label}")
        if reads_store(self.system):
            self._cache.clear()
        found = contradictions(batch)
        began = time.perf_counter()
        requests = list({r.triple: edit_request(r, c.case_id) for c in batch for r in c.graph.rewrites}.values())
        outcomes = self.store.edit_many(requests)
        loaded = time.perf_counter()
        for step in range(0, len(todo), self.config.cases_per_step):
            group = todo[step : step + self.config.cases_per_step]
            self._ask([q for c in self._with_lookahead(group) for q in self._questions(c)])
            for case in group:
                reasons = [c.describe() for c in found.get(case.case_id, [])]
                self.runlog.add_case(self._judge(case, label, index, reasons))
                bar.update(1)
        answered = time.perf_counter()
        retracted = self.store.retract_many([o.edit.id for o in outcomes])
        left = [e.id for e in retracted if e.status is not EditStatus.RETRACTED]
        if left:
            raise RuntimeError(f"batch {label}#{index}: edits {left} are still in force after retraction")
        timings = {
            "cases": len(todo),
            "edits": len(requests),
            "load_s": loaded - began,
            "answer_s": answered - loaded,
            "retract_s": time.perf_counter() - answered,
        }
        self.runlog.add_batch(label, index, timings)

    def _with_lookahead(self, group: list[Case]) -> list[Case]:
        """A store-independent system also answers the next cases now: bigger batches, same answers."""
        if reads_store(self.system) or not group or group[0].case_id not in self._position:
            return group
        start = self._position[group[0].case_id]
        return self._ahead[start : start + max(len(group), self.config.cases_per_step)]

    def _questions(self, case: Case) -> list[str]:
        asked = list(case.questions)
        if self.config.single_hops:
            asked += [h.question for h in case.new_single_hops]
            asked += [p.question for p in case.edit_probes()]
        return asked

    def _ask(self, questions: list[str]) -> None:
        todo = list(dict.fromkeys(q for q in questions if q not in self._cache))
        if not todo:
            return
        many = getattr(self.system, "answer_many", None)
        answers = many(todo) if callable(many) else [self.system.answer(q) for q in todo]
        self._cache.update(zip(todo, answers, strict=True))

    def _judge(self, case: Case, label: str, index: int, reasons: list[str]) -> CaseRecord:
        mode = self.config.match_mode
        record = CaseRecord(label, index, case.case_id, case.hops, case.edit_count, not reasons, reasons)
        items: list[tuple[str, int, str, tuple[str, ...]]] = [
            (MULTI_HOP, i, q, case.new_golds) for i, q in enumerate(case.questions)
        ]
        if self.config.single_hops:
            items += [(SINGLE_HOP, i, h.question, h.golds) for i, h in enumerate(case.new_single_hops)]
            items += [(EDIT, i, p.question, p.golds) for i, p in enumerate(case.edit_probes())]
        for kind, i, question, golds in items:
            answer = self._cache[question]
            how = match(answer.text, golds, mode)
            original = kind == MULTI_HOP and match(answer.text, case.original_golds, mode) is not None
            record.questions.append(
                QuestionRecord(
                    kind=kind,
                    index=i,
                    question=question,
                    answer=answer.text,
                    golds=list(golds),
                    correct=how is not None,
                    match=how.value if how else None,
                    original=original,
                    seconds=answer.trace.seconds,
                    trace=answer.trace.to_dict(),
                )
            )
        return record


def fingerprint(
    dataset: Path, config: HarnessConfig, system: str, sample: int | None, seed: int, background: Path | None
) -> dict[str, Any]:
    """What must be equal for a run log to be resumed."""
    return {
        "dataset": file_digest(dataset),
        "background": file_digest(background) if background else None,
        "setting": config.setting.value,
        "batches": list(config.batch_sizes),
        "match": config.match_mode.value,
        "single_hops": config.single_hops,
        "system": system,
        "sample": sample,
        "seed": seed,
    }
