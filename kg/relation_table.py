"""The shipped table of common Wikidata properties: labels, text templates and functional flags.

Importing a dataset that only gives relation ids (MQuAKE gives "P36") still needs a statement and a
question template for every relation, or the fact index and the answering pipeline cannot phrase its
facts. The table in ``wikidata_relations.tsv`` was written from Wikidata's own property labels and
descriptions. A relation it lacks gets templates derived from its label, with a warning, so an import
never fails for want of metadata. The table is the one home of relation text: templates, the noun
phrases that nest a hop in a longer question, and the properties' other names (aliases, kept in
``wikidata_aliases.tsv`` beside it), which the chain scorer and the question composer read.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from kg.errors import InputError
from kg.records import Relation

log = logging.getLogger(__name__)

DEFAULT_TABLE = Path(__file__).with_name("wikidata_relations.tsv")
DEFAULT_ALIASES = Path(__file__).with_name("wikidata_aliases.tsv")
_COLUMNS = ("id", "label", "functional", "statement", "question", "phrase")
_ALIAS_COLUMNS = ("id", "alias")


def relation_key(relation: Relation) -> str:
    """The id relation text is kept under: the Wikidata property when known ("P36"), else the id."""
    return relation.wikidata_id or relation.id


@dataclass(frozen=True)
class RelationEntry:
    """A relation and the noun phrase that names its object ("the capital of {subject}")."""

    relation: Relation
    phrase: str
    derived: bool = False

    def noun_phrase(self, subject: str) -> str:
        return self.phrase.format(subject=subject)


class RelationTable:
    """Relation metadata by id, with label-derived fallbacks for ids the table does not know."""

    def __init__(
        self, entries: list[RelationEntry], aliases: Mapping[str, tuple[str, ...]] | None = None
    ) -> None:
        self._entries = {e.relation.id: e for e in entries}
        self._aliases = dict(aliases or {})
        self._warned: set[str] = set()

    @classmethod
    def load(cls, path: Path | None = None, aliases: Path | None = None) -> RelationTable:
        """Read a table in the shipped format (the shipped one when ``path`` is None), with the
        shipped aliases unless ``aliases`` names another file: they are keyed by Wikidata property,
        so they hold for any table that uses property ids."""
        path = path or DEFAULT_TABLE
        entries = [_parse_row(cells, where) for cells, where in _data_rows(path, _COLUMNS, "relation table")]
        names: dict[str, tuple[str, ...]] = {}
        for cells, where in _data_rows(aliases or DEFAULT_ALIASES, _ALIAS_COLUMNS, "alias list"):
            if len(cells) != len(_ALIAS_COLUMNS) or not all(c.strip() for c in cells):
                raise InputError(f"{where}: expected a relation id and an alias, tab-separated")
            ident, alias = (c.strip() for c in cells)
            names[ident] = (*names.get(ident, ()), alias)
        return cls(entries, names)

    def __contains__(self, ident: object) -> bool:
        return ident in self._entries

    def __len__(self) -> int:
        return len(self._entries)

    def ids(self) -> list[str]:
        return sorted(self._entries, key=_id_order)

    def get(self, ident: str) -> Relation | None:
        entry = self._entries.get(ident)
        return entry.relation if entry else None

    def entry(self, ident: str, label: str | None = None) -> RelationEntry:
        """The table's entry, or one derived from ``label`` (logged once per id) when it has none."""
        found = self._entries.get(ident)
        if found is not None:
            return found
        if ident not in self._warned:
            self._warned.add(ident)
            log.warning(
                "relation %s (%s) is not in the relation table; using templates derived from its label",
                ident,
                label or ident,
            )
        return derived_entry(ident, label or ident)

    def relation(self, ident: str, label: str | None = None) -> Relation:
        return self.entry(ident, label).relation

    def add(self, entry: RelationEntry) -> None:
        self._entries[entry.relation.id] = entry

    def aliases(self, relation: Relation) -> tuple[str, ...]:
        """The label first, then the property's other names (deduplicated, case-insensitive)."""
        seen: dict[str, str] = {}
        for name in (relation.label, *self._aliases.get(relation_key(relation), ())):
            if name and name.lower() not in seen:
                seen[name.lower()] = name
        return tuple(seen.values())

    def noun_phrase(self, relation: Relation, subject: str) -> str:
        """"the capital of <subject>": the table's phrase for the relation, else one from its label."""
        found = self._entries.get(relation_key(relation))
        if found is not None:
            return found.noun_phrase(subject)
        return _derived_phrase(relation.label).format(subject=subject)


def _data_rows(path: Path, columns: tuple[str, ...], what: str) -> Iterator[tuple[list[str], str]]:
    """The tab-separated cells of each data line (no blank, comment or header line), with its place."""
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except OSError as exc:
        raise InputError(f"{path}: cannot read the {what} ({exc})") from exc
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not UTF-8 text ({exc}); save the {what} as UTF-8") from exc
    for number, line in enumerate(lines, start=1):
        if not line.strip() or line.startswith("#"):
            continue
        cells = line.split("\t")
        if tuple(cells) != columns:
            yield cells, f"{path}, line {number}"


def _derived_phrase(label: str) -> str:
    return f"the {label} of {{subject}}"


def derived_entry(ident: str, label: str) -> RelationEntry:
    """Generic templates from a relation label; multi-valued, since nothing says otherwise."""
    text = " ".join(label.split()) or ident
    relation = Relation(
        id=ident,
        label=text,
        statement_template=f"The {text} of {{subject}} is {{object}}.",
        question_template=f"What is the {text} of {{subject}}?",
        functional=False,
        wikidata_id=ident if _looks_like_property(ident) else None,
    )
    return RelationEntry(relation, _derived_phrase(text), derived=True)


def _parse_row(cells: list[str], where: str) -> RelationEntry:
    if len(cells) != len(_COLUMNS):
        raise InputError(f"{where}: expected {len(_COLUMNS)} tab-separated columns ({', '.join(_COLUMNS)})")
    ident, label, functional, statement, question, phrase = (c.strip() for c in cells)
    if functional not in ("yes", "no"):
        raise InputError(f"{where}: functional must be yes or no, found {functional!r}")
    if "{subject}" not in statement or "{object}" not in statement:
        raise InputError(f"{where}: the statement template needs {{subject}} and {{object}}")
    for name, text in (("question", question), ("phrase", phrase)):
        if "{subject}" not in text or "{object}" in text:
            raise InputError(f"{where}: the {name} template needs {{subject}} and no {{object}}")
    relation = Relation(
        id=ident,
        label=label,
        statement_template=statement,
        question_template=question,
        functional=functional == "yes",
        wikidata_id=ident if _looks_like_property(ident) else None,
    )
    return RelationEntry(relation, phrase)


def _looks_like_property(ident: str) -> bool:
    return ident.startswith("P") and ident[1:].isdigit()


def _id_order(ident: str) -> tuple[int, str]:
    return (int(ident[1:]), ident) if _looks_like_property(ident) else (1 << 30, ident)
