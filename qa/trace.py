"""What every answering system returns: the answer and a trace of how it was reached.

The trace is the product's explanation to a chat user and the evaluator's error analysis, so every
hop records the sub-question, the fact used with its id and origin, and the candidates considered.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from kg.records import Fact, Origin


@dataclass(frozen=True)
class Candidate:
    """A retrieved fact statement considered for a hop."""

    statement: str
    fact_id: int
    score: float
    origin: Origin
    edit_id: str | None = None
    used: bool = False


@dataclass(frozen=True)
class Hop:
    question: str
    answer: str
    fact: Fact | None = None
    origin: Origin = Origin.BASE
    relation: str | None = None
    candidates: tuple[Candidate, ...] = ()
    note: str = ""


@dataclass
class Trace:
    question: str
    system: str
    hops: list[Hop] = field(default_factory=list)
    linked: list[str] = field(default_factory=list)
    grounded: bool = True
    reason: str = ""
    conflicts: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Answer:
    text: str
    trace: Trace

    def to_dict(self) -> dict[str, Any]:
        return {"text": self.text, "trace": self.trace.to_dict()}
