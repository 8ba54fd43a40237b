"""Questions composed from relation templates over a graph: the only training data of the chain scorer.

Each example walks 1 to 4 hops from a random entity of a graph and composes a question about the
walk's last object in one of several phrasings (nested "the X of the Y of Z", possessives, relative
clauses, statement-style and imperative forms, Wikidata aliases in place of labels). Evaluation
questions are never used: the point is to learn how relation chains are asked about in general.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from kg.records import Fact, Relation
from qa.inverse import forward_id, is_inverse
from qa.paths import MAX_HOPS, UNDOES, GraphView, Walk
from qa.phrasing import aliases, answer_type, clause, head_noun, noun_phrase


@dataclass(frozen=True)
class Example:
    """A composed question about the last object of ``facts``, asked from the entity ``start``."""

    question: str
    start: str
    span: tuple[int, int]  # where the start entity's label sits in the question
    facts: tuple[Fact, ...]
    inverse: tuple[bool, ...] = ()  # per fact: walked backwards (the entity described by a fact on it)

    @property
    def relations(self) -> tuple[str, ...]:
        return Walk(self.start, self.facts, None, self.inverse).relations

    @property
    def answers(self) -> tuple[str, ...]:
        """The entity the walk reached (one of the answer set when a hop is multi-valued)."""
        return (Walk(self.start, self.facts, None, self.inverse).end,)


_PREPOSITIONS = frozenset({"in", "of", "by", "to", "for", "on", "at", "with", "as", "a"})


class QuestionComposer:
    """Composes varied questions for a relation chain; ``rng`` makes the choice of phrasing repeatable.
    With ``forward`` (relation id -> relation), an inverse hop is also phrased from its relation's own
    statement with the subject asked for ("Which company is based in Oulu?")."""

    def __init__(self, rng: random.Random, forward: Callable[[str], Relation | None] | None = None) -> None:
        self.rng = rng
        self.forward = forward

    def _statement_forms(self, relation: Relation) -> tuple[str, str] | None:
        """The inverse hop's forward statement with its subject open: ("which country", "{subject}
        shares a border with {object}."), or None when it has no statement to turn round."""
        forward = self.forward(forward_id(relation.id)) if self.forward else None
        template = forward.statement_template if forward else ""
        if "{subject}" not in template or "{object}" not in template:
            return None
        kind = head_noun(relation)
        return ("who" if kind == "person" else f"which {kind}"), template.strip().rstrip(".")

    def _name(self, relation: Relation) -> str:
        nouns = [a for a in aliases(relation)[1:] if a.split()[-1] not in _PREPOSITIONS]
        return self.rng.choice(nouns) if nouns and self.rng.random() < 0.5 else relation.label

    def _nest_inverse(self, relation: Relation, inner: str) -> str:
        """An entity described by a fact that points at it ("the country whose capital is Lima")."""
        kind, name = head_noun(relation), self._name(relation)
        forms = self._statement_forms(relation)
        if forms and forms[1].startswith("{subject} ") and self.rng.random() < 0.4:
            that = "who" if kind == "person" else "that"
            return f"the {kind} {that} " + forms[1].removeprefix("{subject} ").format(object=inner)
        patterns = (
            f"the {kind} whose {name} is {inner}",
            f"the {kind} with {inner} as its {name}",
            f"the {kind} that has {inner} as its {name}",
            f"the {kind} where {inner} is the {name}",
            f"the {kind} of which {inner} is the {name}",
            f"the {kind} having {inner} as {name}",
        )
        return self.rng.choice(patterns)

    def _ask_inverse(self, relation: Relation, inner: str) -> str:
        kind, name = head_noun(relation), self._name(relation)
        forms = self._statement_forms(relation)
        if forms and self.rng.random() < 0.4:
            asked, template = forms
            return template.format(subject=asked, object=inner) + "?"
        patterns = (
            f"Which {kind} has {inner} as its {name}?",
            f"Whose {name} is {inner}?",
            f"{inner} is the {name} of which {kind}?",
            f"Of which {kind} is {inner} the {name}?",
            f"Name the {kind} whose {name} is {inner}.",
            f"Tell me the {kind} with {inner} as its {name}.",
            f"What {kind} uses {inner} as its {name}?",
            f"In which {kind} is {inner} the {name}?",
        )
        return self.rng.choice(patterns)

    def _nest(self, relation: Relation, inner: str) -> str:
        if is_inverse(relation.id):
            return self._nest_inverse(relation, inner)
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
        if is_inverse(last.id):
            text = self._ask_inverse(last, inner)
        elif form < 0.4:
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
        if self.rng.random() < 0.1:  # typed casually: lower case, no question mark
            return text[0].lower() + text[1:].rstrip("?.")
        return text[0].upper() + text[1:]


BACKWARDS = 0.15  # share of hops walked against a fact, where the entity has facts pointing at it


def sample_examples(
    view: GraphView, count: int, seed: int = 0, max_hops: int = MAX_HOPS, backwards: float = BACKWARDS
) -> Iterator[Example]:
    """``count`` examples over random walks of the view, hop counts drawn uniformly from 1..max_hops;
    about ``backwards`` of the hops describe an entity by a fact pointing at it."""
    rng = random.Random(seed)
    composer = QuestionComposer(rng, view.relation)
    starts = sorted(s for s in view.subjects() if view.out(s))
    if not starts:
        return
    made = tries = 0
    while made < count and tries < count * 20:
        tries += 1
        walk = _walk(view, rng.choice(starts), rng.randint(1, max_hops), rng, backwards)
        if walk is None:
            continue
        chain = [view.relation(r) for r in Walk("", walk[0], None, walk[1]).relations]
        if any(r is None for r in chain):
            continue
        facts, inverse = walk
        start = Walk("", facts, None, inverse).left(0)
        label = view.label(start)
        question = composer.compose([r for r in chain if r is not None], label)
        at = question.find(label)
        if at < 0:
            continue
        made += 1
        yield Example(question, start, (at, at + len(label)), facts, inverse)


def _walk(
    view: GraphView, start: str, hops: int, rng: random.Random, backwards: float = 0.0
) -> tuple[tuple[Fact, ...], tuple[bool, ...]] | None:
    """A random walk that never takes the same (subject, relation) twice, nor a fact back the way it
    came. It may come back to an entity it passed ("the capital of the country of Paris" is Paris),
    as real and edited chains do, but never by a pair of relations that mostly undoes itself (nobody
    asks for the country of the capital of France). A hop goes against a fact with probability
    ``backwards`` where facts point at the entity."""
    facts: list[Fact] = []
    inverse: list[bool] = []
    here = start
    for _ in range(hops):
        used = {(f.subject, f.relation, b) for f, b in zip(facts, inverse, strict=True)}
        if backwards and view.into(here) and rng.random() < backwards:
            options = [
                f
                for r in sorted(view.into(here))
                if (here, r, True) not in {(f.object, f.relation, b) for f, b in zip(facts, inverse, strict=True)}
                for f in view.into(here)[r]
                if f not in facts
            ]
            back = True
        else:
            options = [
                f
                for r in sorted(view.out(here))
                if (here, r, False) not in used
                and not (facts and not inverse[-1] and view.return_rate(facts[-1].relation, r) >= UNDOES)
                for f in view.objects(here, r)
                if f not in facts
            ]
            back = False
        if not options:
            return None
        fact = rng.choice(options)
        facts.append(fact)
        inverse.append(back)
        here = fact.subject if back else fact.object
    return tuple(facts), tuple(inverse)
