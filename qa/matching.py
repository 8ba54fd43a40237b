"""Answer matching: when does a system's answer count as the gold answer?

Answers are compared after normalisation (case, accents, punctuation, articles, spelled-out
initials), against the gold answer and each of its aliases. ``exact`` needs the whole normalised
answer to equal a gold; ``contains`` also accepts a short answer that holds a gold as a run of whole
words ("It is Paris." for "Paris"), which suits language models that answer in a sentence.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from enum import StrEnum

_ARTICLES = frozenset({"a", "an", "the"})
_JOINERS = re.compile(r"(?<=\w)[.'’](?=\w)|[.'’](?=\s|$)")
_NON_WORD = re.compile(r"[^\w\s]|_")
_MAX_CONTAINS_EXTRA_WORDS = 8


class MatchMode(StrEnum):
    EXACT = "exact"
    CONTAINS = "contains"


def normalize(text: str) -> str:
    """Lower-case words without accents, punctuation or articles; initials joined ("u s a" -> "usa")."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).lower()
    text = text.replace("&", " and ")
    text = _JOINERS.sub("", text)
    text = _NON_WORD.sub(" ", text)
    words = _join_initials(text.split())
    return " ".join(w for w in words if w not in _ARTICLES)


def _join_initials(words: list[str]) -> list[str]:
    """Runs of two or more single letters are one abbreviation; a lone letter stays a word."""
    out: list[str] = []
    run: list[str] = []
    for word in [*words, ""]:
        if len(word) == 1 and word.isalpha():
            run.append(word)
            continue
        out += ["".join(run)] if len(run) > 1 else run
        run = []
        if word:
            out.append(word)
    return out


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
