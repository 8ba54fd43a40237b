"""Imports never corrupt silently: a BOM, a relabel, a '#' id, blank nodes, a bad boolean, tricky labels."""

from __future__ import annotations

from pathlib import Path

import pytest

from kg.errors import InputError
from kg.io import export_file, import_file
from kg.records import Entity
from kg.store import FactStore
from tests.support import CAPITAL, tiny_world

TRICKY_LABELS = [
    "tab\there",
    "new\nline",
    "carriage\rreturn",
    "crlf\r\nend",
    "back\\slash",
    "\\t literally",
    "# looks like a comment",
    "  leading and trailing  ",
    "line\u2028separator and next\x85line",
    'quote " and \' apostrophe',
    "\ufeffbom inside",
    "vertical\x0btab, form\x0cfeed, nul\x00",
]


@pytest.fixture
def world() -> FactStore:
    store = FactStore.open("memory:")
    store.import_bundle(tiny_world())
    return store


def _snapshot(store: FactStore) -> set[tuple[object, ...]]:
    return set(store.backend.quads())


def test_tsv_with_a_byte_order_mark_does_not_create_a_duplicate_entity(world: FactStore, tmp_path: Path) -> None:
    path = tmp_path / "facts.tsv"
    path.write_bytes("\ufeffQ142\tFrance\tP36\tcapital\tQ456\tLyon\n".encode())
    import_file(world, path)
    assert world.entity("\ufeffQ142") is None
    assert [e.id for e in world.find_entities("France")] == ["Q142"]
    assert {f.object for f in world.objects("Q142", "P36")} == {"Q90", "Q456"}


def test_a_new_label_for_a_known_entity_is_reported_and_keeps_one_label(world: FactStore, tmp_path: Path) -> None:
    path = tmp_path / "facts.tsv"
    path.write_text("Q142\tRépublique française\tP36\tcapital\tQ90\tParis\n", encoding="utf-8")
    report = import_file(world, path)
    assert [(r.entity, r.old, r.new) for r in report.relabelled] == [("Q142", "France", "République française")]
    assert any("relabelled 1 entity (Q142: 'France' -> 'République française')" in n for n in report.notices())
    france = world.entity("Q142")
    assert france is not None and france.label == "République française"
    assert "France" in france.aliases
    assert [e.id for e in world.find_entities("France")] == ["Q142"]


def test_strict_import_refuses_a_relabel_and_changes_nothing(world: FactStore, tmp_path: Path) -> None:
    path = tmp_path / "facts.tsv"
    path.write_text("Q142\tRépublique française\tP36\tcapital\tQ90\tParis\n", encoding="utf-8")
    before = _snapshot(world)
    with pytest.raises(InputError, match="labelled 'France' in the store"):
        import_file(world, path, strict=True)
    assert _snapshot(world) == before


def test_comment_lines_are_counted_and_an_escaped_hash_id_is_data(world: FactStore, tmp_path: Path) -> None:
    path = tmp_path / "facts.tsv"
    path.write_text(
        "# written by hand\n\\#7\tSeven\tP36\tcapital\tQ90\tParis\n#\tnot\tP36\tcapital\tQ90\tParis\n", encoding="utf-8"
    )
    report = import_file(world, path)
    assert world.entity("#7") is not None and world.entity("#7").label == "Seven"  # type: ignore[union-attr]
    assert report.notices() == ["left out comment lines (starting with '#'): 2"]


def test_turtle_blank_nodes_are_counted_not_dropped_silently(world: FactStore, tmp_path: Path) -> None:
    path = tmp_path / "g.ttl"
    path.write_text(
        "@prefix e: <http://kgedit.org/entity/> . @prefix r: <http://kgedit.org/relation/> .\n"
        "e:Q142 r:P36 e:Q456 .\n_:x r:P36 e:Q90 .\ne:Q38 r:P36 [ r:P36 e:Q90 ] .\n",
        encoding="utf-8",
    )
    report = import_file(world, path)
    assert report.facts == 1
    assert any("triples with blank nodes" in n and n.endswith(": 3") for n in report.notices()), report.notices()


@pytest.mark.parametrize("value", ['"maybe"', '"yes please"', '"2"'])
def test_a_functional_flag_that_is_not_a_boolean_is_refused(world: FactStore, tmp_path: Path, value: str) -> None:
    path = tmp_path / "schema.ttl"
    path.write_text(
        "@prefix kg: <http://kgedit.org/vocab#> . @prefix r: <http://kgedit.org/relation/> .\n"
        "@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .\n"
        f'r:P99 a kg:Relation ; rdfs:label "twin" ; kg:functional {value} ;\n'
        '  kg:statementTemplate "{subject} is twinned with {object}." ;\n'
        '  kg:questionTemplate "What is {subject} twinned with?" .\n',
        encoding="utf-8",
    )
    before = _snapshot(world)
    with pytest.raises(InputError, match="kg:functional"):
        import_file(world, path)
    assert _snapshot(world) == before


@pytest.mark.parametrize("fmt", ["tsv", "turtle", "nt", "nquads"])
def test_tricky_labels_survive_an_export_and_import_round_trip(tmp_path: Path, fmt: str) -> None:
    source = FactStore.open("memory:")
    entities = [Entity(f"t{i}", label) for i, label in enumerate(TRICKY_LABELS)]
    entities.append(Entity("#hash-id", "hash id"))
    source.import_bundle(tiny_world())
    source.add_entities(entities)
    source.add_facts([(e.id, "P36", "Q90") for e in entities])
    path = tmp_path / f"out.{ {'tsv': 'tsv', 'turtle': 'ttl', 'nt': 'nt', 'nquads': 'nq'}[fmt]}"
    export_file(source, path)
    target = FactStore.open("memory:")
    if fmt == "tsv":
        target.add_relations([CAPITAL])
    import_file(target, path)
    for entity in entities:
        found = target.entity(entity.id)
        assert found is not None and found.label == entity.label, (entity.id, entity.label)
        assert "Q90" in {f.object for f in target.objects(entity.id, "P36")}
