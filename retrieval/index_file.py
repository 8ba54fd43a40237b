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
