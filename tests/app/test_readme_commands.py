"""Every ``kgedit`` command line the README shows names a real command and real options."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import typer
from typer.testing import CliRunner

from app.cli import app

README = Path(__file__).resolve().parents[2] / "README.md"


def documented_lines() -> list[str]:
    """The ``kgedit ...`` lines of the README's shell blocks, continuation lines joined."""
    lines: list[str] = []
    for block in re.findall(r"```sh\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.S):
        joined = re.sub(r"\\\n\s*", " ", block)
        lines += [line.split("  #")[0].strip() for line in joined.splitlines() if line.startswith("kgedit ")]
    return lines


def command_of(words: list[str]) -> tuple[list[str], Any]:
    """The command path the words start with, and its command (Typer's own click types)."""
    command: Any = typer.main.get_command(app)
    path: list[str] = []
    for word in words:
        if word not in getattr(command, "commands", {}):
            break
        command = command.commands[word]
        path.append(word)
    return path, command


def test_every_documented_command_exists_takes_its_options_and_has_help() -> None:
    lines = documented_lines()
    assert len(lines) > 20
    for line in lines:
        words = shlex.split(line.replace("...", "x"))[1:]
        path, command = command_of(words)
        assert path, f"README: {line!r} names no kgedit command"
        known = {name for param in command.params for name in (*param.opts, *param.secondary_opts)}
        for word in words[len(path):]:
            if word.startswith("--"):
                assert word.split("=")[0] in known, f"README: {line!r}: {' '.join(path)} has no option {word}"
        result = CliRunner().invoke(app, [*path, "--help"])
        assert result.exit_code == 0, f"{' '.join(path)} --help: {result.output}"


def leaf_commands(command: Any, path: tuple[str, ...] = ()) -> list[str]:
    """Every runnable ``kgedit`` command, as its words ("kg add", "model deltas")."""
    subcommands = getattr(command, "commands", None)
    if not subcommands:
        return [" ".join(path)]
    return [leaf for name, sub in subcommands.items() for leaf in leaf_commands(sub, (*path, name))]


def test_every_command_of_the_cli_is_in_the_readme() -> None:
    documented = {" ".join(command_of(shlex.split(line.replace("...", "x"))[1:])[0]) for line in documented_lines()}
    missing = sorted(set(leaf_commands(typer.main.get_command(app))) - documented)
    assert not missing, f"README's command list lacks: {', '.join(missing)}"
