"""The bounded load test: 200 concurrent ``/ask`` calls, alone, with one 4,000-character question in
flight and with three sent at once, on the real app and models over 127.0.0.1
(benchmarks/bench_serve_load.py does the work).

The run stops by itself: a fixed number of requests, each with a timeout, each run capped in time.
It takes minutes on two cores, hence ``slow``. Acceptance: no errors in any run, and the short
questions' p95 with one long question in flight at most twice their p95 without it.
"""

from __future__ import annotations

import importlib.util
import sys

import pytest

from tests.app.conftest import REPO

pytestmark = pytest.mark.slow
SIZES = (200, 20)  # 200 as the acceptance asks; 20 is where a stall would show (see the benchmark)
RUN_LIMIT_SECONDS = 300.0
# A burst of 20 drains in about 0.4 s, so one stray pause decides a single round's p95 (CI once
# measured 1.1 s against 0.4 s with one long question, and 0.46 s with three): the median of rounds.
ROUNDS = {200: 1, 20: 5}


def bench_module():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location(
        "bench_serve_load", REPO / "benchmarks" / "bench_serve_load.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_long_questions_in_flight_leave_short_questions_p95_within_twice_and_error_free() -> None:
    bench = bench_module()
    figures = bench.measure(SIZES, RUN_LIMIT_SECONDS, ROUNDS)
    print(figures)  # the figures for the closing note, shown with -s
    for size, runs in figures.items():
        base = runs["without_long"]
        for name in bench.RUNS:
            run = runs[name]
            assert run["requests"] == size * ROUNDS[size] and run["errors"] == 0, figures
        # The bound is for one long question in flight, as the acceptance asks. Three sent at once
        # must still end without errors (two are turned away), but on two cores the one that runs
        # competes with the short ones: 1.7x under load, 2.7x on an idle machine, so no bound here.
        assert runs["with_long"]["p95_s"] <= 2 * base["p95_s"], (size, figures)
        outcomes = str(runs["with_long"]["long_outcome"]).split(" | ")
        assert set(outcomes) <= {"answered", "refused: time budget"}, figures
