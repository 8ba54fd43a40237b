"""Atomic file replacement, for every file kgedit derives and saves (indexes, statistics, deltas, reports).

Readers see the old file or the new one, never half of one: the data goes to a temp file beside the
target, is fsynced, then moved over it with ``os.replace``. A derived folder (a converted model) is
filled beside its place and moved in with :func:`replacing_folder`. Exports to a path the user names and append-only
journals are the writers that do not come here.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def replacing(path: Path, suffix: str = ".tmp") -> Iterator[Path]:
    """A temp path to write; on success it replaces ``path``, on error it is removed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix, dir=path.parent)
    os.close(fd)
    temp = Path(name)
    try:
        yield temp
        with open(temp, "rb") as handle:
            os.fsync(handle.fileno())
        os.chmod(temp, 0o644)  # mkstemp makes files private; these are ordinary data files
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


@contextmanager
def replacing_folder(path: Path) -> Iterator[Path]:
    """A temp folder to fill; on success it takes the place of ``path``, on error it is removed.

    A folder cannot be renamed over a non-empty one, so the old folder is first moved aside and
    deleted once the new one is in place: ``path`` is briefly absent, but never half written.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=path.parent))
    try:
        yield temp
        temp.chmod(0o755)  # mkdtemp makes folders private; these are ordinary data folders
        aside = path.with_name(f".{path.name}.old")
        shutil.rmtree(aside, ignore_errors=True)
        if path.exists():
            os.replace(path, aside)
        os.replace(temp, path)
        shutil.rmtree(aside, ignore_errors=True)
    except BaseException:
        shutil.rmtree(temp, ignore_errors=True)
        raise


def write_bytes(path: Path, data: bytes) -> None:
    with replacing(path) as temp:
        temp.write_bytes(data)


def write_text(path: Path, text: str) -> None:
    with replacing(path) as temp:
        temp.write_text(text, encoding="utf-8")
