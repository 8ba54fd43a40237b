"""What every answering system returns: the answer and a trace of how it was reached.

The trace is the product's explanation to a chat user and the evaluator's error analysis, so every
hop records the sub-question, the fact used with its id and origin, and the candidates considered.
An answer either comes from the graph (``grounded``: every hop is a graph fact) or is an abstention:
``text`` is then empty and a language model's guess, if one was made, is kept apart in ``guess`` so
that no front end can show it as the answer.
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
    inverse: bool = False  # the fact was walked from its object to its subject
    subject: str = ""  # labels of the fact's subject and object, as stored (whatever way it was walked)
    object: str = ""
    branches: tuple[str, ...] = ()  # every entity this hop reached when the relation is multi-valued


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
    links: list[str] = field(default_factory=list)  # how each linked name matched ("Nairoby -> Nairobi, fuzzy 86%")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


CANNOT_ANSWER = "cannot answer from the graph"


@dataclass
class Answer:
    """``text`` is the answer shown to users; ``answers`` the set it lists (one value for most
    questions); ``abstained`` says the graph could not answer (``text`` is then empty and the reason is
    in the trace); ``guess`` holds a language model's guess, which is never the answer of a grounded
    system."""

    text: str
    trace: Trace
    answers: list[str] = field(default_factory=list)
    abstained: bool = False
    guess: str = ""

    def __post_init__(self) -> None:
        if self.text and not self.answers:
            self.answers = [self.text]

    @property
    def shown(self) -> str:
        """What a front end prints: the answer, or the abstention with its reason and any labelled guess."""
        if not self.abstained:
            return self.text or "(no answer)"
        why = f": {self.trace.reason}" if self.trace.reason else ""
        guess = f"\nlanguage model guess (not from the graph): {self.guess}" if self.guess else ""
        return f"{CANNOT_ANSWER}{why}{guess}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "answers": list(self.answers),
            "abstained": self.abstained,
            "guess": self.guess,
            "trace": self.trace.to_dict(),
        }
