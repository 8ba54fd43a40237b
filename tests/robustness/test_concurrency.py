"""Concurrent edits from threads are serialised: none is lost, and every conflict follows the rule.

Four threads make 250 edits each on the same few (subject, relation) pairs. Afterwards every
acknowledged edit is in the log with what was asked, each thread's edits are in its own order, every
write got its own revision, and each pair's statuses and current objects are exactly what the
documented rule (kg/conflicts.py: the newer edit wins) gives when replayed over the log.
"""

from __future__ import annotations

import random
import threading

import pytest

from kg.records import EditRequest, Entity, Relation
from kg.store import ChangeSet, FactStore, ImportBundle
from tests.robustness.checks import assert_follows_rule

THREADS = 4
EDITS_PER_THREAD = 250
REMOTE_EDITS_PER_THREAD = 40  # each edit reads its pair's whole log: over HTTP, 250 take many minutes
SUBJECTS = ["S0", "S1", "S2", "S3"]
OBJECTS = [f"O{i}" for i in range(6)]
FUNCTIONAL = Relation("F", "leader", "The leader of {subject} is {object}.", "Who leads {subject}?", True)
MULTI = Relation("M", "language", "{subject} speaks {object}.", "What does {subject} speak?", False)


def small_world() -> ImportBundle:
    entities = [Entity(i, f"entity {i}") for i in SUBJECTS + OBJECTS]
    facts = [(s, "F", "O0") for s in SUBJECTS] + [(s, "M", "O1") for s in SUBJECTS]
    return ImportBundle(entities, [FUNCTIONAL, MULTI], facts, source="test")


def requests_for(thread: int, count: int) -> list[EditRequest]:
    rng = random.Random(thread)
    made = []
    for n in range(count):
        relation = rng.choice(["F", "F", "M"])
        replaces = (rng.choice(OBJECTS),) if relation == "M" and rng.random() < 0.5 else ()
        made.append(
            EditRequest(
                rng.choice(SUBJECTS), relation, rng.choice(OBJECTS), replaces, author=f"t{thread}", note=str(n)
            )
        )
    return made


@pytest.mark.slow
def test_concurrent_edits_lose_nothing_and_follow_the_conflict_rule(store: FactStore) -> None:
    store.import_bundle(small_world())
    per_thread = REMOTE_EDITS_PER_THREAD if store.backend.url.startswith("sparql") else EDITS_PER_THREAD
    acknowledged: dict[int, list[tuple[str, EditRequest]]] = {t: [] for t in range(THREADS)}
    revisions: list[int] = []
    failures: list[BaseException] = []
    start = threading.Barrier(THREADS)

    def record(changes: ChangeSet) -> None:
        revisions.append(changes.revision)

    store.subscribe(record)

    def worker(thread: int) -> None:
        try:
            start.wait()
            for request in requests_for(thread, per_thread):
                outcome = store.edit(request)
                acknowledged[thread].append((outcome.edit.id, request))
        except BaseException as exc:  # reported below with the thread's name
            failures.append(exc)

    threads = [threading.Thread(target=worker, args=(t,), name=f"editor-{t}") for t in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=600)
    assert not any(t.is_alive() for t in threads), "an editor thread hung"
    assert not failures, failures

    log = store.edits()
    by_id = {edit.id: edit for edit in log}
    assert len(log) == len(by_id) == THREADS * per_thread
    seq = {edit.id: i for i, edit in enumerate(log)}
    for index, made in acknowledged.items():
        assert len(made) == per_thread
        for ident, request in made:
            edit = by_id[ident]
            assert (edit.subject, edit.relation, edit.object, edit.author) == (
                request.subject,
                request.relation,
                request.object,
                f"t{index}",
            )
        order = [seq[ident] for ident, _ in made]
        assert order == sorted(order), f"thread {index}'s edits were reordered"
    assert len(set(revisions)) == len(revisions) == THREADS * per_thread

    assert_follows_rule(store)
    assert not [c for c in store.conflicts() if c.winner is None]
