"""The graph-guided multi-hop answering pipeline (systems ``graph`` and ``auto``).

``answer(question)``: link the entities the question names, enumerate the relation paths of 1 to 4
hops from each over the current view (edits applied), score every path against the question with the
trained chain scorer, and read the answer off the last hop of the best one. The trace lists each hop
with its fact (id, origin edit/base), the competing facts at that hop with their path scores, and any
edit conflict behind the fact. A final hop the graph has no fact for is asked of the language model
(origin MODEL, marked in the trace) and kept as a labelled guess: the answer abstains ("cannot answer from
the graph") with the reason, as it does when nothing is linked or the best chain scores below the
threshold calibrated on composed questions. ``auto`` asks the MeLLo-style loop for a guess then.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from kg import conflicts
from kg.errors import ModelError
from kg.records import Fact, Origin
from kg.store import FactStore
from qa.chain_scorer import ARTEFACT, ChainScorer, QuestionView
from qa.paths import GraphView, Walk
from qa.scorer_training import mask
from qa.search import RANKED, ranked_paths, same_chain
from qa.systems import System, SystemContext, register_system
from qa.trace import Answer, Candidate, Hop, Trace
from retrieval.embedder import TextEncoder

if TYPE_CHECKING:
    from editors.lm import LanguageModel

log = logging.getLogger(__name__)

MAX_MENTIONS = 2
MAX_NEAR_MENTIONS = 4  # misspelt or partial names may fit several homonyms: the chain score settles them
NEAR_METHODS = frozenset({"fuzzy", "partial", "embedding"})
CANDIDATES_PER_HOP = 5
GAP_RIVALS = 3  # a walk past a gap this near the top of the forward ranking asks the full weights too


class Linker(Protocol):
    """retrieval.linker.EntityLinker: mentions of store entities in a question, best first."""

    def link(self, question: str, limit: int = 5) -> Sequence[MentionLike]: ...


class MentionLike(Protocol):
    @property
    def entity_id(self) -> str: ...
    @property
    def start(self) -> int: ...
    @property
    def end(self) -> int: ...
    @property
    def text(self) -> str: ...


@dataclass(frozen=True)
class Choice:
    """The best path found for a question, with the runners-up (for the trace)."""

    mention: MentionLike
    path: Walk
    score: float
    ranked: list[tuple[Walk, float]]
    branches: list[Walk]  # every walk along the chosen relation chain (several for multi-valued hops)
    floor: float | None = None  # the abstention threshold calibrated for the weights that scored it

    def answered(self) -> bool:
        """Whether the graph answers the chosen walk: every hop a fact, the score above the floor."""
        return not self.path.missing and (self.floor is None or self.score >= self.floor)

    def answers(self) -> list[str]:
        """The entities the chosen chain reaches, best-scored walk first."""
        return list(dict.fromkeys(p.end for p in self.branches)) or [self.path.end]


def scorer_path(cache_dir: Path | None) -> Path | None:
    return cache_dir / "qa" / ARTEFACT if cache_dir is not None else None


def load_scorer(cache_dir: Path | None, encoder: TextEncoder) -> ChainScorer:
    """The trained chain scorer: the one rebuilt under ``cache_dir`` if any, else the packaged one."""
    cached = scorer_path(cache_dir)
    if cached is not None and cached.exists():
        return ChainScorer.load(cached, encoder)
    packaged = resources.files("qa").joinpath("data", ARTEFACT)
    with resources.as_file(packaged) as path:
        if not path.exists():
            raise ModelError("no trained chain scorer found; build one with 'kgedit train-qa'")
        return ChainScorer.load(path, encoder)


class GraphPipeline:
    """System ``graph``: multi-hop answers read from the current view of the graph."""

    def __init__(
        self,
        store: FactStore,
        scorer: ChainScorer,
        linker: Linker,
        lm: Callable[[], LanguageModel] | None = None,
        name: str = "graph",
        view: GraphView | None = None,
    ) -> None:
        self.store = store
        self.scorer = scorer
        self.linker = linker
        self.lm = lm
        self.name = name
        self.view = view or GraphView(store)

    def answer(self, question: str) -> Answer:
        began = time.perf_counter()
        self.view.refresh()
        trace = Trace(question, self.name)
        linked = self.linker.link(question, limit=MAX_NEAR_MENTIONS)
        near = bool(linked) and all(getattr(m, "method", "") in NEAR_METHODS for m in linked)
        mentions = [m for m in linked[: MAX_NEAR_MENTIONS if near else MAX_MENTIONS] if self.view.has_entity(m.entity_id)]
        trace.linked = list(dict.fromkeys(m.entity_id for m in mentions))
        trace.links = [_link_note(m, self.view.label(m.entity_id)) for m in mentions]
        answer = self._answer(question, mentions, trace)
        trace.grounded = not answer.abstained and bool(trace.hops) and all(h.fact is not None for h in trace.hops)
        trace.seconds = time.perf_counter() - began
        return answer

    def _answer(self, question: str, mentions: Sequence[MentionLike], trace: Trace) -> Answer:
        """The answer read off the best chain, or an abstention with its reason (never a guess)."""
        if not mentions:
            return _abstain(trace, "no entity of the store is named in the question (linking found nothing)")
        choice = self.choose(question, mentions)
        if choice is None:
            names = ", ".join(self.view.label(e) for e in trace.linked)
            return _abstain(trace, f"the current view has no facts to walk from {names}")
        chain = " > ".join(choice.path.relations)
        floor = choice.floor
        if floor is not None and choice.score < floor:
            return _abstain(
                trace,
                f"the question asks for something the graph does not seem to hold: its best chain "
                f"({chain} from {self.view.label(choice.path.start)}) scores {choice.score:.2f}, below the "
                f"abstention threshold {floor:.2f} calibrated on composed questions",
            )
        answers = self._walk(choice, trace)
        if choice.path.missing:
            relation = self.view.relation(choice.path.missing)
            name = relation.label if relation else choice.path.missing
            why = f"the graph has no {name} for {self.view.label(choice.path.end)} (chain {chain})"
            if choice.path.beyond:
                why += ", so the chain cannot go on past it"
            return _abstain(trace, why, guess=answers[0] if answers else "")
        if len(answers) > 1:
            trace.reason += f"; the chain reaches {len(answers)} entities: all are listed"
        return Answer(", ".join(answers), trace, answers=answers)

    def choose(self, question: str, mentions: Sequence[MentionLike]) -> Choice | None:
        """Score every path from every linked entity; the best (path, entity) pair wins, and one the
        graph answers wins over one it cannot: of two entities a name may mean (India, and the
        British Raj by its alias), the one that has the fact asked for is meant. Scores of walks
        ranked by different weights (forward, full) are not on one scale, so they alone cannot
        settle that."""
        best: Choice | None = None
        views = self.scorer.read_masked([mask(question, (m.start, m.end)) for m in mentions])
        for mention, view in zip(mentions, views, strict=True):
            ranked, floor = self._ranked(view, mention.entity_id)
            if not ranked:
                continue
            choice = Choice(mention, ranked[0][0], ranked[0][1], ranked[:RANKED], [], floor)
            if best is None or (choice.answered(), choice.score) > (best.answered(), best.score):
                best = replace(choice, branches=same_chain(ranked, ranked[0][0]))  # only the winner's
        return best

    def _ranked(self, question: QuestionView, start: str) -> tuple[list[tuple[Walk, float]], float | None]:
        """Candidate walks, best first, and the abstention floor that applies to them.

        With forward weights (a scorer trained on forward chains only ranks those best), forward walks
        are searched first; walks with backward hops are searched too when the question reads like an
        entity described by a fact pointing at it ("whose", "uses", "as its"), no forward walk
        scores above its floor, or the best forward walk needs a hop the graph lacks (the company
        headquartered in Oulu is a fact pointing at Oulu, not a headquarters Oulu lacks), or a walk
        past a gap is among the best few forward ones (:data:`GAP_RIVALS`); they win when the full
        scorer's best walk has a backward hop, or goes past a gap that the forward ranking also
        puts near its top (the full weights weigh a chain past a gap higher), or clears the
        full scorer's floor where no forward walk answered."""
        if self.scorer.forward_weights is None:
            return ranked_paths(self.scorer, self.view, question, start, keep=None), self.scorer.floor()
        forward = ranked_paths(self.scorer, self.view, question, start, keep=None, backwards=False)
        floor = self.scorer.floor(forward=True)
        answers = bool(forward) and (floor is None or forward[0][1] >= floor) and not forward[0][0].missing
        past_gap = any(w.beyond for w, _ in forward[:GAP_RIVALS])
        if answers and question.inverse_cues <= 0 and not past_gap:
            return forward, floor
        both = ranked_paths(self.scorer, self.view, question, start, keep=None)
        both_floor = self.scorer.floor()
        rescued = not answers and (both_floor is None or bool(both) and both[0][1] >= both_floor)
        if both and (both[0][0].inverse or (both[0][0].beyond and past_gap) or not forward or rescued):
            return both, both_floor
        return forward, floor

    def _walk(self, choice: Choice, trace: Trace) -> list[str]:
        """Trace the chosen walk hop by hop, with the branches of multi-valued hops; the answer set."""
        path = choice.path
        for i, fact in enumerate(path.facts):
            backwards = path.backwards(i)
            relation = self.view.relation(path.relations[i])
            subject = self.view.label(path.left(i))
            reached = list(dict.fromkeys(self.view.label(p.reached(i)) for p in choice.branches if len(p.facts) > i))
            trace.hops.append(
                Hop(
                    question=relation.question(subject) if relation else f"{fact.relation} of {subject}?",
                    answer=self.view.label(path.reached(i)),
                    fact=fact,
                    origin=fact.origin,
                    relation=fact.relation,
                    candidates=self._candidates(choice, i),
                    note=self._note(fact, trace) + (" (walked backwards)" if backwards else ""),
                    inverse=backwards,
                    branches=tuple(reached) if len(reached) > 1 else (),
                    subject=self.view.label(fact.subject),
                    object=self.view.label(fact.object),
                )
            )
        trace.reason = f"path {' > '.join(path.relations)} from {self.view.label(path.start)} (score {choice.score:.2f})"
        if path.missing:
            guess = self._model_hop(path, trace)
            return [guess] if guess else []
        return [self.view.label(e) for e in choice.answers()]

    def _candidates(self, choice: Choice, position: int) -> tuple[Candidate, ...]:
        """Facts competing at this hop: the hop of each runner-up path that shares the chosen prefix."""
        prefix = choice.path.facts[:position]
        seen: dict[int, Candidate] = {}
        chosen = choice.path.facts[position]
        for path, score in choice.ranked:
            if path.facts[:position] != prefix or len(path.facts) <= position:
                continue
            fact = path.facts[position]
            if fact.id not in seen:
                seen[fact.id] = Candidate(
                    self._statement(fact), fact.id, score, fact.origin, fact.edit_id, used=fact == chosen
                )
            if len(seen) >= CANDIDATES_PER_HOP:
                break
        if chosen.id not in seen:
            seen[chosen.id] = Candidate(self._statement(chosen), chosen.id, choice.score, chosen.origin, chosen.edit_id, True)
        return tuple(seen.values())

    def _statement(self, fact: Fact) -> str:
        relation = self.view.relation(fact.relation)
        subject, obj = self.view.label(fact.subject), self.view.label(fact.object)
        return relation.statement(subject, obj) if relation else f"{subject} {fact.relation} {obj}"

    def _note(self, fact: Fact, trace: Trace) -> str:
        """What an edit did at this hop: the base object it replaced and any conflict it won."""
        if fact.origin is not Origin.EDIT:
            return "base fact"
        edits = self.store.edits_on(fact.subject, fact.relation)
        found = conflicts.find_conflict(fact.subject, fact.relation, edits)
        if found is not None:
            trace.conflicts.append(
                f"{self.view.label(fact.subject)} / {fact.relation}: edits {', '.join(found.losers)} lost to "
                f"{found.winner} (the newer edit wins)"
            )
        replaced = sorted(self.store.base_objects(fact.subject, fact.relation) - {fact.object})
        if replaced:
            return f"edit {fact.edit_id} replaces {', '.join(self.view.label(o) for o in replaced)}"
        return f"edit {fact.edit_id}"

    def _model_hop(self, path: Walk, trace: Trace) -> str:
        """The language model's guess for the missing hop, when it is the chain's last: a guess for
        a hop in the middle is not an answer to the question (the loop under ``auto`` guesses that)."""
        relation = self.view.relation(path.missing or "")
        subject = self.view.label(path.end)
        question = relation.question(subject) if relation else f"{path.missing} of {subject}?"
        if path.beyond:
            trace.grounded = False
            later = ", ".join(r.label if (r := self.view.relation(x)) else x for x in path.beyond)
            note = f"no fact in the graph, so the chain stops before {later}"
            trace.hops.append(Hop(question, "", None, Origin.MODEL, path.missing, (), note))
            return ""
        if self.lm is None or relation is None:
            trace.grounded = False
            trace.hops.append(Hop(question, "", None, Origin.MODEL, path.missing, (), "no fact in the graph"))
            return ""
        try:
            model = self.lm()
        except ModelError as exc:
            trace.grounded = False
            note = f"no fact in the graph, and the language model is unavailable: {exc}"
            trace.hops.append(Hop(question, "", None, Origin.MODEL, path.missing, (), note))
            return ""
        raw = model.generate(relation.cloze(subject), max_new_tokens=8, stop=("\n", ".", ","))
        answer = raw.strip()
        note = f"no fact for ({subject}, {relation.label}) in the graph: answered by the language model"
        trace.hops.append(Hop(question, answer, None, Origin.MODEL, path.missing, (), note))
        return answer


