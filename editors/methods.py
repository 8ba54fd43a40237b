"""Names and defaults of the weight-editing methods, importable without torch.

The command line shows these in its options and checks them before a model is loaded, so ``kgedit
--help`` and a mistyped ``--method`` answer at once instead of after importing torch.
"""

from __future__ import annotations

METHODS = ("rome", "memit", "projected")
# Measured on SmolLM2 (12 dev edits, ROME, Python-docs text): 1k, 10k and 90k tokens gave the same
# efficacy (100%) and neighbourhood (98%, 98%, 97%). 10k is kept rather than 1k because 1k tokens
# are fewer than the key dimension (1536), so C would be rank-deficient and rest on shrinkage alone.
DEFAULT_STATS_TOKENS = 10_000
