"""Relation text has one home: the shipped table and its alias list beside it."""

from __future__ import annotations

from pathlib import Path

import pytest

from kg.errors import InputError
from kg.records import Relation
from kg.relation_table import RelationTable


def test_aliases_come_from_the_alias_file_after_the_label() -> None:
    table = RelationTable.load()
    citizenship = table.relation("P27")
    names = table.aliases(citizenship)
    assert names[0] == citizenship.label
    assert "nationality" in names
    assert len({n.lower() for n in names}) == len(names)


def test_aliases_of_a_property_missing_from_the_templates_still_load() -> None:
    architect = Relation("P84", "architect", "{subject} was designed by {object}.", "Who designed {subject}?")
    assert RelationTable.load().aliases(architect) == ("architect", "designed by")


def test_a_relation_without_aliases_is_called_by_its_label() -> None:
    own = Relation("R:likes", "likes", "{subject} likes {object}.", "What does {subject} like?")
    assert RelationTable.load().aliases(own) == ("likes",)


def test_noun_phrase_uses_the_table_phrase_else_the_label() -> None:
    table = RelationTable.load()
    assert table.noun_phrase(table.relation("P36"), "France") == "the capital of France"
    own = Relation("R:mascot", "mascot", "The mascot of {subject} is {object}.", "What is the mascot of {subject}?")
    assert table.noun_phrase(own, "Rome") == "the mascot of Rome"


def test_a_custom_alias_file_replaces_the_shipped_one(tmp_path: Path) -> None:
    names = tmp_path / "aliases.tsv"
    names.write_text("# mine\nid\talias\nP36\tseat\n", encoding="utf-8")
    table = RelationTable.load(aliases=names)
    assert table.aliases(table.relation("P36")) == ("capital", "seat")


def test_a_malformed_alias_row_names_its_line(tmp_path: Path) -> None:
    names = tmp_path / "aliases.tsv"
    names.write_text("id\talias\nP36\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"aliases.tsv, line 2"):
        RelationTable.load(aliases=names)
