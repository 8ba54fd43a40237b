"""``kgedit serve``: start the web UI on the configured address (127.0.0.1 by default).

The checks that decide whether the server may start at all (a half-configured login, a non-loopback
address without a login) run before the store is opened or Gradio is imported, so a mistake costs
one sentence and exit status 2, not a server that silently serves everyone.
"""

from __future__ import annotations

import logging
from typing import Annotated

import typer

from app.config import exposure_warning, load_settings
from app.context import StoreOption
from kg.store import FactStore

log = logging.getLogger(__name__)


def serve(
    host: Annotated[
        str | None, typer.Option(help="Address to listen on (default from settings: 127.0.0.1).")
    ] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on (default from settings: 7860).")] = None,
    demo: Annotated[bool, typer.Option(help="Load the demo graph when the store is empty.")] = True,
    allow_remote: Annotated[
        bool,
        typer.Option(help="Serve a non-loopback --host without a login (refused otherwise)."),
    ] = False,
    store: StoreOption = None,
) -> None:
    """Serve the Gradio UI: Chat, Curate, Evaluate, Graph and Model tabs."""
    settings = load_settings(store=store, host=host, port=port)
    warning = exposure_warning(settings, allow_remote)
    if warning:
        typer.echo(warning, err=True)
        log.warning(warning)

    from app.ui import serve as serve_ui
    from app.ui.services import Services
    from kg.demo import load_demo

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
