"""Walking a relation backwards: "the country whose capital is Lima" is the subject of a capital fact.

No inverse facts are stored. The graph view indexes facts by object as well as by subject, and each
relation ``R`` gets an inverse relation ``^R`` made here from its label, so that the chain scorer and
the question composer read and phrase an inverse hop like any other ("Lima is the capital of",
"the country whose capital is Lima"). The kind of thing an inverse hop reaches ("country") is read
from the graph: the answer type of the relation whose objects most often are ``R``'s subjects.
"""

from __future__ import annotations

from kg.records import Relation

PREFIX = "^"


def is_inverse(relation_id: str) -> bool:
    return relation_id.startswith(PREFIX)


def forward_id(relation_id: str) -> str:
    return relation_id[len(PREFIX) :] if is_inverse(relation_id) else relation_id


def inverse_id(relation_id: str) -> str:
    return PREFIX + relation_id


def inverse_of(relation: Relation, kind: str = "entity") -> Relation:
    """The relation read from object to subject; ``kind`` names what its objects are ("country")."""
    label = relation.label
    return Relation(
        inverse_id(relation.id),
        label,
        f"{{subject}} is the {label} of {{object}}.",
        f"Which {kind} has {{subject}} as its {label}?",
        False,
        relation.wikidata_id,
    )


def inverse_noun_phrase(relation: Relation, inner: str, kind: str) -> str:
    """How an inverse hop nests in a longer question: "the country whose capital is Lima"."""
    return f"the {kind} whose {relation.label} is {inner}"
