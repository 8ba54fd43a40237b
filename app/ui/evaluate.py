"""The Evaluate tab: run MQuAKE-format data through a system with one progress bar.

Datasets and background files are picked from the data folder (or uploaded into it) or from the
bundled dev set (``settings.dev_data_dir``), so a new user can press Run at once. Each run writes
its reports (summary.md/json, results.json, plots) into ``data_dir/exports/runs/<run>``; the tab
shows the prose of the summary, the metrics table once, the plots whole, and the report files.
Evaluation builds its own in-memory store for the chosen setting, so it never touches the curated
store.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import gradio as gr
import pandas as pd

from app.service.evaluating import PLOTS, EvaluationRequest, evaluate
from app.ui.common import guarded
from app.ui.services import Services
from kg.errors import InputError

NO_BACKGROUND = "(none)"
BUNDLED = "bundled/"  # prefix of the bundled dev set's files in the pickers
RESULT_COLUMNS = ["batch", "subset", "cases", "multi-hop acc.", "question acc.", "hop-wise acc.", "edit-wise"]


def data_files(services: Services, suffix: str) -> list[str]:
    """Files of one type under the data folder (relative to it), then those of the bundled dev set."""
    root = services.settings.data_dir
    skip = {"runs", "exports", "upload-tmp"}
    found = sorted(
        str(p.relative_to(root))
        for p in (root.rglob(f"*{suffix}") if root.is_dir() else ())
        if p.is_file() and p.relative_to(root).parts[0] not in skip
    )
    bundled = services.settings.dev_data_dir
    if bundled.is_dir():
        found += sorted(BUNDLED + p.name for p in bundled.glob(f"*{suffix}") if p.is_file() and p.name != "relations.tsv")
    return found


def data_file(services: Services, name: str) -> Path:
    """The file a picker names: in the data folder, or in the bundled dev set; nothing outside them."""
    if name.startswith(BUNDLED):
        folder = services.settings.dev_data_dir.resolve()
        target = (folder / name.removeprefix(BUNDLED)).resolve()
        if target.parent != folder:
            raise InputError(f"{name}: not a file of the bundled dev set")
    else:
        target = services.data_path(name)
    if not target.is_file():
        raise InputError(f"{name}: no such file in the data folder")
    return target


@dataclass(frozen=True)
class EvalForm:
    """The tab's inputs, as the widgets send them."""

    dataset: str | None
    background: str | None
    setting: str
    batches: str
    system: str
    sample: float | None
    seed: float | None
    match: str


def results_frame(summary: dict[str, Any]) -> pd.DataFrame:
    def pct(value: float | None) -> str:
        return "n/a" if value is None else f"{100 * value:.1f}"

    rows = []
    for label, entry in summary["batches"].items():
        for subset, metrics in (("all", entry), ("consistent", entry["consistent"])):
            rows.append(
                [
                    label,
                    subset,
                    metrics["cases"],
                    pct(metrics["multi_hop_accuracy"]),
                    pct(metrics["question_accuracy"]),
                    pct(metrics["hop_wise_accuracy"]),
                    pct(metrics["edit_wise_success"]),
                ]
            )
    return pd.DataFrame(rows, columns=RESULT_COLUMNS)


def summary_text(summary: dict[str, Any], dataset: str) -> str:
    """The report's Markdown without its main metrics table, which the Results table shows."""
    from qa.report import markdown

    lines = markdown({**summary, "dataset": Path(dataset).name}).replace("\n## ", "\n#### ").splitlines()
    start = next((i for i, line in enumerate(lines) if line.startswith("| batch | cases |")), None)
    if start is not None:
        end = start
        while end < len(lines) and lines[end].startswith("|"):
            end += 1
        lines[start:end] = ["The metrics are in the Results table below."]
    return "### " + "\n".join(lines).removeprefix("# ")


def run_evaluation(services: Services, form: EvalForm) -> tuple[str, pd.DataFrame, str | None, str | None, list[str]]:
    """Summary, results, the two plots and the report files of one run (see :func:`evaluate`)."""
    if not form.dataset:
        raise InputError("choose a dataset first (upload one if the list is empty)")
    data = data_file(services, form.dataset)
    extra = None if form.background in ("", NO_BACKGROUND, None) else data_file(services, form.background)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    request = EvaluationRequest(
        dataset=data,
        out=services.data_path("exports", "runs", f"{stamp}-{form.system}-{form.setting}"),
        setting=form.setting,
        batches=form.batches or "",
        system=form.system,
        background=extra,
        sample=int(form.sample) if form.sample else None,
        seed=int(form.seed or 0),
        match=form.match,
        fresh=True,
    )
    result = evaluate(services.settings, request)
    plots = [str(p) if p else None for p in result.plots()]
    files = [str(p) for p in result.reports()]
    return summary_text(result.summary, form.dataset), results_frame(result.summary), plots[0], plots[1], files


