"""Small graphs built in code and paths to the shared data, for any test to import."""

from __future__ import annotations

from pathlib import Path

from kg.records import EditRequest, Entity, Relation
from kg.store import ImportBundle

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
DEV_DIR = SHARED_DATA / "dev"
MQUAKE_DIR = SHARED_DATA / "mquake"

CAPITAL = Relation(
    "P36", "capital", "The capital of {subject} is {object}.", "What is the capital of {subject}?", True
)
LANGUAGE = Relation(
    "P37",
    "official language",
    "An official language of {subject} is {object}.",
    "What is the official language of {subject}?",
    False,
)
HEAD = Relation(
    "P6",
    "head of government",
    "The head of government of {subject} is {object}.",
    "Who is the head of government of {subject}?",
    True,
)
SPOUSE = Relation("P26", "spouse", "{subject} is married to {object}.", "Who is {subject} married to?", False)


def tiny_world() -> ImportBundle:
    """France/Italy with capitals, languages, leaders and spouses: enough for edits and 2-hop chains."""
    names = {
        "Q142": ("France", ("French Republic",)),
        "Q38": ("Italy", ("Italian Republic",)),
        "Q90": ("Paris", ()),
        "Q456": ("Lyon", ()),
        "Q220": ("Rome", ()),
        "Q150": ("French", ()),
        "Q652": ("Italian", ()),
        "Q1": ("Emmanuel Macron", ("Macron",)),
        "Q2": ("Brigitte Macron", ()),
        "Q3": ("Giorgia Meloni", ()),
    }
    entities = [Entity(i, label, aliases) for i, (label, aliases) in names.items()]
    facts = [
        ("Q142", "P36", "Q90"),
        ("Q38", "P36", "Q220"),
        ("Q142", "P37", "Q150"),
        ("Q38", "P37", "Q652"),
        ("Q142", "P6", "Q1"),
        ("Q38", "P6", "Q3"),
        ("Q1", "P26", "Q2"),
    ]
    return ImportBundle(entities, [CAPITAL, LANGUAGE, HEAD, SPOUSE], facts, source="test")


def lowercase_capital_bundle() -> ImportBundle:
    """France's capital edited to Rome, in lowercase words the tiny word-level test models know."""
    return ImportBundle(
        entities=[Entity("france", "france"), Entity("paris", "paris"), Entity("rome", "rome")],
        relations=[
            Relation(
                "P36",
                "capital",
                "the capital of {subject} is {object}.",
                "what is the capital of {subject} ?",
            )
        ],
        facts=[("france", "P36", "paris")],
        edits=[EditRequest("france", "P36", "rome", replaces=("paris",))],
    )
