"""User text reaches the terminal as plain, visible text through every ``kgedit kg`` command.

Labels and notes with rich markup, ANSI escapes, hyperlinks, bidi overrides and 100 KB values:
each command exits 0, prints the text literally (control characters as escapes, long values cut
with a note), and never leaves an orphan entity behind.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from kg.store import FactStore
from tests.robustness.cli_runner import kgedit
from tests.support import DEV_DIR

HOSTILE = [
    "[/green]",
    "[/]",
    "Mercury [planet]",
    "[link=http://evil.example]click[/link]",
    "[bold red]loud[/bold red]",
    ":smile: :warning:",
    "\x1b[31mred\x1b[0m",
    "\x1b]8;;http://evil.example\x07hidden\x1b]8;;\x07",
    "\u202eevil\u202c",
    "bell\x07 and backspace\x08",
]


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Path:
    monkeypatch.setenv("KGEDIT_HOME", str(tmp_path / "home"))
    for name in ("relations.tsv", "background.tsv"):
        assert kgedit(capsys, "kg", "import", str(DEV_DIR / name)).code == 0
    return tmp_path / "home"


def _assert_plain(text: str) -> None:
    assert "\x1b" not in text and "\x07" not in text and "\u202e" not in text, repr(text[:300])


@pytest.mark.parametrize("label", HOSTILE)
def test_hostile_label_and_note_print_literally_through_every_kg_command(
    home: Path, capsys: pytest.CaptureFixture[str], label: str
) -> None:
    added = kgedit(capsys, "kg", "add", "United States of America", "official language", label, "--note", label)
    assert added.code == 0, added.err
    _assert_plain(added.out)
    shown_label = label.encode("ascii", "backslashreplace").decode() if label.isascii() else label
    if "\x1b" not in label and "\x07" not in label and "\u202e" not in label:
        assert label in added.out, added.out  # markup is shown, not interpreted
    else:
        assert "\\x1b" in added.out or "\\x07" in added.out or "\\u202e" in added.out, (shown_label, added.out)
    runs = [
        kgedit(capsys, "kg", "show", "United States of America"),
        kgedit(capsys, "kg", "history", "E:United_States_of_America", "P37"),
        kgedit(capsys, "kg", "edits"),
        kgedit(capsys, "kg", "conflicts"),
        kgedit(capsys, "kg", "stats"),
        kgedit(capsys, "kg", "show", label),
        kgedit(capsys, "link", f"Where is {label} spoken?", "--no-embeddings"),
        kgedit(capsys, "kg", "export", str(home / "out.tsv")),
        kgedit(capsys, "kg", "retract", "E1"),
    ]
    for run in runs:
        assert run.code == 0, run.err
        _assert_plain(run.out + run.err)
    assert "[planet]" in runs[0].out or label != "Mercury [planet]"


def test_markup_in_a_subject_name_that_does_not_exist_is_one_clear_error(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = kgedit(capsys, "kg", "show", "[/green]\x1b[2J")
    assert run.code == 2
    assert "no entity is called" in run.err and "[/green]" in run.err
    _assert_plain(run.err)


def test_a_100kb_label_is_added_once_and_printed_shortened(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    label = "Grand Duchy " + "of Everything " * 7_500
    added = kgedit(capsys, "kg", "add", "United States of America", "official language", label)
    assert added.code == 0, added.err
    assert "more characters" in added.out and len(added.out) < 3_000
    shown = kgedit(capsys, "kg", "show", "United States of America")
    assert 0 < shown.out.count("Everything") < 30 and len(shown.out) < 20_000  # wrapped in a table cell
    store = FactStore.open(f"oxigraph:{home / 'store'}")
    try:
        assert [e.label for e in store.find_entities(label.strip())] == [label.strip()]
    finally:
        store.close()


def test_kg_add_with_a_new_object_is_one_transaction(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """An edit refused after the new object's entity was prepared leaves no orphan entity."""
    assert kgedit(capsys, "kg", "add", "United States of America", "capital", "Philadelphia").code == 0
    before = kgedit(capsys, "kg", "stats").out
    refused = kgedit(capsys, "kg", "add", "United States of America", "capital", "New Philadelphia", "--strict", "--new")
    assert refused.code == 2 and "disagrees with active edit" in refused.err
    assert kgedit(capsys, "kg", "stats").out == before
    assert kgedit(capsys, "kg", "show", "New Philadelphia").code == 2


def test_an_argument_that_is_not_utf8_is_refused_by_name(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = kgedit(capsys, "kg", "stats").out
    run = kgedit(capsys, "kg", "add", "United States of America", "capital", "Bad\udcffname")
    assert run.code == 2 and "argument 5" in run.err and "not valid UTF-8" in run.err
    assert kgedit(capsys, "kg", "stats").out == before


def test_an_answer_naming_a_hostile_label_prints_as_plain_text(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    label = "\x1b[31mRed[/green] City [link=http://evil.example]x[/link]"
    assert kgedit(capsys, "kg", "add", "United States of America", "capital", label).code == 0
    run = kgedit(capsys, "ask", "What is the capital of the United States of America?", "--explain", "--system", "graph")
    assert run.code == 0, run.err
    _assert_plain(run.out + run.err)
    assert "\\x1b[31mRed[/green] City [link=http://evil.example]x[/link]" in run.out
    for args in (["index", "search", "capital of the United States"], ["kg", "relations"]):
        listed = kgedit(capsys, *args)
        assert listed.code == 0, listed.err
        _assert_plain(listed.out + listed.err)
