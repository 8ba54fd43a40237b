"""Questions composed from relation templates over a graph: the only training data of the chain scorer.

Each example walks 1 to 4 hops from a random entity of a graph and composes a question about the
walk's last object in one of several phrasings (nested "the X of the Y of Z", possessives, relative
clauses, statement-style and imperative forms, Wikidata aliases in place of labels). Evaluation
questions are never used: the point is to learn how relation chains are asked about in general.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass

from kg.records import Fact, Relation
from qa.paths import MAX_HOPS, GraphView
from qa.phrasing import aliases, answer_type, clause, head_noun, noun_phrase


@dataclass(frozen=True)
class Example:
    """A composed question about the last object of ``facts``, asked from the entity ``start``."""

    question: str
    start: str
    span: tuple[int, int]  # where the start entity's label sits in the question
    facts: tuple[Fact, ...]

    @property
    def relations(self) -> tuple[str, ...]:
        return tuple(f.relation for f in self.facts)


UNDOES = 0.5  # a relation pair that leads back this often is an inverse, not a question

_PREPOSITIONS = frozenset({"in", "of", "by", "to", "for", "on", "at", "with", "as", "a"})


class QuestionComposer:
    """Composes varied questions for a relation chain; ``rng`` makes the choice of phrasing repeatable."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def _name(self, relation: Relation) -> str:
        nouns = [a for a in aliases(relation)[1:] if a.split()[-1] not in _PREPOSITIONS]
        return self.rng.choice(nouns) if nouns and self.rng.random() < 0.5 else relation.label

    def _nest(self, relation: Relation, inner: str) -> str:
        form = self.rng.random()
        name = self._name(relation)
        if form < 0.25:
            return noun_phrase(relation, inner)
        if form < 0.5:
            return f"the {name} of {inner}"
        if form < 0.7 and inner.split()[-1] not in _PREPOSITIONS and not inner.endswith("s"):
            return f"{inner}'s {name}"
        head = head_noun(relation)
        cl = clause(relation, inner)
        if cl.startswith("The "):
            return f"the {name} of {inner}"
        if head == "place" and self.rng.random() < 0.5:
            return f"the place where {cl.rsplit(' in', 1)[0]}" if " in" in cl else f"the place {cl}"
        return f"the {head} that {cl}"

    def compose(self, chain: list[Relation], subject: str) -> str:
        """A question whose answer is the object of the last relation of ``chain`` walked from ``subject``."""
        inner = subject
        for relation in chain[:-1]:
            inner = self._nest(relation, inner)
        last = chain[-1]
        head = head_noun(last)
        form = self.rng.random()
        if form < 0.4:
            text = last.question(inner)
        elif form < 0.55:
            text = f"{'Who' if head == 'person' else 'What'} is {self._nest(last, inner)}?"
        elif form < 0.7:
            cl = clause(last, inner)
            text = f"{cl} what?" if head != "person" else f"{cl} whom?"
        elif form < 0.8:
            text = f"Name {self._nest(last, inner)}."
        elif form < 0.9 and answer_type(last) not in ("person", "place", last.label):
            kind = answer_type(last)
            cl = clause(last, inner)
            text = f"Which {kind} is {self._nest(last, inner)}?" if form < 0.85 else f"{cl} which {kind}?"
        else:
            text = f"Can you tell me {self._nest(last, inner)}?"
        return text[0].upper() + text[1:]


def sample_examples(view: GraphView, count: int, seed: int = 0, max_hops: int = MAX_HOPS) -> Iterator[Example]:
    """``count`` examples over random walks of the view, hop counts drawn uniformly from 1..max_hops."""
    rng = random.Random(seed)
    composer = QuestionComposer(rng)
    starts = sorted(s for s in view.subjects() if view.out(s))
    if not starts:
        return
    made = tries = 0
    while made < count and tries < count * 20:
        tries += 1
        walk = _walk(view, rng.choice(starts), rng.randint(1, max_hops), rng)
        if walk is None:
            continue
        chain = [view.relation(f.relation) for f in walk]
        if any(r is None for r in chain):
            continue
        label = view.label(walk[0].subject)
        question = composer.compose([r for r in chain if r is not None], label)
        at = question.find(label)
        if at < 0:
            continue
        made += 1
        yield Example(question, walk[0].subject, (at, at + len(label)), walk)


def _walk(view: GraphView, start: str, hops: int, rng: random.Random) -> tuple[Fact, ...] | None:
    """A random walk that never takes the same (subject, relation) twice. It may come back to an
    entity it passed ("the capital of the country of Paris" is Paris), as real and edited chains do,
    but never by a pair of relations that mostly undoes itself (nobody asks for the country of the
    capital of France)."""
    facts: list[Fact] = []
    here = start
    for _ in range(hops):
        used = {(f.subject, f.relation) for f in facts}
        options = [
            f
            for r in sorted(view.out(here))
            if (here, r) not in used and not (facts and view.return_rate(facts[-1].relation, r) >= UNDOES)
            for f in view.objects(here, r)
        ]
        if not options:
            return None
        fact = rng.choice(options)
        facts.append(fact)
        here = fact.object
    return tuple(facts)
