"""``kgedit propagate`` / ``revert`` / ``model ...``: push graph edits into a model's weights and back out.

The operations are :class:`app.service.model.ModelService`'s; these commands parse and print. Deltas
live under ``$KGEDIT_HOME/deltas/<model>/`` (the one :class:`~editors.deltas.DeltaFolder`, shared
with the Model tab); every active delta there is applied on top of the base model whenever kgedit
uses that model's weights, and ``revert`` moves one aside.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from app.context import StoreOption, open_store
from app.display import lines, plain
from editors.methods import (
    DEFAULT_BATCH_METHOD,
    DEFAULT_STATS_TOKENS,
    PROJECTED_STATS_TOKENS,
    stats_tokens_for,
)
from kg.errors import InputError

if TYPE_CHECKING:
    from app.service.model import ModelService

model_app = typer.Typer(
    help="Ask, inspect and save the language model with its weight deltas.", no_args_is_help=True
)

ModelOption = Annotated[
    str | None, typer.Option("--model", help="HF causal LM name or folder. Default: settings lm.")
]
StatsTokens = Annotated[
    int | None,
    typer.Option(
        "--stats-tokens",
        help=f"Tokens of text for the statistics (default {DEFAULT_STATS_TOKENS:,}; {PROJECTED_STATS_TOKENS:,} for "
        "projected, whose null space fewer tokens estimate badly).",
    ),
]
StatsSource = Annotated[
    str,
    typer.Option(
        "--stats-source",
        help="Text for the key statistics: python-docs (default), graph (the store's statements), "
        "model (text the model writes; slow on a CPU), or a UTF-8 text file.",
    ),
]


@contextmanager
def model_service(store: str | None = None) -> Iterator[ModelService]:
    """The weight-delta operations over the store one command opened; the store closes on the way out.

    Opened read-only: the model commands only read the edits, so they also work while the app runs."""
    from app.service.model import ModelService

    settings, facts = open_store(store, read_only=True)
    try:
        yield ModelService(settings, facts)
    finally:
        facts.close()


def propagate(
    method: Annotated[
        str,
        typer.Option(
            "--method",
            help="rome (one edit at a time), memit (all at once) or projected (null-space projected, "
            "keeps the edits already in the model; best for many edits made one after another).",
        ),
    ] = DEFAULT_BATCH_METHOD,
    model: ModelOption = None,
    edits: Annotated[
        str, typer.Option("--edits", help="Comma-separated edit ids, or all active edits.")
    ] = "all",
    stats_source: StatsSource = "python-docs",
    stats_tokens: StatsTokens = None,
    store: StoreOption = None,
) -> None:
    """Write the graph's active edits into the model's weights, as a reversible delta.

    The new delta is computed on the model as it is, carrying every active delta, so edits made one
    after another pile up; each stays revertible on its own.
    """
    ids = None if edits.strip() == "all" else [e.strip() for e in edits.split(",") if e.strip()]
    with model_service(store) as service:
        done = service.propagate(model, method, ids, service.stats(stats_source, stats_tokens or stats_tokens_for(method)))
    typer.echo(f"{method.upper()} wrote {len(done.requests)} edit(s) into {service.model_name(model)}: {done.entry.name}")
    for request in done.requests:
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
    if not (delta or retracted):
        raise InputError("name a delta to revert, or pass --retracted")
    with model_service(store) as service:
        reverted = service.revert(model, delta or None, retracted)
    if not reverted:
        typer.echo("nothing to revert")
    for entry in reverted:
        typer.echo(
            f"reverted {entry.name} (edits {', '.join(entry.delta.edit_ids)}); re-propagate edits that should stay"
        )


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
    with model_service() as service:
        answer, count = service.generate(model, prompt, deltas, base, max_new_tokens)
        name = service.model_name(model)
    typer.echo(lines(f"{prompt}{answer}"))
    typer.echo(f"[{name}, {count} delta(s)]", err=True)


@model_app.command("deltas")
def list_deltas(model: ModelOption = None) -> None:
    """List the active deltas of the model: file, method, layers and the edits each carries."""
    with model_service() as service:
        entries = service.deltas(model)
        name = service.model_name(model)
    if not entries:
        typer.echo(f"no active deltas for {name}")
    for entry in entries:
        layers = ",".join(map(str, entry.delta.layers))
        typer.echo(f"{entry.name}\t{entry.delta.method}\tlayers {layers}\tedits {', '.join(entry.delta.edit_ids)}")


@model_app.command("save")
def save(
    out: Annotated[
        Path, typer.Argument(help="Folder to write the edited model to (save_pretrained format).")
    ],
    model: ModelOption = None,
) -> None:
    """Save the model with all its active deltas applied, as a whole model."""
    with model_service() as service:
        count = service.save(model, out)
        name = service.model_name(model)
    typer.echo(f"saved {name} with {count} delta(s) to {out}")


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
    from editors.drift import DriftThresholds

    with model_service(store) as service:
        found = service.status(model, DriftThresholds(min_efficacy, max_perplexity_rise, sample))
    if not found.entries:
        typer.echo(f"{found.model}: no active deltas; the model has its original weights")
        return
    typer.echo(f"{found.model}: {len(found.entries)} active delta(s) carrying {len(found.carried)} edit(s)")
    if found.stale:
        typer.echo(
            f"  {len(found.stale)} carried edit(s) are no longer active; `kgedit revert --retracted` takes them out"
        )
    if found.drift is None:
        return
    typer.echo(f"  drift: {found.drift.line()}")
    if found.drift.drifted:
        typer.echo(
            f"WARNING: the model has drifted: {'; '.join(found.drift.reasons())}. Re-fit all {found.active_edits} "
            "active edit(s) from the graph in one batch: kgedit model refit"
        )


@model_app.command("refit")
def refit(
    method: Annotated[
        str, typer.Option("--method", help="Method of the one batch delta: memit or projected.")
    ] = DEFAULT_BATCH_METHOD,
    model: ModelOption = None,
    stats_source: StatsSource = "python-docs",
    stats_tokens: StatsTokens = None,
    store: StoreOption = None,
) -> None:
    """Replace every active delta by one delta that re-fits all active edits of the graph together.

    The new delta is computed on the original weights first; only then are the old deltas moved to
    reverted/ (kept, so they can be moved back), so a failure changes nothing.
    """
    with model_service(store) as service:
        done = service.refit(model, method, service.stats(stats_source, stats_tokens or stats_tokens_for(method)))
        name = service.model_name(model)
    typer.echo(
        f"re-fitted {done.edits} active edit(s) into {name} with {method.upper()} in one delta: {done.entry.name} "
        f"(replaces {len(done.replaced)} delta(s), moved to reverted/)"
    )
