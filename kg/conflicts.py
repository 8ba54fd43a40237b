"""The conflict rule, in one place.

Two active edits that disagree on one functional (subject, relation) are a conflict. The rule:
**the newer edit wins**; each older active edit that disagrees is marked ``superseded`` with a
pointer to the winner. Retracting the winner brings superseded edits back (undo), after which the
rule is applied again. In strict mode a disagreeing edit is refused instead.
Edits on multi-valued relations never conflict: they add their object and replace only the objects
they name.
"""

from __future__ import annotations

from dataclasses import dataclass

from kg.records import Edit, EditStatus


@dataclass(frozen=True)
class Conflict:
    """A functional (subject, relation) on which edits disagreed, and how the rule resolved it."""

    subject: str
    relation: str
    winner: str | None
    losers: tuple[str, ...]
    objects: tuple[str, ...]

    @property
    def resolution(self) -> str:
        if self.winner is None:
            return "unresolved"
        return f"newer edit {self.winner} wins; superseded: {', '.join(self.losers)}"


def resolve(edits: list[Edit], functional: bool) -> dict[str, tuple[EditStatus, str | None]]:
    """New (status, superseded_by) for each non-retracted edit of one key, oldest first in ``edits``."""
    live = [e for e in edits if e.status is not EditStatus.RETRACTED]
    if not functional or not live:
        return {e.id: (EditStatus.ACTIVE, None) for e in live}
    winner = live[-1]
    return {
        e.id: (EditStatus.ACTIVE, None) if e.object == winner.object else (EditStatus.SUPERSEDED, winner.id)
        for e in live
    }


def current_objects(base: set[str], edits: list[Edit], functional: bool) -> set[str]:
    """The current view of one key: base objects with the active edits applied in order."""
    objects = set(base)
    for edit in edits:
        if edit.status is not EditStatus.ACTIVE:
            continue
        objects = {edit.object} if functional else objects - set(edit.replaces) | {edit.object}
    return objects


def find_conflict(subject: str, relation: str, edits: list[Edit]) -> Conflict | None:
    losers = [e for e in edits if e.status is EditStatus.SUPERSEDED]
    if not losers:
        return None
    winners = {e.superseded_by for e in losers}
    winner = winners.pop() if len(winners) == 1 else None
    objects = tuple(sorted({e.object for e in edits if e.status is not EditStatus.RETRACTED}))
    return Conflict(subject, relation, winner, tuple(e.id for e in losers), objects)
