"""The kgedit web UI: one Gradio Blocks app with a tab per kind of user.

``build_app`` lays out the tabs around one :class:`~app.ui.services.Services`; ``launch`` starts it
with the settings' host, port, optional login and upload limit, serving no file outside the data
folder's exports.

Serving safely is decided here: Gradio's analytics are off (nothing contacts an outside host),
uploads land in kgedit's own temp folder (emptied at start, swept hourly, only the file types
kgedit reads), and failed logins are throttled per client (see :mod:`app.ui.http_guards`).
"""

from __future__ import annotations

import logging
import os
import shutil
from typing import Any

# Before gradio is imported: its analytics and version check read this at import and at launch.
os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"

import gradio as gr
from starlette.middleware import Middleware

from app.config import Settings
from app.ui.chat import build_chat_tab
from app.ui.common import BADGE_CSS
from app.ui.curate import build_curate_tab
from app.ui.evaluate import build_evaluate_tab
from app.ui.graph_view import build_graph_tab
from app.ui.http_guards import FailureWindow, LoginThrottle, UploadFilter
from app.ui.model import build_model_tab
from app.ui.services import UPLOAD_TYPES, Services

log = logging.getLogger(__name__)

TITLE = "kgedit"
UPLOAD_SWEEP = (600, 3600)  # every 10 minutes, delete uploads older than an hour


def confine_uploads(settings: Settings) -> None:
    """Point Gradio's upload folder at ``data_dir/upload-tmp`` and empty it.

    Gradio reads the folder from ``GRADIO_TEMP_DIR`` when each component is built and on each
    upload, so this runs before the Blocks are built; it is process-wide, like Gradio's own setting.
    Whatever a previous run left there (it crashed, or a file was never used) goes now.
    """
    folder = settings.upload_temp_dir
    if folder.exists():
        shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True, exist_ok=True)
    os.environ["GRADIO_TEMP_DIR"] = str(folder)


def build_app(services: Services) -> gr.Blocks:
    confine_uploads(services.settings)
    with gr.Blocks(title=TITLE, analytics_enabled=False, delete_cache=UPLOAD_SWEEP) as blocks:
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
                curate = build_curate_tab(services)
                pickers += curate["pickers"]
            with gr.Tab("Evaluate", id="evaluate"):
                build_evaluate_tab(services)
            with gr.Tab("Graph", id="graph"):
                pickers += build_graph_tab(services)["pickers"]
            with gr.Tab("Model", id="model") as model_tab:
                refresh_model, model_inputs, model_outputs = build_model_tab(services)["refresh"]
            model_tab.select(refresh_model, model_inputs, model_outputs, api_visibility="private")

        def fresh_choices() -> tuple[Any, ...]:
            choices = services.search_entities()
            return tuple(gr.update(choices=choices) for _ in pickers)

        blocks.load(fresh_choices, None, pickers, api_visibility="private")
        refresh_curate, curate_outputs = curate["refresh"]
        blocks.load(refresh_curate, None, curate_outputs, api_visibility="private")
    return blocks


def launch_options(settings: Settings) -> dict[str, Any]:
    """Keyword arguments for ``Blocks.launch``: address, login, upload limit, readable folders.

    Raises :class:`~kg.errors.InputError` for a half-configured login rather than serving without one.
    """
    exports = settings.data_dir / "exports"
    exports.mkdir(parents=True, exist_ok=True)
    guards = [
        Middleware(UploadFilter, allowed=UPLOAD_TYPES),
        Middleware(LoginThrottle, failures=FailureWindow(settings.login_failures_per_minute)),
    ]
    return {
        "server_name": settings.host,
        "server_port": settings.port,
        "auth": settings.login,
        "app_kwargs": {"middleware": guards},
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
