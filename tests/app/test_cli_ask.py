"""``kgedit ask --file --json`` end to end: one JSON object per question, models loaded once."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from app.cli import app
from kg.errors import InputError
from tests.qa.test_question_shapes import shapes_store


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("KGEDIT_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    return tmp_path / "home"


def test_ask_file_json_writes_one_object_per_question(home: Path, tmp_path: Path) -> None:
    questions = tmp_path / "questions.txt"
    questions.write_text(
        "What is the capital of Peru?\n\nWhich country has Lima as its capital?\nWhat is the population of Chile?\n",
        encoding="utf-8",
    )
    runner = CliRunner()
    setup = runner.invoke(app, ["kg", "import", str(_tsv(tmp_path))], catch_exceptions=False)
    assert setup.exit_code == 0, setup.output
    result = runner.invoke(app, ["ask", "--file", str(questions), "--json", "--system", "graph"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    lines = [json.loads(line[line.index('{"question"') :]) for line in result.output.splitlines() if '{"question"' in line]
    assert [r["question"] for r in lines] == [
        "What is the capital of Peru?",
        "Which country has Lima as its capital?",
        "What is the population of Chile?",
    ]
    capital, inverse, population = lines
    assert capital["answer"] == "Lima" and capital["answers"] == ["Lima"] and capital["grounded"]
    assert not capital["abstained"] and capital["seconds"] >= 0
    hop = capital["hops"][0]
    assert (hop["subject"], hop["relation"], hop["object"], hop["origin"], hop["inverse"]) == ("Peru", "P36", "Lima", "base", False)
    assert inverse["answer"] == "Peru" and inverse["hops"][0]["inverse"] is True
    assert population["abstained"] and population["answer"] == "" and population["answers"] == []
    assert not population["grounded"] and population["reason"]


def test_ask_needs_a_question_or_a_file(home: Path, tmp_path: Path) -> None:
    # kgedit's main() turns these InputErrors into one line and exit status 2
    result = CliRunner().invoke(app, ["ask"])
    assert isinstance(result.exception, InputError) and "either a question or --file" in str(result.exception)
    empty = tmp_path / "empty.txt"
    empty.write_text("\n\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["ask", "--file", str(empty)])
    assert isinstance(result.exception, InputError) and "no questions" in str(result.exception)


def _tsv(folder: Path) -> Path:
    """The shapes graph as a labelled-triple TSV with its relations (what ``kgedit kg import`` reads)."""
    store = shapes_store()
    label = {e.id: e.label for e in store.entities()}
    names = {r.id: r.label for r in store.relations()}
    rows = [
        f"{f.subject}\t{label[f.subject]}\t{f.relation}\t{names[f.relation]}\t{f.object}\t{label[f.object]}"
        for f in store.current_facts()
    ]
    path = folder / "shapes.tsv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path
