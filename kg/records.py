"""Typed records of the fact store: what callers pass in and get back, independent of RDF."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class EditStatus(StrEnum):
    ACTIVE = "active"
    RETRACTED = "retracted"
    SUPERSEDED = "superseded"  # lost a conflict to a newer edit; comes back if that edit is retracted


class Origin(StrEnum):
    BASE = "base"
    EDIT = "edit"
    MODEL = "model"  # a hop answered by the language model, not by the graph


@dataclass(frozen=True)
class Entity:
    id: str
    label: str
    aliases: tuple[str, ...] = ()
    wikidata_id: str | None = None


@dataclass(frozen=True)
class Relation:
    """A relation with the text templates that turn its facts into statements and questions.

    ``statement_template`` has ``{subject}`` and ``{object}``; ``question_template`` has ``{subject}``.
    A functional relation has one object per subject, so an edit on it supersedes the old object.
    """

    id: str
    label: str
    statement_template: str
    question_template: str
    functional: bool = True
    wikidata_id: str | None = None
    inferred: bool = False  # metadata derived at import (kg/relation_inference.py), not given by a file

    def statement(self, subject: str, obj: str) -> str:
        return self.statement_template.format(subject=subject, object=obj)

    def question(self, subject: str) -> str:
        return self.question_template.format(subject=subject)

    def cloze(self, subject: str) -> str:
        """The statement up to its object: the prompt a language model completes (ROME, MEMIT)."""
        head = self.statement_template.split("{object}")[0]
        return head.format(subject=subject).rstrip()


def fact_id(subject: str, relation: str, obj: str) -> int:
    """A stable 63-bit id of a triple, so a FAISS hit maps straight back to the fact."""
    digest = hashlib.blake2b(f"{subject}\x1f{relation}\x1f{obj}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") & 0x7FFF_FFFF_FFFF_FFFF


@dataclass(frozen=True)
class Triple:
    subject: str
    relation: str
    object: str


@dataclass(frozen=True)
class Fact:
    """A triple of the current view, with where it comes from."""

    subject: str
    relation: str
    object: str
    origin: Origin = Origin.BASE
    edit_id: str | None = None

    @property
    def id(self) -> int:
        return fact_id(self.subject, self.relation, self.object)

    @property
    def triple(self) -> Triple:
        return Triple(self.subject, self.relation, self.object)


@dataclass(frozen=True)
class Edit:
    """A curator's change of one fact: a first-class record with provenance and status."""

    id: str
    subject: str
    relation: str
    object: str
    replaces: tuple[str, ...]
    author: str
    time: datetime
    note: str = ""
    status: EditStatus = EditStatus.ACTIVE
    source: str = ""
    superseded_by: str | None = None


@dataclass(frozen=True)
class EditRequest:
    """What a caller asks for; the store turns it into an :class:`Edit` after its checks."""

    subject: str
    relation: str
    object: str
    replaces: tuple[str, ...] = ()
    author: str = "anonymous"
    note: str = ""
    source: str = ""


@dataclass(frozen=True)
class EditOutcome:
    """What an edit did: the edit itself, what it superseded, and any conflict it resolved."""

    edit: Edit
    removed: tuple[Fact, ...] = ()
    superseded_edits: tuple[str, ...] = ()


@dataclass
class StoreStats:
    entities: int = 0
    relations: int = 0
    base_facts: int = 0
    current_facts: int = 0
    edits: dict[str, int] = field(default_factory=dict)
