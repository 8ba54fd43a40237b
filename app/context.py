"""Shared CLI plumbing: settings and the store, opened once per command from one option."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated

import typer

from app.config import Settings, load_settings
from kg.store import FactStore

if TYPE_CHECKING:
    from app.service.curation import KgService

StoreOption = Annotated[
    str | None,
    typer.Option(
        "--store",
        help="Store URL: memory:, oxigraph:PATH, or a SPARQL endpoint. Default: $KGEDIT_HOME/store.",
    ),
]


def settings_for(store: str | None = None) -> Settings:
    return load_settings(store=store)


def open_store(store: str | None = None, read_only: bool = False) -> tuple[Settings, FactStore]:
    """Settings and the store; ``read_only`` for commands that only read, so they also work while
    the app holds the store."""
    settings = settings_for(store)
    settings.home.mkdir(parents=True, exist_ok=True)
    return settings, FactStore.open(settings.store_url, read_only)


@contextmanager
def service_for(store: str | None = None, read_only: bool = False) -> Iterator[KgService]:
    """The operations layer over the store one command opened; the store is closed on the way out."""
    from app.service.curation import KgService

    settings, facts = open_store(store, read_only)
    try:
        yield KgService(settings, facts)
    finally:
        facts.close()
