"""The README says which answering systems each command takes, and the commands agree."""

from __future__ import annotations

import re
from pathlib import Path

from typer.testing import CliRunner

from app.cli import app

README = Path(__file__).resolve().parents[2] / "README.md"


def _ask_systems() -> list[str]:
    text = " ".join(README.read_text(encoding="utf-8").split())
    sentence = re.search(r"`kgedit ask` answers with (.*?);", text)
    assert sentence, "the README no longer says which systems kgedit ask takes"
    return re.findall(r"`(\w+)`", sentence.group(1))


def test_every_system_the_readme_gives_ask_is_accepted_and_no_other(tmp_path: Path) -> None:
    documented = _ask_systems()
    assert documented == ["auto", "graph", "mello"]
    for line in README.read_text(encoding="utf-8").splitlines():
        used = re.search(r"kgedit ask .*--system (\w+)", line)
        if used:
            assert used.group(1) in documented, line
    refused = CliRunner().invoke(app, ["ask", "x", "--system", "weights", "--store", "memory:"])
    assert refused.exit_code != 0 and "auto, graph or mello" in refused.output + str(refused.exception)
