"""``kgedit index`` and ``kgedit link`` as a user runs them: $KGEDIT_HOME picks the store and the index."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from app.cli import app
from app.config import load_settings
from kg.store import FactStore
from retrieval.index_file import INDEX_FILE
from tests.support import tiny_world


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    monkeypatch.setenv("KGEDIT_HOME", str(home))
    monkeypatch.setenv("KGEDIT_DEVICE", "cpu")
    store = FactStore.open(load_settings().store_url)
    store.import_bundle(tiny_world())
    store.close()
    return home


def kgedit(*args: str, code: int = 0) -> str:
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == code, result.output
    return result.output


@pytest.mark.slow
def test_index_stats_search_and_rebuild(home: Path) -> None:
    assert "exact" in kgedit("index", "stats")
    assert (home / "index" / INDEX_FILE).exists()
    output = kgedit("index", "search", "What is the capital of Italy?", "-k", "2")
    assert "The capital of Italy is Rome." in output and "Q38 P36 Q220" in output
    assert "facts" in kgedit("index", "rebuild")
    assert "no facts found" in kgedit("index", "search", "capital", "--origin", "edit")


@pytest.mark.slow
def test_link_prints_the_mentioned_entities(home: Path) -> None:
    output = kgedit("link", "Who is the head of government of the french republic?", "--no-embeddings")
    assert "Q142" in output and "alias" in output


def test_bad_input_ends_in_one_clear_error(home: Path) -> None:
    result = CliRunner().invoke(app, ["index", "search", "capital", "--origin", "model"])
    assert result.exit_code != 0
    assert "--origin must be 'edit' or 'base'" in str(result.exception)
