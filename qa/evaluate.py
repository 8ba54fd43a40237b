"""One MQuAKE evaluation run, end to end: load, sample, build the store and system, run, report."""

from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from kg.io.tsv import read_triples_tsv
from qa.harness import Harness, HarnessConfig, fingerprint, prepare_store, stratified_sample
from qa.mquake import load_cases
from qa.report import build_summary, write_reports
from qa.runlog import RunLog
from qa.systems import SystemContext, make_system

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class EvalRequest:
    dataset: Path
    config: HarnessConfig
    system: str
    out: Path
    context: SystemContext = field(default_factory=SystemContext)
    background: Path | None = None
    sample: int | None = None
    seed: int = 0
    fresh: bool = False
    progress: bool = True


def run_mquake(request: EvalRequest) -> dict[str, Any]:
    """Evaluate, write the reports into ``request.out``, and return the summary."""
    steps: dict[str, float] = {}
    began = time.perf_counter()
    world = load_cases(request.dataset)
    cases = stratified_sample(world, request.sample, request.seed) if request.sample else world
    steps["load_cases_s"] = time.perf_counter() - began

    mark = time.perf_counter()
    background = read_triples_tsv(request.background) if request.background else None
    store = prepare_store(world, request.config.setting, background)
    steps["build_store_s"] = time.perf_counter() - mark

    mark = time.perf_counter()
    system = make_system(request.system, store, request.context)
    steps["load_system_s"] = time.perf_counter() - mark

    key = fingerprint(
        request.dataset, request.config, request.system, request.sample, request.seed, request.background
    )
    runlog = RunLog(request.out / "progress.jsonl", key, fresh=request.fresh)
    mark = time.perf_counter()
    results = Harness(store, system, request.config, runlog).run(cases, progress=request.progress)
    steps["evaluate_s"] = time.perf_counter() - mark

    timings: dict[str, dict[str, float]] = {}
    for (label, _), entry in runlog.batches.items():
        bucket = timings.setdefault(label, {})
        for name in ("load_s", "answer_s", "retract_s"):
            bucket[name] = bucket.get(name, 0.0) + float(entry.get(name, 0.0))
    meta = {
        "dataset": str(request.dataset),
        "setting": request.config.setting.value,
        "setting_label": request.config.setting.description,
        "system": request.system,
        "cases": len(cases),
        "file_cases": len(world),
        "sample": request.sample,
        "seed": request.seed,
        "match": request.config.match_mode.value,
        "background": str(request.background) if request.background else None,
        "store": asdict(store.stats()),
        "timings": steps,
    }
    summary = build_summary(meta, results, timings)
    write_reports(request.out, summary, results)
    log.info("wrote reports to %s", request.out)
    return summary
