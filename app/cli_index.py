"""``kgedit index`` and ``kgedit link``: the fact index and the entity linker from the shell."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from app.config import Settings
from app.context import StoreOption, open_store
from app.display import console, plain
from kg.errors import InputError
from kg.records import Origin
from kg.store import FactStore

if TYPE_CHECKING:  # FAISS and the embedding stack load only in the commands that use them
    from retrieval.embedder import Embedder
    from retrieval.index import FactIndex

index_app = typer.Typer(
    help="The FAISS index of fact statements: rebuild, inspect, search.", no_args_is_help=True
)


def embedder_for(settings: Settings) -> Embedder:
    from retrieval.embedder import Embedder

    return Embedder(settings.embedding_model, cache_dir=settings.cache_dir, device=settings.device)


def index_dir_for(settings: Settings) -> Path | None:
    """An in-memory store keeps its index in memory too: there is nothing on disk to stay beside."""
    return None if settings.store_url.startswith("memory:") else settings.index_dir


def open_index(settings: Settings, store: FactStore) -> FactIndex:
    from retrieval.index import FactIndex

    return FactIndex.open(store, index_dir_for(settings), embedder_for(settings))


def _print_stats(stats: dict[str, object]) -> None:
    table = Table(show_header=False)
    for key, value in stats.items():
        table.add_row(key, "" if value is None else plain(value, 400))
    console.print(table)


@index_app.command()
def rebuild(store: StoreOption = None) -> None:
    """Rebuild the index from the store (unchanged statements come from the embedding cache)."""
    settings, facts = open_store(store)
    try:
        index = open_index(settings, facts)
        if index.build_seconds == 0.0:
            index.rebuild()
        _print_stats(index.stats())
    finally:
        facts.close()


@index_app.command()
def stats(store: StoreOption = None) -> None:
    """Size, kind (exact or IVF), measured recall, model and revision of the index."""
    settings, facts = open_store(store, read_only=True)
    try:
        _print_stats(open_index(settings, facts).stats())
    finally:
        facts.close()


@index_app.command()
def search(
    text: Annotated[str, typer.Argument(help="A statement or question to find facts for.")],
    k: Annotated[int, typer.Option("--k", "-k", help="How many facts to show.")] = 10,
    origin: Annotated[str | None, typer.Option(help="Only facts of this origin: edit or base.")] = None,
    store: StoreOption = None,
) -> None:
    """The facts whose statements are closest to TEXT, best first."""
    wanted = None
    if origin is not None:
        if origin not in (Origin.EDIT.value, Origin.BASE.value):
            raise InputError(f"--origin must be 'edit' or 'base', got {origin!r}")
        wanted = Origin(origin)
    settings, facts = open_store(store, read_only=True)
    try:
        hits = open_index(settings, facts).search(text, k=k, origin=wanted)
    finally:
        facts.close()
    if not hits:
        console.print("no facts found")
        return
    table = Table("score", "statement", "triple", "origin")
    for hit in hits:
        fact = hit.fact
        origin_text = fact.origin.value + (f" {fact.edit_id}" if fact.edit_id else "")
        table.add_row(
            f"{hit.score:.3f}",
            plain(hit.statement),
            plain(f"{fact.subject} {fact.relation} {fact.object}"),
            origin_text,
        )
    console.print(table)


def link(
    question: Annotated[str, typer.Argument(help="A question that mentions entities of the store.")],
    limit: Annotated[int, typer.Option(help="At most this many mentions.")] = 5,
    embeddings: Annotated[
        bool, typer.Option("--embeddings/--no-embeddings", help="Fall back to embeddings for near misses.")
    ] = True,
    store: StoreOption = None,
) -> None:
    """Which of the store's entities QUESTION mentions: labels and aliases first, then embeddings."""
    settings, facts = open_store(store, read_only=True)
    try:
        from retrieval.linker import EntityLinker

        linker = EntityLinker.from_store(facts, embedder_for(settings) if embeddings else None)
        mentions = linker.link(question, limit=limit)
    finally:
        facts.close()
    if not mentions:
        console.print("no entities found")
        return
    table = Table("entity", "label", "text", "span", "score", "method")
    for m in mentions:
        table.add_row(plain(m.entity_id), plain(m.label), plain(m.text), f"{m.start}-{m.end}", f"{m.score:.3f}", m.method)
    console.print(table)
