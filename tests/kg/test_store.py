"""The store suite: runs unchanged on every backend (memory, Oxigraph on disk, SPARQL endpoint)."""

from __future__ import annotations

import pytest

from kg.errors import ConflictError, InputError
from kg.records import EditRequest, EditStatus, Entity, Origin
from kg.store import ChangeSet, FactStore, ImportBundle


def objects(store: FactStore, s: str, r: str) -> list[str]:
    return [f.object for f in store.objects(s, r)]


def test_import_reads_back_entities_relations_and_facts(world: FactStore) -> None:
    assert world.entity("Q142").label == "France"
    assert world.entity("Q142").aliases == ("French Republic",)
    assert world.relation("P36").question("France") == "What is the capital of France?"
    assert world.relation("P37").functional is False
    assert objects(world, "Q142", "P36") == ["Q90"]
    assert world.objects("Q142", "P36")[0].origin is Origin.BASE
    stats = world.stats()
    assert (stats.entities, stats.relations, stats.base_facts, stats.current_facts) == (10, 4, 7, 7)


def test_find_entities_by_label_and_alias(world: FactStore) -> None:
    assert [e.id for e in world.find_entities("France")] == ["Q142"]
    assert [e.id for e in world.find_entities("Macron")] == ["Q1"]
    assert world.find_entities("Atlantis") == []


def test_edit_on_functional_relation_supersedes_old_object(world: FactStore) -> None:
    outcome = world.edit(EditRequest("Q142", "P36", "Q456", author="ann", note="test"))
    assert outcome.edit.replaces == ("Q90",)
    assert [f.object for f in outcome.removed] == ["Q90"]
    facts = world.objects("Q142", "P36")
    assert [(f.object, f.origin, f.edit_id) for f in facts] == [("Q456", Origin.EDIT, outcome.edit.id)]
    assert world.base_objects("Q142", "P36") == {"Q90"}, "base facts are never destroyed by an edit"
    assert world.get_edit(outcome.edit.id).author == "ann"


def test_edit_on_multi_valued_relation_adds_and_replaces_only_named_objects(world: FactStore) -> None:
    world.edit(EditRequest("Q142", "P37", "Q652"))
    assert objects(world, "Q142", "P37") == ["Q150", "Q652"]
    world.edit(EditRequest("Q38", "P37", "Q150", replaces=("Q652",)))
    assert objects(world, "Q38", "P37") == ["Q150"]


def test_retract_restores_superseded_object(world: FactStore) -> None:
    edit = world.edit(EditRequest("Q142", "P36", "Q456")).edit
    retracted = world.retract(edit.id)
    assert retracted.status is EditStatus.RETRACTED
    assert objects(world, "Q142", "P36") == ["Q90"]
    assert world.objects("Q142", "P36")[0].origin is Origin.BASE


def test_newer_edit_wins_conflict_and_older_is_marked_superseded(world: FactStore) -> None:
    first = world.edit(EditRequest("Q142", "P36", "Q456")).edit
    second = world.edit(EditRequest("Q142", "P36", "Q220"))
    assert second.superseded_edits == (first.id,)
    assert objects(world, "Q142", "P36") == ["Q220"]
    older = world.get_edit(first.id)
    assert older.status is EditStatus.SUPERSEDED and older.superseded_by == second.edit.id
    [conflict] = world.conflicts()
    assert (conflict.subject, conflict.relation, conflict.winner) == ("Q142", "P36", second.edit.id)
    assert conflict.losers == (first.id,)
    assert "newer edit" in conflict.resolution


def test_retracting_the_winner_brings_back_the_superseded_edit(world: FactStore) -> None:
    first = world.edit(EditRequest("Q142", "P36", "Q456")).edit
    second = world.edit(EditRequest("Q142", "P36", "Q220")).edit
    world.retract(second.id)
    assert objects(world, "Q142", "P36") == ["Q456"]
    assert world.get_edit(first.id).status is EditStatus.ACTIVE
    world.retract(first.id)
    assert objects(world, "Q142", "P36") == ["Q90"]


def test_agreeing_edits_do_not_conflict_and_survive_each_others_retraction(world: FactStore) -> None:
    a = world.edit(EditRequest("Q142", "P36", "Q456")).edit
    b = world.edit(EditRequest("Q142", "P36", "Q456")).edit
    assert world.conflicts() == []
    world.retract(b.id)
    assert objects(world, "Q142", "P36") == ["Q456"]
    assert world.get_edit(a.id).status is EditStatus.ACTIVE


