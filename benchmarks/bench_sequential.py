"""Sequential weight editing: N edits made one after another on SmolLM2, per method, with drift curves.

Curators edit one fact after another for months; locate-and-edit methods are known to collapse after
hundreds to thousands of such edits. This benchmark applies a stream of edits, one delta per edit,
each computed on the model that already carries all the earlier ones, and at checkpoints measures
on the edits made so far (a fixed, evenly spread sample of them):

- *efficacy*: the edited prompt prefers the edit's new object to every object it replaced;
- *neighbourhood*: held-out (never edited) pairs of the same relation keep the preference between
  their own object and the edit's new object that the unedited model had; also split by the
  neighbour's subject: one no edit so far touched (what CounterFact's neighbourhood measures), and
  one edited in another relation, whose held-out fact reads the very value the edits rewrote;
- *perplexity* of the model on fixed prose it never saw for the statistics (held-out paragraphs of
  Python's documentation), a proxy for general generation quality.

The edit stream comes from the dev graph (../shared/data/dev; never MQuAKE): first its 67
counterfactual edits, then edits composed from its base facts (a subject's object replaced by
another object of the same relation, seeded). A quarter of the (subject, relation) pairs of each
relation is held out as neighbours and never edited. Beyond the pairs there are, the stream re-edits
pairs with yet another object (a correction of a correction); only each pair's latest edit counts.

``--batch-at`` also fits, from the original weights, all facts current after so many edits in one
delta (what ``kgedit model refit`` does there): the ceiling of re-fitting from the graph, with no
interference between edits made one after another.

Writes a CSV row per checkpoint and method, and a plot (matplotlib), after every checkpoint, so an
interrupted run keeps what it measured.

    .venv/bin/python benchmarks/bench_sequential.py --edits 1000 --every 50 --threads 1
    .venv/bin/python benchmarks/bench_sequential.py --edits 150 --every 25 --methods projected,memit
    .venv/bin/python benchmarks/bench_sequential.py --edits 1000 --methods "" --batch-at 200,1000 --threads 1
"""

from __future__ import annotations

import argparse
import csv
import logging
import os
import random
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch
from tqdm import tqdm

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.bench_weights import dev_store  # noqa: E402
from editors.drift import DriftThresholds, efficacy, held_out_text, measure_drift, perplexity, spread  # noqa: E402
from editors.lm import LanguageModel, load_lm  # noqa: E402
from editors.methods import DEFAULT_LM, stats_tokens_for  # noqa: E402
from editors.projected import ProjectedHyperParams  # noqa: E402
from editors.requests import WeightRequest, prompt_for, requests_from_store  # noqa: E402
from editors.stats import TextSample, sample_from_python_docs, sample_from_statements  # noqa: E402
from editors.weight_eval import continuation_scores  # noqa: E402
from editors.weights import StatsSettings, WeightEditor  # noqa: E402
from kg.errors import InputError  # noqa: E402
from kg.records import Origin  # noqa: E402
from kg.store import FactStore  # noqa: E402

log = logging.getLogger("bench_sequential")


@dataclass(frozen=True)
class Neighbour:
    prompt: str
    own: str
    subject: str


@dataclass(frozen=True)
class Stream:
    """The edits in the order they are made, and each one's held-out neighbours."""

    requests: tuple[WeightRequest, ...]
    neighbours: dict[str, tuple[Neighbour, ...]]
    held_out_subjects: frozenset[str]


