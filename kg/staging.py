"""Swapping a fully written copy of an on-disk store in place of the store, all-or-nothing.

Bulk loaders (pyoxigraph's ``bulk_extend``) are fast because they skip the transaction log, which
also means a kill half-way leaves half the data. So a bulk import writes a complete copy of the
store into ``STORE.staging`` and only then swaps folders:

1. ``STORE.staging`` is written and closed;
2. the marker file ``STORE.staged`` is written (durably): from here on the copy is the truth;
3. ``STORE`` is renamed to ``STORE.old``, ``STORE.staging`` to ``STORE``;
4. the marker and ``STORE.old`` are removed.

:func:`recover` runs before a store is opened and finishes a swap that was cut short after step 2,
or throws away a staging copy from before it, so a killed import leaves the store either as it was
or with the whole import, never in between.
"""

from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path

from kg.files import write_text

log = logging.getLogger(__name__)


def _sibling(path: Path, suffix: str) -> Path:
    return path.with_name(path.name + suffix)


def staging_dir(path: Path) -> Path:
    return _sibling(path, ".staging")


def prepare(path: Path) -> Path:
    """An empty staging folder beside ``path`` (a leftover from an earlier attempt is removed)."""
    target = staging_dir(path)
    if target.exists():
        shutil.rmtree(target)
    return target


def _sync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def swap(path: Path) -> None:
    """Make the complete staging copy the store (steps 2-4); the caller has closed both stores."""
    marker = _sibling(path, ".staged")
    write_text(marker, "the staging copy is complete; opening the store finishes the swap\n")
    _sync_dir(path.parent)
    _finish(path)


def _finish(path: Path) -> None:
    marker, target, old = _sibling(path, ".staged"), staging_dir(path), _sibling(path, ".old")
    if target.exists():
        if path.exists():
            if old.exists():
                shutil.rmtree(old)
            path.rename(old)
        target.rename(path)
        _sync_dir(path.parent)
    marker.unlink()
    _sync_dir(path.parent)
    if old.exists():
        shutil.rmtree(old)


def recover(path: Path) -> None:
    """Finish a swap that was cut short after the copy was complete, or discard an incomplete copy."""
    marker, target, old = _sibling(path, ".staged"), staging_dir(path), _sibling(path, ".old")
    if marker.exists():
        log.warning("%s: finishing an import that was interrupted while it was being swapped in", path)
        _finish(path)
        return
    if target.exists():
        log.warning("%s: discarding the staging copy of an import that did not finish", path)
        shutil.rmtree(target)
    if old.exists() and path.exists():
        shutil.rmtree(old)
