"""The Model tab: push active graph edits into a language model's weights (ROME or MEMIT), compare
its answers before and after, and take deltas back out.

Each propagation is saved as a delta file in ``settings.deltas_dir`` with the ids of the edits it
carries, so a delta whose edit was later retracted is flagged here and can be reverted exactly.
The model is shared with the chat's ``lm`` and ``mello`` systems (one copy per process), so they
answer from the edited weights while a delta is applied.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import gradio as gr
import pandas as pd

from app.ui.common import guarded
from app.ui.services import Services
from editors.methods import METHODS
from kg.errors import InputError
from kg.records import EditStatus

if TYPE_CHECKING:
    from editors.deltas import WeightDelta
    from editors.lm import LanguageModel
    from editors.weights import WeightEditor

COMPARE_COLUMNS = ["edit", "prompt", "new object", "before", "after", "takes"]
MAX_NEW_TOKENS = 8


@dataclass(frozen=True)
class AppliedDelta:
    key: str
    model: str
    path: Path
    delta: WeightDelta


class ModelSession:
    """The loaded models' weight editors and the deltas currently applied, one per process."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.lock = threading.Lock()
        self._editors: dict[str, WeightEditor] = {}
        self.applied: list[AppliedDelta] = []

    def editor(self, model: str, stats_tokens: int) -> WeightEditor:
        from editors.lm import load_lm
        from editors.weights import StatsSettings, WeightEditor

        settings = self.services.settings
        if model not in self._editors:
            lm = load_lm(model, settings.cache_dir, settings.device)
            self._editors[model] = WeightEditor(lm, cache_dir=settings.cache_dir)
        editor = self._editors[model]
        editor.stats = StatsSettings(tokens=stats_tokens)
        return editor

    def propagate(self, model: str, method: str, edit_ids: list[str], stats_tokens: int) -> pd.DataFrame:
        from editors.requests import requests_from_store

        if method not in METHODS:
            raise InputError(f"unknown method {method!r}; choose one of {', '.join(METHODS)}")
        with self.lock:
            editor = self.editor(model, stats_tokens)
            requests = requests_from_store(self.services.store, edit_ids)
            before = [_complete(editor.lm, r.prompt) for r in requests]
            delta = editor.compute(requests, method)
            stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
            key = f"{stamp}-{method}-{'-'.join(delta.edit_ids)}"[:120]
            path = delta.save(self.services.settings.deltas_dir / f"{key}.safetensors")
            editor.apply(delta)
            self.applied.append(AppliedDelta(key, model, path, delta))
            after = [_complete(editor.lm, r.prompt) for r in requests]
        rows = [
            [r.edit_id, r.prompt, r.target_new, b, a, "yes" if _takes(a, r.target_new) else "no"]
            for r, b, a in zip(requests, before, after, strict=True)
        ]
        return pd.DataFrame(rows, columns=COMPARE_COLUMNS)

    def revert(self, key: str | None) -> list[AppliedDelta]:
        """Take one delta (by key) or, with None, every delta back out of its model."""
        with self.lock:
            chosen = [a for a in self.applied if key is None or a.key == key]
            if key is not None and not chosen:
                raise InputError(f"no applied delta {key!r}; pick one from the list")
            for entry in reversed(chosen):
                self._editors[entry.model].revert(entry.delta)
                self.applied.remove(entry)
            return chosen

    def compare(self, model: str, prompt: str) -> tuple[str, str]:
        """The model's continuation of ``prompt`` without and with the applied deltas."""
        with self.lock:
            if model not in self._editors:
                raise InputError("load the model by propagating an edit first")
            editor = self._editors[model]
            with editor.patcher.applied_suspended():
                before = _complete(editor.lm, prompt)
            return before, _complete(editor.lm, prompt)

    def drift(self, model: str) -> str:
        """Measured drift of ``model`` with its applied deltas, with a warning past the thresholds."""
        from editors.drift import measure_drift
        from editors.requests import requests_from_store

        with self.lock:
            entries = [a for a in self.applied if a.model == model]
            if not entries:
                return "No deltas applied to this model: nothing has drifted."
            active = {e.id for e in self.services.store.edits(EditStatus.ACTIVE)}
            live = list(dict.fromkeys(i for a in entries for i in a.delta.edit_ids if i in active))
            if not live:
                return "The applied deltas carry no active edit any more; revert them."
            editor = self._editors[model]
            with editor.patcher.applied_suspended():
                report = measure_drift(
                    editor, [a.delta for a in entries], requests_from_store(self.services.store, live)
                )
        text = f"**Drift** of {model}: {report.line()}."
        if report.drifted:
            text += (
                f"\n\n⚠ **The model has drifted**: {'; '.join(report.reasons())}. Press *Re-fit all active "
                "edits* to replace its deltas by one delta fitted from the graph in one batch."
            )
        return text

    def refit(self, model: str, method: str, stats_tokens: int) -> str:
        """Every applied delta of ``model`` replaced by one delta fitted from all active edits together."""
        from editors.requests import requests_from_store

        if method not in ("memit", "projected"):
            raise InputError("re-fitting makes one batch delta: choose memit or projected")
        with self.lock:
            editor = self.editor(model, stats_tokens)
            requests = requests_from_store(self.services.store)
            with editor.patcher.applied_suspended():
                delta = editor.compute(requests, method)
            old = [a for a in self.applied if a.model == model]
            for entry in old:
                editor.revert(entry.delta)
                self.applied.remove(entry)
            stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
            key = f"{stamp}-refit-{method}"
            path = delta.save(self.services.settings.deltas_dir / f"{key}.safetensors")
            editor.apply(delta)
            self.applied.append(AppliedDelta(key, model, path, delta))
        return f"Re-fitted {len(requests)} active edit(s) with {method.upper()} in one delta, replacing {len(old)}."

    def status(self) -> str:
        if not self.applied:
            return "No deltas applied: every loaded model has its original weights."
        store = self.services.store
        lines = ["**Deltas in the model** (newest last):"]
        for entry in self.applied:
            stale = [i for i in entry.delta.edit_ids if store.get_edit(i).status is not EditStatus.ACTIVE]
            warning = f" ⚠ carries edits no longer active: {', '.join(stale)}; revert it" if stale else ""
            lines.append(
                f"- `{entry.key}`: {entry.delta.method.upper()} on {entry.model}, edits "
                f"{', '.join(entry.delta.edit_ids)}, layers {', '.join(map(str, entry.delta.layers))}{warning}"
            )
        return "\n".join(lines)


