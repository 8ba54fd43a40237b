"""The weight editor: one object that computes, applies and reverts ROME, MEMIT or projected deltas.

It owns the statistics settings (which text sample, how many tokens, where the cache is) so callers
only say *what* to edit. Deltas are computed on the model as currently patched (so edits can be
made one after another on an edited model), applied in place, and taken out exactly (see
:class:`editors.deltas.Patcher`). The projected method also protects the keys of the edits already
applied (:mod:`editors.projected`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import torch
from transformers import PreTrainedModel

from editors.deltas import Patcher, WeightDelta
from editors.lm import LanguageModel
from editors.memit import MemitHyperParams, memit_delta
from editors.methods import DEFAULT_METHOD, DEFAULT_STATS_TOKENS, METHODS
from editors.projected import ProjectedHyperParams, projected_delta
from editors.requests import WeightRequest
from editors.rome import RomeHyperParams, rome_delta
from editors.stats import (
    KeyStatistics,
    TextSample,
    model_fingerprint,
    sample_from_model,
    sample_from_python_docs,
    second_moments,
)
from kg.errors import InputError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StatsSettings:
    """Where the key statistics come from.

    ``sample`` None means Python's documentation text (always present, nothing to generate);
    ``from_model`` samples text from the model itself instead (cached; minutes per 10k tokens on a CPU).
    """

    tokens: int = DEFAULT_STATS_TOKENS
    sample: TextSample | None = None
    from_model: bool = False
    seed: int = 0


@dataclass
class WeightEditor:
    lm: LanguageModel
    cache_dir: Path | None = None
    stats: StatsSettings = field(default_factory=StatsSettings)
    rome: RomeHyperParams = field(default_factory=RomeHyperParams)
    memit: MemitHyperParams = field(default_factory=MemitHyperParams)
    projected: ProjectedHyperParams = field(default_factory=ProjectedHyperParams)

    def __post_init__(self) -> None:
        self.patcher = Patcher(self.lm.model)
        self.model_key = model_fingerprint(self.lm.name, self.lm.model)
        self.statistics = KeyStatistics(self._base_moments)

    def use(self, stats: StatsSettings) -> None:
        """Take statistics from ``stats`` from now on. The moments kept in memory came from the
        settings before, so they are dropped when the settings differ (a long-lived app process
        would otherwise go on editing with the first token count it was given)."""
        if stats != self.stats:
            self.stats = stats
            self.statistics = KeyStatistics(self._base_moments)

    def moments(self, layers: Sequence[int]) -> dict[int, torch.Tensor]:
        """The keys' second moments at ``layers`` (kept in memory after the first call)."""
        return self.statistics.moments(layers)

    def _base_moments(self, layers: Sequence[int]) -> dict[int, torch.Tensor]:
        """The moments from the disk cache when present, else computed from the text sample.

        They describe the unedited model, so any applied deltas are lifted while they are computed.
        """
        sample = self.stats.sample
        with self.patcher.applied_suspended():
            if self.stats.from_model:
                sample = sample_from_model(
                    self.lm.model,
                    self.lm.tokenizer,
                    self.stats.tokens,
                    self.cache_dir,
                    self.model_key,
                    self.stats.seed,
                )
            elif sample is None:
                sample = sample_from_python_docs()
            return second_moments(
                self.lm.model,
                self.lm.tokenizer,
                layers,
                sample,
                self.stats.tokens,
                cache_dir=self.cache_dir,
                model_key=self.model_key,
            )

    def compute(self, requests: Sequence[WeightRequest], method: str = DEFAULT_METHOD) -> WeightDelta:
        """The delta teaching ``requests`` to the model as it is now (the model is left unchanged)."""
        if not requests:
            raise InputError("no requests to edit")
        model, tokenizer = self.lm.model, self.lm.tokenizer
        if method == "rome":
            return rome_delta(model, tokenizer, requests, self.statistics, self.rome, self.lm.name)
        if method == "memit":
            return memit_delta(model, tokenizer, requests, self.statistics, self.memit, self.lm.name)
        if method == "projected":
            return projected_delta(
                model, tokenizer, requests, self.statistics, self.patcher.applied_deltas, self.projected, self.lm.name
            )
        raise InputError(f"unknown editing method {method!r}; choose one of {', '.join(METHODS)}")

    def apply(self, delta: WeightDelta) -> None:
        self.patcher.apply(delta)

    def revert(self, delta: WeightDelta) -> None:
        self.patcher.revert(delta)

    def revert_all(self) -> None:
        self.patcher.revert_all()

    @contextmanager
    def applied(self, *deltas: WeightDelta) -> Iterator[PreTrainedModel]:
        """``with editor.applied(delta):`` the model carries the deltas; afterwards it is exactly as before."""
        with self.patcher.applied(*deltas) as model:
            yield model
