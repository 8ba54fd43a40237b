"""The kgedit web UI: one Gradio Blocks app with a tab per kind of user.

``build_app`` lays out the tabs around one :class:`~app.ui.services.Services`; ``launch`` starts it
with the settings' host, port, optional login and upload limit, serving no file outside the data
folder's exports.
"""

from __future__ import annotations

from typing import Any

import gradio as gr

from app.config import Settings
from app.ui.chat import build_chat_tab
from app.ui.common import BADGE_CSS
from app.ui.curate import build_curate_tab
from app.ui.evaluate import build_evaluate_tab
from app.ui.graph_view import build_graph_tab
from app.ui.model import build_model_tab
from app.ui.services import Services

TITLE = "kgedit"


def build_app(services: Services) -> gr.Blocks:
    with gr.Blocks(title=TITLE) as blocks:
        gr.Markdown(
            "## kgedit: multi-hop answers over an editable knowledge graph\n"
            "Ask in **Chat**, change facts in **Curate**, measure in **Evaluate**, look around in **Graph**, "
            "push edits into a language model in **Model**."
        )
        pickers: list[Any] = []
        with gr.Tabs():
            with gr.Tab("Chat", id="chat"):
                build_chat_tab(services)
            with gr.Tab("Curate", id="curate"):
                pickers += build_curate_tab(services)["pickers"]
            with gr.Tab("Evaluate", id="evaluate"):
                build_evaluate_tab(services)
            with gr.Tab("Graph", id="graph"):
                pickers += build_graph_tab(services)["pickers"]
            with gr.Tab("Model", id="model") as model_tab:
                refresh_model, model_outputs = build_model_tab(services)["refresh"]
            model_tab.select(refresh_model, None, model_outputs, api_visibility="private")

        def fresh_choices() -> tuple[Any, ...]:
            choices = services.entity_choices()
            return tuple(gr.update(choices=choices) for _ in pickers)

        blocks.load(fresh_choices, None, pickers, api_visibility="private")
    return blocks


def launch_options(settings: Settings) -> dict[str, Any]:
    """Keyword arguments for ``Blocks.launch``: address, login, upload limit, readable folders."""
    exports = settings.data_dir / "exports"
    exports.mkdir(parents=True, exist_ok=True)
    auth = (settings.user, settings.password) if settings.user and settings.password else None
    return {
        "server_name": settings.host,
        "server_port": settings.port,
        "auth": auth,
        "max_file_size": f"{settings.max_upload_mb}mb",
        "allowed_paths": [str(exports)],
        "show_error": False,
        "css": BADGE_CSS,
        "footer_links": ["api"],
    }


def serve(services: Services, **overrides: Any) -> None:
    """Serve until interrupted; long work goes through Gradio's queue."""
    blocks = build_app(services)
    options = launch_options(services.settings) | overrides
    blocks.queue(default_concurrency_limit=2).launch(**options)
