"""What an edit would do to the current view, computed by the store's own conflict rule.

Callers (the CLI, the UI, plain-text curation) ask :meth:`kg.store.FactStore.preview` before they
write, so the rule of :mod:`kg.conflicts` is applied in one place and never re-derived above ``kg``.
Nothing is written.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from kg import conflicts
from kg.records import Edit, EditRequest, EditStatus

if TYPE_CHECKING:
    from kg.store import FactStore

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)  # the probe edit's time; the rule orders by position, not time


@dataclass(frozen=True)
class EditEffect:
    """The current objects of (subject, relation) and what the requested edit would change."""

    request: EditRequest
    functional: bool
    current: tuple[str, ...]  # the current view now
    after: tuple[str, ...]  # the current view once the edit is applied
    supersedes: tuple[str, ...]  # current objects the edit removes
    overridden: tuple[Edit, ...]  # active edits the newer-edit-wins rule would mark superseded

    @property
    def unchanged(self) -> bool:
        """The edit would leave the current view as it is: the fact is already current."""
        return set(self.after) == set(self.current)


def preview(store: FactStore, request: EditRequest) -> EditEffect:
    """The effect of ``request``; the object may be an entity that does not exist yet."""
    relation = store.require_relation(request.relation)
    current = tuple(sorted(f.object for f in store.objects(request.subject, request.relation)))
    edits = store.edits_on(request.subject, request.relation)
    probe = Edit("(preview)", request.subject, request.relation, request.object, request.replaces, "", _EPOCH)
    decided = conflicts.resolve([*edits, probe], relation.functional)
    overridden = tuple(
        e for e in edits if e.status is EditStatus.ACTIVE and decided.get(e.id, (None,))[0] is EditStatus.SUPERSEDED
    )
    after = conflicts.current_objects(set(current), [probe], relation.functional)
    return EditEffect(
        request,
        relation.functional,
        current,
        tuple(sorted(after)),
        tuple(o for o in current if o not in after),
        overridden,
    )
