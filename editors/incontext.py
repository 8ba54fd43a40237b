"""In-context editing, MeLLo style: the LM decomposes, retrieved facts overrule its guesses.

The language model writes one sub-question at a time and a tentative answer to it. Facts are then
retrieved for the sub-question, a scope detector (PokeMQA style) says whether a retrieved fact really
answers it, and if an in-scope fact disagrees with the tentative answer, the fact's object replaces
it. The corrected answer goes back into the prompt, so the next sub-question builds on the edited
knowledge. The loop ends when the model writes a final answer, or after ``max_hops`` steps.

The prompt is written for this project (two worked examples about made-up facts, so the model copies
the format, not the facts). Retrieval and the scope detector are protocols: the answering layer
passes the fact index and its trained detector in.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from kg.normalize import normalize
from kg.records import Fact

log = logging.getLogger(__name__)

_EXAMPLES = """Question: In which city was the spouse of the mayor of Ardenfell born?
Step question: Who is the mayor of Ardenfell?
Guess: Lena Marsh
Checked fact: The head of government of Ardenfell is Tomas Veld.
Step answer: Tomas Veld
Step question: Who is Tomas Veld married to?
Guess: Ida Veld
Checked fact: none
Step answer: Ida Veld
Step question: Where was Ida Veld born?
Guess: Corvale
Checked fact: none
Step answer: Corvale
Final answer: Corvale

Question: What is the currency of the country where Mount Orrin is?
Step question: Which country is Mount Orrin located in?
Guess: Belmora
Checked fact: none
Step answer: Belmora
Step question: What is the currency of Belmora?
Guess: Belmoran mark
Checked fact: The currency of Belmora is the crown.
Step answer: crown
Final answer: crown

"""
_STEP = re.compile(r"Step question:\s*(?P<q>[^\n]+)\n\s*Guess:\s*(?P<g>[^\n]*)")
_FINAL = re.compile(r"Final answer:\s*(?P<a>[^\n]+)")


class RetrievedFact(Protocol):
    """retrieval.index.Hit: a fact, its statement and a similarity score."""

    @property
    def fact(self) -> Fact: ...
    @property
    def statement(self) -> str: ...
    @property
    def score(self) -> float: ...


class FactRetriever(Protocol):
    def search(self, text: str, k: int = 10) -> Sequence[RetrievedFact]: ...


class ScopeJudge(Protocol):
    def probability(self, question: str, facts: list[Fact]) -> np.ndarray: ...


class Generator(Protocol):
    """editors.lm.LanguageModel."""

    def generate(self, prompt: str, max_new_tokens: int = 32, stop: Sequence[str] = ()) -> str: ...


@dataclass(frozen=True)
class Checked:
    """A retrieved fact with its similarity and the scope detector's probability."""

    fact: Fact
    statement: str
    score: float
    in_scope: float


@dataclass
class Step:
    question: str
    guess: str
    answer: str
    fact: Fact | None = None  # the in-scope fact that gave the answer, if any
    replaced: bool = False  # the fact contradicted the guess
    checked: list[Checked] = field(default_factory=list)


@dataclass
class InContextResult:
    answer: str
    steps: list[Step]
    finished: bool  # the model wrote a final answer (rather than running out of steps)


class InContextEditor:
    """Runs the decompose / guess / retrieve / check loop for one question."""

    def __init__(
        self,
        lm: Generator,
        retriever: FactRetriever,
        scope: ScopeJudge,
        label: Callable[[str], str],
        max_hops: int = 4,
        k: int = 5,
        threshold: float = 0.5,
    ) -> None:
        self.lm = lm
        self.retriever = retriever
        self.scope = scope
        self.label = label
        self.max_hops = max_hops
        self.k = k
        self.threshold = threshold

    def run(self, question: str) -> InContextResult:
        prompt = f"{_EXAMPLES}Question: {question.strip()}\n"
        steps: list[Step] = []
        for _ in range(self.max_hops):
            text = self.lm.generate(prompt, max_new_tokens=48, stop=("Checked fact:", "\nQuestion:", "\n\n"))
            final = _FINAL.search(text)
            step = _STEP.search(text)
            if step is None or (final is not None and final.start() < step.start()):
                answer = final.group("a").strip() if final else (steps[-1].answer if steps else "")
                return InContextResult(answer, steps, final is not None)
            current = self.check(step.group("q").strip(), step.group("g").strip())
            steps.append(current)
            shown = f"{_statement(current)}\n" if current.fact else "none\n"
            prompt += (
                f"Step question: {current.question}\nGuess: {current.guess}\n"
                f"Checked fact: {shown}Step answer: {current.answer}\n"
            )
        return InContextResult(steps[-1].answer if steps else "", steps, False)

    def check(self, question: str, guess: str) -> Step:
        """Retrieve facts for a sub-question; the most in-scope one above the threshold wins."""
        hits = list(self.retriever.search(question, k=self.k))
        probabilities = self.scope.probability(question, [h.fact for h in hits]) if hits else np.zeros(0)
        checked = [
            Checked(h.fact, h.statement, h.score, float(p)) for h, p in zip(hits, probabilities, strict=True)
        ]
        best = max(checked, key=lambda c: c.in_scope, default=None)
        if best is None or best.in_scope < self.threshold:
            return Step(question, guess, guess, None, False, checked)
        answer = self.label(best.fact.object)
        replaced = normalize(answer) != normalize(guess)
        return Step(question, guess, answer, best.fact, replaced, checked)


def _statement(step: Step) -> str:
    chosen = next((c for c in step.checked if c.fact == step.fact), None)
    return chosen.statement if chosen else ""

