"""Relation metadata for predicates that arrive without any: a user's own graph needs no relations file.

A curator's graph has its own namespace and predicates; kgedit still needs a label, a statement and
a question template and a functional flag for each, or the fact index cannot phrase its facts and an
edit cannot tell whether it supersedes the old object. This module derives them:

- the label is the predicate's ``rdfs:label`` when the file gives one, else its IRI's local name split
  into words (``countryOfCitizenship`` -> "country of citizenship", ``has_capital`` -> "capital");
- Wikidata property ids (``P36``) take the shipped table's hand-written templates and flags;
- otherwise templates are derived from the label, and the relation is *functional* when few of its
  subjects (at most :data:`MULTI_VALUED_SHARE`) have more than one object in the data.

Every derived relation is marked ``inferred`` so ``kgedit kg relations`` can list it, and importing a
relations file replaces it.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import replace
from functools import lru_cache
from urllib.parse import unquote

from kg.records import Relation
from kg.relation_table import RelationTable, derived_entry

log = logging.getLogger(__name__)

# A relation is multi-valued when more than this share of its subjects have several objects. Real
# functional relations carry a little noise (a duplicated birthplace), multi-valued ones rarely fall
# this low (languages spoken, borders, members).
MULTI_VALUED_SHARE = 0.05

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_SEPARATORS = re.compile(r"[_\-.\s]+")


# A label ending in one of these is a verb phrase ("works for", "located in"), not a noun ("capital").
_PREPOSITIONS = {"for", "of", "in", "at", "by", "to", "with", "from", "on", "into", "as"}


def _phrased(relation: Relation) -> Relation:
    """Templates that read as English for a verb-phrase label; noun labels keep "the X of S"."""
    words = relation.label.split()
    if len(words) < 2 or words[-1] not in _PREPOSITIONS:
        return relation
    return replace(
        relation,
        statement_template=f"{{subject}} {relation.label} {{object}}.",
        question_template=f"{{subject}} {relation.label} what?",
    )


@lru_cache(maxsize=1)
def _shipped_table() -> RelationTable:
    return RelationTable.load()


def local_name(iri: str) -> str:
    """The last segment of an IRI (after ``#``, else after the last ``/`` or ``:``), percent-decoded."""
    text = iri.rstrip("/#")
    for separator in ("#", "/", ":"):
        if separator in text:
            text = text.rsplit(separator, 1)[1]
            break
    return unquote(text)


def label_from_name(name: str) -> str:
    """Words from an identifier: camelCase, snake_case and kebab-case split, a leading "has" dropped."""
    words = [w for part in _SEPARATORS.split(name) for w in _CAMEL.split(part) if w]
    words = [w if w.isupper() and len(w) > 1 else w.lower() for w in words]
    if len(words) > 1 and words[0] == "has":
        words = words[1:]
    return " ".join(words) or name


def infer_relations(
    ids: Iterable[str],
    facts: Iterable[tuple[str, str, str]],
    labels: Mapping[str, str] | None = None,
) -> list[Relation]:
    """Metadata for each relation id in ``ids``, from its label and from ``facts`` (subject, relation, object)."""
    wanted = set(ids)
    if not wanted:
        return []
    labels = labels or {}
    first_object: dict[tuple[str, str], str] = {}
    multi: dict[str, set[str]] = {ident: set() for ident in wanted}
    for s, r, o in facts:
        if r not in wanted:
            continue
        seen = first_object.setdefault((s, r), o)
        if seen != o:
            multi[r].add(s)
    subjects: dict[str, int] = dict.fromkeys(wanted, 0)
    for _, r in first_object:
        subjects[r] += 1
    del first_object
    table = _shipped_table()
    relations = []
    for ident in sorted(wanted):
        shipped = table.get(ident)
        if shipped is not None:
            relations.append(replace(shipped, inferred=True))
            continue
        label = " ".join(labels.get(ident, "").split()) or label_from_name(local_name(ident))
        share = len(multi[ident]) / subjects[ident] if subjects[ident] else 0.0
        relation = _phrased(derived_entry(ident, label).relation)
        relations.append(replace(relation, functional=share <= MULTI_VALUED_SHARE, inferred=True))
        log.info(
            "relation %s: label %r inferred; %s (%.1f%% of %d subjects have several objects)",
            ident,
            label,
            "functional" if share <= MULTI_VALUED_SHARE else "multi-valued",
            100 * share,
            subjects[ident],
        )
    return relations
