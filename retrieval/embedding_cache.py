"""A persistent cache of text embeddings keyed by (model, text hash).

Rebuilding the fact index re-embeds only statements it has not seen before. SQLite gives atomic,
concurrent-safe writes for free; a damaged cache file is set aside and started afresh, since every
vector in it can be recomputed.
"""

from __future__ import annotations

import hashlib
import logging
import sqlite3
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)
_CHUNK = 500  # SQLite's bound-parameter limit is 999 on old builds


def text_key(text: str) -> bytes:
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).digest()


class EmbeddingCache:
    """Vectors of one model, stored in ``<directory>/embeddings.sqlite``."""

    def __init__(self, directory: Path, model_id: str, dim: int) -> None:
        self.path = directory / "embeddings.sqlite"
        self.model_id = model_id
        self.dim = dim
        self._lock = threading.Lock()
        directory.mkdir(parents=True, exist_ok=True)
        self._db = self._connect()

    def _connect(self) -> sqlite3.Connection:
        try:
            return self._open()
        except sqlite3.DatabaseError as exc:
            aside = self.path.with_suffix(".sqlite.corrupt")
            log.warning(
                "embedding cache %s is unreadable (%s): moved to %s, starting afresh", self.path, exc, aside
            )
            self.path.replace(aside)
            return self._open()

    def _open(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=30, check_same_thread=False)
        db.execute(
            "CREATE TABLE IF NOT EXISTS embeddings "
            "(model TEXT NOT NULL, key BLOB NOT NULL, vector BLOB NOT NULL, PRIMARY KEY (model, key)) WITHOUT ROWID"
        )
        db.execute("SELECT count(*) FROM embeddings WHERE model = ? AND key = ?", (self.model_id, b""))
        db.commit()
        return db

    def get_many(self, keys: Sequence[bytes]) -> dict[bytes, np.ndarray]:
        found: dict[bytes, np.ndarray] = {}
        with self._lock:
            for start in range(0, len(keys), _CHUNK):
                chunk = list(keys[start : start + _CHUNK])
                marks = ",".join("?" * len(chunk))
                try:
                    rows = self._db.execute(
                        f"SELECT key, vector FROM embeddings WHERE model = ? AND key IN ({marks})",
                        [self.model_id, *chunk],
                    ).fetchall()
                except sqlite3.DatabaseError as exc:
                    log.warning("embedding cache %s read failed (%s): recomputing", self.path, exc)
                    return found
                for key, blob in rows:
                    vector = np.frombuffer(blob, dtype=np.float32)
                    if vector.shape == (self.dim,):
                        found[bytes(key)] = vector
        return found

    def put_many(self, items: Sequence[tuple[bytes, np.ndarray]]) -> None:
        rows = [(self.model_id, key, np.ascontiguousarray(v, dtype=np.float32).tobytes()) for key, v in items]
        with self._lock:
            try:
                self._db.executemany("INSERT OR REPLACE INTO embeddings VALUES (?, ?, ?)", rows)
                self._db.commit()
            except sqlite3.DatabaseError as exc:
                log.warning(
                    "embedding cache %s write failed (%s): continuing without caching", self.path, exc
                )

    def __len__(self) -> int:
        with self._lock:
            row = self._db.execute(
                "SELECT count(*) FROM embeddings WHERE model = ?", (self.model_id,)
            ).fetchone()
        return int(row[0])

    def close(self) -> None:
        with self._lock:
            self._db.close()
