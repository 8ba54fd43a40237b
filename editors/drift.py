"""How far a model carrying many weight deltas has drifted, and whether to re-fit its edits.

Edits written into weights one after another interfere: later updates partly overwrite earlier
ones and move the model's general behaviour. kgedit keeps every edit in the graph, so it can
measure both effects on the model as it is and, past a threshold, re-fit all active edits from the
graph in one batch (``kgedit model refit``), which replaces many interfering deltas by one solved
jointly. Two measurements, cheap enough to run on every ``kgedit model status``:

- *efficacy* on a held sample of the edits the deltas carry: the edited prompt still prefers the
  edit's new object to every object it replaced;
- *perplexity increase* on fixed prose the statistics never read (held-out paragraphs of Python's
  documentation), edited against unedited.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch

from editors.deltas import WeightDelta
from editors.lm import LanguageModel
from editors.requests import WeightRequest
from editors.stats import sample_from_python_docs
from editors.tokens import pad_batch, pad_id
from editors.weight_eval import continuation_scores
from editors.weights import WeightEditor


@dataclass(frozen=True)
class DriftThresholds:
    """When to warn: efficacy below ``min_efficacy`` or perplexity up by more than ``max_perplexity_rise``."""

    min_efficacy: float = 0.9
    max_perplexity_rise: float = 0.10
    sample: int = 40


@dataclass(frozen=True)
class DriftReport:
    edits_checked: int
    efficacy: float
    perplexity_base: float
    perplexity_edited: float
    thresholds: DriftThresholds

    @property
    def perplexity_rise(self) -> float:
        return self.perplexity_edited / self.perplexity_base - 1.0

    @property
    def drifted(self) -> bool:
        return (
            self.efficacy < self.thresholds.min_efficacy
            or self.perplexity_rise > self.thresholds.max_perplexity_rise
        )

    def reasons(self) -> list[str]:
        out = []
        if self.efficacy < self.thresholds.min_efficacy:
            out.append(
                f"only {self.efficacy:.0%} of {self.edits_checked} sampled edits still hold "
                f"(threshold {self.thresholds.min_efficacy:.0%})"
            )
        if self.perplexity_rise > self.thresholds.max_perplexity_rise:
            out.append(
                f"perplexity on fixed text rose {self.perplexity_rise:.1%} "
                f"(threshold {self.thresholds.max_perplexity_rise:.0%})"
            )
        return out

    def line(self) -> str:
        return (
            f"efficacy {self.efficacy:.1%} on {self.edits_checked} sampled edits; perplexity "
            f"{self.perplexity_base:.2f} unedited -> {self.perplexity_edited:.2f} edited ({self.perplexity_rise:+.1%})"
        )


def held_out_text(count: int = 40) -> tuple[str, ...]:
    """Paragraphs the key statistics never read: they take the first ones of the same shuffled list."""
    return sample_from_python_docs().texts[-count:]


def efficacy(lm: LanguageModel, requests: Sequence[WeightRequest]) -> float:
    """Share of ``requests`` whose prompt prefers the new object to every object it replaced."""
    if not requests:
        return float("nan")
    pairs = [(r.prompt, obj) for r in requests for obj in (r.target_new, *r.target_old)]
    scores = continuation_scores(lm.model, lm.tokenizer, pairs)
    wins, cursor = 0, 0
    for r in requests:
        wins += all(scores[cursor] > s for s in scores[cursor + 1 : cursor + 1 + len(r.target_old)])
        cursor += 1 + len(r.target_old)
    return wins / len(requests)


def perplexity(lm: LanguageModel, texts: Sequence[str], batch_rows: int = 8, max_length: int = 128) -> float:
    device = next(lm.model.parameters()).device
    nll, count = 0.0, 0
    for start in range(0, len(texts), batch_rows):
        rows = [lm.tokenizer(t).input_ids[:max_length] for t in texts[start : start + batch_rows]]
        ids, mask = pad_batch(rows, pad_id(lm.tokenizer), device)
        with torch.no_grad():
            logp = torch.log_softmax(lm.model(input_ids=ids, attention_mask=mask).logits.float(), dim=-1)
        picked = logp[:, :-1].gather(2, ids[:, 1:, None]).squeeze(2)
        valid = mask[:, 1:].bool()
        nll -= float(picked[valid].sum())
        count += int(valid.sum())
    return math.exp(nll / count)


def spread(requests: Sequence[WeightRequest], size: int) -> list[WeightRequest]:
    """An evenly spaced sample (old and recent edits alike), all of them when there are few."""
    if len(requests) <= size:
        return list(requests)
    if size <= 1:
        return list(requests[-1:])
    return [requests[round(j * (len(requests) - 1) / (size - 1))] for j in range(size)]


def measure_drift(
    editor: WeightEditor,
    deltas: Sequence[WeightDelta],
    requests: Sequence[WeightRequest],
    thresholds: DriftThresholds = DriftThresholds(),
) -> DriftReport:
    """Drift of the model with ``deltas`` against the same model without; ``requests``: edits they carry."""
    texts = held_out_text()
    chosen = spread(requests, thresholds.sample)
    with editor.patcher.applied_suspended():
        base = perplexity(editor.lm, texts)
    with editor.applied(*deltas):
        edited = perplexity(editor.lm, texts)
        held = efficacy(editor.lm, chosen)
    return DriftReport(len(chosen), held, base, edited, thresholds)
