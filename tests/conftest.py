"""Shared fixtures: stores on every backend, and small graphs built in code."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from kg.store import FactStore
from tests.support import tiny_world

pytest_plugins = ["tests.servers.fixtures"]  # virtuoso_server, virtuoso_store_url

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

STORE_BACKENDS = [
    pytest.param("memory", id="memory"),
    pytest.param("oxigraph", id="oxigraph"),
    pytest.param("virtuoso", id="virtuoso", marks=pytest.mark.server),
]


@pytest.fixture(params=STORE_BACKENDS)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty store URL on each backend; the whole store suite runs on every one."""
    kind = request.param
    if kind == "memory":
        return "memory:"
    if kind == "oxigraph":
        return f"oxigraph:{tmp_path / 'store'}"
    factory = request.getfixturevalue(f"{kind}_store_url")
    return str(factory)


@pytest.fixture
def store(store_url: str) -> Iterator[FactStore]:
    facts = FactStore.open(store_url)
    yield facts
    facts.close()


@pytest.fixture
def world(store: FactStore) -> FactStore:
    store.import_bundle(tiny_world())
    return store
