"""The embedder loads offline, returns normalised vectors, caches them on disk and refuses bad names."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest

from kg.errors import InputError, ModelError
from retrieval.embedder import Embedder, resolve_model
from retrieval.embedding_cache import EmbeddingCache, text_key


def test_encode_returns_normalised_float32_rows_where_paraphrases_are_closest(embedder: Embedder) -> None:
    vectors = embedder.encode(
        ["The capital of France is Paris.", "Paris is France's capital.", "Bananas are yellow."]
    )
    assert vectors.shape == (3, 384) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2] + 0.3
    assert embedder.encode([]).shape == (0, 384)


def test_default_model_resolves_to_the_packaged_folder() -> None:
    model_id, source = resolve_model("all-MiniLM-L6-v2")
    assert model_id == "sentence-transformers/all-MiniLM-L6-v2"
    assert (Path(source) / "model.safetensors").exists()


def test_unknown_or_empty_model_names_get_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="empty"):
        Embedder("  ")
    with pytest.raises(ModelError, match="cannot load embedding model 'no-such/model-anywhere'"):
        _ = Embedder("no-such/model-anywhere").dim
    (tmp_path / "empty-model").mkdir()
    with pytest.raises(ModelError, match="no sentence-transformers model"):
        Embedder(str(tmp_path / "empty-model"))


def test_vectors_are_cached_on_disk_by_model_and_text(tmp_path: Path) -> None:
    first = Embedder(cache_dir=tmp_path)
    texts = ["Rome is the capital of Italy.", "Lyon is in France."]
    vectors = first.encode(texts)
    first.close()
    cache = EmbeddingCache(tmp_path, first.model_id, 384)
    assert len(cache) == 2
    cached = cache.get_many([text_key(t) for t in texts])
    assert np.array_equal(cached[text_key(texts[0])], vectors[0])
    second = Embedder(cache_dir=tmp_path)
    assert np.array_equal(second.encode(list(reversed(texts))), vectors[::-1])
    assert len(EmbeddingCache(tmp_path, "another/model", 384)) == 0


def test_a_damaged_cache_file_is_set_aside(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    (tmp_path / "embeddings.sqlite").write_bytes(b"this is not a database" * 100)
    with caplog.at_level(logging.WARNING, logger="retrieval"):
        embedder = Embedder(cache_dir=tmp_path)
        vectors = embedder.encode(["Paris"])
    assert "unreadable" in caplog.text
    assert vectors.shape == (1, 384)
    assert (tmp_path / "embeddings.sqlite.corrupt").exists()


def test_a_single_string_is_refused(embedder: Embedder) -> None:
    with pytest.raises(InputError, match="list of texts"):
        embedder.encode("Paris")  # type: ignore[arg-type]


def test_text_with_lone_surrogates_embeds_like_its_replacement(embedder: Embedder) -> None:
    """Undecodable input bytes arrive as lone surrogates; they must not crash the tokeniser or the cache."""
    vectors = embedder.encode(["capital of Fr\udcffance", "capital of Fr\ufffdance"])
    assert np.allclose(vectors[0], vectors[1])
