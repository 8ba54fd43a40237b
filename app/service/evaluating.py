"""Evaluating, once for ``kgedit eval mquake`` and the Evaluate tab: check the request, run, report.

An :class:`EvaluationRequest` holds what a user chose, as they chose it (setting, match mode and
batch sizes as text); :func:`evaluate` checks every choice with one clear sentence per mistake,
builds the systems' context through :func:`app.service.answering.system_context` (the evaluation's
own in-memory store, never the curated one), runs :func:`qa.evaluate.run_mquake`, and returns the
summary with the report files it wrote.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.config import Settings
from app.service.answering import system_context
from kg.errors import InputError

PLOTS = ("accuracy_by_batch.png", "accuracy_by_hops.png")
REPORT_SUFFIXES = (".md", ".json", ".png")


@dataclass(frozen=True)
class EvaluationRequest:
    """One evaluation as a user asks for it; ``lm`` and ``device`` override the settings."""

    dataset: Path
    out: Path
    setting: str = "kg"
    batches: str = "1,100,all"
    system: str = "lm"
    background: Path | None = None
    sample: int | None = None
    seed: int = 0
    match: str = "exact"
    single_hops: bool = True
    lm: str | None = None
    device: str | None = None
    fresh: bool = False
    progress: bool = True

    def notes(self) -> list[str]:
        """What the user should know before a long run: choices that will be ignored."""
        if self.background is not None and self.setting == "model":
            return ["--background is ignored in the model setting (the store holds only the edits)"]
        return []


@dataclass(frozen=True)
class EvaluationResult:
    summary: dict[str, Any]
    out: Path

    def reports(self) -> list[Path]:
        return sorted(p for p in self.out.iterdir() if p.suffix in REPORT_SUFFIXES)

    def plots(self) -> list[Path | None]:
        """The two standard plots in :data:`PLOTS` order; None where a run made no such plot."""
        return [self.out / name if (self.out / name).is_file() else None for name in PLOTS]


def evaluate(settings: Settings, request: EvaluationRequest) -> EvaluationResult:
    """Check ``request``, run it into ``request.out`` (resuming unless ``fresh``), and return the result."""
    from qa.evaluate import EvalRequest, run_mquake
    from qa.harness import HarnessConfig, Setting, parse_batch_sizes
    from qa.matching import MatchMode
    from qa.systems import system_names

    if request.setting not in ("kg", "model"):
        raise InputError(f"--setting must be kg or model, not {request.setting!r}")
    if request.match not in ("exact", "contains"):
        raise InputError(f"--match must be exact or contains, not {request.match!r}")
    if request.system not in system_names():
        raise InputError(f"unknown system {request.system!r}; known systems: {', '.join(system_names())}")
    if not request.dataset.is_file():
        raise InputError(f"{request.dataset}: no such file")
    if request.background is not None and not request.background.is_file():
        raise InputError(f"--background {request.background}: no such file")
    if request.sample is not None and request.sample < 1:
        raise InputError("--sample must be a positive number of cases")
    config = HarnessConfig(
        Setting(request.setting), parse_batch_sizes(request.batches), MatchMode(request.match), request.single_hops
    )
    context = system_context(settings, request.lm, request.device, curated_store=False)
    summary = run_mquake(
        EvalRequest(
            request.dataset,
            config,
            request.system,
            request.out,
            context,
            request.background,
            request.sample,
            request.seed,
            request.fresh,
            request.progress,
        )
    )
    return EvaluationResult(summary, request.out)
