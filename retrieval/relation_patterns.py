"""The statements kgedit's relation model learns from, composed from the store's own relations.

Every relation gets patterns built from its label and its statement and question templates ("the
capital of {subject} is {object}", "{subject}'s capital: {object}", "{subject} changed its capital to
{object}"), plus the paraphrases the kgedit team wrote in ``relation_patterns.tsv``. Nothing here comes
from an evaluation set. A pattern becomes a training *residual*: the sentence with its two entity names
replaced by ``X`` (the one written first) and ``Y`` (the second), so the model learns the words that
carry the relation and which way round the names are, never the names themselves.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from kg.errors import InputError
from kg.records import Relation

PATTERN_FILE = Path(__file__).with_name("relation_patterns.tsv")
FIRST, SECOND = "X", "Y"
NONE = "none"  # the label of text that states no relation between its two names
FORWARD, REVERSED = ">", "<"  # the subject is written first / second

# Sentences that name two things without stating a fact about them: the model's "none" class.
_NO_FACT = (
    "{subject} and {object}", "{subject} or {object}", "{subject} vs {object}", "{subject} versus {object}",
    "compare {subject} with {object}", "{subject} is bigger than {object}", "{subject} is far from {object}",
    "I visited {subject} and {object}", "tell me about {subject} and {object}", "{subject} played {object}",
    "{subject} beat {object} yesterday", "{subject} is like {object}", "{subject} met {object}",
    "{subject} is not {object}", "{subject} is near {object}", "{subject}, {object}",
    "what is {subject} to {object}", "{subject} thanks {object}", "{subject} and {object} signed a treaty",
)  # fmt: skip


@dataclass(frozen=True)
class Residual:
    """A training example: the text around the names, and the label ``P36>``, ``P36<`` or ``none``."""

    text: str
    label: str


def label_of(relation: str, subject_first: bool) -> str:
    return relation + (FORWARD if subject_first else REVERSED)


def split_label(label: str) -> tuple[str, bool] | None:
    """(relation id, subject written first), or None for the "none" label."""
    if label == NONE:
        return None
    return label[:-1], label.endswith(FORWARD)


def read_patterns(path: Path = PATTERN_FILE) -> dict[str, list[str]]:
    """Hand-written paraphrases by relation id."""
    found: dict[str, list[str]] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        cells = line.split("\t")
        if len(cells) != 2 or "{subject}" not in cells[1] or "{object}" not in cells[1]:
            raise InputError(f"{path}, line {number}: expected 'relation<TAB>pattern with {{subject}} and {{object}}'")
        found.setdefault(cells[0].strip(), []).append(cells[1].strip())
    return found


def generic_patterns(relation: Relation) -> list[str]:
    """Patterns every relation can be written in, from its label and templates alone."""
    label = relation.label.strip().lower()
    found = [
        relation.statement_template,
        f"{{subject}}'s {label} is {{object}}",
        f"{{subject}}'s {label}: {{object}}",
        f"{label} of {{subject}}: {{object}}",
        f"the {label} of {{subject}} is {{object}}",
        f"the {label} of {{subject}} is now {{object}}",
        f"the new {label} of {{subject}} is {{object}}",
        f"{{subject}}'s {label} is now {{object}}",
        f"{{subject}}'s new {label} is {{object}}",
        f"{{subject}} changed its {label} to {{object}}",
        f"{{subject}} {label} {{object}}",
        f"{{subject}} - {label} - {{object}}",
        f"{{object}} is the {label} of {{subject}}",
        f"{{object}} is now the {label} of {{subject}}",
        f"set the {label} of {{subject}} to {{object}}",
        f"{{subject}} has {{object}} as its {label}",
        relation.question_template.rstrip() + " {object}",
    ]
    return [p for p in found if "{subject}" in p and "{object}" in p]


def training_residuals(relations: Iterable[Relation], paraphrases: dict[str, list[str]] | None = None) -> list[Residual]:
    """Residuals for every relation given, plus the "none" class; duplicates (same text and label) once."""
    book = read_patterns() if paraphrases is None else paraphrases
    seen: set[tuple[str, str]] = set()
    found: list[Residual] = []

    def keep(pattern: str, label_for: str | None) -> None:
        for variant in _variants(pattern):
            text, subject_first = residual_of_pattern(variant)
            label = NONE if label_for is None else label_of(label_for, subject_first)
            if (text, label) not in seen:
                seen.add((text, label))
                found.append(Residual(text, label))

    for relation in relations:
        for pattern in generic_patterns(relation) + book.get(relation.id, []):
            keep(pattern, relation.id)
    for pattern in _NO_FACT:
        keep(pattern, None)
    return found


_ACTIVE_PAST = re.compile(r"^\{subject\} (\w{3,}ed)\b")
_ACTIVE = re.compile(r"^\{subject\} (\w+)\b")
_NOT_VERBS = frozenset({"is", "was", "has", "had", "and", "now", "-"})


def _variants(pattern: str) -> list[str]:
    """A pattern as written, the change it announces ("is" -> "is now"), and an active verb in the
    tenses news and notes use ("moved" -> "moves", "has moved")."""
    found = [pattern]
    if " is " in pattern and " is now " not in pattern:
        found.append(pattern.replace(" is ", " is now ", 1))
    verb = _ACTIVE_PAST.match(pattern)
    active = _ACTIVE.match(pattern)
    if verb:
        past, rest = verb.group(1), pattern[verb.end() :]
        found += [f"{{subject}} {_present(past)}{rest}", f"{{subject}} has {past}{rest}"]
        found.append(f"{{subject}} now {_present(past)}{rest}")
    elif active and active.group(1).lower() not in _NOT_VERBS:
        found.append("{subject} now " + pattern[len("{subject} ") :])  # "Tim Cook now works for Google"
    return found


def _present(past: str) -> str:
    """The third-person present of a regular past tense (moved -> moves, married -> marries); an
    irregular verb gets a near miss, which the sentence embedding reads much like the real form."""
    vowels = "aeiou"
    if past.endswith("ied"):
        return past[:-3] + "ies"
    stem = past[:-2]
    if stem.endswith(("ch", "sh", "ss", "x")):
        return stem + "es"
    if len(stem) > 2 and stem[-1] == stem[-2] and stem[-1] not in vowels + "ls":
        return stem[:-1] + "s"  # transferred -> transfers
    if len(stem) > 2 and stem[-1] not in vowels + "wy" and stem[-2] in vowels and stem[-3] not in vowels:
        return stem + "es"  # one vowel, one consonant: the base ended in e (named -> names)
    return stem + "s"


def residual_of_pattern(pattern: str) -> tuple[str, bool]:
    """(residual text, subject written first) of a ``{subject}``/``{object}`` pattern."""
    subject_first = pattern.index("{subject}") < pattern.index("{object}")
    first, second = ("{subject}", "{object}") if subject_first else ("{object}", "{subject}")
    text = pattern.replace(first, FIRST).replace(second, SECOND)
    return normalise_residual(text), subject_first


_ARTICLE_BEFORE = re.compile(r"\b(?:the|a|an)\s+(?=[XY]\b)", re.IGNORECASE)
_SPACES = re.compile(r"\s+")
_EDGE_PUNCTUATION = re.compile(r"^[\s.,;!?\"'“”‘’()-]+|[\s.,;!?\"'“”‘’()-]+$")


def normalise_residual(text: str) -> str:
    """One spelling of a residual: lower case but for the X and Y slots, no article before a slot,
    no edge punctuation, single spaces; curators' case and full stops then do not matter."""
    words = []
    for word in _SPACES.split(text.replace("’", "'").strip()):
        if word.rstrip(".,;:!?'s") in (FIRST, SECOND) and word[:1] in (FIRST, SECOND):
            words.append(word.replace("'S", "'s"))
        else:
            words.append(word.lower())
    joined = " ".join(words).replace(":", " : ").replace(",", " , ")
    joined = _ARTICLE_BEFORE.sub("", joined)
    return _EDGE_PUNCTUATION.sub("", _SPACES.sub(" ", joined)).strip()
