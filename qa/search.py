"""Finding the best relation chains from a linked entity: one bounded search shared by answering,
training and calibration, so that what the scorer is trained and calibrated on is what it meets.

Walks grow one hop at a time, forwards along facts and backwards against them (qa.inverse). Walks
that follow the same relation chain are kept together, since they answer the same question (a
multi-valued hop branches: the borders of Portugal, then each neighbour's capital). At each hop only
the ``beam`` chains the question mentions most strongly are kept (scored and grown further), each
with at most ``PER_CHAIN`` walks and ``FRONTIER`` walks in all, so the cost grows with beam x
out-degree per hop instead of degree^hops. On graphs where an
entity has fewer relations than the beam is wide, nothing is cut: the search is exhaustive there.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator

import numpy as np

from kg.records import Fact, Relation
from qa.chain_scorer import TEXT_COLUMNS, ChainScorer, QuestionView
from qa.inverse import inverse_id
from qa.paths import MAX_HOPS, UNDOES, GraphView, Walk, past_gap

log = logging.getLogger(__name__)

RANKED = 50  # runners-up kept for the trace
OPEN_RELATIONS = 3  # missing-hop candidates are offered for this many most-mentioned relations
BEAM = 8  # relation chains kept (scored, and carried to the next hop) per hop
PER_CHAIN = 32  # walks kept per chain (the branches of multi-valued hops)
FRONTIER = 64  # walks kept per hop in all
ORDER_BONUS = 0.01  # beam ranking: what hops named in the question's order add to a chain's mean mention
FIRST_EMBEDDED = 2  # chains whose texts are embedded first; each further round embeds twice as many
MAX_BACKWARD = 64  # a hub (a continent, a currency) walked backwards offers at most this many facts per relation


def open_relations(scorer: ChainScorer, question: QuestionView, relations: list[Relation]) -> list[str]:
    ranked = sorted(relations, key=lambda r: -scorer.mention(question, r))
    return [r.id for r in ranked[:OPEN_RELATIONS]]


def candidate_paths(
    scorer: ChainScorer,
    view: GraphView,
    question: QuestionView,
    start: str,
    open_rel: Iterable[str] = (),
    max_hops: int = MAX_HOPS,
    beam: int = BEAM,
    only_expected: bool = True,
    backwards: bool = True,
) -> list[Walk]:
    """Every walk the bounded search keeps from ``start`` (1..``max_hops`` hops), plus walks ending in
    one missing hop for the relations in ``open_rel`` where entities reached that way usually have them."""
    if not view.has_entity(start):
        return []
    wanted = tuple(dict.fromkeys(open_rel))
    found: list[Walk] = list(_missing_after(view, Walk(start, ()), wanted, only_expected))
    frontier = [Walk(start, ())]
    for depth in range(1, max_hops + 1):
        grown = _grow(scorer, view, question, frontier, backwards, beam)
        if not grown:
            break
        found += grown
        if depth == max_hops:
            break
        frontier = grown
        for path in frontier:
            found += _missing_after(view, path, wanted, only_expected)
    return found


Option = tuple[Walk, tuple[Fact, ...], bool]  # a walk, the facts one more hop could take, backwards?


def _options(view: GraphView, path: Walk, backwards: bool) -> Iterator[tuple[str, tuple[Fact, ...], bool]]:
    """The relations one more hop from the end of ``path`` can take: never the same (subject,
    relation) key twice, never a symmetric relation backwards (forwards reaches the same)."""
    end = path.end
    for relation, facts in view.out(end).items():
        if not any(f.relation == relation and f.subject == end and not path.backwards(i) for i, f in enumerate(path.facts)):
            yield relation, facts, False
    if not backwards:
        return
    for relation, facts in view.into(end).items():
        if view.symmetric(relation):
            continue
        if not any(f.relation == relation and f.object == end and path.backwards(i) for i, f in enumerate(path.facts)):
            yield inverse_id(relation), _bounded(facts), True


def _grow(
    scorer: ChainScorer, view: GraphView, question: QuestionView, frontier: list[Walk], backwards: bool, beam: int
) -> list[Walk]:
    """The next hop's walks: of the ``beam`` all-forward chains the question mentions most (mean
    mention), and of half as many chains with a backward hop, so backward chains never crowd out the
    forward ones and the forward search stays what full enumeration was wherever an entity has fewer
    than ``beam`` of them. Chains are ranked before any walk is built."""
    forward: dict[tuple[str, ...], list[Option]] = {}
    backward: dict[tuple[str, ...], list[Option]] = {}
    for path in frontier:
        for relation, facts, back in _options(view, path, backwards):
            key = (*path.relations, relation)
            (backward if back or path.inverse else forward).setdefault(key, []).append((path, facts, back))
    strength: dict[str, float] = {}
    relations: dict[str, Relation | None] = {}

    def mentioned(chain: tuple[str, ...]) -> float:
        """Mean mention, and among chains of the same relations the one whose hops the question
        names outwards from its entity (so a beam full of permutations keeps the right order)."""
        for ident in chain:
            if ident not in strength:
                relations[ident] = relation = view.relation(ident)
                strength[ident] = scorer.mention(question, relation) if relation else 0.0
        mean = sum(strength[i] for i in chain) / len(chain)
        found = [r for r in (relations[i] for i in chain) if r is not None]
        return mean + ORDER_BONUS * scorer.outwards(question, found)

    def build(chains: dict[tuple[str, ...], list[Option]], width: int, room: int) -> list[Walk]:
        keys = list(chains)
        sizes = [sum(len(facts) for _, facts, _ in chains[k]) for k in keys]
        if len(keys) > width or sum(sizes) > room or max(sizes, default=0) > PER_CHAIN:
            keys = sorted(keys, key=lambda c: -mentioned(c))[:width]
        walks: list[Walk] = []
        for key in keys:
            made = 0
            for path, facts, back in chains[key]:
                walked = set(path.facts)
                flags = (*(path.backwards(i) for i in range(len(path.facts))), back) if (back or path.inverse) else ()
                for fact in facts:
                    if fact in walked or made >= PER_CHAIN or len(walks) >= room:
                        continue
                    if _undoes(view, path, fact, back):
                        continue
                    walk = Walk(path.start, (*path.facts, fact), None, flags)
                    walk.__dict__["relations"] = key  # what the cached property would compute
                    walks.append(walk)
                    made += 1
        return walks

    return build(forward, beam, FRONTIER) + build(backward, max(1, beam // 2), FRONTIER // 2)


def _undoes(view: GraphView, path: Walk, fact: Fact, back: bool) -> bool:
    """A hop straight back to where the last one left, by a pair of relations that mostly undoes
    itself (the country of the capital of France; the cities of the country whose capital is Lima):
    nobody asks that, and the composer never composes it, so it is never a candidate."""
    if not path.facts:
        return False
    last = len(path.facts) - 1
    if back != path.backwards(last) or (fact.subject if back else fact.object) != path.left(last):
        return False
    first, second = (fact.relation, path.facts[last].relation) if back else (path.facts[last].relation, fact.relation)
    return view.return_rate(first, second) >= UNDOES


def _flags(path: Walk) -> tuple[bool, ...]:
    return tuple(path.backwards(i) for i in range(len(path.facts)))


def _bounded(facts: tuple[Fact, ...]) -> tuple[Fact, ...]:
    if len(facts) > MAX_BACKWARD:
        log.debug("backward step limited to %d of %d facts", MAX_BACKWARD, len(facts))
        return facts[:MAX_BACKWARD]
    return facts


def _missing_after(view: GraphView, prefix: Walk, wanted: tuple[str, ...], only_expected: bool) -> Iterator[Walk]:
    """Candidates whose next hop is a relation the end entity lacks, where entities reached the way
    ``prefix`` goes usually have it (a real gap, not "the capital of a birthplace"), and never one the
    entity is an object of unless such objects usually have it too (Oulu is where companies have
    their headquarters, not a company lacking one). Where most entities reached that way have the
    relation (:data:`qa.paths.MOSTLY_SHARE`), also with the chain continued past the gap
    (:func:`qa.paths.past_gap`), so a hop missing in the middle of a question's chain is a candidate
    too; a sparse graph, where any kind holds few of its relations, has no such gaps to go past."""
    if len(prefix.facts) >= MAX_HOPS:
        return
    end = prefix.end
    present = view.out(end)
    if prefix.facts and not prefix.backwards(len(prefix.facts) - 1):
        expected = view.expected(prefix.facts[-1].relation)
        mostly = view.expected(prefix.facts[-1].relation, mostly=True)
    else:
        expected = view.expected_of(end)
        mostly = view.expected_of(end, mostly=True)
    pointing = view.into(end) if wanted else {}
    for relation in wanted:
        usual = not only_expected or expected is None or relation in expected
        if relation in pointing and relation not in (view.expected(relation) or ()):
            continue
        if relation not in present and usual:
            walk = Walk(prefix.start, prefix.facts, relation, _flags(prefix))
            yield walk
            if mostly is None or relation in mostly:
                yield from past_gap(view, walk, wanted, only_expected)


def ranked_paths(
    scorer: ChainScorer,
    view: GraphView,
    question: QuestionView,
    start: str,
    keep: int | None = RANKED,
    backwards: bool = True,
) -> list[tuple[Walk, float]]:
    """The candidate paths from ``start`` for ``question``, best first, with their scores (the best
    ``keep``, or all of them). Without ``backwards``, only forward walks, scored by the scorer's
    forward weights when it has them."""
    opened = open_relations(scorer, question, view.relations())
    paths = candidate_paths(scorer, view, question, start, opened, backwards=backwards)
    if not paths:
        return []
    scores = bounded_scores(scorer, question, paths, view, forward=not backwards)
    order = np.argsort(-scores, kind="stable")
    return [(paths[i], float(scores[i])) for i in order[:keep]]


def bounded_scores(
    scorer: ChainScorer, question: QuestionView, paths: list[Walk], view: GraphView, forward: bool = False
) -> np.ndarray:
    """The walks' scores, embedding chain texts only for the chains that could still be the best.

    Embedding a chain's composed texts is most of the cost of a question on a graph with many
    relations (every chain is new there). The other features are cheap, and the text columns are
    cosines, so a chain's score is at most its cheap part plus the text weights' absolute sum. Chains
    are embedded best bound first, a few at a time, until no chain left could beat the best exact
    score: the best walk is exactly the one full scoring picks. The others keep their bound, the most
    they could score (runners-up in the trace are ranked by it)."""
    weights = scorer.weights_for(forward)
    rows = scorer.features(question, paths, view, texts=False)
    bound = rows @ weights + float(np.abs(weights[list(TEXT_COLUMNS)]).sum())
    walks: dict[tuple[str, ...], list[int]] = {}
    for i, path in enumerate(paths):
        walks.setdefault(path.relations, []).append(i)
    order = sorted(walks, key=lambda key: -max(bound[i] for i in walks[key]))
    scores = bound.copy()
    best, done, size = -np.inf, 0, FIRST_EMBEDDED
    while done < len(order) and max(bound[i] for i in walks[order[done]]) >= best:
        which = [i for key in order[done : done + size] for i in walks[key]]
        scorer.fill_texts(question, paths, view, rows, which)
        scores[which] = rows[which] @ weights
        best = max(best, float(scores[which].max()))
        done, size = done + size, size * 2
    return scores


def same_chain(ranked: list[tuple[Walk, float]], best: Walk) -> list[Walk]:
    """The walks that follow the best walk's relation chain: the branches of its answer set."""
    return [p for p, _ in ranked if p.relations == best.relations and not p.missing and p.end != best.start]
