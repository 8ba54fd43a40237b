"""FAISS indexes over normalised vectors keyed by 63-bit ids: exact when small, IVF when large.

Both kinds take arbitrary int64 ids, add and remove in place, and search with an id selector, so the
fact index keeps one code path. The IVF index is tuned when it is built: ``nprobe`` grows until its
recall@10 against exact search, on a sample of the indexed vectors, reaches the target; the measured
recall is kept with the index.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Any

import faiss as _faiss
import numpy as np

# FAISS's bundled type stubs do not model its SWIG subclasses (IVF, ID maps, selectors).
faiss: Any = _faiss
log = logging.getLogger(__name__)

EXACT = "exact"
IVF = "ivf"
_TUNE_QUERIES = 256
_TRAIN_PER_LIST = 64


@dataclass
class VectorIndex:
    """A FAISS index plus what it is: exact or IVF, its probe count and its measured recall."""

    index: Any
    kind: str
    nprobe: int = 0
    recall: float | None = None

    @property
    def size(self) -> int:
        return int(self.index.ntotal)

    @property
    def dim(self) -> int:
        return int(self.index.d)

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        if len(ids):
            self.index.add_with_ids(np.ascontiguousarray(vectors, dtype=np.float32), ids.astype(np.int64))

    def remove(self, ids: np.ndarray) -> None:
        if len(ids):
            wanted = np.ascontiguousarray(ids, dtype=np.int64)  # kept alive while FAISS reads it
            self.index.remove_ids(faiss.IDSelectorArray(len(wanted), faiss.swig_ptr(wanted)))

    def search(
        self, queries: np.ndarray, k: int, allow: np.ndarray | None = None, deny: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Top-k (scores, ids) per query; ``allow``/``deny`` restrict which ids may be returned."""
        selector: Any = None
        if allow is not None:
            selector = faiss.IDSelectorBatch(allow.astype(np.int64))
        elif deny is not None and len(deny):
            selector = faiss.IDSelectorNot(faiss.IDSelectorBatch(deny.astype(np.int64)))
        queries = np.ascontiguousarray(queries, dtype=np.float32)
        if self.kind == IVF:
            params: Any = faiss.SearchParametersIVF(sel=selector, nprobe=self.nprobe)
        else:
            params = faiss.SearchParameters(sel=selector)
        scores, ids = self.index.search(queries, k, params=params)
        return scores, ids

    def vectors(self) -> tuple[np.ndarray, np.ndarray]:
        """Every (id, vector) held, read back from the index (for switching kinds and measuring recall)."""
        if self.kind == EXACT:
            flat = faiss.downcast_index(self.index.index)
            ids = faiss.vector_to_array(self.index.id_map).astype(np.int64)
            data = faiss.rev_swig_ptr(flat.get_xb(), self.size * self.dim)
            return ids, np.array(data, dtype=np.float32).reshape(self.size, self.dim)
        invlists = self.index.invlists
        all_ids, all_vectors = [], []
        for lst in range(self.index.nlist):
            n = invlists.list_size(lst)
            if n == 0:
                continue
            all_ids.append(np.array(faiss.rev_swig_ptr(invlists.get_ids(lst), n), dtype=np.int64))
            codes = faiss.rev_swig_ptr(invlists.get_codes(lst), n * self.dim * 4)
            all_vectors.append(np.frombuffer(bytes(codes), dtype=np.float32).reshape(n, self.dim))
        if not all_ids:
            return np.zeros(0, dtype=np.int64), np.zeros((0, self.dim), dtype=np.float32)
        return np.concatenate(all_ids), np.concatenate(all_vectors)


def exact(dim: int) -> VectorIndex:
    return VectorIndex(faiss.IndexIDMap2(faiss.IndexFlatIP(dim)), EXACT)


def build(
    ids: np.ndarray, vectors: np.ndarray, approximate_above: int, recall_target: float = 0.95, seed: int = 0
) -> VectorIndex:
    """Exact up to ``approximate_above`` vectors, a tuned IVF index above."""
    dim = vectors.shape[1]
    if len(ids) <= approximate_above:
        built = exact(dim)
        built.add(ids, vectors)
        return built
    return build_ivf(ids, vectors, recall_target, seed)


def build_ivf(
    ids: np.ndarray, vectors: np.ndarray, recall_target: float = 0.95, seed: int = 0
) -> VectorIndex:
    n, dim = vectors.shape
    nlist = max(1, min(int(math.sqrt(n)), n // 39))  # FAISS wants about 39+ training points per list
    rng = np.random.default_rng(seed)
    sample = vectors[rng.choice(n, size=min(n, nlist * _TRAIN_PER_LIST), replace=False)]
    ivf = faiss.IndexIVFFlat(faiss.IndexFlatIP(dim), dim, nlist, faiss.METRIC_INNER_PRODUCT)
    ivf.cp.seed = seed
    ivf.train(np.ascontiguousarray(sample, dtype=np.float32))
    ivf.set_direct_map_type(faiss.DirectMap.Hashtable)  # O(1) remove_ids by fact id
    built = VectorIndex(ivf, IVF, nprobe=1)
    built.add(ids, vectors)
    built.nprobe, built.recall = tune_nprobe(built, ids, vectors, recall_target, rng)
    ivf.nprobe = built.nprobe
    log.info(
        "IVF index: %d vectors, %d lists, nprobe %d, recall@10 %.3f", n, nlist, built.nprobe, built.recall
    )
    return built


def tune_queries(vectors: np.ndarray, rng: np.random.Generator, count: int = _TUNE_QUERIES) -> np.ndarray:
    """Half stored vectors, half midpoints of two stored vectors (these fall between IVF cells)."""
    n = len(vectors)
    picks = vectors[rng.integers(0, n, size=count // 2)]
    mids = (
        vectors[rng.integers(0, n, size=count - count // 2)]
        + vectors[rng.integers(0, n, size=count - count // 2)]
    )
    queries = np.concatenate([picks, mids]).astype(np.float32)
    faiss.normalize_L2(queries)
    return queries


def tune_nprobe(
    built: VectorIndex,
    ids: np.ndarray,
    vectors: np.ndarray,
    target: float,
    rng: np.random.Generator,
    k: int = 10,
) -> tuple[int, float]:
    """The smallest nprobe (growing by ~40% a step) whose recall@k against exact search clears ``target``
    with half the remaining margin (0.975 for 0.95): real queries come out a little below the estimate."""
    queries = tune_queries(vectors, rng)
    _, rows = faiss.knn(
        queries, np.ascontiguousarray(vectors, dtype=np.float32), k, faiss.METRIC_INNER_PRODUCT
    )
    truth = np.where(rows >= 0, ids[np.clip(rows, 0, None)], -1)
    goal = target + (1 - target) / 2
    nlist = int(built.index.nlist)
    nprobe = 1
    while True:
        built.nprobe = nprobe
        _, found = built.search(queries, k)
        recall = recall_at_k(found, truth)
        if recall >= goal or nprobe >= nlist:
            return nprobe, recall
        nprobe = min(nlist, max(nprobe + 1, round(nprobe * 1.4)))


def recall_at_k(found: np.ndarray, truth: np.ndarray) -> float:
    """Share of the true top-k ids that the approximate search returned, over all queries."""
    hits = total = 0
    for got, want in zip(found, truth, strict=True):
        wanted = {int(i) for i in want if i >= 0}
        hits += len(wanted & {int(i) for i in got if i >= 0})
        total += len(wanted)
    return hits / total if total else 1.0
