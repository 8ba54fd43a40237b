"""Per-case results and the MQuAKE metrics computed from them.

* multi-hop accuracy: a case is right when any of its multi-hop questions gets the new answer;
* question accuracy: the share of multi-hop questions answered right;
* hop-wise accuracy: a case is right when every single hop of its edited chain is answered right;
* edit-wise success: the share of edited facts recalled when asked as a single-hop question.

Each is also broken down by hop count and by number of edits. ``original_answer_rate`` (a case
answered with its pre-edit answer) shows how often a system still follows the old facts.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

MULTI_HOP = "multi_hop"
SINGLE_HOP = "single_hop"
EDIT = "edit"
METRIC_NAMES = ("multi_hop_accuracy", "question_accuracy", "hop_wise_accuracy", "edit_wise_success")


@dataclass
class QuestionRecord:
    """One question asked for a case, the system's answer, and how it was judged."""

    kind: str
    index: int
    question: str
    answer: str
    golds: list[str]
    correct: bool
    match: str | None = None
    original: bool = False
    seconds: float = 0.0
    trace: dict[str, Any] = field(default_factory=dict)


@dataclass
class CaseRecord:
    """Everything asked for one case in one batch, with the batch's consistency verdict."""

    batch: str
    batch_index: int
    case_id: str
    hops: int
    edits: int
    consistent: bool
    contradictions: list[str] = field(default_factory=list)
    questions: list[QuestionRecord] = field(default_factory=list)

    def of_kind(self, kind: str) -> list[QuestionRecord]:
        return [q for q in self.questions if q.kind == kind]

    @property
    def multi_hop_correct(self) -> bool:
        return any(q.correct for q in self.of_kind(MULTI_HOP))

    @property
    def answered_original(self) -> bool:
        return any(q.original for q in self.of_kind(MULTI_HOP))

    @property
    def hop_wise_correct(self) -> bool | None:
        hops = self.of_kind(SINGLE_HOP)
        return all(q.correct for q in hops) if hops else None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CaseRecord:
        questions = [QuestionRecord(**q) for q in data.get("questions", [])]
        return cls(**{**data, "questions": questions})


def _rate(hits: Iterable[bool]) -> float | None:
    values = list(hits)
    return sum(values) / len(values) if values else None


def summarize(records: Sequence[CaseRecord]) -> dict[str, Any]:
    """The four metrics (fractions 0..1, None when nothing was measured) with their counts."""
    multi = [q for r in records for q in r.of_kind(MULTI_HOP)]
    hop_wise = [h for h in (r.hop_wise_correct for r in records) if h is not None]
    edits = [q for r in records for q in r.of_kind(EDIT)]
    return {
        "cases": len(records),
        "questions": len(multi),
        "multi_hop_accuracy": _rate(r.multi_hop_correct for r in records),
        "question_accuracy": _rate(q.correct for q in multi),
        "hop_wise_accuracy": _rate(hop_wise),
        "hop_wise_cases": len(hop_wise),
        "edit_wise_success": _rate(q.correct for q in edits),
        "edited_facts": len(edits),
        "original_answer_rate": _rate(r.answered_original for r in records),
    }


def breakdown(records: Sequence[CaseRecord], key: Callable[[CaseRecord], int]) -> dict[str, dict[str, Any]]:
    groups: dict[int, list[CaseRecord]] = {}
    for record in records:
        groups.setdefault(key(record), []).append(record)
    return {str(k): summarize(groups[k]) for k in sorted(groups)}


def full_summary(records: Sequence[CaseRecord]) -> dict[str, Any]:
    """Metrics with breakdowns by hop count and by number of edits."""
    return {
        **summarize(records),
        "by_hops": breakdown(records, lambda r: r.hops),
        "by_edits": breakdown(records, lambda r: r.edits),
    }
