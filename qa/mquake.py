"""Typed MQuAKE cases: questions, gold answers with aliases, single hops, and the case's graph.

One loader for the whole MQuAKE family (CF-3k, CF-3k-v2, MQuAKE-T) and for files made by
``kgedit bench make``. What evaluation needs (questions, ``new_answer``, the chains and the rewrites)
is required and a missing or mistyped key is an error naming the case and the key; what only some
variants carry (aliases, single hops, the original answer) is optional.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kg.errors import InputError
from kg.io.mquake import (
    CaseGraph,
    Rewrite,
    case_name,
    load_json_cases,
    parse_case_graph,
    require,
    string_list,
)


@dataclass(frozen=True)
class SingleHop:
    """One hop of a chain asked on its own, with its gold answer."""

    question: str
    answer: str
    aliases: tuple[str, ...] = ()
    cloze: str = ""

    @property
    def golds(self) -> tuple[str, ...]:
        return (self.answer, *self.aliases)


@dataclass(frozen=True)
class EditProbe:
    """The single-hop question that checks whether one edited fact is recalled."""

    rewrite: Rewrite
    question: str
    golds: tuple[str, ...]


@dataclass(frozen=True)
class Case:
    case_id: str
    questions: tuple[str, ...]
    new_answer: str
    new_answer_aliases: tuple[str, ...]
    answer: str
    answer_aliases: tuple[str, ...]
    single_hops: tuple[SingleHop, ...]
    new_single_hops: tuple[SingleHop, ...]
    graph: CaseGraph

    @property
    def hops(self) -> int:
        return len(self.graph.new_triples)

    @property
    def edit_count(self) -> int:
        return len(self.graph.rewrites)

    @property
    def new_golds(self) -> tuple[str, ...]:
        return (self.new_answer, *self.new_answer_aliases)

    @property
    def original_golds(self) -> tuple[str, ...]:
        return (self.answer, *self.answer_aliases) if self.answer else ()

    def edit_probes(self) -> list[EditProbe]:
        """One probe per rewrite: its own question, or the new chain's single hop it edits."""
        probes = []
        for rewrite in self.graph.rewrites:
            hop = None
            if rewrite.triple in self.graph.new_triples and len(self.new_single_hops) == self.hops:
                hop = self.new_single_hops[self.graph.new_triples.index(rewrite.triple)]
            question = rewrite.question or (hop.question if hop else "")
            if not question:
                continue
            golds = hop.golds if hop else (rewrite.new_label, *self.graph.aliases.get(rewrite.new_id, ()))
            probes.append(EditProbe(rewrite, question, golds))
        return probes


def load_cases(path: Path) -> list[Case]:
    """Every case of an MQuAKE-format JSON file, checked; duplicate case ids are an error."""
    path = Path(path)
    cases = [parse_case(raw, i, path.name) for i, raw in enumerate(load_json_cases(path))]
    seen: set[str] = set()
    for case in cases:
        if case.case_id in seen:
            raise InputError(f"{path.name}: case id {case.case_id} appears twice; case ids must be unique")
        seen.add(case.case_id)
    if not cases:
        raise InputError(f"{path}: the file holds no cases")
    return cases


def parse_case(raw: dict[str, Any], index: int, source: str = "") -> Case:
    where = f"{source + ': ' if source else ''}case {case_name(raw, index)}"
    graph = parse_case_graph(raw, index, source)
    questions = string_list(raw, "questions", where, optional=False)
    if not questions:
        raise InputError(f"{where}: key 'questions' is empty")
    return Case(
        case_id=graph.case_id,
        questions=tuple(questions),
        new_answer=require(raw, "new_answer", str, where),
        new_answer_aliases=tuple(string_list(raw, "new_answer_alias", where)),
        answer=str(raw.get("answer") or ""),
        answer_aliases=tuple(string_list(raw, "answer_alias", where)),
        single_hops=_hops(raw, "single_hops", len(graph.triples), where),
        new_single_hops=_hops(raw, "new_single_hops", len(graph.new_triples), where),
        graph=graph,
    )


def _hops(raw: dict[str, Any], key: str, length: int, where: str) -> tuple[SingleHop, ...]:
    if raw.get(key) is None:
        return ()
    items = require(raw, key, list, where)
    if len(items) != length:
        raise InputError(f"{where}: {key} has {len(items)} hops but the chain has {length}")
    hops = []
    for i, item in enumerate(items):
        hwhere = f"{where}, {key}[{i}]"
        if not isinstance(item, dict):
            raise InputError(f"{hwhere}: must be an object")
        hops.append(
            SingleHop(
                question=require(item, "question", str, hwhere),
                answer=require(item, "answer", str, hwhere),
                aliases=tuple(string_list(item, "answer_alias", hwhere)),
                cloze=str(item.get("cloze") or ""),
            )
        )
    return tuple(hops)
