"""The fact index journals each followed write instead of rewriting its file, and replays it on open."""

from __future__ import annotations

from pathlib import Path

import pytest

import retrieval.index
from kg.records import EditRequest, Fact, Origin
from kg.store import FactStore
from retrieval.embedder import Embedder
from retrieval.index import FactIndex
from retrieval.index_file import INDEX_FILE, journal_path


class CountingEncoder:
    """The real embedder, counting how many texts it was asked to embed."""

    def __init__(self, inner: Embedder) -> None:
        self.inner, self.texts = inner, 0
        self.model_id, self.dim = inner.model_id, inner.dim

    def encode(self, texts: list[str], progress: bool = False) -> object:
        self.texts += len(texts)
        return self.inner.encode(texts, progress=progress)


def test_an_edit_is_journalled_and_the_index_file_is_not_rewritten(
    tiny_store: FactStore, embedder: Embedder, tmp_path: Path
) -> None:
    FactIndex.open(tiny_store, tmp_path, embedder)
    snapshot = (tmp_path / INDEX_FILE).read_bytes()
    outcome = tiny_store.edit(EditRequest("Q142", "P36", "Q456", author="test"))
    assert (tmp_path / INDEX_FILE).read_bytes() == snapshot
    assert len(journal_path(tmp_path / INDEX_FILE).read_text().splitlines()) == 1

    counting = CountingEncoder(embedder)
    reopened = FactIndex.open(tiny_store, tmp_path, counting)  # type: ignore[arg-type]
    assert counting.texts == 0  # replayed from the journal: nothing re-embedded, no re-sync needed
    assert reopened.fact_ids() == {f.id for f in tiny_store.current_facts()}
    top = reopened.search("The capital of France is Lyon.", k=1)[0]
    assert top.fact == Fact("Q142", "P36", "Q456", Origin.EDIT, outcome.edit.id)


def test_a_long_journal_is_folded_into_the_index_file(
    tiny_store: FactStore, embedder: Embedder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(retrieval.index, "JOURNAL_LIMIT", 2)
    FactIndex.open(tiny_store, tmp_path, embedder)
    for target in ("Q456", "Q90", "Q456"):
        tiny_store.edit(EditRequest("Q142", "P36", target, author="test"))
    assert not journal_path(tmp_path / INDEX_FILE).exists()  # the third write saved the whole index
    assert FactIndex.open(tiny_store, tmp_path, embedder).fact_ids() == {
        f.id for f in tiny_store.current_facts()
    }


def test_a_torn_journal_line_is_ignored_and_the_rest_resynced_from_the_store(
    tiny_store: FactStore, embedder: Embedder, tmp_path: Path
) -> None:
    FactIndex.open(tiny_store, tmp_path, embedder)
    tiny_store.edit(EditRequest("Q142", "P36", "Q456", author="test"))
    journal = journal_path(tmp_path / INDEX_FILE)
    journal.write_text(journal.read_text()[:-40])  # a kill in the middle of the append
    reopened = FactIndex.open(tiny_store, tmp_path, embedder)
    assert reopened.fact_ids() == {f.id for f in tiny_store.current_facts()}
    assert reopened.search("The capital of France is Lyon.", k=1)[0].fact.origin is Origin.EDIT


def test_a_large_store_indexes_its_edits_only(
    tiny_store: FactStore, embedder: Embedder, tmp_path: Path
) -> None:
    index = FactIndex.open(tiny_store, tmp_path, embedder, base_facts_up_to=3)  # 7 facts: "large"
    assert index.fact_ids() == set() and index.stats()["scope"] == "edits only (a large store)"
    outcome = tiny_store.edit(EditRequest("Q142", "P36", "Q456", author="test"))
    edited = Fact("Q142", "P36", "Q456", Origin.EDIT, outcome.edit.id)
    assert index.fact_ids() == {edited.id}
    assert index.search("The capital of France is Lyon.", k=5)[0].fact == edited
    reopened = FactIndex.open(tiny_store, tmp_path, embedder, base_facts_up_to=3)
    assert reopened.fact_ids() == {edited.id}
    tiny_store.retract(outcome.edit.id)
    assert reopened.fact_ids() == set()
    assert FactIndex.open(tiny_store, tmp_path, embedder).fact_ids() == {
        f.id for f in tiny_store.current_facts()
    }
