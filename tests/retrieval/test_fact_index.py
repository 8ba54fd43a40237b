"""The fact index follows the store through adds, edits and retracts, and survives damage on disk."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from kg.errors import InputError
from kg.records import EditRequest, Entity, Fact, Origin
from kg.store import FactStore
from retrieval.embedder import Embedder
from retrieval.index import FactIndex
from retrieval.index_file import INDEX_FILE
from tests.retrieval.graphs import numbered_world
from tests.support import tiny_world


def current_ids(store: FactStore) -> set[int]:
    return {f.id for f in store.current_facts()}


def test_index_holds_exactly_the_current_facts(tiny_store: FactStore, embedder: Embedder) -> None:
    index = FactIndex.open(tiny_store, None, embedder)
    assert index.fact_ids() == current_ids(tiny_store)
    assert index.stats()["facts"] == 7


def test_search_returns_the_triple_its_statement_and_origin(
    tiny_store: FactStore, embedder: Embedder
) -> None:
    index = FactIndex.open(tiny_store, None, embedder)
    hits = index.search("What is the capital of France?", k=3)
    assert hits[0].fact == Fact("Q142", "P36", "Q90", Origin.BASE)
    assert hits[0].statement == "The capital of France is Paris."
    assert hits[0].score > hits[-1].score


def test_edit_replaces_the_superseded_fact_and_retract_restores_it(
    tiny_store: FactStore, embedder: Embedder
) -> None:
    index = FactIndex.open(tiny_store, None, embedder)
    outcome = tiny_store.edit(EditRequest("Q142", "P36", "Q456", author="test"))
    edited = Fact("Q142", "P36", "Q456", Origin.EDIT, outcome.edit.id)
    assert index.fact_ids() == current_ids(tiny_store)
    assert Fact("Q142", "P36", "Q90").id not in index.fact_ids()
    top = index.search("The capital of France is Lyon.", k=1)[0]
    assert top.fact == edited
    assert [h.fact for h in index.search("capital of France", k=5, origin=Origin.EDIT)] == [edited]
    assert all(
        h.fact.origin is Origin.BASE for h in index.search("capital of France", k=5, origin=Origin.BASE)
    )

    tiny_store.retract(outcome.edit.id)
    assert index.fact_ids() == current_ids(tiny_store)
    assert index.search("The capital of France is Paris.", k=1)[0].fact == Fact("Q142", "P36", "Q90")
    assert index.search("capital of France", k=5, origin=Origin.EDIT) == []


def test_added_facts_and_entities_are_searchable(tiny_store: FactStore, embedder: Embedder) -> None:
    index = FactIndex.open(tiny_store, None, embedder)
    tiny_store.add_entities([Entity("Q3869", "Marseille")])
    tiny_store.add_facts([("Q142", "P37", "Q3869")])
    assert index.fact_ids() == current_ids(tiny_store)
    assert index.search("An official language of France is Marseille.", k=1)[0].fact.object == "Q3869"


def test_retracting_an_edit_that_only_relabelled_a_base_fact_turns_it_back_to_base(
    tiny_store: FactStore, embedder: Embedder
) -> None:
    index = FactIndex.open(tiny_store, None, embedder)
    outcome = tiny_store.edit(EditRequest("Q142", "P36", "Q90", author="test"))
    assert index.search("The capital of France is Paris.", k=1)[0].fact.origin is Origin.EDIT
    tiny_store.retract(outcome.edit.id)
    assert index.search("The capital of France is Paris.", k=1)[0].fact == Fact(
        "Q142", "P36", "Q90", Origin.BASE
    )


def test_bad_search_input_is_refused_with_a_clear_error(tiny_store: FactStore, embedder: Embedder) -> None:
    index = FactIndex.open(tiny_store, None, embedder)
    with pytest.raises(InputError, match="empty"):
        index.search("   ")
    with pytest.raises(InputError, match="limit"):
        index.search("capital " * 1000)
    with pytest.raises(InputError, match="k must be"):
        index.search("capital", k=0)
    assert index.search("capital", k=1, origin=Origin.MODEL) == []


def test_saved_index_is_loaded_without_rebuilding(
    disk_store_url: str, tmp_path: Path, embedder: Embedder, caplog: pytest.LogCaptureFixture
) -> None:
    store = FactStore.open(disk_store_url)
    store.import_bundle(tiny_world())
    FactIndex.open(store, tmp_path / "index", embedder)
    edit = store.edit(EditRequest("Q38", "P36", "Q456", author="test")).edit
    expected = current_ids(store)
    store.close()

    store = FactStore.open(disk_store_url)
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="retrieval"):
        index = FactIndex.open(store, tmp_path / "index", embedder)
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert index.fact_ids() == expected
    assert index.search("The capital of Italy is Lyon.", k=1)[0].fact.edit_id == edit.id
    store.close()


def test_deleted_index_file_is_rebuilt(
    tiny_store: FactStore, tmp_path: Path, embedder: Embedder, caplog: pytest.LogCaptureFixture
) -> None:
    FactIndex.open(tiny_store, tmp_path, embedder)
    (tmp_path / INDEX_FILE).unlink()
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="retrieval"):
        index = FactIndex.open(tiny_store, tmp_path, embedder)
    assert "missing" in caplog.text
    assert index.fact_ids() == current_ids(tiny_store)
    assert (tmp_path / INDEX_FILE).exists()


@pytest.mark.parametrize("damage", ["flip-bytes", "truncate", "garbage"])
def test_corrupt_index_file_is_detected_and_rebuilt(
    damage: str, tiny_store: FactStore, tmp_path: Path, embedder: Embedder, caplog: pytest.LogCaptureFixture
) -> None:
    FactIndex.open(tiny_store, tmp_path, embedder)
    path = tmp_path / INDEX_FILE
    raw = bytearray(path.read_bytes())
    if damage == "flip-bytes":
        middle = len(raw) // 2
        raw[middle : middle + 64] = bytes(b ^ 0xFF for b in raw[middle : middle + 64])
    elif damage == "truncate":
        raw = raw[: len(raw) // 3]
    else:
        raw = bytearray(b"not an index at all")
    path.write_bytes(bytes(raw))
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="retrieval"):
        index = FactIndex.open(tiny_store, tmp_path, embedder)
    assert "corrupt" in caplog.text
    assert index.fact_ids() == current_ids(tiny_store)
    assert index.search("The capital of Italy is Rome.", k=1)[0].fact == Fact("Q38", "P36", "Q220")


def test_stale_index_is_brought_in_step_with_writes_it_did_not_see(
    disk_store_url: str, tmp_path: Path, embedder: Embedder, caplog: pytest.LogCaptureFixture
) -> None:
    store = FactStore.open(disk_store_url)
    store.import_bundle(tiny_world())
    FactIndex.open(store, tmp_path / "index", embedder)
    store.close()

    store = FactStore.open(disk_store_url)  # written to without the index listening
    edit = store.edit(EditRequest("Q142", "P6", "Q3", author="test")).edit
    store.close()

    store = FactStore.open(disk_store_url)
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="retrieval"):
        index = FactIndex.open(store, tmp_path / "index", embedder)
    assert "stale" in caplog.text
    assert index.fact_ids() == current_ids(store)
    assert index.search("The head of government of France is Giorgia Meloni.", k=1)[0].fact.edit_id == edit.id
    store.close()


@pytest.mark.slow
def test_large_index_switches_to_ivf_with_measured_recall(embedder: Embedder) -> None:
    store = FactStore.open("memory:")
    store.import_bundle(numbered_world(400))
    index = FactIndex.open(store, None, embedder, approximate_above=200)
    stats = index.stats()
    assert stats["kind"] == "ivf"
    assert isinstance(stats["recall_at_10"], float) and stats["recall_at_10"] >= 0.95
    wanted = Fact("N17", "P1", "N18")
    assert index.search(index.statement(wanted), k=1)[0].fact == wanted

    store.edit(EditRequest("N17", "P1", "N300", author="test"))
    assert index.fact_ids() == current_ids(store)
    assert index.search("Heath birch station 17 comes before Amber amber station 300.", k=1)[
        0
    ].fact.origin is (Origin.EDIT)
