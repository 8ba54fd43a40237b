"""``kgedit propagate`` / ``revert`` / ``model ...``: push graph edits into a model's weights and back out.

Deltas live under ``$KGEDIT_HOME/deltas/<model>/``; every active delta there is applied on top of
the base model whenever kgedit uses that model's weights, and ``revert`` moves one aside.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from app.config import Settings
from app.context import StoreOption, open_store, settings_for
from app.display import lines, plain
from editors.methods import DEFAULT_STATS_TOKENS, METHODS
from kg.errors import InputError
from kg.records import EditStatus
from kg.store import FactStore

if TYPE_CHECKING:
    from editors.lm import LanguageModel
    from editors.stats import TextSample
    from editors.weights import StatsSettings

model_app = typer.Typer(
    help="Ask, inspect and save the language model with its weight deltas.", no_args_is_help=True
)

ModelOption = Annotated[
    str | None, typer.Option("--model", help="HF causal LM name or folder. Default: settings lm.")
]
StatsTokens = Annotated[int, typer.Option("--stats-tokens", help="Tokens of text for the statistics.")]
StatsSource = Annotated[
    str,
    typer.Option(
        "--stats-source",
        help="Text for the key statistics: python-docs (default), graph (the store's statements), "
        "model (text the model writes; slow on a CPU), or a UTF-8 text file.",
    ),
]


def _lm(settings: Settings, model: str | None) -> LanguageModel:
    from editors.lm import load_lm

    return load_lm(model or settings.lm, cache_dir=settings.cache_dir, device=settings.device)


def _stats(source: str, tokens: int, store: FactStore) -> StatsSettings:
    from editors.weights import StatsSettings

    if source in ("python-docs", "model"):
        return StatsSettings(tokens=tokens, from_model=source == "model")
    return StatsSettings(tokens=tokens, sample=_sample(source, store))


def _sample(source: str, store: FactStore) -> TextSample:
    from editors.stats import sample_from_file, sample_from_statements

    if source == "graph":
        relations = {r.id: r for r in store.relations()}
        labels = {e.id: e.label for e in store.entities()}
        return sample_from_statements(
            relations[f.relation].statement(labels.get(f.subject, f.subject), labels.get(f.object, f.object))
            for f in store.current_facts()
            if f.relation in relations
        )
    return sample_from_file(Path(source))


def propagate(
    method: Annotated[
        str,
        typer.Option(
            "--method",
            help="rome (one edit at a time), memit (all at once) or projected (null-space projected, "
            "keeps the edits already in the model; best for many edits made one after another).",
        ),
    ] = "memit",
    model: ModelOption = None,
    edits: Annotated[
        str, typer.Option("--edits", help="Comma-separated edit ids, or all active edits.")
    ] = "all",
    stats_source: StatsSource = "python-docs",
    stats_tokens: StatsTokens = DEFAULT_STATS_TOKENS,
    store: StoreOption = None,
) -> None:
    """Write the graph's active edits into the model's weights, as a reversible delta.

    The new delta is computed on the model as it is, carrying every active delta, so edits made one
    after another pile up; each stays revertible on its own.
    """
    from editors.deltas import DeltaFolder, WeightDelta
    from editors.requests import requests_from_store
    from editors.weights import WeightEditor

    if method not in METHODS:
        raise InputError(f"--method must be one of {', '.join(METHODS)}, got {method!r}")
    settings, facts = open_store(store)
    ids = None if edits.strip() == "all" else [e.strip() for e in edits.split(",") if e.strip()]
    requests = requests_from_store(facts, ids)
    lm = _lm(settings, model)
    folder = DeltaFolder(settings.deltas_dir, lm.name)
    editor = WeightEditor(lm, settings.cache_dir, _stats(stats_source, stats_tokens, facts))
    for path in folder.active():  # edits pile up on the deltas already in the model
        editor.apply(WeightDelta.load(path))
    delta = editor.compute(requests, method)
    path = folder.add(delta)
    typer.echo(f"{method.upper()} wrote {len(requests)} edit(s) into {lm.name}: {path.name}")
    for request in requests:
        typer.echo(f"  {request.edit_id}: {plain(request.prompt)} -> {plain(request.target_new)}")


def revert(
    delta: Annotated[
        str, typer.Argument(help="Delta file or name, as listed by `kgedit model deltas`.")
    ] = "",
    retracted: Annotated[
        bool, typer.Option("--retracted", help="Revert every delta that carries an edit no longer active.")
    ] = False,
    model: ModelOption = None,
    store: StoreOption = None,
) -> None:
    """Take a delta out of the model (its file moves to reverted/, so it can be restored)."""
    from editors.deltas import DeltaFolder, WeightDelta

    settings = settings_for(store)
    name = model or settings.lm
    folder = DeltaFolder(settings.deltas_dir, name)
    if retracted:
        _, facts = open_store(store)
        inactive = {e.id for e in facts.edits() if e.status is not EditStatus.ACTIVE}
        paths = folder.carrying(inactive)
    elif delta:
        paths = [folder.find(delta)]
    else:
        raise InputError("name a delta to revert, or pass --retracted")
    if not paths:
        typer.echo("nothing to revert")
    for path in paths:
        carried = WeightDelta.load(path).edit_ids
        folder.revert(path)
        typer.echo(f"reverted {path.name} (edits {', '.join(carried)}); re-propagate edits that should stay")


@model_app.command("ask")
def ask(
    prompt: Annotated[str, typer.Argument(help="Text for the model to continue.")],
    deltas: Annotated[
        list[str] | None,
        typer.Option("--deltas", help="Apply only these deltas (repeatable). Default: all active."),
    ] = None,
    base: Annotated[bool, typer.Option("--base", help="Ask the model without any delta.")] = False,
    max_new_tokens: Annotated[int, typer.Option("--max-new-tokens")] = 24,
    model: ModelOption = None,
) -> None:
    """Greedy continuation of PROMPT by the model with its weight deltas."""
    from editors.deltas import DeltaFolder, WeightDelta
    from editors.weights import WeightEditor

    settings = settings_for()
    lm = _lm(settings, model)
    folder = DeltaFolder(settings.deltas_dir, lm.name)
    paths = [] if base else [folder.find(d) for d in deltas] if deltas else folder.active()
    editor = WeightEditor(lm, settings.cache_dir)
    with editor.applied(*(WeightDelta.load(p) for p in paths)):
        answer = lm.generate(prompt, max_new_tokens=max_new_tokens, stop=("\n",))
    typer.echo(lines(f"{prompt}{answer}"))
    typer.echo(f"[{lm.name}, {len(paths)} delta(s)]", err=True)


@model_app.command("deltas")
def list_deltas(model: ModelOption = None) -> None:
    """List the active deltas of the model: file, method, layers and the edits each carries."""
    from editors.deltas import DeltaFolder, WeightDelta

    settings = settings_for()
    folder = DeltaFolder(settings.deltas_dir, model or settings.lm)
    paths = folder.active()
    if not paths:
        typer.echo(f"no active deltas for {folder.model}")
    for path in paths:
        delta = WeightDelta.load(path)
        layers = ",".join(map(str, delta.layers))
        typer.echo(f"{path.name}\t{delta.method}\tlayers {layers}\tedits {', '.join(delta.edit_ids)}")


@model_app.command("save")
def save(
    out: Annotated[
        Path, typer.Argument(help="Folder to write the edited model to (save_pretrained format).")
    ],
    model: ModelOption = None,
) -> None:
    """Save the model with all its active deltas applied, as a whole model."""
    from editors.deltas import DeltaFolder, WeightDelta
    from editors.weights import WeightEditor

    settings = settings_for()
    lm = _lm(settings, model)
    paths = DeltaFolder(settings.deltas_dir, lm.name).active()
    editor = WeightEditor(lm, settings.cache_dir)
    with editor.applied(*(WeightDelta.load(p) for p in paths)):
        lm.model.save_pretrained(str(out))
        lm.tokenizer.save_pretrained(str(out))
    typer.echo(f"saved {lm.name} with {len(paths)} delta(s) to {out}")


@model_app.command("status")
def status(
    model: ModelOption = None,
    sample: Annotated[int, typer.Option("--sample", help="Active edits checked for efficacy.")] = 40,
    min_efficacy: Annotated[
        float, typer.Option("--min-efficacy", help="Warn when fewer sampled edits than this still hold.")
    ] = 0.9,
    max_perplexity_rise: Annotated[
        float, typer.Option("--max-perplexity-rise", help="Warn when perplexity on fixed text rises more.")
    ] = 0.10,
    store: StoreOption = None,
) -> None:
    """Active deltas and the model's measured drift; past a threshold, offers `kgedit model refit`."""
    from editors.deltas import DeltaFolder, WeightDelta
    from editors.drift import DriftThresholds, measure_drift
    from editors.requests import requests_from_store
    from editors.weights import WeightEditor

    settings, facts = open_store(store)
    folder = DeltaFolder(settings.deltas_dir, model or settings.lm)
    paths = folder.active()
    if not paths:
        typer.echo(f"{folder.model}: no active deltas; the model has its original weights")
        return
    deltas = [WeightDelta.load(p) for p in paths]
    active = {e.id for e in facts.edits(EditStatus.ACTIVE)}
    carried = list(dict.fromkeys(i for d in deltas for i in d.edit_ids))
    stale = [i for i in carried if i not in active]
    typer.echo(f"{folder.model}: {len(paths)} active delta(s) carrying {len(carried)} edit(s)")
    if stale:
        typer.echo(
            f"  {len(stale)} carried edit(s) are no longer active; `kgedit revert --retracted` takes them out"
        )
    live = [i for i in carried if i in active]
    if not live:
        return
    lm = _lm(settings, model)
    thresholds = DriftThresholds(min_efficacy, max_perplexity_rise, sample)
    report = measure_drift(
        WeightEditor(lm, settings.cache_dir), deltas, requests_from_store(facts, live), thresholds
    )
    typer.echo(f"  drift: {report.line()}")
    if report.drifted:
        typer.echo(
            f"WARNING: the model has drifted: {'; '.join(report.reasons())}. Re-fit all {len(active)} active "
            "edit(s) from the graph in one batch: kgedit model refit"
        )


