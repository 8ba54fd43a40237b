"""Where the facts of a curator's text sit: sentences, the lead-in a sentence may carry, and clauses.

Curators paste paragraphs, write news style ("BREAKING: Chile moves its capital to Valparaíso"),
mark corrections ("fix - Ada Lovelace was born in Paris") and join facts ("... and its currency is the
euro"). Splitting is done here, on character offsets into the original text, so every candidate triple
can point back at the exact words it came from. Clause splitting needs to know which words are entity
names ("Bosnia and Herzegovina" must not be cut at its "and"), so the reader passes the linked spans in.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

STATEMENT, CORRECTION, NEWS = "statement", "correction", "news"

# Words that end in a full stop without ending the sentence ("St. Louis", "J. K. Rowling").
_ABBREVIATIONS = frozenset(
    {"st", "mr", "mrs", "ms", "dr", "jr", "sr", "mt", "ft", "prof", "gen", "gov", "sen", "rep", "no", "vs",
     "etc", "inc", "ltd", "co", "corp", "u.s", "u.k", "d.c", "e.g", "i.e", "jan", "feb", "aug", "sept", "oct"}
)  # fmt: skip
_SENTENCE_END = re.compile(r"[.!?]+[\"'”’)]*\s+|\s*\n+\s*")
_CORRECTION = re.compile(
    r"\s*(?:fix(?:ed)?|correction|correct|erratum|typo|amend(?:ment)?|actually|in fact|no)\b\s*[-–—:,!]*\s*",
    re.IGNORECASE,
)
_NEWS = re.compile(
    r"\s*(?:(?i:breaking|news|update|updated|just in|reports?|flash|latest)\b(?i:\s+news)?\s*[-–—:!]+\s*"
    r"|[A-Z][A-Z .'’,-]{2,40}(?:\([^)]{1,30}\))?\s*[-–—]\s+)"
)
_PUNCTUATION = re.compile(r"[.!?]+[\"'”’)]*")
_CLAUSE_BREAK = re.compile(r"\s*;\s*|,?\s+(?:and also|and|while|whereas|but)\s+|,\s+(?=(?:its|their|his|her)\b)")


@dataclass(frozen=True)
class Piece:
    """A stretch of the original text: ``text == source[start:end]``."""

    text: str
    start: int
    end: int


@dataclass(frozen=True)
class Sentence:
    """One sentence, with the lead-in ("fix -", "BREAKING:") cut off its body and its form named."""

    text: str  # the whole sentence as written
    start: int
    body: Piece  # what the facts are read from
    form: str  # statement | correction | news


def sentences(text: str, protected: Sequence[tuple[int, int]] = ()) -> list[Sentence]:
    """The sentences of ``text`` in order; lines and ``. ! ?`` end them, abbreviations and the full
    stops inside ``protected`` (start, end) spans (entity names such as "Arsenal F.C.") do not."""
    found: list[Sentence] = []
    start = 0
    for match in _SENTENCE_END.finditer(text):
        if _is_abbreviation(text, match.start()) or any(s <= match.start() < e for s, e in protected):
            continue
        punctuation = _PUNCTUATION.match(match.group())
        _keep(text, start, match.start() + (len(punctuation.group()) if punctuation else 0), found, protected)
        start = match.end()
    _keep(text, start, len(text), found, protected)
    return found


def _is_abbreviation(text: str, stop: int) -> bool:
    if stop >= len(text) or text[stop] != ".":
        return False
    word = re.search(r"([\w.]+)$", text[:stop])
    if word is None:
        return False
    token = word.group(1).lower()
    return token in _ABBREVIATIONS or (len(token) == 1 and token.isalpha())


def _keep(
    text: str, start: int, end: int, found: list[Sentence], protected: Sequence[tuple[int, int]] = ()
) -> None:
    raw = text[start:end]
    stripped = raw.strip()
    if not stripped or not any(ch.isalnum() for ch in stripped):
        return
    start += len(raw) - len(raw.lstrip())
    end = start + len(stripped)
    body_start, form = start, STATEMENT
    for pattern, kind in ((_NEWS, NEWS), (_CORRECTION, CORRECTION), (_NEWS, NEWS)):
        lead = pattern.match(text, body_start, end)
        if lead and lead.end() > body_start and lead.end() < end:
            body_start, form = lead.end(), kind if form == STATEMENT else form
    body_end = end
    while body_end > body_start and text[body_end - 1] in ".!?;:,\"'”’ ":
        body_end -= 1
    for name_start, name_end in protected:  # a name's own full stop ("Arsenal F.C.") stays in the body
        if name_start < body_end < name_end <= end:
            body_end = name_end
    found.append(Sentence(stripped, start, Piece(text[body_start:body_end], body_start, body_end), form))


def clauses(
    body: Piece,
    protected: Sequence[tuple[int, int]] = (),
    cut: Callable[[Piece, Piece], bool] | None = None,
) -> list[Piece]:
    """The clauses of one sentence body, cut at ``;``, ``and``, ``but``, ``while`` and at ", its",
    never inside a ``protected`` (start, end) span of the original text (an entity name). ``cut``
    decides each ``and``-like break from the words before and after it ("born and raised in" is one
    fact); a semicolon always cuts."""
    pieces: list[Piece] = []
    cursor = 0
    breaks = [m for m in _CLAUSE_BREAK.finditer(body.text)]
    for n, match in enumerate(breaks):
        where = (body.start + match.start(), body.start + match.end())
        if any(s < where[1] and where[0] < e for s, e in protected):
            continue
        if match.start() <= cursor:
            continue
        if cut is not None and ";" not in match.group():
            stop = breaks[n + 1].start() if n + 1 < len(breaks) else len(body.text)
            left = Piece(body.text[cursor : match.start()], body.start + cursor, body.start + match.start())
            right = Piece(body.text[match.end() : stop], body.start + match.end(), body.start + stop)
            if not cut(left, right):
                continue
        pieces.append(Piece(body.text[cursor : match.start()], body.start + cursor, body.start + match.start()))
        cursor = match.end()
    pieces.append(Piece(body.text[cursor:], body.start + cursor, body.end))
    return [p for p in pieces if p.text.strip()]
