"""Candidate relation paths from a linked entity over the current view of the graph.

Answering walks the graph many times per question (every path of 1 to 4 hops from the linked entity),
so the current view is held in memory as an adjacency map (:class:`GraphView`). The view follows the
store through its change listener and re-reads every (subject, relation) key a write touched, so an
edit or a retraction is visible to the next question; a revision stamp catches writes it missed.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cached_property

from kg.records import Fact, Relation
from kg.store import ChangeSet, FactStore
from qa.inverse import forward_id, inverse_id, inverse_of, is_inverse

log = logging.getLogger(__name__)

MAX_HOPS = 4
SYMMETRIC_SHARE = 0.9  # a relation holding both ways for this share of its facts is symmetric
EXPECTED_SHARE = 0.02  # a relation is expected of an entity when this share of its kind has it
MOSTLY_SHARE = 0.5  # ... and held by most of its kind when this share has it (a gap worth going past)
UNDOES = 0.5  # a relation pair that leads back this often is an inverse, not a question
STATS_SAMPLE = 50_000  # subjects the view's statistics are counted over (all of them in smaller graphs)


@dataclass(frozen=True)
class Walk:
    """A walk from the linked entity: the facts of its hops, and optionally one hop the graph lacks.

    ``missing`` names the relation of a hop that has no fact in the current view; the pipeline asks
    the language model for it and marks that hop MODEL in the trace. ``beyond`` are the relations the
    question goes on to ask of what that hop would reach (the currency of Japan's neighbours, where
    the graph holds no neighbours of Japan): they cannot be walked, so such a walk only says where
    the graph falls short, and the chain is still scored whole against the question.
    """

    start: str
    facts: tuple[Fact, ...]
    missing: str | None = None
    inverse: tuple[bool, ...] = ()  # per fact: walked from its object to its subject (qa.inverse)
    beyond: tuple[str, ...] = ()  # relations after the missing hop (only with ``missing``)

    def __post_init__(self) -> None:
        if self.inverse and not any(self.inverse):
            object.__setattr__(self, "inverse", ())  # an all-forward walk equals one built without flags

    def backwards(self, position: int) -> bool:
        return position < len(self.inverse) and self.inverse[position]

    @cached_property
    def relations(self) -> tuple[str, ...]:
        """The relation chain, "^R" for a hop walked backwards (computed once: searches ask often)."""
        if self.inverse:
            chain = tuple(inverse_id(f.relation) if self.backwards(i) else f.relation for i, f in enumerate(self.facts))
        else:
            chain = tuple(f.relation for f in self.facts)
        return chain + ((self.missing, *self.beyond) if self.missing else ())

    def reached(self, position: int) -> str:
        """The entity hop ``position`` leads to."""
        fact = self.facts[position]
        return fact.subject if self.backwards(position) else fact.object

    def left(self, position: int) -> str:
        """The entity hop ``position`` leaves from."""
        fact = self.facts[position]
        return fact.object if self.backwards(position) else fact.subject

    @property
    def end(self) -> str:
        """The last entity the graph reached (the subject of the missing hop, if any)."""
        return self.reached(len(self.facts) - 1) if self.facts else self.start

    @property
    def hops(self) -> int:
        return len(self.relations)

    @property
    def edits(self) -> int:
        return sum(1 for f in self.facts if f.edit_id)


class GraphView:
    """An in-memory copy of the store's current view: facts by subject, labels and relations."""

    def __init__(self, store: FactStore) -> None:
        self.store = store
        self._lock = threading.RLock()
        self._out: dict[str, dict[str, tuple[Fact, ...]]] = {}
        self._in: dict[str, dict[str, tuple[Fact, ...]]] | None = None  # by object, built on first need
        self._inverses: dict[str, Relation] = {}
        self._symmetric: dict[str, bool] = {}
        self._labels: dict[str, str] = {}
        self._relations: dict[str, Relation] = {}
        self._expected: dict[str, frozenset[str]] = {}
        self._alongside: dict[str, frozenset[str]] = {}
        self._mostly: dict[str, frozenset[str]] = {}
        self._mostly_alongside: dict[str, frozenset[str]] = {}
        self._returns: dict[tuple[str, str], float] = {}
        self._revision = -1
        self._dirty = True
        store.subscribe(self._on_change)

    def refresh(self) -> None:
        """Bring the view up to date; cheap when nothing changed since the last call."""
        with self._lock:
            revision = self.store.revision()
            if self._dirty or revision != self._revision:
                self._rebuild(revision)

    def _rebuild(self, revision: int) -> None:
        out: dict[str, dict[str, list[Fact]]] = {}
        for fact in self.store.current_facts():
            out.setdefault(fact.subject, {}).setdefault(fact.relation, []).append(fact)
        self._out = {s: {r: tuple(sorted(fs, key=lambda f: f.object)) for r, fs in rs.items()} for s, rs in out.items()}
        self._labels = {e.id: e.label for e in self.store.entities()}
        self._relations = {r.id: r for r in self.store.relations()}
        self._expected, self._alongside = _expected_relations(self._out, EXPECTED_SHARE)
        self._mostly, self._mostly_alongside = _expected_relations(self._out, MOSTLY_SHARE)
        self._returns = _return_rates(self._out)
        self._in, self._inverses, self._symmetric = None, {}, {}
        self._revision = revision
        self._dirty = False
        log.info("graph view: %d subjects, %d labels (revision %d)", len(self._out), len(self._labels), revision)

    def _on_change(self, changes: ChangeSet) -> None:
        with self._lock:
            if self._dirty:
                return
            keys = {(f.subject, f.relation) for f in (*changes.added, *changes.removed)}
            for subject, relation in keys:
                facts = tuple(self.store.objects(subject, relation))
                by_relation = self._out.setdefault(subject, {})
                old = by_relation.get(relation, ())
                if facts:
                    by_relation[relation] = facts
                else:
                    by_relation.pop(relation, None)
                if self._in is not None:
                    _reindex(self._in, subject, relation, old, facts)
            new = {f.subject for f in changes.added} | {f.object for f in changes.added}
            if any(e not in self._labels for e in new) or any(
                f.relation not in self._relations for f in changes.added
            ):
                self._dirty = True  # new entities or relations: re-read the schema on the next refresh
            self._revision = changes.revision

    def label(self, entity: str) -> str:
        return self._labels.get(entity, entity)

    def relation(self, ident: str) -> Relation | None:
        """A relation by id; ``^R`` is ``R`` walked backwards (qa.inverse)."""
        if not is_inverse(ident):
            return self._relations.get(ident)
        if ident not in self._inverses:
            forward = self._relations.get(forward_id(ident))
            if forward is None:
                return None
            self._inverses[ident] = inverse_of(forward, self._subject_kind(forward.id))
        return self._inverses[ident]

    def into(self, entity: str) -> dict[str, tuple[Fact, ...]]:
        """Facts whose object is ``entity``, by relation (for walking them backwards)."""
        index = self._in
        if index is None:
            found: dict[str, dict[str, list[Fact]]] = {}
            for by_relation in self._out.values():
                for relation, facts in by_relation.items():
                    for fact in facts:
                        found.setdefault(fact.object, {}).setdefault(relation, []).append(fact)
            index = {o: {r: tuple(fs) for r, fs in rs.items()} for o, rs in found.items()}
            self._in = index
        return index.get(entity, {})

    def symmetric(self, relation: str) -> bool:
        """Whether ``relation`` nearly always holds both ways (borders): walking it backwards then
        reaches what walking it forwards does, so the search does not."""
        if relation not in self._symmetric:
            pairs = [(s, f.object) for s, rs in sampled(self._out).items() for f in rs.get(relation, ())]
            both = sum(1 for s, o in pairs if any(f.object == s for f in self.objects(o, relation)))
            self._symmetric[relation] = bool(pairs) and both >= SYMMETRIC_SHARE * len(pairs)
        return self._symmetric[relation]

    def _subject_kind(self, relation: str) -> str:
        """What the subjects of ``relation`` are, by the relation that most often has them as objects."""
        from qa.phrasing import answer_type  # phrasing reads the relation table; only inverse hops need it

        subjects = {s for s, rs in self._out.items() if relation in rs}
        counts: Counter[str] = Counter()
        for by_relation in sampled(self._out).values():
            for other, facts in by_relation.items():
                counts[other] += sum(1 for f in facts if f.object in subjects)
        for other, _ in counts.most_common():
            named = self._relations.get(other)
            if named is not None:
                return answer_type(named)
        return "entity"

    def relations(self) -> list[Relation]:
        return list(self._relations.values())

    def out(self, subject: str) -> dict[str, tuple[Fact, ...]]:
        return self._out.get(subject, {})

    def objects(self, subject: str, relation: str) -> tuple[Fact, ...]:
        return self._out.get(subject, {}).get(relation, ())

    def subjects(self) -> list[str]:
        return list(self._out)

    def has_entity(self, entity: str) -> bool:
        return entity in self._labels

    # The three statistics below are counted when the view is rebuilt, not on every write: they
    # describe the schema of the graph, which single edits barely move.

    def expected(self, relation: str, mostly: bool = False) -> frozenset[str] | None:
        """Relations that objects of ``relation`` usually have (a capital for a country of
        citizenship, none for a place of birth), or None when the graph has no objects of it; with
        ``mostly``, those that most of them have."""
        return (self._mostly if mostly else self._expected).get(relation)

    def return_rate(self, first: str, second: str) -> float:
        """How often following ``first`` then ``second`` leads back where it started: near 1 for a
        pair that undoes itself (a country's capital's country), low where coming back is a fact
        about the entity (a birthplace that is its country's capital)."""
        return self._returns.get((first, second), 0.0)

    def expected_of(self, entity: str, mostly: bool = False) -> frozenset[str]:
        """Relations usually (with ``mostly``: mostly) held by entities that share a relation with
        ``entity`` (its kind)."""
        alongside = self._mostly_alongside if mostly else self._alongside
        found: set[str] = set()
        for relation in self.out(entity):
            found |= alongside.get(relation, frozenset())
        return frozenset(found)


