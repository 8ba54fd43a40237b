"""The Model tab: push active graph edits into a language model's weights (ROME, MEMIT or projected),
compare its answers before and after, and take deltas back out.

The layout is here; what each event does is :class:`app.ui.model_handlers.ModelHandlers`'s, over
:class:`app.service.model.ModelService`. Each propagation is a delta file in the model's deltas folder
(the one ``kgedit model deltas`` lists) with the ids of the edits it carries, so a delta whose edit
was later retracted is flagged here and can be reverted exactly. The model is shared with the chat's
``lm`` and ``mello`` systems (one copy per process), so they answer from the edited weights.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gradio as gr

from app.service.model import BATCH_METHODS
from app.ui.common import guarded
from app.ui.model_handlers import COMPARE_COLUMNS, ModelHandlers
from app.ui.services import Services
from editors.methods import DEFAULT_BATCH_METHOD, DEFAULT_METHOD, METHODS, stats_tokens_for


@dataclass(frozen=True)
class ModelWidgets:
    """The tab's components, so the layout and the wiring can be read (and kept short) apart."""

    model: Any
    method: Any
    tokens: Any
    edits: Any
    refresh: Any
    propagate: Any
    compare_table: Any
    status: Any
    applied: Any
    revert: Any
    revert_all: Any
    drift_button: Any
    refit: Any
    drift: Any
    prompt: Any
    compare: Any
    before: Any
    after: Any


def build_model_tab(services: Services) -> dict[str, Any]:
    handlers = ModelHandlers(services)
    w = _layout(services, handlers)
    _wire(handlers, w)

    def refreshed(name: str) -> tuple[Any, str, Any]:
        choices = gr.update(choices=handlers.delta_choices(name), value=None)
        return gr.update(choices=services.active_edit_choices()), handlers.status(name), choices

    outputs = [w.edits, w.status, w.applied]
    w.refresh.click(refreshed, [w.model], outputs, api_name="model_status")
    return {"handlers": handlers, "refresh": (refreshed, [w.model], outputs)}


def _layout(services: Services, handlers: ModelHandlers) -> ModelWidgets:
    gr.Markdown(
        "Write active edits into the language model's weights. **ROME** writes edits one after another, "
        "each a rank-one update of one MLP layer; **MEMIT** spreads a batch of edits over several layers; "
        "**projected** (after AlphaEdit) writes each edit only where the model's usual inputs do not reach, "
        "for long runs of edits made one after another. "
        "Each propagation is saved as a delta and can be reverted exactly."
    )
    with gr.Row():
        model = gr.Textbox(value=services.settings.lm, label="Model (Hugging Face name or local path)", scale=3)
        method = gr.Radio(list(METHODS), value=DEFAULT_METHOD, label="Method")
        tokens = gr.Number(
            value=stats_tokens_for(DEFAULT_METHOD), precision=0, minimum=100, label="Statistics tokens", elem_id="model-tokens"
        )
    with gr.Row():
        edits = gr.Dropdown(
            choices=services.active_edit_choices(), multiselect=True, allow_custom_value=True,
            label="Active edits to propagate (none chosen: all active edits)", elem_id="model-edits", scale=4,
        )  # fmt: skip
        refresh = gr.Button("Refresh edits", scale=1)
    propagate = gr.Button("Propagate into the weights", variant="primary", elem_id="model-propagate")
    compare_table = gr.Dataframe(
        headers=COMPARE_COLUMNS, interactive=False, label="Answers before and after", elem_id="model-compare"
    )
    status = gr.Markdown(handlers.status(services.settings.lm), elem_id="model-status")
    with gr.Row():
        applied = gr.Dropdown(
            choices=handlers.delta_choices(services.settings.lm), label="Applied delta", allow_custom_value=True,
            scale=3,
        )  # fmt: skip
        revert = gr.Button("Revert", variant="stop", scale=1)
        revert_all = gr.Button("Revert all", scale=1)
    with gr.Row():
        drift_button = gr.Button("Measure drift", scale=1, elem_id="model-drift-btn")
        refit = gr.Button("Re-fit all active edits", scale=1, elem_id="model-refit-btn")
    drift = gr.Markdown("", elem_id="model-drift")
    with gr.Accordion("Compare any prompt", open=False):
        with gr.Row():
            prompt = gr.Textbox(label="Prompt (the model continues it)", scale=4, elem_id="model-prompt")
            compare = gr.Button("Compare", scale=1, elem_id="model-compare-btn")
        with gr.Row():
            before = gr.Textbox(label="Original weights", interactive=False)
            after = gr.Textbox(label="With the applied deltas", interactive=False, elem_id="model-after")
    return ModelWidgets(model, method, tokens, edits, refresh, propagate, compare_table, status, applied, revert,
                        revert_all, drift_button, refit, drift, prompt, compare, before, after)  # fmt: skip


def _picked(result: tuple[Any, ...]) -> tuple[Any, ...]:
    """A handler's result with its last item, the delta names, as the delta picker's update."""
    return (*result[:-1], gr.update(choices=result[-1], value=None))


def _wire(handlers: ModelHandlers, w: ModelWidgets) -> None:
    @guarded
    def propagate(name: str, how: str, chosen: list[str] | None, stats: float | None,
                  progress: gr.Progress = gr.Progress(track_tqdm=True)) -> tuple[Any, ...]:  # fmt: skip
        progress(0.0, desc=f"loading {name} and its statistics (cached after the first run)")
        return _picked(handlers.propagate(name, how, chosen, stats))

    @guarded
    def refit(name: str, how: str, stats: float | None,
              progress: gr.Progress = gr.Progress(track_tqdm=True)) -> tuple[Any, ...]:  # fmt: skip
        progress(0.0, desc=f"re-fitting every active edit into {name}")
        return _picked(handlers.refit(name, how if how in BATCH_METHODS else DEFAULT_BATCH_METHOD, stats))

    @guarded
    def revert(name: str, key: str | None) -> tuple[Any, ...]:
        return _picked(handlers.revert(name, key))

    @guarded
    def revert_all(name: str) -> tuple[Any, ...]:
        return _picked(handlers.revert_all(name))

    picked = [w.status, w.applied]
    w.method.change(stats_tokens_for, [w.method], [w.tokens], api_name=False)  # each method's own default
    w.propagate.click(propagate, [w.model, w.method, w.edits, w.tokens], [w.compare_table, *picked],
                      api_name="propagate", concurrency_id="model", concurrency_limit=1)  # fmt: skip
    w.revert.click(revert, [w.model, w.applied], picked, api_name="revert", concurrency_id="model")
    w.revert_all.click(revert_all, [w.model], picked, api_name="revert_all", concurrency_id="model")
    w.drift_button.click(guarded(handlers.drift), [w.model], [w.drift], api_name="drift", concurrency_id="model")
    w.refit.click(refit, [w.model, w.method, w.tokens], [w.drift, *picked], api_name="refit", concurrency_id="model")
    w.compare.click(guarded(handlers.compare), [w.model, w.prompt], [w.before, w.after], api_name="compare",
                    concurrency_id="model")  # fmt: skip
