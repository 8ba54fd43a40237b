"""How relations are spoken about: noun phrases, synonyms, and questions composed from relation chains.

The chain scorer compares a question with text composed from a candidate relation chain, and the
training data composes questions the same way with more variety. Synonyms come from Wikidata's own
property labels and aliases (e.g. P27 "country of citizenship", alias "nationality"), never from
evaluation questions; a relation without an entry here is spoken about by its label.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

from kg.records import Relation
from kg.relation_table import RelationTable
from qa.inverse import inverse_noun_phrase, is_inverse

# Wikidata property aliases (from the properties' own label/alias lists).
WIKIDATA_ALIASES: dict[str, tuple[str, ...]] = {
    "P6": ("head of government", "prime minister", "premier", "mayor", "leader of the government"),
    "P17": ("country", "sovereign state", "nation"),
    "P19": ("place of birth", "birthplace", "born in", "city of birth", "born", "birth city"),
    "P20": ("place of death", "deathplace", "died in", "city of death", "died", "death place"),
    "P26": ("spouse", "husband", "wife", "married to", "partner in marriage"),
    "P27": ("country of citizenship", "citizenship", "nationality", "citizen of", "home country", "homeland"),
    "P30": ("continent", "located on continent"),
    "P35": ("head of state", "president", "monarch", "king", "queen", "chief of state"),
    "P36": ("capital", "capital city", "seat of government"),
    "P37": ("official language", "language of administration"),
    "P38": ("currency", "money", "legal tender"),
    "P40": ("child", "son", "daughter", "offspring"),
    "P50": ("author", "writer", "written by", "novelist", "creator of the work"),
    "P54": ("member of sports team", "team", "club", "plays for"),
    "P69": ("educated at", "alma mater", "studied at", "university", "school attended"),
    "P101": ("field of work", "area of expertise", "discipline"),
    "P103": ("native language", "mother tongue", "first language"),
    "P106": ("occupation", "profession", "job", "career"),
    "P108": ("employer", "works for", "employed by"),
    "P112": ("founded by", "founder", "established by", "created by"),
    "P127": ("owned by", "owner", "parent company"),
    "P131": ("located in the administrative territorial entity", "located in", "region", "state", "province"),
    "P136": ("genre", "style", "kind of music", "type of work"),
    "P140": ("religion", "religious affiliation", "faith"),
    "P159": ("headquarters location", "headquarters", "head office", "based in"),
    "P169": ("chief executive officer", "CEO", "chief executive"),
    "P170": ("creator", "created by", "maker", "designer"),
    "P175": ("performer", "performed by", "singer", "artist", "musician"),
    "P176": ("manufacturer", "made by", "produced by", "maker", "builder"),
    "P178": ("developer", "developed by", "programmer"),
    "P264": ("record label", "music label", "label"),
    "P286": ("head coach", "coach", "manager", "trainer"),
    "P407": ("language of work or name", "language", "written in"),
    "P413": ("position played on team", "position", "playing position"),
    "P449": ("original broadcaster", "network", "channel", "aired on"),
    "P463": ("member of", "membership", "belongs to"),
    "P495": ("country of origin", "origin", "originated in"),
    "P641": ("sport", "sport played"),
    "P740": ("location of formation", "formed in", "founded in", "place of formation"),
    "P1412": ("languages spoken, written or signed", "language spoken", "speaks", "language"),
    "P1037": ("director / manager", "director", "manager", "head"),
    "P488": ("chairperson", "chairman", "chair", "president of the organization"),
    "P800": ("notable work", "known for", "famous work"),
    "P937": ("work location", "place of work", "works in"),
    "P551": ("residence", "lives in", "home"),
    "P102": ("member of political party", "political party", "party"),
    "P39": ("position held", "office held", "post"),
    "P166": ("award received", "award", "prize"),
    "P361": ("part of", "belongs to"),
    "P527": ("has part", "consists of"),
    "P1376": ("capital of", "is the capital of"),
    "P150": ("contains administrative territorial entity", "subdivision"),
    "P47": ("shares border with", "neighbour", "borders", "next to", "adjacent to", "bordered by", "neighbouring"),
    "P31": ("instance of", "is a"),
    "P279": ("subclass of", "kind of"),
    "P21": ("sex or gender", "gender"),
    "P22": ("father", "dad"),
    "P25": ("mother", "mom"),
    "P3373": ("sibling", "brother", "sister"),
    "P1303": ("instrument", "plays instrument"),
    "P1050": ("medical condition", "disease"),
    "P364": ("original language of film or TV show", "original language", "language"),
    "P57": ("director", "directed by", "film director"),
    "P58": ("screenwriter", "written by", "script writer"),
    "P86": ("composer", "music by"),
    "P162": ("producer", "produced by"),
    "P161": ("cast member", "actor", "starring"),
    "P123": ("publisher", "published by"),
    "P287": ("designed by", "designer"),
    "P84": ("architect", "designed by"),
    "P1001": ("applies to jurisdiction", "jurisdiction"),
    "P206": ("located in or next to body of water", "body of water", "river", "lake"),
    "P421": ("located in time zone", "time zone"),
    "P1038": ("relative", "family member"),
}

_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9'\-]*")
STOPWORDS = frozenset(
    ["a", "an", "the", "of", "in", "on", "at", "to", "for", "by", "with", "from", "is", "are", "was", "were", "be", "been", "being", "do", "does", "did", "has", "have", "had", "which", "what", "who", "whom", "whose", "where", "when", "how", "that", "this", "these", "those", "it", "its", "as", "and", "or", "x", "s", "'s", "about", "into", "there", "their", "they", "he", "she", "his", "her", "him", "one", "someone", "something", "can", "could", "would", "tell", "me", "please", "name"]
)


def relation_key(relation: Relation) -> str:
    return relation.wikidata_id or relation.id


def aliases(relation: Relation) -> tuple[str, ...]:
    """The label first, then the Wikidata aliases of the property (deduplicated, case-insensitive)."""
    names = [relation.label, *WIKIDATA_ALIASES.get(relation_key(relation), ())]
    seen: dict[str, str] = {}
    for name in names:
        if name and name.lower() not in seen:
            seen[name.lower()] = name
    return tuple(seen.values())


@lru_cache(maxsize=1)
def _table() -> RelationTable:
    return RelationTable.load()


def noun_phrase(relation: Relation, inner: str) -> str:
    """"the capital of <inner>": how a hop nests inside a longer question (the relation table's phrase)."""
    if is_inverse(relation.id):
        return inverse_noun_phrase(relation, inner, head_noun(relation))
    table = _table()
    key = relation_key(relation)
    if key in table:
        return table.entry(key).noun_phrase(inner)
    return f"the {relation.label} of {inner}"


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
_ASKED_TYPE = re.compile(r"\b(?:which|what)\s+([a-z]+)", re.IGNORECASE)
_NOT_TYPES = frozenset({"is", "was", "are", "were", "does", "did", "do", "has", "had", "can", "the", "a", "an"})


def answer_type(relation: Relation) -> str:
    """The kind of object a relation has: "country" for P17, "city" for a place of birth, "person"..."""
    noun = head_noun(relation)
    if noun not in ("place", relation.label):
        return noun
    found = _CLOZE_TYPE.search(relation.cloze("X"))
    return found.group(1) if found else noun


def asked_type(question: str) -> str | None:
    """The noun right after "which"/"what" ("In which country..." -> "country"), if there is one."""
    for found in _ASKED_TYPE.finditer(question):
        word = found.group(1).lower()
        if word not in _NOT_TYPES:
            return word
    return None


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
    return [w for w in (m.group(0).lower() for m in _WORD.finditer(text)) if w not in STOPWORDS]


def phrase_grams(text: str) -> list[str]:
    """A content word with the function word after it ("next to", "born in", "written by"): many
    relation names end in one, and the content-word n-grams never hold them."""
    tokens = [m.group(0).lower() for m in _WORD.finditer(text)]
    pairs = zip(tokens, tokens[1:], strict=False)
    return list(dict.fromkeys(f"{a} {b}" for a, b in pairs if a not in STOPWORDS and b in STOPWORDS and b != "x"))


def ngrams(words: Sequence[str], max_n: int = 2) -> list[str]:
    found = []
    for n in range(1, max_n + 1):
        for i in range(len(words) - n + 1):
            found.append(" ".join(words[i : i + n]))
    return list(dict.fromkeys(found))
