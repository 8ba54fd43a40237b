"""Load on the served app: short ``/ask`` calls alone, then the same with one 4,000-character question
in flight, then with three sent at once. Prints p50, p95 and the largest latency of the short
questions, their errors, and what became of the long ones.

Loopback only and bounded: the app is served in this process on 127.0.0.1 (a free port) over an
in-memory demo graph; each run sends a fixed number of requests, each with a timeout, and the whole
run stops after ``--limit-seconds`` whatever happens. The models are warmed first (a short and a long
question), so the figures are answering, not loading.

    OMP_NUM_THREADS=2 HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/bench_serve_load.py --requests 200 20

With 200 short questions the run is one long queue on two cores, and its p95 is the time to drain it,
whatever the arrangement; with 20 (a few users) the p95 shows whether long questions hold the
workers short ones need (before the long-question lane: 2.6x with three long questions in flight).

A burst of 20 drains in about 0.4 s, so one stray pause of the machine moves its p95 by half: each
size is measured in ``--rounds`` rounds (every kind of run once per round, interleaved), and the
figures are the median over the rounds, with the errors of all of them.
"""

from __future__ import annotations

import argparse
import json
import socket
import statistics
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import requests

from app.ui.services import Services

SHORT_QUESTIONS = [  # all answered from the demo graph, so the short runs time the graph path
    "What is the capital of France?",
    "What is the currency of the country where Paris is located?",
    "What is the capital of Germany?",
    "What is the capital of Italy?",
]
LONG_QUESTION = ("Who is the spouse of the head of government of " * 90)[:4000]
REQUEST_SECONDS = 120.0


@dataclass
class Run:
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    long_seconds: float | None = None
    long_outcome: str = ""

    def p(self, q: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]

    def summary(self) -> dict[str, object]:
        return {
            "requests": len(self.latencies) + len(self.errors),
            "errors": len(self.errors),
            "p50_s": round(self.p(0.5), 3),
            "p95_s": round(self.p(0.95), 3),
            "max_s": round(max(self.latencies, default=float("nan")), 3),
            "mean_s": round(statistics.fmean(self.latencies), 3) if self.latencies else None,
            "long_s": None if self.long_seconds is None else round(self.long_seconds, 3),
            "long_outcome": self.long_outcome,
        }


def median_summary(rounds: Sequence[Run]) -> dict[str, object]:
    """One kind of run over its rounds: every request and error counted, latencies the median round's."""
    summaries = [run.summary() for run in rounds]

    def median(key: str) -> float | None:
        values = [float(s[key]) for s in summaries if s[key] is not None]  # type: ignore[arg-type]
        return round(statistics.median(values), 3) if values else None

    return {
        "rounds": len(rounds),
        "requests": sum(int(s["requests"]) for s in summaries),  # type: ignore[call-overload]
        "errors": sum(int(s["errors"]) for s in summaries),  # type: ignore[call-overload]
        **{key: median(key) for key in ("p50_s", "p95_s", "max_s", "mean_s", "long_s")},
        "long_outcome": " | ".join(str(s["long_outcome"]) for s in summaries),
    }


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def served_app(home: Path) -> Iterator[tuple[str, Services]]:
    """The real app over the demo graph on 127.0.0.1, closed on exit."""
    from app.config import load_settings
    from app.ui import build_app, launch_options
    from kg.demo import load_demo
    from kg.store import FactStore

    settings = load_settings({"KGEDIT_HOME": str(home)}, host="127.0.0.1", port=free_port())
    store = FactStore.open("memory:")
    load_demo(store)
    services = Services(settings, store)
    blocks = build_app(services)
    blocks.queue(default_concurrency_limit=2).launch(
        **launch_options(settings), prevent_thread_lock=True, quiet=True
    )
    try:
        yield f"http://127.0.0.1:{settings.port}", services
    finally:
        blocks.close()
        store.close()


def ask(url: str, question: str, system: str = "auto") -> tuple[float, str | None]:
    """Seconds to the answer over plain HTTP (Gradio's call API), and the error text if it failed."""
    began = time.monotonic()
    try:
        posted = requests.post(
            f"{url}/gradio_api/call/ask", json={"data": [question, [], system]}, timeout=30
        )
        posted.raise_for_status()
        event_id = posted.json()["event_id"]
        with requests.get(
            f"{url}/gradio_api/call/ask/{event_id}", stream=True, timeout=REQUEST_SECONDS
        ) as stream:
            event = ""
            for raw in stream.iter_lines():
                line = raw.decode("utf-8", "replace")
                if line.startswith("event:"):
                    event = line.split(":", 1)[1].strip()
                elif line.startswith("data:") and event in ("complete", "error"):
                    data = line.split(":", 1)[1].strip()
                    seconds = time.monotonic() - began
                    return seconds, None if event == "complete" else f"error event: {data[:200]}"
        return time.monotonic() - began, "stream ended without an answer"
    except (requests.RequestException, ValueError, KeyError) as exc:
        return time.monotonic() - began, f"{type(exc).__name__}: {exc}"


