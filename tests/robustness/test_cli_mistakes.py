"""Ordinary mistakes at the command line end in one clear line and exit status 2, never a traceback
or a hang, and change nothing."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.robustness.cli_runner import kgedit
from tests.support import DEV_DIR

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Path:
    monkeypatch.setenv("KGEDIT_HOME", str(tmp_path / "home"))
    assert kgedit(capsys, "kg", "import", str(DEV_DIR / "relations.tsv")).code == 0
    return tmp_path / "home"


def _refused(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    run = kgedit(capsys, *args)
    assert run.code == 2, (run.code, run.out, run.err)
    assert run.err.startswith("error: ") and run.err.count("\n") == 1, run.err
    return run.err


def test_export_mistakes_are_one_line_each(home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert "is a folder" in _refused(capsys, "kg", "export", str(tmp_path))
    assert "no such folder" in _refused(capsys, "kg", "export", str(tmp_path / "nope" / "out.nq"))
    assert "not a regular file" in _refused(capsys, "kg", "export", "/dev/null", "--format", "tsv")
    assert Path("/dev/null").is_char_device()


def test_import_of_a_folder_or_a_fifo_is_refused_without_reading_it(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert "is a folder" in _refused(capsys, "kg", "import", str(tmp_path))
    fifo = tmp_path / "pipe.tsv"
    os.mkfifo(fifo)
    # In a child process with a time limit: a reader that opened the FIFO would block forever.
    child = subprocess.run(
        [sys.executable, "-m", "app.cli", "kg", "import", str(fifo)],
        capture_output=True, text=True, timeout=120, cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    assert child.returncode == 2 and "not a regular file" in child.stderr, child.stderr
    assert "Traceback" not in child.stderr


def test_deeply_nested_json_is_an_input_error(home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for name in ("cases.json", "edits.json"):
        path = tmp_path / name
        path.write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")
        fmt = "mquake" if name == "cases.json" else "easyedit"
        assert "nested too deeply" in _refused(capsys, "kg", "import", str(path), "--format", fmt)


def test_json_with_a_byte_order_mark_imports(home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert kgedit(capsys, "kg", "import", str(DEV_DIR / "background.tsv")).code == 0
    path = tmp_path / "edits.json"
    body = '[{"prompt": "The capital of {} is", "subject": "France", "target_new": "Lyon"}]'
    path.write_bytes("\ufeff".encode() + body.encode())
    run = kgedit(capsys, "kg", "import", str(path), "--format", "easyedit")
    assert run.code == 0, run.err
    assert "1 edits" in run.out


def test_kgedit_home_that_is_a_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                    capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    target = tmp_path / "home"
    target.write_text("not a folder", encoding="utf-8")
    monkeypatch.setenv("KGEDIT_HOME", str(target))
    assert "is a file, not a folder" in _refused(capsys, "kg", "stats")
    assert target.read_text(encoding="utf-8") == "not a folder"
