"""Evaluation reports: summary.json, results.json, summary.md and PNG plots.

``summary.json`` holds, per batch size, the metrics on all cases at the top level of that batch's
entry and the same metrics on the consistent cases under ``consistent``; ``results.json`` holds every
question with its answer and trace, for error analysis.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from kg.files import replacing, write_text
from qa.metrics import METRIC_NAMES, CaseRecord, full_summary

_TITLES = {
    "multi_hop_accuracy": "multi-hop acc.",
    "question_accuracy": "question acc.",
    "hop_wise_accuracy": "hop-wise acc.",
    "edit_wise_success": "edit-wise success",
}


def batch_summary(records: Sequence[CaseRecord], timings: dict[str, float]) -> dict[str, Any]:
    consistent = [r for r in records if r.consistent]
    return {
        **full_summary(records),
        "inconsistent_cases": len(records) - len(consistent),
        "consistent": full_summary(consistent),
        "timings": timings,
    }


def build_summary(
    meta: dict[str, Any], results: dict[str, list[CaseRecord]], timings: dict[str, dict[str, float]]
) -> dict[str, Any]:
    return {**meta, "batches": {label: batch_summary(recs, timings.get(label, {})) for label, recs in results.items()}}


def write_reports(out: Path, summary: dict[str, Any], results: dict[str, list[CaseRecord]]) -> list[Path]:
    """Write every report file into ``out``; returns the paths written."""
    out.mkdir(parents=True, exist_ok=True)
    written = [
        _write_json(out / "summary.json", summary),
        _write_json(
            out / "results.json",
            {"meta": {k: v for k, v in summary.items() if k != "batches"},
             "batches": {label: [r.to_dict() for r in recs] for label, recs in results.items()}},
        ),
    ]
    md = out / "summary.md"
    write_text(md, markdown(summary))
    written.append(md)
    written += plot(out, summary)
    return written


def _write_json(path: Path, data: Any) -> Path:
    write_text(path, json.dumps(data, indent=1, ensure_ascii=False))
    return path


def _save(fig: Any, path: Path) -> None:
    with replacing(path, ".png") as temp:
        fig.savefig(temp, dpi=100, format="png")


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.1f}"


def markdown(summary: dict[str, Any]) -> str:
    lines = [
        f"# MQuAKE evaluation: system `{summary.get('system')}`, {summary.get('setting_label', summary.get('setting'))}",
        "",
        f"Data: `{summary.get('dataset')}`, {summary.get('cases')} cases"
        + (f" (stratified sample, seed {summary.get('seed')})" if summary.get("sample") else "")
        + f"; answer matching: {summary.get('match')}. Figures are percentages.",
        "",
        "| batch | cases | subset | " + " | ".join(_TITLES[m] for m in METRIC_NAMES) + " | old answer | seconds |",
        "|---|---|---|" + "---|" * (len(METRIC_NAMES) + 2),
    ]
    for label, entry in summary["batches"].items():
        seconds = sum(v for k, v in entry.get("timings", {}).items() if k.endswith("_s"))
        for subset, metrics in (("all", entry), ("consistent", entry["consistent"])):
            cells = [label, str(metrics["cases"]), subset]
            cells += [_pct(metrics[m]) for m in METRIC_NAMES] + [_pct(metrics["original_answer_rate"])]
            cells.append(f"{seconds:.0f}" if subset == "all" else "")
            lines.append("| " + " | ".join(cells) + " |")
    for axis, title in (("by_hops", "hop count"), ("by_edits", "number of edits")):
        lines += ["", f"## Multi-hop accuracy by {title} (all cases / consistent cases)", ""]
        labels = list(summary["batches"])
        lines += ["| " + title + " | " + " | ".join(f"batch {b}" for b in labels) + " |", "|---|" + "---|" * len(labels)]
        keys = sorted({k for e in summary["batches"].values() for k in e[axis]}, key=int)
        for key in keys:
            cells = [key]
            for entry in summary["batches"].values():
                a = entry[axis].get(key, {}).get("multi_hop_accuracy")
                c = entry["consistent"][axis].get(key, {}).get("multi_hop_accuracy")
                cells.append(f"{_pct(a)} / {_pct(c)}")
            lines.append("| " + " | ".join(cells) + " |")
    lines += ["", "Inconsistent cases per batch size (another case in the batch edits away a fact of their chain): "
              + ", ".join(f"{b}: {e['inconsistent_cases']}" for b, e in summary["batches"].items()), ""]
    return "\n".join(lines)


def plot(out: Path, summary: dict[str, Any]) -> list[Path]:
    """accuracy_by_batch.png and accuracy_by_hops.png (matplotlib, Agg backend: no display needed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    batches = summary["batches"]
    labels = list(batches)
    paths = []
    fig, ax = plt.subplots(figsize=(7, 4))
    width = 0.8 / len(METRIC_NAMES)
    for i, metric in enumerate(METRIC_NAMES):
        values = [100 * (batches[b][metric] or 0.0) for b in labels]
        ax.bar([x + i * width for x in range(len(labels))], values, width, label=_TITLES[metric])
    ax.set_xticks([x + width * (len(METRIC_NAMES) - 1) / 2 for x in range(len(labels))], labels)
    ax.set_xlabel("edit batch size")
    ax.set_ylabel("% (all cases)")
    ax.set_ylim(0, 100)
    ax.set_title(f"{summary.get('system')} - {summary.get('setting')} setting")
    ax.legend(fontsize=8)
    fig.tight_layout()
    paths.append(out / "accuracy_by_batch.png")
    _save(fig, paths[-1])
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(7, 4))
    for label in labels:
        for subset, entry, style in (("all", batches[label], "-o"), ("consistent", batches[label]["consistent"], "--x")):
            hops = sorted(entry["by_hops"], key=int)
            values = [100 * (entry["by_hops"][h]["multi_hop_accuracy"] or 0.0) for h in hops]
            ax.plot([int(h) for h in hops], values, style, label=f"batch {label} ({subset})")
    hop_counts = sorted({int(h) for entry in batches.values() for h in entry["by_hops"]})
    ax.set_xticks(hop_counts, [str(h) for h in hop_counts])
    ax.set_xlabel("hops")
    ax.set_ylabel("multi-hop accuracy %")
    ax.set_ylim(0, 100)
    ax.set_title(f"{summary.get('system')} - {summary.get('setting')} setting")
    ax.legend(fontsize=7)
    fig.tight_layout()
    paths.append(out / "accuracy_by_hops.png")
    _save(fig, paths[-1])
    plt.close(fig)
    return paths