def test_strict_mode_refuses_disagreeing_edit_and_leaves_store_unchanged(world: FactStore) -> None:
    world.edit(EditRequest("Q142", "P36", "Q456"))
    before = (world.revision(), len(world.edits()))
    with pytest.raises(ConflictError, match="retract that edit first"):
        world.edit(EditRequest("Q142", "P36", "Q220"), strict=True)
    assert (world.revision(), len(world.edits())) == before
    assert objects(world, "Q142", "P36") == ["Q456"]


def test_history_lists_base_objects_and_every_edit_in_order(world: FactStore) -> None:
    first = world.edit(EditRequest("Q142", "P36", "Q456")).edit
    second = world.edit(EditRequest("Q142", "P36", "Q220")).edit
    world.retract(second.id)
    history = world.history("Q142", "P36")
    assert history.base == ("Q90",)
    assert [(e.id, e.status) for e in history.edits] == [
        (first.id, EditStatus.ACTIVE),
        (second.id, EditStatus.RETRACTED),
    ]
    assert history.current == ("Q456",)


def test_edit_many_is_one_transaction_in_order(world: FactStore) -> None:
    outcomes = world.edit_many([EditRequest("Q142", "P36", "Q456"), EditRequest("Q142", "P36", "Q220")])
    assert outcomes[1].superseded_edits == (outcomes[0].edit.id,)
    assert world.get_edit(outcomes[0].edit.id).status is EditStatus.SUPERSEDED
    assert objects(world, "Q142", "P36") == ["Q220"]


def test_listeners_see_what_each_write_changed(world: FactStore) -> None:
    seen: list[ChangeSet] = []
    world.subscribe(seen.append)
    edit = world.edit(EditRequest("Q142", "P36", "Q456")).edit
    assert [(f.object, f.origin) for f in seen[-1].added] == [("Q456", Origin.EDIT)]
    assert [f.object for f in seen[-1].removed] == ["Q90"]
    world.retract(edit.id)
    assert [f.object for f in seen[-1].added] == ["Q90"]
    assert [f.object for f in seen[-1].removed] == ["Q456"]
    assert seen[-1].revision == world.revision()


def test_revision_increases_with_every_write(world: FactStore) -> None:
    before = world.revision()
    world.edit(EditRequest("Q142", "P36", "Q456"))
    assert world.revision() == before + 1


def test_current_facts_and_neighbourhood_queries(world: FactStore) -> None:
    world.edit(EditRequest("Q142", "P6", "Q3"))
    current = {(f.subject, f.relation, f.object): f.origin for f in world.current_facts()}
    assert current[("Q142", "P6", "Q3")] is Origin.EDIT
    assert ("Q142", "P6", "Q1") not in current
    assert {f.relation for f in world.facts_about("Q142")} == {"P36", "P37", "P6"}
    assert {f.subject for f in world.facts_pointing_to("Q3")} == {"Q38", "Q142"}


def test_edit_with_unknown_subject_is_refused_and_store_unchanged(world: FactStore) -> None:
    before = world.revision()
    with pytest.raises(InputError, match="subject 'Q999' does not exist"):
        world.edit(EditRequest("Q999", "P36", "Q90"))
    assert world.revision() == before and world.edits() == []


def test_edit_with_unknown_relation_is_refused(world: FactStore) -> None:
    with pytest.raises(InputError, match="unknown relation 'P999'"):
        world.edit(EditRequest("Q142", "P999", "Q90"))
    assert world.edits() == []


def test_retract_of_unknown_or_retracted_edit_is_refused(world: FactStore) -> None:
    with pytest.raises(InputError, match="unknown edit id 'E404'"):
        world.retract("E404")
    edit = world.edit(EditRequest("Q142", "P36", "Q456")).edit
    world.retract(edit.id)
    with pytest.raises(InputError, match="already retracted"):
        world.retract(edit.id)


def test_empty_label_is_refused(store: FactStore) -> None:
    with pytest.raises(InputError, match="empty label"):
        store.add_entities([Entity("Q1", "  ")])
    assert store.stats().entities == 0


def test_import_is_all_or_nothing(world: FactStore) -> None:
    before = world.stats()
    bad = ImportBundle(
        entities=[Entity("Q7", "Spain")],
        facts=[("Q7", "P36", "Q90"), ("Q7", "P36", "Q404")],
    )
    with pytest.raises(InputError, match="unknown object entity 'Q404'"):
        world.import_bundle(bad)
    assert world.stats() == before
    assert world.entity("Q7") is None


def test_user_text_with_sparql_syntax_is_stored_as_plain_text(store: FactStore) -> None:
    hostile = '"} ; DROP ALL ; { <urn:x> ?p ?o'
    store.add_entities([Entity("x y", hostile), Entity("Q2", "ok")])
    assert store.entity("x y").label == hostile
    assert [e.id for e in store.find_entities(hostile)] == ["x y"]
    assert store.stats().entities == 2
