"""``kgedit serve``: start the web UI on the configured address (127.0.0.1 by default)."""

from __future__ import annotations

import logging
from typing import Annotated

import typer

from app.config import load_settings
from app.context import StoreOption
from kg.store import FactStore

log = logging.getLogger(__name__)


def serve(
    host: Annotated[
        str | None, typer.Option(help="Address to listen on (default from settings: 127.0.0.1).")
    ] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on (default from settings: 7860).")] = None,
    demo: Annotated[bool, typer.Option(help="Load the demo graph when the store is empty.")] = True,
    store: StoreOption = None,
) -> None:
    """Serve the Gradio UI: Chat, Curate, Evaluate, Graph and Model tabs."""
    from app.ui import serve as serve_ui
    from app.ui.services import Services
    from kg.demo import load_demo

    settings = load_settings(store=store, host=host, port=port)
    settings.home.mkdir(parents=True, exist_ok=True)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    facts = FactStore.open(settings.store_url)
    if demo:
        added = load_demo(facts)
        if added:
            typer.echo(f"demo graph loaded: {added} facts")
    typer.echo(f"serving kgedit on http://{settings.host}:{settings.port}")
    try:
        serve_ui(Services(settings, facts))
    finally:
        facts.close()