def edit_stream(store: FactStore, count: int, seed: int = 0, per_edit: int = 3) -> Stream:
    """The dev edits, then composed counterfactual edits, then re-edits, up to ``count``."""
    rng = random.Random(seed)
    labels = {e.id: e.label for e in store.entities()}
    relations = {r.id: r for r in store.relations()}
    objects: dict[tuple[str, str], set[str]] = {}
    for fact in store.current_facts():
        if fact.origin is Origin.BASE:
            objects.setdefault((fact.subject, fact.relation), set()).add(labels[fact.object])
    pool: dict[str, list[str]] = {}
    for (_, relation), objs in sorted(objects.items()):
        pool.setdefault(relation, []).extend(sorted(objs))
    dev = requests_from_store(store)
    edited = {(r.relation, r.subject) for r in dev}
    by_relation: dict[str, list[tuple[str, str]]] = {}
    for subject, relation in sorted(objects):
        if (relation, labels[subject]) not in edited and len(set(pool[relation])) > 1:
            by_relation.setdefault(relation, []).append((subject, relation))
    held: dict[str, list[Neighbour]] = {}
    held_subjects: set[str] = set()
    editable: list[tuple[str, str]] = []
    for relation, pairs in by_relation.items():
        rng.shuffle(pairs)
        cut = max(1, len(pairs) // 4)
        for subject, _ in pairs[:cut]:
            try:
                prompt = prompt_for(relations[relation], labels[subject])
            except InputError:
                continue
            own = sorted(objects[(subject, relation)])[0]
            held.setdefault(relation, []).append(Neighbour(prompt, own, labels[subject]))
            held_subjects.add(labels[subject])
        editable += pairs[cut:]
    rng.shuffle(editable)
    requests = list(dev[:count])
    current = {(r.relation, r.subject): {r.target_new} for r in dev}
    round_ = 0
    while len(requests) < count and editable:
        for subject, relation in editable:
            if len(requests) >= count:
                break
            label = labels[subject]
            now = current.get((relation, label), objects[(subject, relation)])
            choices = sorted(set(pool[relation]) - now)
            if not choices:
                continue
            try:
                prompt = prompt_for(relations[relation], label)
            except InputError:
                continue
            new = rng.choice(choices)
            requests.append(
                WeightRequest(prompt, label, new, tuple(sorted(now)), f"S{len(requests)}-r{round_}", relation)
            )
            current[(relation, label)] = {new}
        round_ += 1
    neighbours = {}
    for request in requests:
        candidates = [n for n in held.get(request.relation, []) if n.own != request.target_new]
        neighbours[request.edit_id] = tuple(rng.sample(candidates, min(per_edit, len(candidates))))
    return Stream(tuple(requests), neighbours, frozenset(held_subjects))


def graph_and_docs(store: FactStore, stream: Stream) -> TextSample:
    """The graph's base statements (those of held-out subjects left out, so that neighbourhood
    still measures subjects the statistics never read), then Python's documentation."""
    labels = {e.id: e.label for e in store.entities()}
    relations = {r.id: r for r in store.relations()}
    graph = sample_from_statements(
        relations[f.relation].statement(labels[f.subject], labels[f.object])
        for f in store.current_facts()
        if f.origin is Origin.BASE and labels[f.subject] not in stream.held_out_subjects
    )
    docs = sample_from_python_docs()
    return TextSample("graph+python-docs", graph.texts + docs.texts)


def latest(requests: tuple[WeightRequest, ...], made: int) -> list[WeightRequest]:
    """Of the first ``made`` edits, those still the latest for their pair, in the order made."""
    last = {(r.relation, r.subject): i for i, r in enumerate(requests[:made])}
    return [requests[i] for i in sorted(last.values())]


def latest_sample(requests: tuple[WeightRequest, ...], made: int, size: int) -> list[WeightRequest]:
    """An evenly spread sample of :func:`latest` (all of them when ``size`` is 0)."""
    current = latest(requests, made)
    return current if size == 0 else spread(current, size)


@dataclass(frozen=True)
class RefitPolicy:
    """A curator who follows ``kgedit model status``: every ``every`` edits the drift is measured as
    the product measures it, and past its thresholds all edits so far are re-fitted in one batch
    delta with ``method`` from the original weights (what ``kgedit model refit`` does)."""

    method: str
    every: int
    thresholds: DriftThresholds = DriftThresholds()


class Probe:
    """Efficacy, neighbourhood and perplexity of the model as it is now."""

    def __init__(self, lm: LanguageModel, stream: Stream, held_out_texts: tuple[str, ...]) -> None:
        self.lm, self.stream, self.texts = lm, stream, held_out_texts
        self._before: dict[str, list[bool]] = {}

    def _preferences(self, requests: list[WeightRequest]) -> dict[str, list[bool]]:
        pairs = [
            (n.prompt, obj)
            for r in requests
            for n in self.stream.neighbours[r.edit_id]
            for obj in (n.own, r.target_new)
        ]
        scores = continuation_scores(self.lm.model, self.lm.tokenizer, pairs) if pairs else []
        out, cursor = {}, 0
        for r in requests:
            count = len(self.stream.neighbours[r.edit_id])
            out[r.edit_id] = [scores[cursor + 2 * i] > scores[cursor + 2 * i + 1] for i in range(count)]
            cursor += 2 * count
        return out

    def baseline(self, requests: list[WeightRequest]) -> None:
        """Records the unedited model's neighbour preferences for edits not seen before (call it on
        the unedited model: run_method lifts the deltas for it)."""
        self._before.update(self._preferences([r for r in requests if r.edit_id not in self._before]))

    def scores(self, requests: list[WeightRequest], edited: set[str]) -> dict[str, float]:
        """Efficacy and neighbourhood, the latter also split by whether the neighbour's subject is
        among ``edited`` (the subjects edits so far touched, in other relations): those read the
        value the edits rewrote at their own subject, the others only leaks from other subjects."""
        after = self._preferences(requests)
        kept: dict[bool, list[bool]] = {False: [], True: []}  # by whether the subject was edited
        for r in requests:
            pairs = zip(self._before[r.edit_id], after[r.edit_id], strict=True)
            for n, (before, now) in zip(self.stream.neighbours[r.edit_id], pairs, strict=True):
                kept[n.subject in edited].append(before == now)

        def share(values: list[bool]) -> float:
            return round(sum(values) / len(values), 4) if values else float("nan")

        return {
            "efficacy": round(efficacy(self.lm, requests), 4),
            "neighbourhood": share(kept[False] + kept[True]),
            "neighbourhood_unedited_subjects": share(kept[False]),
            "neighbourhood_edited_subjects": share(kept[True]),
        }

    def perplexity(self) -> float:
        return perplexity(self.lm, self.texts)


def layer_range(text: str) -> tuple[int, ...]:
    first, _, last = text.partition("-")
    try:
        layers = tuple(range(int(first), int(last or first) + 1))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: give the layers as FIRST-LAST, e.g. 3-12") from None
    if not layers:
        raise argparse.ArgumentTypeError(f"{text!r}: the last layer comes before the first")
    return layers


def edit_counts(text: str) -> tuple[int, ...]:
    try:
        counts = tuple(int(x) for x in text.split(",") if x.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: give edit counts separated by commas, e.g. 200,1000") from None
    if any(c < 1 for c in counts):
        raise argparse.ArgumentTypeError(f"{text!r}: edit counts start at 1")
    return tuple(sorted(set(counts)))


def checkpoints(total: int, every: int) -> list[int]:
    points = list(range(every, total + 1, every))
    return points if points and points[-1] == total else [*points, total]


def run_method(
    method: str,
    editor: WeightEditor,
    probe: Probe,
    stream: Stream,
    points: list[int],
    sample: int,
    budget_s: float,
    write: Callable[[dict[str, object]], None],
    refit: RefitPolicy | None = None,
) -> None:
    editor.revert_all()
    started = time.perf_counter()
    seconds: list[float] = []
    refits, upkeep = 0, 0.0  # upkeep: drift checks and re-fits
    made = 0
    name = f"{method}+refit" if refit else method
    progress = tqdm(total=points[-1], desc=f"sequential {name}", unit="edit")
    for point in points:
        window_start = made
        while made < point:
            request = stream.requests[made]
            start = time.perf_counter()
            editor.apply(editor.compute([request], method))
            seconds.append(time.perf_counter() - start)
            made += 1
            progress.update(1)
            if refit and made % refit.every == 0:
                start = time.perf_counter()
                refits += refitted(editor, latest(stream.requests, made), refit)
                upkeep += time.perf_counter() - start
        chosen = latest_sample(stream.requests, made, sample)
        with editor.patcher.applied_suspended():
            probe.baseline(chosen)
        scores = probe.scores(chosen, {r.subject for r in stream.requests[:made]})
        window = seconds[window_start:]
        write(
            {
                "method": name,
                "edits": made,
                **scores,
                "perplexity": round(probe.perplexity(), 3),
                "evaluated": len(chosen),
                "seconds_per_edit": round(sum(window) / len(window), 3),
                "refits": refits,
                "upkeep_seconds": round(upkeep, 1),
            }
        )
        if time.perf_counter() - started > budget_s:
            log.warning("%s: time budget of %.0f s spent after %d edits; stopping", method, budget_s, made)
            break
    progress.close()
    editor.revert_all()


def batch_fit(
    method: str,
    editor: WeightEditor,
    probe: Probe,
    stream: Stream,
    counts: tuple[int, ...],
    sample: int,
    write: Callable[[dict[str, object]], None],
) -> None:
    """What a re-fit from the graph gives after each of ``counts`` edits: every fact still current
    in one delta computed on the original weights (``kgedit model refit``), nothing sequential. It
    tells a limit of the edited layers apart from damage done by editing one fact after another."""
    editor.revert_all()
    for count in tqdm(counts, desc=f"{method} batch", unit="fit"):
        current = latest(stream.requests, count)
        chosen = latest_sample(stream.requests, count, sample)
        probe.baseline(chosen)
        start = time.perf_counter()
        delta = editor.compute(current, method)
        seconds = time.perf_counter() - start
        with editor.applied(delta):
            scores = probe.scores(chosen, {r.subject for r in stream.requests[:count]})
            ppl = probe.perplexity()
        write(
            {
                "method": f"{method} batch",
                "edits": count,
                **scores,
                "perplexity": round(ppl, 3),
                "evaluated": len(chosen),
                "seconds_per_edit": round(seconds / len(current), 3),
                "refits": 1,
                "upkeep_seconds": round(seconds, 1),
            }
        )


def refitted(editor: WeightEditor, current: list[WeightRequest], policy: RefitPolicy) -> bool:
    """Measures the drift of the model as it is and re-fits ``current`` when it passed the thresholds."""
    deltas = editor.patcher.applied_deltas
    with editor.patcher.applied_suspended():
        report = measure_drift(editor, deltas, current, policy.thresholds)
    if not report.drifted:
        return False
    log.warning("drift (%s): re-fitting all %d current facts in one delta", "; ".join(report.reasons()), len(current))
    editor.revert_all()
    editor.apply(editor.compute(current, policy.method))
    return True


def plot(rows: list[dict[str, object]], path: Path) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        log.warning("matplotlib is not installed; no plot")
        return
    figure, axes = plt.subplots(1, 3, figsize=(14, 4.8))
    split = {"neighbourhood_unedited_subjects": ":", "neighbourhood_edited_subjects": "--"}
    targets = {"efficacy": 0.9, "neighbourhood": 0.85}  # the bar after 1,000 edits
    for axis, metric in zip(axes, ("efficacy", "neighbourhood", "perplexity"), strict=True):
        for method in sorted({str(r["method"]) for r in rows if r["method"] != "unedited"}):
            points = [r for r in rows if r["method"] == method]
            edits = [r["edits"] for r in points]
            line = axis.plot(edits, [r[metric] for r in points], marker="o", label=method)[0]
            if metric != "neighbourhood":
                continue
            for column, style in split.items():
                values = [r.get(column, "") for r in points]
                if all(v not in ("", None) for v in values):  # runs from before the split have none
                    axis.plot(edits, values, linestyle=style, color=line.get_color(), linewidth=1)
        if metric in targets:
            axis.axhline(targets[metric], color="black", linestyle="-.", linewidth=0.8, label="target")
        if metric == "neighbourhood":
            axis.set_title("neighbourhood (dotted: subjects not edited, dashed: edited in another relation)", fontsize=9)
        base = [r for r in rows if r["method"] == "unedited"]
        if metric == "perplexity":
            axis.set_yscale("log")  # a collapsing model's perplexity runs to 10^5
            if base:
                axis.axhline(float(base[0]["perplexity"]), color="grey", linestyle="--", label="unedited")  # type: ignore[arg-type]
        axis.set_xlabel("sequential edits")
        if metric != "neighbourhood":
            axis.set_title(metric)
        axis.grid(alpha=0.3)
    handles, labels = axes[0].get_legend_handles_labels()
    figure.legend(handles, labels, loc="lower center", ncol=4, fontsize=8)  # below: inside it hid the curves
    figure.suptitle("SmolLM2-135M, edits one after another (dev-graph stream; batch: one fit of the facts then current)")
    figure.tight_layout(rect=(0, 0.12, 1, 1))
    figure.savefig(path, dpi=110)
    plt.close(figure)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", default=DEFAULT_LM)
    parser.add_argument("--methods", default="projected,memit,rome")
    parser.add_argument("--edits", type=int, default=1000)
    parser.add_argument("--every", type=int, default=50, help="checkpoint every N edits")
    parser.add_argument("--sample", type=int, default=40, help="edits evaluated at a checkpoint (0: all so far)")
    parser.add_argument(
        "--refit", default="", help="re-fit all edits so far with this batch method when the drift passes the thresholds"
    )
    parser.add_argument("--refit-every", type=int, default=25, help="edits between drift checks (with --refit)")
    parser.add_argument(
        "--batch-at",
        type=edit_counts,
        default=(),
        help="after the methods, fit the facts current after each of these edit counts (e.g. 200,1000) "
        "in one batch delta from the original weights, as a re-fit does",
    )
    parser.add_argument("--batch-method", default="projected", choices=("projected", "memit"), help="with --batch-at")
    parser.add_argument("--budget-s", type=float, default=float("inf"), help="stop a method after this long")
    parser.add_argument("--stats-tokens", type=int, default=0, help="0: each method's default (editors.methods)")
    parser.add_argument(
        "--stats-graph",
        action="store_true",
        help="statistics from the graph's base statements (not the held-out subjects') before Python's docs",
    )
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument(
        "--preserved-energy", type=float, default=ProjectedHyperParams.preserved_energy, help="projected method"
    )
    parser.add_argument("--ridge", type=float, default=ProjectedHyperParams.ridge, help="projected method")
    parser.add_argument(
        "--layers",
        type=layer_range,
        default=None,
        help="projected: the layers to spread over, FIRST-LAST (default: the architecture's)",
    )
    parser.add_argument("--device", default="auto")
    parser.add_argument(
        "--cache", type=Path, default=Path(os.environ.get("KGEDIT_HOME", "~/.kgedit")).expanduser() / "cache"
    )
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/sequential"))
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(message)s")
    if args.threads:
        torch.set_num_threads(args.threads)
    args.out.mkdir(parents=True, exist_ok=True)

    store = dev_store()
    stream = edit_stream(store, args.edits)
    if len(stream.requests) < args.edits:
        log.warning("the dev graph gives %d edits, fewer than %d", len(stream.requests), args.edits)
    if args.batch_at and args.batch_at[-1] > len(stream.requests):
        parser.error(f"--batch-at {args.batch_at[-1]}: the stream has {len(stream.requests)} edits; raise --edits")
    lm = load_lm(args.model, cache_dir=args.cache, device=args.device)
    probe = Probe(lm, stream, held_out_text())
    points = checkpoints(len(stream.requests), args.every)
    rows: list[dict[str, object]] = []
    csv_path, png_path = args.out / "sequential.csv", args.out / "sequential.png"

    def write(row: dict[str, object]) -> None:
        rows.append(row)
        print(", ".join(f"{k} {v}" for k, v in row.items()), flush=True)
        with csv_path.open("w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(rows[-1]))
            writer.writeheader()
            writer.writerows(rows)
        plot(rows, png_path)

    print(
        f"{len(stream.requests)} edits, checkpoints {points}, torch threads {torch.get_num_threads()}, "
        f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores",
        flush=True,
    )
    first = latest_sample(stream.requests, points[0], args.sample)
    probe.baseline(first)
    write(
        {
            "method": "unedited",
            "edits": 0,
            **probe.scores(first, set()),  # efficacy: the new object already winning before any edit
            "perplexity": round(probe.perplexity(), 3),
            "evaluated": len(first),
            "seconds_per_edit": 0.0,
            "refits": 0,
            "upkeep_seconds": 0.0,
        }
    )
    projected = ProjectedHyperParams(layers=args.layers, preserved_energy=args.preserved_energy, ridge=args.ridge)
    editor = WeightEditor(lm, args.cache, projected=projected)

    def statistics_for(method: str) -> StatsSettings:
        tokens = args.stats_tokens or stats_tokens_for(method)
        if args.stats_graph:
            # the graph's statements come first; 20k more tokens leave the docs' share as it was
            return StatsSettings(tokens=tokens + 20_000, sample=graph_and_docs(store, stream))
        return StatsSettings(tokens=tokens)

    for method in [m.strip() for m in args.methods.split(",") if m.strip()]:
        editor.use(statistics_for(method))
        policy = RefitPolicy(args.refit, args.refit_every) if args.refit else None
        run_method(method, editor, probe, stream, points, args.sample, args.budget_s, write, policy)
    if args.batch_at:
        editor.use(statistics_for(args.batch_method))
        batch_fit(args.batch_method, editor, probe, stream, args.batch_at, args.sample, write)
    print(f"wrote {csv_path} and {png_path}")


if __name__ == "__main__":
    main()
