"""How relations are spoken about: noun phrases, synonyms, and questions composed from relation chains.

The chain scorer compares a question with text composed from a candidate relation chain, and the
training data composes questions the same way with more variety. The relation text itself (noun
phrases, and synonyms from Wikidata's own property labels and aliases, e.g. P27 "country of
citizenship", alias "nationality") lives in :mod:`kg.relation_table`; a relation it lacks is spoken
about by its label.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

from kg.normalize import REQUESTS, STOPWORDS
from kg.records import Relation
from kg.relation_table import RelationTable
from qa.inverse import inverse_noun_phrase, is_inverse

_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9'\-]*")
_SKIPPED = STOPWORDS | {"x"}  # "x": the subject placeholder of composed chain questions ("... of X?")


@lru_cache(maxsize=1)
def _table() -> RelationTable:
    return RelationTable.load()


def aliases(relation: Relation) -> tuple[str, ...]:
    """The label first, then the Wikidata aliases of the property (the shipped table's)."""
    return _table().aliases(relation)


def noun_phrase(relation: Relation, inner: str) -> str:
    """"the capital of <inner>": how a hop nests inside a longer question (the relation table's phrase)."""
    if is_inverse(relation.id):
        return inverse_noun_phrase(relation, inner, head_noun(relation))
    return _table().noun_phrase(relation, inner)


def head_noun(relation: Relation) -> str:
    """What kind of thing a relation's object is, read from its question template ("Which country...")."""
    words = relation.question_template.split()
    if len(words) > 1 and words[0].lower() == "which" and words[1] != "{subject}":
        return words[1].rstrip("?,")
    first = words[0].lower() if words else ""
    if first == "who" or first == "whom":
        return "person"
    if first == "where":
        return "place"
    return relation.label


_CLOZE_TYPE = re.compile(r"\bthe ([a-z]+) of$")
_ASKED_TYPE = re.compile(
    rf"\b(?:which|what)\s+([a-z]+)|^\s*(?:{'|'.join(REQUESTS)})\s+(?:all\s+)?(?:of\s+)?(?:the\s+)?([a-z]+s)\b",
    re.IGNORECASE,
)
_WHERE = re.compile(r"^\W*(?:(?:from|to|tell me)\s+)?where\b", re.IGNORECASE)  # asks where (not "the country where")
_NOT_TYPES = frozenset({"is", "was", "are", "were", "does", "did", "do", "has", "had", "can", "the", "a", "an"})


def answer_type(relation: Relation) -> str:
    """The kind of object a relation has: "country" for P17, "city" for a place of birth, "person"..."""
    noun = head_noun(relation)
    if noun not in ("place", relation.label):
        return noun
    found = _CLOZE_TYPE.search(relation.cloze("X"))
    return found.group(1) if found else noun


def asked_type(question: str) -> str | None:
    """The noun right after "which"/"what" ("In which country..." -> "country"), or the plural a
    request starts with ("List the countries bordering Poland" -> "countries"), if there is one;
    else "place" for a question that asks where. A chain that stops at a person or a company does not
    answer where (the founder of a religion for where that founder worked)."""
    for found in _ASKED_TYPE.finditer(question):
        word = (found.group(1) or found.group(2)).lower()
        if word not in _NOT_TYPES:
            return word
    return "place" if _WHERE.search(question) else None


def canonical_question(chain: Sequence[Relation], subject: str = "X") -> str:
    """The plain nested question of a chain: "What is the capital of the country of citizenship of X?"."""
    if not chain:
        return subject
    inner = subject
    for relation in chain[:-1]:
        inner = noun_phrase(relation, inner)
    return chain[-1].question(inner)


def statement_question(chain: Sequence[Relation], subject: str = "X") -> str:
    """The chain as an open statement: "The capital of the country of citizenship of X is"."""
    if not chain:
        return subject
    inner = subject
    for relation in chain[:-1]:
        inner = noun_phrase(relation, inner)
    return chain[-1].cloze(inner)


def noun_question(chain: Sequence[Relation], subject: str = "X") -> str:
    """The chain as one noun phrase asked for: "What is a neighbour of the capital of X?"."""
    if not chain:
        return subject
    inner = subject
    for relation in chain:
        inner = noun_phrase(relation, inner)
    return f"{'Who' if head_noun(chain[-1]) == 'person' else 'What'} is {inner}?"


def clause(relation: Relation, inner: str) -> str:
    """The relation's cloze with ``inner`` as subject, object left open: "X is a citizen of"."""
    return relation.cloze(inner)


def content_words(text: str) -> list[str]:
    """Lower-cased words of ``text`` that carry meaning (no stopwords, no mask placeholder)."""
    return [w for w in (m.group(0).lower() for m in _WORD.finditer(text)) if w not in _SKIPPED]


def phrase_grams(text: str) -> list[str]:
    """A content word with the function word after it ("next to", "born in", "written by"): many
    relation names end in one, and the content-word n-grams never hold them."""
    tokens = [m.group(0).lower() for m in _WORD.finditer(text)]
    pairs = zip(tokens, tokens[1:], strict=False)
    return list(dict.fromkeys(f"{a} {b}" for a, b in pairs if a not in _SKIPPED and b in STOPWORDS))


def ngrams(words: Sequence[str], max_n: int = 2) -> list[str]:
    found = []
    for n in range(1, max_n + 1):
        for i in range(len(words) - n + 1):
            found.append(" ".join(words[i : i + n]))
    return list(dict.fromkeys(found))
