"""The UI's entity pickers search on the server: a page of matches, never every label of the graph."""

from __future__ import annotations

from pathlib import Path

import pytest

import app.ui.services
from app.config import load_settings
from app.ui.services import PICKER_CHOICES, Services
from kg.records import Entity
from kg.store import FactStore


def services_with(entities: list[Entity], home: Path) -> Services:
    store = FactStore.open("memory:")
    store.add_entities(entities)
    return Services(load_settings({"KGEDIT_HOME": str(home)}), store)


def test_a_picker_gets_one_page_and_typing_narrows_it_on_the_server(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(app.ui.services, "PICKER_ALL_UP_TO", PICKER_CHOICES)  # this graph counts as large
    people = [Entity(f"p{i}", f"Person {i:04d}") for i in range(3 * PICKER_CHOICES)]
    services = services_with([*people, Entity("lyon", "Lyon", ("Lugdunum",))], tmp_path)
    assert services.searched_on_server() and len(services.search_entities()) == PICKER_CHOICES
    assert [ident for _, ident in services.search_entities("lugd")] == ["lyon"]  # aliases count
    found = services.search_entities("person 012")
    assert [ident for _, ident in found] == [*(f"p{i}" for i in range(120, 130)), "p12"]  # 0120-0129, then 0012
    assert services.search_entities("no such name") == []


def test_names_that_start_with_the_text_come_first(tmp_path: Path) -> None:
    services = services_with([Entity("a", "New Paris"), Entity("b", "Paris")], tmp_path)
    assert [ident for _, ident in services.search_entities("paris")] == ["b", "a"]


def test_a_small_graph_sends_every_choice_to_the_browser(tmp_path: Path) -> None:
    services = services_with([Entity(f"p{i}", f"Person {i}") for i in range(3 * PICKER_CHOICES)], tmp_path)
    assert not services.searched_on_server() and len(services.search_entities()) == 3 * PICKER_CHOICES