def wait_for_long_question(services: Services, seconds: float = 10.0) -> None:
    """Until the long question holds its lane (or a fixed pause where the app has no lanes)."""
    lanes = getattr(services, "questions", None)
    if lanes is None:
        time.sleep(0.5)
        return
    deadline = time.monotonic() + seconds
    while not lanes.long_in_flight and time.monotonic() < deadline:
        time.sleep(0.01)


def long_question(k: int) -> str:
    """The k-th 4,000-character question (each different, so no cache answers one for another)."""
    return (f"{k} " + LONG_QUESTION)[:4000]


def load_run(url: str, services: Services, requests_count: int, long_count: int, limit_seconds: float) -> Run:
    """``requests_count`` short questions at once, after ``long_count`` long ones are sent."""
    run = Run()
    with ThreadPoolExecutor(requests_count + long_count) as pool:
        longs = [pool.submit(ask, url, long_question(k)) for k in range(long_count)]
        if longs:
            wait_for_long_question(services)
        shorts = [
            pool.submit(ask, url, SHORT_QUESTIONS[i % len(SHORT_QUESTIONS)]) for i in range(requests_count)
        ]
        done, not_done = wait(shorts, timeout=limit_seconds)
        for future in not_done:
            future.cancel()
            run.errors.append("not answered within the run's time limit")
        for future in done:
            seconds, error = future.result()
            (run.errors.append(error) if error else run.latencies.append(seconds))
        outcomes = [future.result() for future in longs]  # each bounded by REQUEST_SECONDS
        if outcomes:
            run.long_seconds = max(seconds for seconds, _ in outcomes)
            run.long_outcome = "; ".join(_outcome(error) for _, error in outcomes)
    return run


def _outcome(error: str | None) -> str:
    if error is None:
        return "answered"
    for known in ("another long question", "time budget"):
        if known in error:
            return f"refused: {known}"
    return error


RUNS = {"without_long": 0, "with_long": 1, "with_three_long": 3}


def measure(
    sizes: Sequence[int] = (200,), limit_seconds: float = 240.0, rounds: int | Mapping[int, int] = 1
) -> dict[int, dict[str, dict[str, object]]]:
    """Warm up once, then for each number of short questions its rounds of every entry of ``RUNS``."""
    with (
        tempfile.TemporaryDirectory(prefix="kgedit-load-") as home,
        served_app(Path(home)) as (url, services),
    ):
        for question in (SHORT_QUESTIONS[0], LONG_QUESTION):  # loads every model, past any time budget
            services.system("auto").answer(question)
        _, error = ask(url, SHORT_QUESTIONS[0])
        if error:
            raise RuntimeError(f"warm-up question failed: {error}")
        figures = {}
        for size in sizes:
            runs: dict[str, list[Run]] = {name: [] for name in RUNS}
            for _ in range(rounds if isinstance(rounds, int) else rounds[size]):
                for name, count in RUNS.items():
                    runs[name].append(load_run(url, services, size, count, limit_seconds))
            figures[size] = {name: median_summary(kept) for name, kept in runs.items()}
        return figures


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--requests", type=int, nargs="+", default=[200, 20], help="Short questions sent at once, per run."
    )
    parser.add_argument("--limit-seconds", type=float, default=240.0, help="Each run stops after this long.")
    parser.add_argument(
        "--rounds", type=int, default=3, help="Rounds per size; the figures are the median round's."
    )
    args = parser.parse_args()
    figures = measure(args.requests, args.limit_seconds, args.rounds)
    print(json.dumps(figures, indent=2))
    for size, runs in figures.items():
        base = float(runs["without_long"]["p95_s"])  # type: ignore[arg-type]
        for name in RUNS:
            ratio = float(runs[name]["p95_s"]) / base  # type: ignore[arg-type]
            print(
                f"{size} short questions: p95 {name} / without_long = {ratio:.2f} (acceptance: at most 2.0)"
            )


if __name__ == "__main__":
    main()