@model_app.command("refit")
def refit(
    method: Annotated[
        str, typer.Option("--method", help="Method of the one batch delta: memit or projected.")
    ] = "memit",
    model: ModelOption = None,
    stats_source: StatsSource = "python-docs",
    stats_tokens: StatsTokens = DEFAULT_STATS_TOKENS,
    store: StoreOption = None,
) -> None:
    """Replace every active delta by one delta that re-fits all active edits of the graph together.

    The new delta is computed on the original weights first; only then are the old deltas moved to
    reverted/ (kept, so they can be moved back), so a failure changes nothing.
    """
    from editors.deltas import DeltaFolder
    from editors.requests import requests_from_store
    from editors.weights import WeightEditor

    if method not in ("memit", "projected"):
        raise InputError(f"--method must be memit or projected (a batch method), got {method!r}")
    settings, facts = open_store(store)
    requests = requests_from_store(facts)
    lm = _lm(settings, model)
    folder = DeltaFolder(settings.deltas_dir, lm.name)
    delta = WeightEditor(lm, settings.cache_dir, _stats(stats_source, stats_tokens, facts)).compute(
        requests, method
    )
    old = folder.active()
    for path in old:
        folder.revert(path)
    path = folder.add(delta)
    typer.echo(
        f"re-fitted {len(requests)} active edit(s) into {lm.name} with {method.upper()} in one delta: {path.name} "
        f"(replaces {len(old)} delta(s), moved to reverted/)"
    )
