"""Tokenising prompts for editing and scoring: right-padded batches and character-span lookups.

Positions are found from the tokenizer's character offsets of the whole text, not by tokenising
pieces separately, so a subject or target is located correctly whatever the tokenizer does with
leading spaces (GPT-2 BPE, SentencePiece). The tokenizer's own padding settings are left untouched
because the tokenizer is shared with the answering pipeline.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from transformers import PreTrainedTokenizerBase

from kg.errors import ModelError


@dataclass(frozen=True)
class Encoded:
    """One text's token ids and each token's character span."""

    ids: list[int]
    spans: list[tuple[int, int]]

    def last_token_in(self, start: int, end: int) -> int:
        """Index of the last token that overlaps characters [start, end)."""
        hits = [i for i, (a, b) in enumerate(self.spans) if a < end and b > start]
        if not hits:
            raise ModelError(f"no token covers characters {start}..{end}")
        return hits[-1]

    def tokens_from(self, start: int) -> list[int]:
        """Indices of the tokens that begin at or after character ``start`` (a continuation)."""
        return [i for i, (a, b) in enumerate(self.spans) if a >= start and b > a]


def encode(tokenizer: PreTrainedTokenizerBase, text: str) -> Encoded:
    if not getattr(tokenizer, "is_fast", False):
        raise ModelError(
            "weight editing needs a fast tokenizer (character offsets); this model has a slow one"
        )
    out = tokenizer(text, return_offsets_mapping=True)
    ids = list(out["input_ids"])
    spans = [(int(a), int(b)) for a, b in out["offset_mapping"]]
    return Encoded(ids, spans)


def pad_batch(
    rows: Sequence[list[int]], pad_id: int, device: torch.device
) -> tuple[torch.Tensor, torch.Tensor]:
    """Right-padded ids and attention mask; right padding leaves every real token's position unchanged."""
    width = max(len(r) for r in rows)
    ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for i, row in enumerate(rows):
        ids[i, : len(row)] = torch.tensor(row, dtype=torch.long)
        mask[i, : len(row)] = 1
    return ids.to(device), mask.to(device)


def pad_id(tokenizer: PreTrainedTokenizerBase) -> int:
    for candidate in (tokenizer.pad_token_id, tokenizer.eos_token_id, 0):
        if candidate is not None:
            return int(candidate)
    return 0


def with_continuation(
    tokenizer: PreTrainedTokenizerBase, prompt: str, continuation: str
) -> tuple[Encoded, list[int]]:
    """``prompt`` + space + ``continuation`` encoded together, and the continuation's token indices."""
    text = f"{prompt} {continuation.strip()}"
    enc = encode(tokenizer, text)
    target = enc.tokens_from(len(prompt))
    if not target:
        raise ModelError(f"the continuation {continuation!r} produced no tokens after {prompt!r}")
    return enc, target
