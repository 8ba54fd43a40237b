"""The Evaluate tab: run MQuAKE-format data through a system with a live progress bar.

Datasets and background files are picked from the data folder (or uploaded into it); each run writes
its reports (summary.md/json, results.json, plots) into ``data_dir/runs/<run>``, and the tab shows
the metrics table, the plots and the report files to download. Evaluation builds its own in-memory
store for the chosen setting, so it never touches the curated store.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import gradio as gr
import pandas as pd

from app.ui.common import guarded
from app.ui.services import Services
from kg.errors import InputError

NO_BACKGROUND = "(none)"
RESULT_COLUMNS = ["batch", "subset", "cases", "multi-hop acc.", "question acc.", "hop-wise acc.", "edit-wise"]


def data_files(services: Services, suffix: str) -> list[str]:
    """Files of one type under the data folder, as paths relative to it."""
    root = services.settings.data_dir
    if not root.is_dir():
        return []
    skip = {"runs", "exports"}
    return sorted(
        str(p.relative_to(root))
        for p in root.rglob(f"*{suffix}")
        if p.is_file() and p.relative_to(root).parts[0] not in skip
    )


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


def build_evaluate_tab(services: Services) -> dict[str, Any]:
    from qa.matching import MatchMode
    from qa.systems import system_names

    systems = system_names()
    gr.Markdown(
        "Pick a dataset in MQuAKE format from the data folder (or upload one), a setting and edit-batch "
        "sizes. *KG setting*: the store holds the dataset's graph plus the edits; *model setting*: only the edits."
    )
    with gr.Row():
        dataset = gr.Dropdown(
            data_files(services, ".json"),
            label="Dataset (MQuAKE JSON in the data folder)",
            scale=3,
            elem_id="eval-dataset",
        )
        background = gr.Dropdown(
            [NO_BACKGROUND, *data_files(services, ".tsv")],
            value=NO_BACKGROUND,
            label="Background facts (TSV)",
        )
        upload = gr.File(label="Upload a dataset or background file", file_types=[".json", ".tsv"], scale=2)
    with gr.Row():
        setting = gr.Radio(["kg", "model"], value="kg", label="Setting")
        batches = gr.Textbox(
            value="1,all", label="Edit-batch sizes (e.g. 1,100,1000,all)", elem_id="eval-batches"
        )
        system = gr.Dropdown(systems, value="graph" if "graph" in systems else systems[0], label="System")
        sample = gr.Number(
            value=20, precision=0, minimum=0, label="Sample cases (0 = all)", elem_id="eval-sample"
        )
        seed = gr.Number(value=0, precision=0, label="Seed")
        match_mode = gr.Radio(
            [m.value for m in MatchMode], value=MatchMode.EXACT.value, label="Answer matching"
        )
    run_btn = gr.Button("Run evaluation", variant="primary", elem_id="eval-run")
    summary_md = gr.Markdown(elem_id="eval-summary")
    table = gr.Dataframe(headers=RESULT_COLUMNS, interactive=False, label="Results", elem_id="eval-table")
    plots = gr.Gallery(label="Plots", columns=2, height=440, object_fit="contain")
    reports = gr.File(label="Reports", file_count="multiple", interactive=False)

    @guarded
    def add_file(uploaded: str | None) -> tuple[Any, Any, str | None]:
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

    @guarded
    def run(
        dataset_name: str,
        background_name: str,
        setting_name: str,
        batch_text: str,
        system_name: str,
        sample_size: float | None,
        seed_value: float | None,
        match_name: str,
        progress: gr.Progress = gr.Progress(track_tqdm=True),
    ) -> tuple[str, pd.DataFrame, list[str], list[str]]:
        from qa.evaluate import EvalRequest, run_mquake
        from qa.harness import HarnessConfig, Setting, parse_batch_sizes
        from qa.report import markdown

        if not dataset_name:
            raise InputError("choose a dataset first (upload one if the list is empty)")
        data = services.data_path(dataset_name)
        if not data.is_file():
            raise InputError(f"{dataset_name}: no such file in the data folder")
        extra = None if background_name in ("", NO_BACKGROUND, None) else services.data_path(background_name)
        if system_name not in system_names():
            raise InputError(f"unknown system {system_name!r}")
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
        out = services.data_path("exports", "runs", f"{stamp}-{system_name}-{setting_name}")
        request = EvalRequest(
            dataset=data,
            config=HarnessConfig(
                Setting(setting_name), parse_batch_sizes(batch_text or ""), MatchMode(match_name)
            ),
            system=system_name,
            out=out,
            context=services.system_context(),
            background=extra,
            sample=int(sample_size) if sample_size else None,
            seed=int(seed_value or 0),
            fresh=True,
            progress=True,
        )
        progress(0.0, desc="loading data and the system")
        summary = run_mquake(request)
        text = markdown({**summary, "dataset": Path(dataset_name).name}).replace("\n## ", "\n#### ")
        text = "### " + text.removeprefix("# ")
        files = sorted(str(p) for p in out.iterdir() if p.suffix in (".md", ".json", ".png"))
        pictures = [f for f in files if f.endswith(".png")]
        return text, results_frame(summary), pictures, files

    run_btn.click(
        run,
        [dataset, background, setting, batches, system, sample, seed, match_mode],
        [summary_md, table, plots, reports],
        api_name="evaluate",
        concurrency_id="evaluate",
        concurrency_limit=1,
    )
    upload.upload(add_file, [upload], [dataset, background, upload], api_name="add_dataset")
    return {"dataset": dataset, "background": background}
