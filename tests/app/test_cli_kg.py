"""The ``kgedit kg`` commands as a curator uses them: $KGEDIT_HOME alone picks the store."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from app.cli import app
from tests.support import DEV_DIR

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("KGEDIT_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def kgedit(*args: str) -> str:
    result = CliRunner().invoke(app, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_import_then_stats_use_the_home_store(home: Path) -> None:
    kgedit("kg", "import", str(DEV_DIR / "relations.tsv"))
    kgedit("kg", "import", str(DEV_DIR / "background.tsv"))
    output = kgedit("kg", "stats")
    assert "base facts: 400" in output and "relations: 36" in output
    assert (home / "store").is_dir()


def test_add_show_history_retract_cycle(home: Path) -> None:
    kgedit("kg", "import", str(DEV_DIR / "relations.tsv"))
    kgedit("kg", "import", str(DEV_DIR / "background.tsv"))
    added = kgedit("kg", "add", "United States of America", "official language", "Klingon", "--note", "test")
    assert "created entity kg:Klingon" in added and "E1" in added
    assert "Klingon" in kgedit("kg", "show", "United States of America")
    assert "E1" in kgedit("kg", "history", "E:United_States_of_America", "P37")
    assert "E1" in kgedit("kg", "edits", "--status", "active")
    assert "retracted E1" in kgedit("kg", "retract", "E1")
    assert "no conflicts" in kgedit("kg", "conflicts")


def test_export_writes_the_requested_format(home: Path, tmp_path: Path) -> None:
    kgedit("kg", "demo")
    out = tmp_path / "graph.ttl"
    assert "wrote" in kgedit("kg", "export", str(out))
    text = out.read_text()
    assert "@prefix rel: <http://kgedit.org/relation/>" in text and "rel:P36" in text


def run_cli(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "KGEDIT_HOME": str(home), "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args], capture_output=True, text=True, env=env, cwd=ROOT
    )


def test_user_mistakes_get_one_clear_line_and_exit_2(home: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.tsv"
    bad.write_text("Q1\tFrance\tP36\n")
    result = run_cli(home, "kg", "import", str(bad))
    assert result.returncode == 2
    assert "expected 6 tab-separated columns" in result.stderr
    assert "Traceback" not in result.stderr
    result = run_cli(home, "kg", "retract", "E42")
    assert result.returncode == 2 and "unknown edit id 'E42'" in result.stderr


def test_help_lists_every_kg_command() -> None:
    output = kgedit("kg", "--help")
    for command in ("add", "retract", "show", "history", "conflicts", "stats", "import", "export"):
        assert command in output


def test_show_marks_the_facts_pointing_to_the_entity_as_incoming(home: Path) -> None:
    kgedit("kg", "demo")
    output = kgedit("kg", "show", "Berlin")
    assert "incoming: facts pointing to Berlin" in output
    assert "Germany (country:DEU)" in output and "capital" in output


def test_restoring_a_full_backup_prints_the_edits_it_restored(home: Path, tmp_path: Path) -> None:
    kgedit("kg", "demo")
    kgedit("kg", "add", "Germany", "capital", "Paris")
    kgedit("kg", "add", "France", "capital", "Berlin")
    backup = tmp_path / "backup.nq"
    kgedit("kg", "export", str(backup))
    restored = kgedit("kg", "import", str(backup), "--store", "memory:")
    assert ", 2 edits from" in restored


def test_a_misspelt_object_is_refused_naming_the_close_label_until_new_is_given(home: Path) -> None:
    kgedit("kg", "demo")
    result = run_cli(home, "kg", "add", "Germany", "currency", "Eurro")
    assert result.returncode == 2, result.stdout
    assert "'Euro' (currency:EUR)" in result.stderr and "--new" in result.stderr
    assert "Eurro" not in kgedit("kg", "show", "Germany")
    assert "created entity kg:Eurro" in kgedit("kg", "add", "Germany", "currency", "Eurro", "--new")


def test_adding_the_current_fact_again_is_refused(home: Path) -> None:
    kgedit("kg", "demo")
    result = run_cli(home, "kg", "add", "Germany", "currency", "Euro")
    assert result.returncode == 2 and "already the current fact; nothing was written" in result.stderr
    assert "edits: none" in kgedit("kg", "stats")