def _reindex(
    index: dict[str, dict[str, tuple[Fact, ...]]],
    subject: str,
    relation: str,
    old: tuple[Fact, ...],
    new: tuple[Fact, ...],
) -> None:
    """Move one (subject, relation) key's facts in the by-object index: a write touches a few keys,
    and re-indexing a million facts after every edit would take seconds."""
    for obj in {f.object for f in old} | {f.object for f in new}:
        by_relation = index.setdefault(obj, {})
        kept = [f for f in by_relation.get(relation, ()) if f.subject != subject]
        kept += [f for f in new if f.object == obj]
        if kept:
            by_relation[relation] = tuple(kept)
        else:
            by_relation.pop(relation, None)


def sampled(out: dict[str, dict[str, tuple[Fact, ...]]]) -> dict[str, dict[str, tuple[Fact, ...]]]:
    """Every subject of a graph up to :data:`STATS_SAMPLE` subjects, else an even sample of that many.

    The view's statistics are shares (how often objects of a relation have another); counting them
    over every fact of a million-fact graph takes half a minute and gives the same shares.
    """
    if len(out) <= STATS_SAMPLE:
        return out
    step = len(out) / STATS_SAMPLE
    keys = list(out)
    return {keys[int(i * step)]: out[keys[int(i * step)]] for i in range(STATS_SAMPLE)}


