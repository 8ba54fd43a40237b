"""Invariants a store must hold after concurrency or a crash, checked by replaying the edit log."""

from __future__ import annotations

from dataclasses import replace

from kg import conflicts
from kg.records import EditStatus
from kg.store import FactStore


def assert_follows_rule(store: FactStore) -> None:
    """Every (subject, relation) with edits has the statuses and objects the conflict rule gives."""
    log = store.edits()
    assert len({e.id for e in log}) == len(log), "two edits share an id"
    keys = sorted({(e.subject, e.relation) for e in log})
    for subject, relation_id in keys:
        relation = store.require_relation(relation_id)
        edits = [e for e in log if (e.subject, e.relation) == (subject, relation_id)]
        live = [replace(e, status=EditStatus.ACTIVE, superseded_by=None) for e in edits]
        decided = conflicts.resolve(live, relation.functional)
        statuses = {e.id: (e.status, e.superseded_by) for e in edits if e.status is not EditStatus.RETRACTED}
        assert statuses == decided, f"({subject}, {relation_id}) statuses break the rule"
        replayed = [replace(e, status=decided.get(e.id, (e.status, None))[0]) for e in edits]
        base = store.base_objects(subject, relation_id)
        expected = conflicts.current_objects(base, replayed, relation.functional)
        found = {f.object for f in store.objects(subject, relation_id)}
        assert found == expected, f"({subject}, {relation_id}) current view {found} != replayed {expected}"
