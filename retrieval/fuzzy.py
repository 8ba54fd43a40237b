"""Near-miss name matching for the entity linker: misspelt ("Nairoby"), partial ("Bosnia") and
differently accented names.

Accents and case are already folded by :func:`kg.normalize.name_key`; what is left is
character-level similarity, which rapidfuzz computes in C over every name key at once (no hand-written
edit distance), and whole-word partial names, found through an index from each word of a name to the
names that hold it. The linker asks here only when its exact dictionary found nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from kg.normalize import STOPWORDS, Token

MIN_RATIO = 80.0  # character similarity (0..100) a misspelt span needs to a whole name
MIN_CHARS = 5  # shorter spans ("Iran"/"Iraq") are too close to each other to guess between
MAX_SPAN = 3  # tokens per span tried
PARTIAL_SCORE = 0.75  # a name known only by some of its words ranks below a misspelt whole name
MAX_PARTIAL_NAMES = 5  # a word held by more names than this ("republic") names none of them


@dataclass(frozen=True)
class NearName:
    """A name key that a span of the question resembles, and how closely (0..1)."""

    key: tuple[str, ...]
    first: int  # token span of the question [first, last)
    last: int
    similarity: float
    kind: str  # "fuzzy" | "partial"


class FuzzyNames:
    """Every name key of the linker's dictionary, for similarity search; rebuilt when names change."""

    def __init__(self, keys: Iterable[tuple[str, ...]]) -> None:
        self.keys = sorted(set(keys))
        self.texts = [" ".join(k) for k in self.keys]
        self.by_word: dict[str, list[int]] = {}
        for row, key in enumerate(self.keys):
            for word in set(key):
                if word not in STOPWORDS:
                    self.by_word.setdefault(word, []).append(row)

    def search(self, words: Sequence[Token], limit: int = 5) -> list[NearName]:
        """Near names for spans of ``words``, best first; spans do not overlap."""
        found: list[NearName] = []
        for n in range(min(MAX_SPAN, len(words)), 0, -1):
            for i in range(len(words) - n + 1):
                span = words[i : i + n]
                if span[0].text in STOPWORDS or span[-1].text in STOPWORDS:
                    continue
                query = " ".join(w.text for w in span)
                found += self._similar(query, i, i + n, limit)
                found += self._partial(span, i, i + n)
        found.sort(key=lambda m: (-m.similarity, -(m.last - m.first), m.first))
        chosen: list[NearName] = []
        taken: set[int] = set()
        for match in found:
            cells = set(range(match.first, match.last))
            if taken & cells and not any(c.first == match.first and c.last == match.last for c in chosen):
                continue
            if any(c.key == match.key for c in chosen):
                continue
            taken |= cells
            chosen.append(match)
            if len(chosen) >= limit:
                break
        return chosen

    def extend(self, words: Sequence[Token], first: int, last: int, min_similarity: float = 0.9) -> NearName | None:
        """A longer name that the exact match ``words[first:last]`` is part of, misspelt ("French
        Polynusia" around the exact "French"): one non-stopword more on either side, closely similar.
        Never the exact name itself, which a long name stays close to with a word more ("Argentina
        national football team born"), nor a name no longer than it."""
        exact = " ".join(w.text for w in words[first:last])
        best: NearName | None = None
        for i, j in ((first - 1, last), (first, last + 1), (first - 1, last + 1)):
            if i < 0 or j > len(words) or words[i].text in STOPWORDS or words[j - 1].text in STOPWORDS:
                continue
            query = " ".join(w.text for w in words[i:j])
            for near in self._similar(query, i, j, 3):
                longer = len(" ".join(near.key)) > len(exact)
                if longer and near.similarity >= min_similarity and (best is None or near.similarity > best.similarity):
                    best = near
        return best

    def _similar(self, query: str, first: int, last: int, limit: int) -> list[NearName]:
        if len(query.replace(" ", "")) < MIN_CHARS:
            return []
        hits = process.extract(query, self.texts, scorer=fuzz.ratio, score_cutoff=MIN_RATIO, limit=limit)
        return [NearName(self.keys[row], first, last, score / 100.0, "fuzzy") for _, score, row in hits]

    def _partial(self, span: Sequence[Token], first: int, last: int) -> list[NearName]:
        """Names that hold every word of the span as whole words ("Congo" in "Republic of the Congo")."""
        words = [w.text for w in span if w.text not in STOPWORDS]
        if not words or sum(len(w) for w in words) < MIN_CHARS - 1:
            return []
        rows = set(self.by_word.get(words[0], ()))
        for word in words[1:]:
            rows &= set(self.by_word.get(word, ()))
        if not rows or len(rows) > MAX_PARTIAL_NAMES:
            return []
        return [
            NearName(self.keys[row], first, last, PARTIAL_SCORE * fuzz.WRatio(" ".join(words), self.texts[row]) / 100.0, "partial")
            for row in sorted(rows)
            if len(self.keys[row]) > len(words)
        ]
