"""The store's preview applies the conflict rule of kg/conflicts.py and writes nothing."""

from __future__ import annotations

from kg.records import EditRequest
from kg.store import FactStore


def test_preview_of_functional_edit_supersedes_the_current_object_and_writes_nothing(world: FactStore) -> None:
    revision = world.revision()
    effect = world.preview(EditRequest("Q142", "P36", "Q456"))
    assert (effect.current, effect.after, effect.supersedes) == (("Q90",), ("Q456",), ("Q90",))
    assert not effect.unchanged and effect.overridden == ()
    assert world.revision() == revision


def test_preview_names_the_active_edit_the_newer_edit_would_override(world: FactStore) -> None:
    first = world.edit(EditRequest("Q142", "P36", "Q456")).edit
    effect = world.preview(EditRequest("Q142", "P36", "Q220"))
    assert [e.id for e in effect.overridden] == [first.id]
    assert world.preview(EditRequest("Q142", "P36", "Q456")).overridden == ()


def test_preview_of_the_current_fact_is_unchanged(world: FactStore) -> None:
    assert world.preview(EditRequest("Q142", "P36", "Q90")).unchanged
    world.edit(EditRequest("Q142", "P37", "Q652"))
    assert world.preview(EditRequest("Q142", "P37", "Q652")).unchanged


def test_preview_of_multi_valued_edit_removes_only_named_objects(world: FactStore) -> None:
    effect = world.preview(EditRequest("Q142", "P37", "Q652", replaces=("Q150",)))
    assert (effect.supersedes, effect.after) == (("Q150",), ("Q652",))
    added = world.preview(EditRequest("Q142", "P37", "Q652"))
    assert (added.supersedes, added.after) == ((), ("Q150", "Q652"))
