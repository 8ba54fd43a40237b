"""Every import/export format round-trips, and every malformed file is refused with the store unchanged."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kg.errors import InputError
from kg.io import export_file, import_file
from kg.records import EditRequest, EditStatus
from kg.store import FactStore
from tests.support import DEV_DIR


def snapshot(store: FactStore) -> tuple[set[tuple[str, str, str]], dict[str, str], list[str]]:
    facts = {(f.subject, f.relation, f.object) for f in store.current_facts()}
    labels = {e.id: e.label for e in store.entities()}
    return facts, labels, [r.id for r in store.relations()]


@pytest.mark.parametrize("suffix", [".ttl", ".nt", ".tsv"])
def test_graph_formats_round_trip_the_current_view(world: FactStore, tmp_path: Path, suffix: str) -> None:
    world.edit(EditRequest("Q142", "P36", "Q456"))
    path = tmp_path / f"graph{suffix}"
    export_file(world, path)
    copy = FactStore.open("memory:")
    if suffix == ".tsv":
        export_file(world, tmp_path / "relations.tsv", "relations")
        import_file(copy, tmp_path / "relations.tsv")
    import_file(copy, path)
    facts, labels, relations = snapshot(world)
    if suffix == ".tsv":  # a TSV row carries only the labels of entities in current facts
        mentioned = {e for triple in facts for e in (triple[0], triple[2])}
        labels = {k: v for k, v in labels.items() if k in mentioned}
    else:
        assert copy.entity("Q142").aliases == ("French Republic",)
    assert snapshot(copy) == (facts, labels, relations)


def test_nquads_backup_restores_edits_and_history(world: FactStore, tmp_path: Path) -> None:
    first = world.edit(EditRequest("Q142", "P36", "Q456")).edit
    world.edit(EditRequest("Q142", "P36", "Q220"))
    path = tmp_path / "backup.nq"
    export_file(world, path)
    copy = FactStore.open("memory:")
    import_file(copy, path)
    assert snapshot(copy) == snapshot(world)
    assert [(e.id, e.status) for e in copy.edits()] == [(e.id, e.status) for e in world.edits()]
    copy.retract(copy.edits()[-1].id)
    assert [f.object for f in copy.objects("Q142", "P36")] == ["Q456"]
    assert copy.get_edit(first.id).status is EditStatus.ACTIVE


def test_nquads_backup_refuses_a_non_empty_store(world: FactStore, tmp_path: Path) -> None:
    path = tmp_path / "backup.nq"
    export_file(world, path)
    with pytest.raises(InputError, match="needs an empty one"):
        import_file(world, path)


def test_relations_tsv_round_trip(world: FactStore, tmp_path: Path) -> None:
    path = tmp_path / "relations.tsv"
    export_file(world, path, "relations")
    copy = FactStore.open("memory:")
    import_file(copy, path)
    assert copy.relations() == world.relations()


def test_edit_log_export_lists_every_edit(world: FactStore, tmp_path: Path) -> None:
    edit = world.edit(EditRequest("Q142", "P36", "Q456", author="ann", note="why")).edit
    world.retract(edit.id)
    path = tmp_path / "edits.json"
    assert export_file(world, path) == 1
    [record] = json.loads(path.read_text())
    assert (record["id"], record["author"], record["status"], record["replaces"]) == (
        edit.id,
        "ann",
        "retracted",
        ["Q90"],
    )


def test_dev_set_relation_and_background_files_import(store: FactStore) -> None:
    import_file(store, DEV_DIR / "relations.tsv")
    report = import_file(store, DEV_DIR / "background.tsv")
    assert report.facts == 400
    assert store.relation("P36").statement("France", "Paris") == "The capital of France is Paris."


def test_easyedit_requests_become_edits(world: FactStore, tmp_path: Path) -> None:
    path = tmp_path / "requests.json"
    requests = [
        {
            "prompt": "The capital of {} is",
            "subject": "France",
            "target_new": {"str": "Lyon"},
            "target_true": {"str": "Paris"},
        },
        {"prompt": "Macron is married to", "subject": "Macron", "target_new": "Giorgia Meloni"},
        {"prompt": "The head of government of {} is", "subject": "Italy", "target_new": "Mario Draghi"},
    ]
    path.write_text(json.dumps(requests))
    report = import_file(world, path, "easyedit")
    assert [(o.edit.subject, o.edit.relation, o.edit.object) for o in report.edits] == [
        ("Q142", "P36", "Q456"),
        ("Q1", "P26", "Q3"),
        ("Q38", "P6", "Mario Draghi"),
    ]
    assert world.entity("Mario Draghi").label == "Mario Draghi"


BAD_FILES = [
    ("bad.ttl", "<http://kgedit.org/entity/a> <http://x/p> .", None, "not valid turtle"),
    ("bad.tsv", "Q1\tFrance\tP36\tcapital\tQ2\n", None, "expected 6 tab-separated columns"),
    ("empty.tsv", "Q1\tFrance\tP36\tcapital\tQ2\t\n", None, "column 6 is empty"),
    (
        "label.tsv",
        "Q142\tFrance\tP36\tcapital\tQ90\tParis\nQ142\tFrench Rep\tP36\tcapital\tQ90\tParis\n",
        None,
        "labelled",
    ),
    ("relations.tsv", "P1\tx\tno placeholder\tWhat?\tyes\n", "relations", "must each contain one"),
    ("flag.tsv", "P1\tx\t{} is\tWhat is {}?\tmaybe\n", "relations", "functional must be yes or no"),
    (
        "requests.json",
        '[{"prompt": "The capital of {} is", "subject": "Narnia", "target_new": "X"}]',
        None,
        "Narnia",
    ),
    ("requests2.json", '[{"subject": "France", "target_new": "X"}]', None, "missing key 'prompt'"),
    ("broken.json", "[{", None, "not valid JSON"),
    (
        "norelation.json",
        '[{"prompt": "{} likes", "subject": "France", "target_new": "X"}]',
        None,
        "no relation",
    ),
]


@pytest.mark.parametrize(("name", "content", "fmt", "message"), BAD_FILES, ids=[b[0] for b in BAD_FILES])
def test_malformed_files_are_refused_and_store_unchanged(
    world: FactStore, tmp_path: Path, name: str, content: str, fmt: str | None, message: str
) -> None:
    path = tmp_path / name
    path.write_text(content)
    before = (snapshot(world), world.revision())
    with pytest.raises(InputError, match=message) as error:
        import_file(world, path, fmt)
    assert name in str(error.value) or "P999" in str(error.value)
    assert (snapshot(world), world.revision()) == before


def test_unknown_extension_asks_for_a_format(world: FactStore, tmp_path: Path) -> None:
    path = tmp_path / "facts.xyz"
    path.write_text("x")
    with pytest.raises(InputError, match="pass --format"):
        import_file(world, path)


def test_oxigraph_store_persists_across_reopen(tmp_path: Path) -> None:
    url = f"oxigraph:{tmp_path / 'store'}"
    store = FactStore.open(url)
    import_file(store, DEV_DIR / "relations.tsv")
    import_file(store, DEV_DIR / "background.tsv")
    store.close()
    again = FactStore.open(url)
    assert again.stats().base_facts == 400
    again.close()