def _link_note(mention: MentionLike, label: str) -> str:
    """How a name of the question was matched, for the trace ("'Nairoby' -> Nairobi (fuzzy, 86%)")."""
    method = getattr(mention, "method", "label")
    score = float(getattr(mention, "score", 1.0))
    return f"{mention.text!r} -> {label} ({method}, similarity {score:.0%})"


def _abstain(trace: Trace, reason: str, guess: str = "") -> Answer:
    trace.reason = reason
    return Answer("", trace, answers=[], abstained=True, guess=guess)


class AutoPipeline:
    """System ``auto``: the graph first; questions the graph cannot ground go to the MeLLo-style loop."""

    def __init__(self, graph: GraphPipeline, fallback: Callable[[], System], name: str = "auto") -> None:
        self.graph = graph
        self.fallback = fallback
        self.name = name

    def answer(self, question: str) -> Answer:
        first = self.graph.answer(question)
        first.trace.system = self.name
        if not first.abstained:
            return first
        if first.guess:
            return first  # the graph already asked the language model for the one hop it lacks
        second = self.fallback().answer(question)
        first.guess = second.text
        first.trace.reason = f"{first.trace.reason}; the language-model loop guessed: {second.trace.reason}".strip()
        first.trace.hops.extend(second.trace.hops)
        first.trace.seconds += second.trace.seconds
        return first


def _components(store: FactStore, context: SystemContext) -> tuple[TextEncoder, Linker, ChainScorer]:
    from retrieval.embedder import Embedder
    from retrieval.linker import EntityLinker

    embedder = Embedder(context.embedding_model, context.cache_dir)
    return embedder, EntityLinker.from_store(store, embedder), load_scorer(context.cache_dir, embedder)


def _lm_loader(context: SystemContext) -> Callable[[], LanguageModel]:
    def load() -> LanguageModel:
        from editors.lm import load_lm

        return load_lm(context.lm, context.cache_dir, context.device)

    return load


def make_graph(store: FactStore, context: SystemContext) -> GraphPipeline:
    _, linker, scorer = _components(store, context)
    return GraphPipeline(store, scorer, linker, _lm_loader(context))


def make_auto(store: FactStore, context: SystemContext) -> AutoPipeline:
    from qa.mello import make_mello

    graph = make_graph(store, context)
    built: list[System] = []

    def fallback() -> System:
        if not built:
            built.append(make_mello(store, context))
        return built[0]

    return AutoPipeline(graph, fallback)


register_system("graph", make_graph)
register_system("auto", make_auto)
