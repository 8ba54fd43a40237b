"""The ``kgedit`` command line: one Typer app with a sub-command group per area.

User mistakes end in one clear sentence on stderr and exit status 2, never a traceback.
"""

from __future__ import annotations

import logging
import sys

import typer

from app.cli_ask import ask, train_qa
from app.cli_eval import bench_app, eval_app
from app.cli_index import index_app, link
from app.cli_kg import kg_app
from app.cli_model import model_app, propagate, revert
from app.cli_serve import serve
from app.display import errors, invalid_argument, lines
from kg.errors import KgeditError

app = typer.Typer(
    help="kgedit: edit the facts behind multi-hop question answering, with history and undo.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(kg_app, name="kg")
app.add_typer(index_app, name="index")
app.command("link")(link)
app.add_typer(eval_app, name="eval")
app.add_typer(bench_app, name="bench")
app.command("serve")(serve)
app.command("ask")(ask)
app.command("train-qa")(train_qa)
app.command("propagate")(propagate)
app.command("revert")(revert)
app.add_typer(model_app, name="model")


@app.callback()
def _root(verbose: bool = typer.Option(False, "--verbose", "-v", help="Log progress details.")) -> None:
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING, format="%(levelname)s %(message)s"
    )


def main() -> None:
    bad = invalid_argument()
    if bad:
        errors.print(f"error: {bad}", style="red")
        sys.exit(2)
    try:
        app()
    except KgeditError as exc:
        errors.print(f"error: {lines(str(exc))}", style="red")
        sys.exit(2)
    except KeyboardInterrupt:
        errors.print("interrupted")
        sys.exit(130)


if __name__ == "__main__":
    main()
