"""The operations layer the CLI and the UI share: resolution with "did you mean", typo guards,
duplicate edits, the entity view, and backup restores."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.config import load_settings
from app.service.curation import AddRequest, DuplicateEditError, KgService
from app.service.names import CloseNameError
from kg.demo import load_demo
from kg.errors import InputError
from kg.store import FactStore


@pytest.fixture
def service(tmp_path: Path) -> KgService:
    store = FactStore.open("memory:")
    load_demo(store)
    return KgService(load_settings({"KGEDIT_HOME": str(tmp_path / "home")}), store)


def test_unknown_entity_error_suggests_the_close_label(service: KgService) -> None:
    with pytest.raises(InputError, match=r"did you mean 'Germany' \(country:DEU\)"):
        service.resolve_entity("Germny", "subject")


def test_unknown_relation_error_suggests_the_close_label(service: KgService) -> None:
    with pytest.raises(InputError, match="did you mean 'capital'"):
        service.resolve_relation("captal")


def test_misspelt_new_object_asks_for_confirmation_and_writes_nothing(service: KgService) -> None:
    revision = service.store.revision()
    with pytest.raises(CloseNameError, match=r"'Euro' \(currency:EUR\)"):
        service.add(AddRequest("Germany", "currency", "Eurro"))
    assert service.store.revision() == revision and not service.store.find_entities("Eurro")
    result = service.add(AddRequest("Germany", "currency", "Eurro", confirm_new=True))
    assert result.created is not None and result.created.label == "Eurro"


def test_a_name_far_from_every_label_becomes_a_new_entity_without_asking(service: KgService) -> None:
    result = service.add(AddRequest("Germany", "capital", "Bonnville"))
    assert result.created is not None and result.edit.object == result.created.id


def test_an_edit_that_is_already_the_current_fact_is_refused_and_writes_nothing(service: KgService) -> None:
    revision = service.store.revision()
    with pytest.raises(DuplicateEditError, match="already the current fact; nothing was written"):
        service.add(AddRequest("Germany", "currency", "Euro"))
    service.add(AddRequest("Germany", "capital", "Paris"))
    with pytest.raises(DuplicateEditError):
        service.add(AddRequest("Germany", "capital", "Paris"))
    assert len(service.edit_log()) == 1 and service.store.revision() == revision + 1


def test_show_lists_the_facts_pointing_to_the_entity_as_incoming(service: KgService) -> None:
    view = service.show("Berlin")
    assert [(r.other, r.relation_label) for r in view.incoming] == [("country:DEU", "capital")]
    assert all(r.incoming for r in view.incoming) and not any(r.incoming for r in view.outgoing)


def test_restoring_a_backup_reports_the_edits_it_restored(service: KgService, tmp_path: Path) -> None:
    service.add(AddRequest("Germany", "capital", "Paris"))
    service.add(AddRequest("France", "capital", "Berlin"))
    backup = tmp_path / "backup.nq"
    service.export_file(backup, "nquads")
    fresh = KgService(service.settings, FactStore.open("memory:"))
    report = fresh.import_file(backup)
    assert report.edit_count == 2 and len(fresh.edit_log()) == 2


def test_the_preview_of_the_current_fact_changes_no_answer(service: KgService) -> None:
    preview = service.preview(AddRequest("Germany", "currency", "Euro"))
    assert preview.unchanged and preview.chains == [] and preview.more_chains == 0
    assert service.preview(AddRequest("Germany", "currency", "Swiss Franc")).chains
