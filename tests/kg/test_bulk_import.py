"""Large imports are bulk-loaded into a staging copy and swapped in: fast, and still all-or-nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

import kg.oxigraph_backend as oxigraph_backend
from kg import staging
from kg.errors import InputError
from kg.io import import_file
from kg.records import EditRequest
from kg.store import FactStore
from tests.support import tiny_world

EX = "http://example.org/bulk/"


def chain_turtle(path: Path, count: int, broken: bool = False) -> Path:
    """``count`` labelled entities linked in a chain by one predicate no relations file describes."""
    lines = [f"@prefix ex: <{EX}> .", "@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> ."]
    for i in range(count):
        lines.append(f'ex:n{i} rdfs:label "node {i}" ; ex:nextStop ex:n{i + 1} .')
    lines.append(f'ex:n{count} rdfs:label "node {count}" .')
    if broken:
        lines.append("ex:n0 ex:nextStop .")  # a syntax error on the last line
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def small_bulk(monkeypatch: pytest.MonkeyPatch) -> None:
    """Take the bulk path for any change set of 50 quads or more, so tests stay small."""
    monkeypatch.setattr(oxigraph_backend, "BULK_QUADS", 50)


def test_bulk_import_into_a_non_empty_store_keeps_what_was_there(tmp_path: Path, small_bulk: None) -> None:
    store = FactStore.open(f"oxigraph:{tmp_path / 'store'}")
    store.import_bundle(tiny_world())
    edit = store.edit(EditRequest("Q142", "P36", "Q456")).edit
    report = import_file(store, chain_turtle(tmp_path / "chain.ttl", 200))
    assert report.facts == 200 and report.inferred == (EX + "nextStop",)
    assert [f.object for f in store.objects(EX + "n7", EX + "nextStop")] == [EX + "n8"]
    assert [f.object for f in store.objects("Q142", "P36")] == ["Q456"]
    assert store.get_edit(edit.id).object == "Q456"
    store.close()
    reopened = FactStore.open(f"oxigraph:{tmp_path / 'store'}")
    assert reopened.stats().base_facts == 200 + len(tiny_world().facts)
    assert not staging.staging_dir(tmp_path / "store").exists()
    reopened.close()


def test_a_malformed_file_leaves_the_store_as_before(tmp_path: Path, small_bulk: None) -> None:
    store = FactStore.open(f"oxigraph:{tmp_path / 'store'}")
    store.import_bundle(tiny_world())
    before = (store.stats(), store.revision())
    with pytest.raises(InputError, match="not valid turtle"):
        import_file(store, chain_turtle(tmp_path / "chain.ttl", 200, broken=True))
    assert (store.stats(), store.revision()) == before


def test_an_incomplete_staging_copy_is_discarded_on_open(tmp_path: Path) -> None:
    path = tmp_path / "store"
    store = FactStore.open(f"oxigraph:{path}")
    store.import_bundle(tiny_world())
    before = store.stats()
    store.close()
    half = FactStore.open(f"oxigraph:{staging.staging_dir(path)}")  # a copy killed half-way
    half.import_bundle(tiny_world())
    half.close()
    reopened = FactStore.open(f"oxigraph:{path}")
    assert reopened.stats() == before
    assert not staging.staging_dir(path).exists()
    reopened.close()


def test_a_swap_cut_short_after_the_copy_was_complete_is_finished_on_open(tmp_path: Path) -> None:
    path = tmp_path / "store"
    FactStore.open(f"oxigraph:{path}").close()  # the old, empty store
    copy = FactStore.open(f"oxigraph:{staging.staging_dir(path)}")
    copy.import_bundle(tiny_world())
    expected = copy.stats()
    copy.close()
    path.with_name("store.staged").write_text("complete\n")  # killed right after step 2
    path.rename(path.with_name("store.old"))  # ... or even after the first rename
    reopened = FactStore.open(f"oxigraph:{path}")
    assert reopened.stats() == expected
    assert not path.with_name("store.old").exists() and not path.with_name("store.staged").exists()
    reopened.close()