def _expected_relations(
    out: dict[str, dict[str, tuple[Fact, ...]]], share: float
) -> tuple[dict[str, frozenset[str]], dict[str, frozenset[str]]]:
    """Per relation: the relations at least ``share`` of its objects have, and those at least
    ``share`` of its subjects also have."""
    objects: dict[str, set[str]] = {}
    subjects: Counter[str] = Counter()
    held_with: dict[str, Counter[str]] = {}
    for by_relation in sampled(out).values():
        for relation, facts in by_relation.items():
            objects.setdefault(relation, set()).update(f.object for f in facts)
            subjects[relation] += 1
            held_with.setdefault(relation, Counter()).update(by_relation.keys())

    def usual(counts: Counter[str], total: int) -> frozenset[str]:
        floor = max(1.0, share * total)
        return frozenset(r for r, n in counts.items() if n >= floor)

    after = {
        relation: usual(Counter(r for o in targets for r in out.get(o, {})), len(targets))
        for relation, targets in objects.items()
    }
    alongside = {relation: usual(held_with[relation], subjects[relation]) for relation in subjects}
    return after, alongside


def _return_rates(out: dict[str, dict[str, tuple[Fact, ...]]]) -> dict[tuple[str, str], float]:
    reached: Counter[tuple[str, str]] = Counter()
    returned: Counter[tuple[str, str]] = Counter()
    for subject, by_relation in sampled(out).items():
        for first, facts in by_relation.items():
            for fact in facts:
                for second, back in out.get(fact.object, {}).items():
                    reached[first, second] += 1
                    returned[first, second] += any(f.object == subject for f in back)
    return {pair: returned[pair] / n for pair, n in reached.items() if returned[pair]}


