"""What the Model tab's events do: call :class:`app.service.model.ModelService`, render the result.

Kept apart from the layout (``app/ui/model.py``) so each handler can be called in a test without a
browser. The deltas are the model's :class:`~editors.deltas.DeltaFolder` on disk, the same ones
``kgedit model deltas`` lists, so the tab shows what the command line made and the other way round.
"""

from __future__ import annotations

import pandas as pd

from app.service.model import BATCH_METHODS, DeltaStatus, takes
from app.ui.markup import md_text
from app.ui.services import Services
from editors.methods import stats_tokens_for
from kg.errors import InputError

COMPARE_COLUMNS = ["edit", "prompt", "new object", "before", "after", "takes"]


class ModelHandlers:
    """The Model tab's handlers over one :class:`Services`; they return what the widgets show."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.model = services.model

    def delta_choices(self, model: str) -> list[str]:
        return [entry.name for entry in self.model.deltas(model)]

    def status(self, model: str) -> str:
        """The active deltas of ``model``, newest last, each flagged when it carries a retracted edit."""
        found = self.model.status(model, measure=False)
        return status_markdown(found)

    def propagate(
        self, model: str, method: str, chosen: list[str] | None, stats_tokens: float | None
    ) -> tuple[pd.DataFrame, str, list[str]]:
        """The answers before and after, the new status and the delta choices; no edit chosen means
        every active edit."""
        stats = self.model.stats("python-docs", int(stats_tokens or stats_tokens_for(method)))
        done = self.model.propagate(model, method, list(chosen) if chosen else None, stats, compare=True)
        rows = [
            [r.edit_id, r.prompt, r.target_new, b, a, "yes" if takes(a, r.target_new) else "no"]
            for r, b, a in zip(done.requests, done.before, done.after, strict=True)
        ]
        return pd.DataFrame(rows, columns=COMPARE_COLUMNS), self.status(model), self.delta_choices(model)

    def revert(self, model: str, name: str | None) -> tuple[str, list[str]]:
        if not name:
            raise InputError("choose the delta to revert first")
        self.model.revert(model, name)
        return self.status(model), self.delta_choices(model)

    def revert_all(self, model: str) -> tuple[str, list[str]]:
        self.model.revert(model)
        return self.status(model), self.delta_choices(model)

    def drift(self, model: str) -> str:
        """Measured drift of ``model`` with its deltas, with a warning past the thresholds."""
        found = self.model.status(model)
        if not found.entries:
            return "No deltas applied to this model: nothing has drifted."
        if found.drift is None:
            return "The deltas carry no active edit any more; revert them."
        text = f"**Drift** of {md_text(found.model)}: {found.drift.line()}."
        if found.drift.drifted:
            text += (
                f"\n\n⚠ **The model has drifted**: {'; '.join(found.drift.reasons())}. Press *Re-fit all active "
                "edits* to replace its deltas by one delta fitted from the graph in one batch."
            )
        return text

    def refit(self, model: str, method: str, stats_tokens: float | None) -> tuple[str, str, list[str]]:
        """Every delta of ``model`` replaced by one delta fitted from all active edits together."""
        if method not in BATCH_METHODS:
            raise InputError("re-fitting makes one batch delta: choose memit or projected")
        stats = self.model.stats("python-docs", int(stats_tokens or stats_tokens_for(method)))
        done = self.model.refit(model, method, stats)
        text = (
            f"Re-fitted {done.edits} active edit(s) with {method.upper()} in one delta, "
            f"replacing {len(done.replaced)}."
        )
        return text, self.status(model), self.delta_choices(model)

    def compare(self, model: str, prompt: str) -> tuple[str, str]:
        return self.model.compare(model, prompt or "")


def status_markdown(found: DeltaStatus) -> str:
    if not found.entries:
        return f"No deltas applied to {md_text(found.model)}: it has its original weights."
    lines = [f"**Deltas in {md_text(found.model)}** (newest last):"]
    for entry in found.entries:
        delta = entry.delta
        stale = [i for i in delta.edit_ids if i in found.stale]
        warning = f" ⚠ carries edits no longer active: {', '.join(stale)}; revert it" if stale else ""
        lines.append(
            f"- `{entry.name}`: {delta.method.upper()}, edits {', '.join(delta.edit_ids)}, "
            f"layers {', '.join(map(str, delta.layers))}{warning}"
        )
    return "\n".join(lines)
