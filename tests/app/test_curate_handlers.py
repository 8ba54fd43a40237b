"""The Curate tab's handlers, called as the browser calls them, without a browser."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.config import load_settings
from app.ui.curate_handlers import CurateHandlers
from app.ui.services import Services
from kg.demo import load_demo
from kg.errors import InputError
from kg.store import FactStore


@pytest.fixture
def handlers(tmp_path: Path) -> CurateHandlers:
    store = FactStore.open("memory:")
    load_demo(store)
    return CurateHandlers(Services(load_settings({"KGEDIT_HOME": str(tmp_path / "home")}), store))


def test_a_second_identical_edit_is_refused_with_a_message_and_writes_nothing(handlers: CurateHandlers) -> None:
    first, *_ = handlers.commit("Germany", "capital", "Paris", "", "ann", "")
    assert "Committed E1" in first
    again, *_ = handlers.commit("Germany", "capital", "Paris", "", "ann", "")
    assert "Not committed" in again and "already the current fact" in again
    assert len(handlers.services.kg.edit_log()) == 1


def test_a_misspelt_new_object_needs_the_new_entity_box(handlers: CurateHandlers) -> None:
    with pytest.raises(InputError, match="close to 'Euro'.*tick 'New entity'"):
        handlers.preview("Germany", "currency", "Eurro", "")
    with pytest.raises(InputError, match="tick 'New entity'"):
        handlers.commit("Germany", "currency", "Eurro", "", "ann", "")
    assert "(new entity)" in handlers.preview("Germany", "currency", "Eurro", "", True)
    outcome, *_ = handlers.commit("Germany", "currency", "Eurro", "", "ann", "", True)
    assert "created entity Eurro" in outcome


def test_after_a_write_the_retract_list_and_the_edit_log_hold_the_new_edit(handlers: CurateHandlers) -> None:
    handlers.commit("Spain", "capital", "Paris", "", "ann", "")
    choices, log, conflicts = handlers.after_write("all")
    assert [ident for _, ident in choices["choices"]] == ["E1"] and list(log["edit"]) == ["E1"]
    handlers.retract("E1")
    choices, log, _ = handlers.after_write("all")
    assert choices["choices"] == [] and list(log["status"]) == ["retracted"]


def test_the_facts_table_marks_facts_pointing_to_the_entity_as_incoming(handlers: CurateHandlers) -> None:
    frame = handlers.facts_frame("Berlin")
    assert ["← capital of", "Germany", "country:DEU"] in frame[["relation", "object", "object id"]].values.tolist()
