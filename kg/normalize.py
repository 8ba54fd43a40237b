"""Text normalisation: the one place that decides when two spellings are the same text.

Names and questions go through the same tokeniser, so "the U.S.A.", "USA" and "usa" meet on one key
in the entity linker's dictionary. Each token keeps its character span in the original text, so a
match maps back to what the user wrote. Whole texts (answers against gold answers, a model's guess
against a retrieved fact, an import's prompt against a relation's cloze) are compared through
:func:`normalize`, and every package that skips function words skips the same :data:`STOPWORDS`.
It lives in ``kg`` because the importers need it too, and every package above may import ``kg``.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from kg.errors import InputError

MAX_TEXT_CHARS = 4000
"""Longer questions and queries are refused: no real question is this long, and the models truncate."""

# An acronym with dots ("U.S.A.", "D.C.") is one token; otherwise runs of letters and digits.
_TOKEN = re.compile(r"(?:[^\W\d_]\.){2,}|[^\W_]+")
_APOSTROPHES = ("'", "\u2019")
ARTICLES = frozenset({"the", "a", "an"})
STOPWORDS = ARTICLES | frozenset(
    {
        "who", "whom", "whose", "what", "which", "where", "when", "why", "how", "is", "are", "was",
        "were", "be", "been", "being", "do", "does", "did", "of", "in", "on", "at", "to", "for", "by",
        "with", "from", "into", "about", "and", "or", "as", "it", "its", "this", "that", "these",
        "those", "he", "she", "they", "him", "his", "her", "their", "there", "than", "then", "has",
        "have", "had", "can", "could", "would", "one", "someone", "something", "s", "tell", "me",
        "please", "name", "list", "give", "show", "find", "us", "you", "know", "all",
    }
)  # fmt: skip
"""Words that name no entity and no relation: question words, function words, request phrasing."""
REQUESTS = ("list", "give me", "show me", "tell me", "find")
"""How a request without a question word starts ("List the countries ..."); their words are stop words."""


@dataclass(frozen=True)
class Token:
    """One normalised word and where it sits in the original text."""

    text: str
    start: int
    end: int


_JOINERS = re.compile(r"(?<=\w)[.'’](?=\w)|[.'’](?=\s|$)")
_NON_WORD = re.compile(r"[^\w\s]|_")


def normalize(text: str) -> str:
    """Lower-case words without accents, punctuation or articles; initials joined ("u s a" -> "usa")."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).lower()
    text = text.replace("&", " and ")
    text = _JOINERS.sub("", text)
    text = _NON_WORD.sub(" ", text)
    words = _join_initials(text.split())
    return " ".join(w for w in words if w not in ARTICLES)


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


def fold(word: str) -> str:
    """Case- and accent-insensitive form of one word ("Zürich" -> "zurich")."""
    decomposed = unicodedata.normalize("NFKD", word.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).replace(".", "")


def tokens(text: str) -> list[Token]:
    """Normalised tokens of ``text``, without articles or the possessive "'s"."""
    found = []
    for match in _TOKEN.finditer(text):
        word = fold(match.group())
        if not word or word in ARTICLES:
            continue
        if word == "s" and match.start() > 0 and text[match.start() - 1] in _APOSTROPHES:
            continue
        found.append(Token(word, match.start(), match.end()))
    return found


def name_key(name: str) -> tuple[str, ...]:
    """The dictionary key of an entity name: its normalised tokens."""
    return tuple(token.text for token in tokens(name))


_SURROGATE = re.compile("[\ud800-\udfff]")


def valid_unicode(text: str) -> str:
    """``text`` with lone surrogates (what undecodable input bytes become) replaced by U+FFFD, so
    that tokenisers, hashes and JSON, which all need real Unicode, accept it."""
    return _SURROGATE.sub("\ufffd", text)


def check_text(text: str, what: str = "text") -> str:
    """Refuse empty or over-long user text with a sentence that says what to do."""
    if not isinstance(text, str) or not text.strip():
        raise InputError(f"the {what} is empty: type a few words")
    if len(text) > MAX_TEXT_CHARS:
        raise InputError(f"the {what} is {len(text):,} characters long; the limit is {MAX_TEXT_CHARS:,}")
    return text
