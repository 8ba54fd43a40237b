"""Which cases' gold answers stop being true when several cases' edits are loaded together.

Case X is inconsistent within a batch when some hop ``(s, r, o)`` of its post-edit chain meets an
edit ``(s, r, o2)`` of the batch with ``o2 != o``: another case edits away a fact X's chain relies
on (or two cases edit one fact to different objects). Its gold ``new_answer`` is then wrong or
ambiguous, so the harness reports every metric on all cases and on the consistent ones. This is the
definition in ``../shared/data/mquake/README.md``; with all of MQuAKE-CF-3k loaded it finds 998.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from qa.mquake import Case


@dataclass(frozen=True)
class Contradiction:
    """A hop of one case's new chain and the edit of another case that contradicts it."""

    case_id: str
    hop: tuple[str, str, str]
    edit: tuple[str, str, str]
    edit_case: str

    def describe(self) -> str:
        s, r, o = self.hop
        return f"hop ({s}, {r}, {o}) is edited to {self.edit[2]} by case {self.edit_case}"


def contradictions(cases: Sequence[Case]) -> dict[str, list[Contradiction]]:
    """Per case id, every contradiction between its new chain and the edits of ``cases``."""
    edits: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for case in cases:
        for rewrite in case.graph.rewrites:
            edits.setdefault((rewrite.subject, rewrite.relation), []).append((rewrite.new_id, case.case_id))
    found: dict[str, list[Contradiction]] = {}
    for case in cases:
        for s, r, o in case.graph.new_triples:
            for new_object, owner in edits.get((s, r), ()):
                if new_object != o:
                    found.setdefault(case.case_id, []).append(
                        Contradiction(case.case_id, (s, r, o), (s, r, new_object), owner)
                    )
    return found


def inconsistent_case_ids(cases: Sequence[Case]) -> set[str]:
    return set(contradictions(cases))


def edit_conflicts(cases: Sequence[Case]) -> list[tuple[tuple[str, str], set[str]]]:
    """(subject, relation) keys that cases edit to different objects, with the objects."""
    objects: dict[tuple[str, str], set[str]] = {}
    for case in cases:
        for rewrite in case.graph.rewrites:
            objects.setdefault((rewrite.subject, rewrite.relation), set()).add(rewrite.new_id)
    return sorted((key, found) for key, found in objects.items() if len(found) > 1)
