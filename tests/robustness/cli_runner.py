"""Run ``kgedit`` in-process the way the shell does, through ``app.cli.main``.

``main`` is what turns a KgeditError into one line and exit status 2; any other exception escapes
from here as a traceback would in a terminal, which the robustness tests count as a failure.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

import pytest

from app.cli import main


@dataclass(frozen=True)
class Run:
    code: int
    out: str
    err: str


def kgedit(capsys: pytest.CaptureFixture[str], *args: str) -> Run:
    capsys.readouterr()
    saved = sys.argv
    sys.argv = ["kgedit", *args]
    try:
        main()
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    finally:
        sys.argv = saved
    captured = capsys.readouterr()
    return Run(code, captured.out, captured.err)
