"""The fact index on disk: one file, written atomically, stamped with what it was built from.

The file is an uncompressed ``.npz`` (a zip with CRC-32 per member) holding a JSON stamp, the
serialised FAISS index and the fact table. It is written to a temporary file in the same folder,
fsynced, then renamed over the old one, so a reader sees the old index or the new one, never half.
Any problem reading it is an :class:`IndexFileError`; the caller rebuilds from the store.
"""

from __future__ import annotations

import json
import os
import zipfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import faiss as _faiss
import numpy as np

from kg.files import replacing
from kg.records import Fact, Origin
from retrieval.vectors import EXACT, IVF, VectorIndex

# FAISS's bundled type stubs do not model its SWIG subclasses (IVF, ID maps, selectors).
faiss: Any = _faiss

FORMAT_VERSION = 1
INDEX_FILE = "facts.index.npz"


class IndexFileError(Exception):
    """The index file is missing, unreadable, corrupt or of another format version."""


@dataclass(frozen=True)
class Stamp:
    """What an index file was built from; any mismatch with the live store means stale."""

    version: int
    model_id: str
    dim: int
    store_url: str
    revision: int
    kind: str
    nprobe: int
    recall: float | None
    count: int


@dataclass
class Snapshot:
    stamp: Stamp
    vectors: VectorIndex
    facts: dict[int, Fact]
    statements: dict[int, str]


def save(path: Path, snapshot: Snapshot) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = [
        [f.subject, f.relation, f.object, f.origin.value, f.edit_id, snapshot.statements[fid]]
        for fid, f in snapshot.facts.items()
    ]
    arrays = {
        "stamp": _bytes(json.dumps(asdict(snapshot.stamp)).encode()),
        "index": faiss.serialize_index(snapshot.vectors.index),
        "facts": _bytes(json.dumps(rows, ensure_ascii=False).encode()),
    }
    with replacing(path) as temp, open(temp, "wb") as handle:
        np.savez(handle, **arrays)  # type: ignore[arg-type]
    _fsync_dir(path.parent)
    clear_journal(path)  # the snapshot holds every change the journal recorded


def load(path: Path) -> Snapshot:
    if not path.exists():
        raise IndexFileError(f"{path} does not exist")
    try:
        with np.load(path, allow_pickle=False) as data:
            stamp = Stamp(**json.loads(bytes(data["stamp"]).decode()))
            if stamp.version != FORMAT_VERSION:
                raise IndexFileError(f"{path} has format version {stamp.version}, expected {FORMAT_VERSION}")
            index = faiss.deserialize_index(np.array(data["index"]))  # already the concrete class
            rows = json.loads(bytes(data["facts"]).decode())
    except IndexFileError:
        raise
    except (OSError, ValueError, KeyError, TypeError, RuntimeError, EOFError, zipfile.BadZipFile) as exc:
        raise IndexFileError(f"{path} is unreadable ({type(exc).__name__}: {exc})") from exc
    facts: dict[int, Fact] = {}
    statements: dict[int, str] = {}
    try:
        for s, r, o, origin, edit_id, statement in rows:
            fact = Fact(s, r, o, Origin(origin), edit_id)
            facts[fact.id] = fact
            statements[fact.id] = statement
    except (ValueError, TypeError) as exc:
        raise IndexFileError(f"{path} has a malformed fact table ({exc})") from exc
    if stamp.kind not in (EXACT, IVF) or index.ntotal != len(facts) or stamp.count != len(facts):
        raise IndexFileError(f"{path}: the index holds {index.ntotal} vectors for {len(facts)} facts")
    if stamp.kind == IVF:
        index.nprobe = stamp.nprobe
    return Snapshot(stamp, VectorIndex(index, stamp.kind, stamp.nprobe, stamp.recall), facts, statements)


def _bytes(raw: bytes) -> np.ndarray:
    return np.frombuffer(raw, dtype=np.uint8)


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return  # some platforms cannot open folders; the rename itself is still atomic
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# ----- the journal: what changed since the snapshot ---------------------------------------------

JOURNAL_FILE = "facts.index.journal"


def journal_path(path: Path) -> Path:
    """The journal beside an index file: one line per followed store write since the snapshot."""
    return path.with_name(JOURNAL_FILE)


@dataclass(frozen=True)
class JournalEntry:
    """One store write as the index followed it: facts added (with their vectors), ids removed, and
    facts whose origin changed (an edit retracted back to the base fact it re-asserted)."""

    revision: int
    added: list[tuple[Fact, str, list[float]]]
    removed: list[int]
    origins: list[Fact]


def append(path: Path, entry: JournalEntry) -> None:
    """Append one entry and fsync it: a change costs its own few bytes, not a rewrite of the index."""
    record = {
        "revision": entry.revision,
        "add": [[*_row(f), statement, vector] for f, statement, vector in entry.added],
        "remove": entry.removed,
        "origins": [_row(f) for f in entry.origins],
    }
    with journal_path(path).open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(record, ensure_ascii=False) + "\n")
        handle.flush()
        os.fsync(handle.fileno())


def replay(path: Path, after: int) -> list[JournalEntry]:
    """The journal's entries newer than revision ``after``, in order; a torn or damaged line (a kill
    in the middle of an append) ends the replay, and the caller re-syncs the rest from the store."""
    journal = journal_path(path)
    if not journal.exists():
        return []
    entries = []
    with journal.open(encoding="utf-8") as handle:
        for line in handle:
            try:
                record = json.loads(line)
                entry = JournalEntry(
                    int(record["revision"]),
                    [(_fact(row[:5]), str(row[5]), [float(x) for x in row[6]]) for row in record["add"]],
                    [int(i) for i in record["remove"]],
                    [_fact(row) for row in record["origins"]],
                )
            except (ValueError, TypeError, KeyError, IndexError):
                break
            if entry.revision > after:
                entries.append(entry)
    return entries


def clear_journal(path: Path) -> None:
    """Called once a snapshot holding every journalled change is in place."""
    journal_path(path).unlink(missing_ok=True)


def _row(fact: Fact) -> list[str | None]:
    return [fact.subject, fact.relation, fact.object, fact.origin.value, fact.edit_id]


def _fact(row: list[Any]) -> Fact:
    s, r, o, origin, edit_id = row
    return Fact(str(s), str(r), str(o), Origin(origin), edit_id)
