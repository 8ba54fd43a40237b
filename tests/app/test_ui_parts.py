"""The UI's non-Gradio parts: path confinement, error sentences, edit previews, graph drawing."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.config import load_settings
from app.service.impact import preview_edit
from app.ui.graph_view import draw, nearest_node, neighbourhood
from app.ui.services import Services, user_message
from kg.demo import load_demo
from kg.errors import InputError, StoreError
from kg.records import EditRequest
from kg.store import FactStore


@pytest.fixture(scope="module")
def demo_services(tmp_path_factory: pytest.TempPathFactory) -> Services:
    store = FactStore.open("memory:")
    load_demo(store)
    settings = load_settings({"KGEDIT_HOME": str(tmp_path_factory.mktemp("home"))}, max_upload_mb=1)
    return Services(settings, store)


def test_paths_outside_the_data_folder_are_refused(demo_services: Services) -> None:
    inside = demo_services.data_path("exports", "a.tsv")
    assert demo_services.settings.data_dir.resolve() in inside.parents
    for escape in (("..", "config.toml"), ("/etc/passwd",), ("exports", "..", "..", "store")):
        with pytest.raises(InputError, match="outside the data folder"):
            demo_services.data_path(*escape)


def test_upload_checks_type_and_size_before_copying(demo_services: Services, tmp_path: Path) -> None:
    wrong = tmp_path / "facts.csv"
    wrong.write_text("a,b,c\n")
    with pytest.raises(InputError, match="not accepted"):
        demo_services.accept_upload(str(wrong), "graph")
    big = tmp_path / "big.ttl"
    big.write_bytes(b" " * (1024 * 1024 + 1))
    with pytest.raises(InputError, match="1 MB upload limit"):
        demo_services.accept_upload(str(big), "graph")
    ok = tmp_path / "my graph!.ttl"
    ok.write_text("")
    copied = demo_services.accept_upload(str(ok), "graph")
    assert copied.parent == demo_services.data_path("uploads") and copied.name == "my_graph_.ttl"


def test_user_message_cuts_paths_and_hides_internal_errors() -> None:
    message = user_message(InputError("/srv/kgedit/data/uploads/x.ttl: line 3: bad IRI"))
    assert message == "x.ttl: line 3: bad IRI"
    assert "/srv" not in user_message(StoreError("cannot open /srv/kgedit/store/lock"))
    assert user_message(RuntimeError("/secret/path boom")) == (
        "Something went wrong inside kgedit; the server log has the details."
    )


def test_entities_resolve_by_id_label_alias_and_dropdown_text(demo_services: Services) -> None:
    assert demo_services.resolve_entity("country:FRA").label == "France"
    assert demo_services.resolve_entity("French Republic").id == "country:FRA"
    display = next(d for d, i in demo_services.entity_choices() if i == "country:FRA")
    assert "French Republic" in display
    assert demo_services.resolve_entity(display).id == "country:FRA"
    with pytest.raises(InputError, match="no entity is called"):
        demo_services.resolve_entity("Atlantis")


def test_preview_lists_chains_through_the_edited_fact(demo_services: Services) -> None:
    store = demo_services.store
    relation = store.require_relation("P36")
    preview = preview_edit(
        store, "country:DEU", relation, "city:FRA:Paris", False, (), demo_services.labels()
    )
    assert preview.supersedes == ["city:DEU:Berlin"]
    assert not preview.conflicts
    befores = " | ".join(c.before for c in preview.chains)
    assert "Germany —capital→ Berlin —country→ Germany" in befores
    afters = " | ".join(c.after for c in preview.chains)
    assert "Germany —capital→ Paris —country→ France" in afters
    assert store.objects("country:DEU", "P36")[0].object == "city:DEU:Berlin"  # nothing written


def test_neighbourhood_puts_edited_facts_first_and_draws_them(demo_services: Services) -> None:
    store = demo_services.store
    outcome = store.edit(EditRequest("country:BEL", "P38", "currency:CHF", author="t"))
    try:
        hood = neighbourhood(store, "country:BEL", depth=1, max_facts=5)
        assert hood.facts[0].edit_id == outcome.edit.id
        assert hood.truncated > 0 and len(hood.facts) == 5
        image, pixels = draw(hood, demo_services.labels(), {r.id: r.label for r in store.relations()})
        assert image.size == (1000, 750)
        assert set(pixels) == set(hood.nodes)
        x, y = pixels["currency:CHF"]
        assert 0 <= x <= 1000 and 0 <= y <= 750
        assert nearest_node(pixels, x + 3, y - 3) == "currency:CHF"
        assert nearest_node(pixels, -500, -500) is None
    finally:
        store.retract(outcome.edit.id)
