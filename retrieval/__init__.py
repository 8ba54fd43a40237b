"""Retrieval: text embeddings, the FAISS index of fact statements, and entity linking.

- ``embedder``: sentence-transformers embeddings (all-MiniLM-L6-v2 offline by default), cached by
  (model, text hash) in ``embedding_cache``.
- ``index``: :class:`FactIndex`, the current facts' statements in FAISS (``vectors``), saved atomically
  beside the store (``index_file``) and kept in step with it.
- ``linker``: :class:`EntityLinker`, labels and aliases through a normalised dictionary (``normalize``),
  with an embedding fallback for near misses.
"""