def _complete(lm: LanguageModel, prompt: str) -> str:
    return lm.generate(prompt, max_new_tokens=MAX_NEW_TOKENS, stop=("\n", ".")).strip()


def _takes(answer: str, target: str) -> bool:
    return answer.lower().startswith(target.lower())


def edit_choices(services: Services) -> list[tuple[str, str]]:
    return [
        (
            f"{e.id}: {services.label(e.subject)} · {services.relation_label(e.relation)} → {services.label(e.object)}",
            e.id,
        )
        for e in services.store.edits(EditStatus.ACTIVE)
    ]


def build_model_tab(services: Services) -> dict[str, Any]:
    session = ModelSession(services)
    gr.Markdown(
        "Write active edits into the language model's weights. **ROME** writes edits one after another, "
        "each a rank-one update of one MLP layer; **MEMIT** spreads a batch of edits over several layers. Each propagation is saved as a delta and can "
        "be reverted exactly."
    )
    with gr.Row():
        model = gr.Textbox(
            value=services.settings.lm, label="Model (Hugging Face name or local path)", scale=3
        )
        method = gr.Radio(list(METHODS), value="rome", label="Method")
        tokens = gr.Number(
            value=10_000, precision=0, minimum=100, label="Statistics tokens", elem_id="model-tokens"
        )
    with gr.Row():
        edits = gr.Dropdown(
            choices=edit_choices(services),
            multiselect=True,
            allow_custom_value=True,
            label="Active edits to propagate (none chosen: all active edits)",
            elem_id="model-edits",
            scale=4,
        )
        refresh = gr.Button("Refresh edits", scale=1)
    propagate_btn = gr.Button("Propagate into the weights", variant="primary", elem_id="model-propagate")
    compare_table = gr.Dataframe(
        headers=COMPARE_COLUMNS, interactive=False, label="Answers before and after", elem_id="model-compare"
    )
    status = gr.Markdown(session.status(), elem_id="model-status")
    with gr.Row():
        applied = gr.Dropdown(choices=[], label="Applied delta", allow_custom_value=True, scale=3)
        revert_btn = gr.Button("Revert", variant="stop", scale=1)
        revert_all_btn = gr.Button("Revert all", scale=1)
    with gr.Row():
        drift_btn = gr.Button("Measure drift", scale=1, elem_id="model-drift-btn")
        refit_btn = gr.Button("Re-fit all active edits", scale=1, elem_id="model-refit-btn")
    drift = gr.Markdown("", elem_id="model-drift")
    with gr.Accordion("Compare any prompt", open=False):
        with gr.Row():
            prompt = gr.Textbox(label="Prompt (the model continues it)", scale=4, elem_id="model-prompt")
            compare_btn = gr.Button("Compare", scale=1, elem_id="model-compare-btn")
        with gr.Row():
            before = gr.Textbox(label="Original weights", interactive=False)
            after = gr.Textbox(label="With the applied deltas", interactive=False, elem_id="model-after")

    def applied_update() -> Any:
        return gr.update(choices=[a.key for a in session.applied], value=None)

    @guarded
    def propagate(
        name: str,
        how: str,
        chosen: list[str] | None,
        stats: float | None,
        progress: gr.Progress = gr.Progress(track_tqdm=True),
    ) -> tuple[pd.DataFrame, str, Any]:
        if not (name or "").strip():
            raise InputError("name the model first")
        ids = list(chosen or []) or [e.id for e in services.store.edits(EditStatus.ACTIVE)]
        progress(0.0, desc=f"loading {name} and its statistics (cached after the first run)")
        frame = session.propagate(name.strip(), how, ids, int(stats or 10_000))
        return frame, session.status(), applied_update()

    @guarded
    def revert(key: str | None) -> tuple[str, Any]:
        if not key:
            raise InputError("choose the delta to revert first")
        session.revert(key)
        return session.status(), applied_update()

    @guarded
    def revert_all() -> tuple[str, Any]:
        session.revert(None)
        return session.status(), applied_update()

    @guarded
    def measure(name: str) -> str:
        return session.drift(name.strip())

    @guarded
    def refit(
        name: str, how: str, stats: float | None, progress: gr.Progress = gr.Progress(track_tqdm=True)
    ) -> tuple[str, str, Any]:
        progress(0.0, desc=f"re-fitting every active edit into {name}")
        done = session.refit(
            name.strip(), how if how in ("memit", "projected") else "memit", int(stats or 10_000)
        )
        return done, session.status(), applied_update()

    @guarded
    def compare(name: str, text: str) -> tuple[str, str]:
        if not (text or "").strip():
            raise InputError("type a prompt first")
        return session.compare(name.strip(), text)

    propagate_btn.click(
        propagate,
        [model, method, edits, tokens],
        [compare_table, status, applied],
        api_name="propagate",
        concurrency_id="model",
        concurrency_limit=1,
    )
    revert_btn.click(revert, [applied], [status, applied], api_name="revert", concurrency_id="model")
    revert_all_btn.click(revert_all, None, [status, applied], api_name="revert_all", concurrency_id="model")
    drift_btn.click(measure, [model], [drift], api_name="drift", concurrency_id="model")
    refit_btn.click(
        refit, [model, method, tokens], [drift, status, applied], api_name="refit", concurrency_id="model"
    )
    compare_btn.click(compare, [model, prompt], [before, after], api_name="compare", concurrency_id="model")

    def refreshed() -> tuple[Any, str]:
        return gr.update(choices=edit_choices(services)), session.status()

    refresh.click(refreshed, None, [edits, status], api_name="model_status")
    return {"session": session, "refresh": (refreshed, [edits, status])}
