"""Answer matching: when does a system's answer count as the gold answer?

Answers are compared after normalisation (:func:`kg.normalize.normalize`: case, accents,
punctuation, articles, spelled-out initials), against the gold answer and each of its aliases.
``exact`` needs the whole normalised answer to equal a gold; ``contains`` also accepts a short
answer that holds a gold as a run of whole words ("It is Paris." for "Paris"), which suits language
models that answer in a sentence.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from kg.normalize import normalize

_MAX_CONTAINS_EXTRA_WORDS = 8


class MatchMode(StrEnum):
    EXACT = "exact"
    CONTAINS = "contains"


def match(prediction: str, golds: Iterable[str], mode: MatchMode = MatchMode.EXACT) -> MatchMode | None:
    """How ``prediction`` matches the best of ``golds``: exactly, by containment, or not (None)."""
    answer = normalize(prediction)
    if not answer:
        return None
    targets = [g for g in (normalize(gold) for gold in golds) if g]
    if answer in targets:
        return MatchMode.EXACT
    if mode is MatchMode.CONTAINS:
        words = answer.split()
        for target in targets:
            size = len(target.split())
            if len(words) <= size + _MAX_CONTAINS_EXTRA_WORDS and f" {target} " in f" {answer} ":
                return MatchMode.CONTAINS
    return None


def is_correct(prediction: str, golds: Iterable[str], mode: MatchMode = MatchMode.EXACT) -> bool:
    return match(prediction, golds, mode) is not None