def add_file(services: Services, uploaded: str | None) -> tuple[Any, Any, None]:
    """Move an upload into ``data_dir/datasets`` and select it in its picker."""
    path = services.accept_upload(uploaded, "dataset")
    target = services.data_path("datasets", path.name)
    target.parent.mkdir(parents=True, exist_ok=True)
    path.replace(target)
    relative = str(target.relative_to(services.settings.data_dir.resolve()))
    json_files = data_files(services, ".json")
    tsv_files = [NO_BACKGROUND, *data_files(services, ".tsv")]
    if target.suffix == ".json":
        return gr.update(choices=json_files, value=relative), gr.update(choices=tsv_files), None
    return gr.update(choices=json_files), gr.update(choices=tsv_files, value=relative), None


def default_choice(services: Services) -> tuple[str | None, str]:
    """The dataset and background a fresh tab starts with: the first dataset of the data folder, else
    the bundled dev set with its background facts."""
    datasets = data_files(services, ".json")
    if not datasets:
        return None, NO_BACKGROUND
    first = datasets[0]
    background = BUNDLED + "background.tsv"
    bundled_pair = first.startswith(BUNDLED) and background in data_files(services, ".tsv")
    return first, background if bundled_pair else NO_BACKGROUND


def build_evaluate_tab(services: Services) -> dict[str, Any]:
    from qa.matching import MatchMode
    from qa.systems import system_names

    systems = system_names()
    gr.Markdown(
        "Pick a dataset in MQuAKE format (the bundled dev set, one from the data folder, or upload one), a "
        "setting and edit-batch sizes. *KG setting*: the store holds the dataset's graph plus the edits; "
        "*model setting*: only the edits."
    )
    first, first_background = default_choice(services)
    with gr.Row():
        dataset = gr.Dropdown(
            data_files(services, ".json"), value=first, label="Dataset (MQuAKE JSON)", scale=3, elem_id="eval-dataset"
        )
        background = gr.Dropdown(
            [NO_BACKGROUND, *data_files(services, ".tsv")], value=first_background, label="Background facts (TSV)",
            elem_id="eval-background",
        )  # fmt: skip
        upload = gr.File(label="Upload a dataset or background file", file_types=[".json", ".tsv"], scale=2)
    with gr.Row():
        setting = gr.Radio(["kg", "model"], value="kg", label="Setting")
        batches = gr.Textbox(value="1,all", label="Edit-batch sizes (e.g. 1,100,1000,all)", elem_id="eval-batches")
        system = gr.Dropdown(
            systems, value="graph" if "graph" in systems else systems[0], label="System", elem_id="eval-system"
        )
        sample = gr.Number(value=20, precision=0, minimum=0, label="Sample cases (0 = all)", elem_id="eval-sample")
        seed = gr.Number(value=0, precision=0, label="Seed")
        match_mode = gr.Radio([m.value for m in MatchMode], value=MatchMode.EXACT.value, label="Answer matching")
    run_btn = gr.Button("Run evaluation", variant="primary", elem_id="eval-run")
    summary_md = gr.Markdown(elem_id="eval-summary")
    table = gr.Dataframe(headers=RESULT_COLUMNS, interactive=False, label="Results", elem_id="eval-table")
    with gr.Row():
        plots = [
            gr.Image(label=name.removesuffix(".png").replace("_", " "), type="filepath", interactive=False,
                     show_label=True, elem_id=f"eval-plot-{i}")
            for i, name in enumerate(PLOTS)
        ]  # fmt: skip
    reports = gr.File(label="Reports", file_count="multiple", interactive=False)

    @guarded
    def run(
        dataset_name: str | None, background_name: str | None, setting_name: str, batch_text: str,
        system_name: str, sample_size: float | None, seed_value: float | None, match_name: str,
        progress: gr.Progress = gr.Progress(track_tqdm=True),
    ) -> tuple[Any, ...]:  # fmt: skip
        progress(0.0, desc="loading data and the system")
        form = EvalForm(
            dataset_name, background_name, setting_name, batch_text, system_name, sample_size, seed_value, match_name
        )
        return run_evaluation(services, form)

    @guarded
    def add_dataset(uploaded: str | None) -> tuple[Any, Any, None]:
        return add_file(services, uploaded)

    run_btn.click(
        run,
        [dataset, background, setting, batches, system, sample, seed, match_mode],
        [summary_md, table, *plots, reports],
        api_name="evaluate",
        concurrency_id="evaluate",
        concurrency_limit=1,
        show_progress_on=[summary_md],  # one progress bar, not one over every output
    )
    upload.upload(add_dataset, [upload], [dataset, background, upload], api_name="add_dataset")
    return {"dataset": dataset, "background": background}