def past_gap(view: GraphView, walk: Walk, wanted: Iterable[str], only_expected: bool = True) -> Iterator[Walk]:
    """``walk`` (ending in a missing hop) continued by the question's most mentioned relations
    ``wanted`` that what its last hop reaches usually has (any of them without ``only_expected``), up
    to :data:`MAX_HOPS` hops in all: the chain a question asks for past a fact the graph lacks."""
    if walk.hops >= MAX_HOPS:
        return
    last = walk.relations[-1]
    expected = view.expected(last)
    for relation in wanted:
        if relation != last and (not only_expected or expected is None or relation in expected):
            longer = Walk(walk.start, walk.facts, walk.missing, walk.inverse, (*walk.beyond, relation))
            yield longer
            yield from past_gap(view, longer, wanted, only_expected)


def enumerate_paths(
    view: GraphView,
    start: str,
    max_hops: int = MAX_HOPS,
    open_relations: Iterable[str] = (),
    limit: int = 20000,
    only_expected: bool = True,
) -> list[Walk]:
    """Every walk of 1..``max_hops`` facts from ``start``, plus walks with one missing hop (and the
    chain past it, :func:`past_gap`).

    ``open_relations`` are relations the question seems to ask about; a walk whose end entity has no
    fact for one of them, while entities reached the same way usually do, gets a candidate with that
    relation as its missing final hop (no "capital of a birthplace" for the LM to make up). A walk never
    takes the same (subject, relation) twice, and enumeration stops at ``limit`` paths (logged).
    Training passes ``only_expected=False``: a scorer that has also seen the unlikely missing hops
    ranks them low, so it stays wary of the language model where the pruning lets one through.
    """
    wanted = tuple(dict.fromkeys(open_relations))
    found: list[Walk] = []
    if not view.has_entity(start):
        return found

    def missing_after(prefix: tuple[Fact, ...]) -> Iterator[Walk]:
        end = prefix[-1].object if prefix else start
        present = view.out(end)
        # entities reached the way the prefix goes usually have the relation: a real gap
        expected = view.expected(prefix[-1].relation) if prefix else view.expected_of(start)
        for relation in wanted:
            usual = not only_expected or expected is None or relation in expected
            if relation not in present and usual:
                walk = Walk(start, prefix, relation)
                yield walk
                mostly = view.expected(prefix[-1].relation, True) if prefix else view.expected_of(start, True)
                if mostly is None or relation in mostly:
                    yield from past_gap(view, walk, wanted, only_expected)

    stack: list[tuple[Fact, ...]] = [()]
    while stack:
        prefix = stack.pop()
        if len(prefix) < max_hops:
            found.extend(missing_after(prefix))
        if len(found) >= limit:
            log.warning("path enumeration from %s stopped at %d paths", start, limit)
            break
        if len(prefix) == max_hops:
            continue
        end = prefix[-1].object if prefix else start
        used = {(f.subject, f.relation) for f in prefix}
        for relation, facts in view.out(end).items():
            if (end, relation) in used:
                continue
            for fact in facts:
                walk = (*prefix, fact)
                found.append(Walk(start, walk))
                stack.append(walk)
    return found
