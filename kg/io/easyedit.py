"""EasyEdit-style edit requests: ``{"prompt", "subject", "target_new", "target_true"}`` records.

The relation is taken from ``relation_id`` when a record has one, else found by matching the prompt
against each relation's cloze with the record's subject in it (case, accents and punctuation aside). Subjects and targets are
matched to entities by id, then by exact label or alias; an unknown new target becomes a new entity.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kg.errors import InputError
from kg.io.jsonfile import load_json
from kg.normalize import normalize
from kg.records import EditRequest, Entity, Relation
from kg.store import FactStore, ImportBundle


def _target(value: Any, where: str, key: str) -> str:
    if isinstance(value, dict):
        value = value.get("str")
    if not isinstance(value, str) or not value.strip():
        raise InputError(f"{where}: {key!r} must be a non-empty string (or {{'str': ...}})")
    return value.strip()


def match_relation(prompt: str, subject: str, relations: list[Relation]) -> Relation | None:
    """The relation whose cloze for ``subject`` is ``prompt`` (a prompt may hold "{}" for the subject)."""
    wanted = normalize(prompt.replace("{}", subject))
    for relation in relations:
        if normalize(relation.cloze(subject)) == wanted:
            return relation
    return None


def _known_id(store: FactStore, text: str, pending: dict[str, Entity]) -> str | None:
    """The id an import record names: an id, or the exact label or alias of a known or pending entity
    (an import cannot ask, so a name it does not know is reported by the caller, never guessed)."""
    if text in pending or store.has_entity(text):
        return text
    for entity in pending.values():
        if entity.label == text or text in entity.aliases:
            return entity.id
    found = store.find_entities(text)
    return found[0].id if found else None


def read_easyedit(path: Path, store: FactStore, author: str = "import") -> ImportBundle:
    records = load_json(path)
    if isinstance(records, dict):
        records = [records]
    if not isinstance(records, list):
        raise InputError(f"{path}: expected a list of edit requests")
    relations = store.relations()
    new_entities: dict[str, Entity] = {}
    edits = []
    for index, record in enumerate(records):
        where = f"{path}, request #{index + 1}"
        if not isinstance(record, dict):
            raise InputError(f"{where}: expected an object with prompt, subject, target_new")
        for key in ("prompt", "subject", "target_new"):
            if key not in record:
                raise InputError(f"{where}: missing key {key!r}")
        subject_text = _target(record["subject"], where, "subject")
        subject = _known_id(store, subject_text, new_entities)
        if subject is None:
            raise InputError(f"{where}: subject {subject_text!r} is not an entity of the store")
        relation_id = record.get("relation_id")
        relation = store.relation(relation_id) if relation_id else None
        if relation is None:
            relation = match_relation(str(record["prompt"]), subject_text, relations)
        if relation is None:
            raise InputError(
                f"{where}: no relation's statement template matches the prompt {record['prompt']!r}; "
                "add 'relation_id' to the request"
            )
        target_text = _target(record["target_new"], where, "target_new")
        target = _known_id(store, target_text, new_entities)
        if target is None:
            target = target_text
            new_entities[target] = Entity(target, target_text)
        replaces: tuple[str, ...] = ()
        if record.get("target_true"):
            true_id = _known_id(
                store, _target(record["target_true"], where, "target_true"), new_entities
            )
            replaces = (true_id,) if true_id else ()
        edits.append(
            EditRequest(subject, relation.id, target, replaces, author, source=f"import:{path.name}")
        )
    return ImportBundle(entities=list(new_entities.values()), edits=edits, source=f"import:{path.name}")
