"""Curate and Graph through Gradio's API, as a ``gradio_client`` script would use them."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import requests
from gradio_client import Client, handle_file

from kg.records import Origin
from tests.app.conftest import RunningApp, start_app


@pytest.fixture(scope="module")
def client(running_app: RunningApp) -> Client:
    return Client(running_app.url, verbose=False)


def test_add_through_api_supersedes_the_old_capital(running_app: RunningApp, client: Client) -> None:
    outcome, facts, _, subject = client.predict(
        "France", "capital", "Lyon", "", "api-test", "moved", api_name="/add"
    )
    assert "Committed E" in outcome and "supersedes Paris" in outcome
    assert subject == "country:FRA"
    current = running_app.store.objects("country:FRA", "P36")
    assert [(f.object, f.origin) for f in current] == [("kg:Lyon", Origin.EDIT)]
    rows = {tuple(r[:2]) for r in facts["data"]}
    assert ("capital", "Lyon") in rows


def test_preview_names_what_is_superseded_and_the_chains_it_changes(client: Client) -> None:
    text = client.predict("Germany", "currency (P38)", "Swiss Franc", "", api_name="/preview")
    assert "**Supersedes**: **Euro**" in text
    assert "Multi-hop answers this changes" in text
    assert "What is the currency of the capital of Berlin" not in text  # Berlin's country points here
    assert "Berlin —country→ Germany —currency→ Swiss Franc" in text


def test_preview_reports_conflict_with_an_active_edit(client: Client) -> None:
    client.predict("Spain", "capital", "Barcelona", "", "a", "", api_name="/add")
    text = client.predict("Spain", "capital", "Seville", "", api_name="/preview")
    assert "**Conflict**" in text and "Barcelona" in text


def test_retract_restores_the_base_fact(running_app: RunningApp, client: Client) -> None:
    outcome, *_ = client.predict("Italy", "capital", "Milan", "", "a", "", api_name="/add")
    edit_id = outcome.split("Committed ")[1].split("**")[0]
    text, _ = client.predict(edit_id, api_name="/retract")
    assert f"Retracted {edit_id}" in text and "Rome" in text
    assert [f.object for f in running_app.store.objects("country:ITA", "P36")] == ["city:ITA:Rome"]


def test_history_and_edit_log_list_the_edit(client: Client) -> None:
    client.predict("Portugal", "capital", "Porto", "", "historian", "why not", api_name="/add")
    summary, table = client.predict("Portugal", "capital", api_name="/history")
    assert "base Lisbon" in summary and "current Porto" in summary
    assert [r[2] for r in table["data"]] == ["historian"]
    log, conflicts = client.predict("active", api_name="/edit_log")
    assert "Portugal" in {r[1] for r in log["data"]}


def test_export_then_import_round_trip(running_app: RunningApp, client: Client, tmp_path: Path) -> None:
    exported = Path(client.predict("tsv", api_name="/export"))
    lines = exported.read_text(encoding="utf-8").splitlines()
    assert any("kg:Lyon" in line for line in lines)
    upload = tmp_path / "extra.tsv"
    upload.write_text("country:FRA\tFrance\tP37\tofficial language\tlanguage:br\tBreton\n", encoding="utf-8")
    message = client.predict(handle_file(str(upload)), "auto", False, api_name="/import")
    assert "1 facts" in message
    assert "language:br" in {f.object for f in running_app.store.objects("country:FRA", "P37")}


def test_user_mistake_is_one_sentence_without_paths(client: Client, tmp_path: Path) -> None:
    bad = tmp_path / "graph.exe"
    bad.write_bytes(b"MZ")
    with pytest.raises(Exception) as caught:
        client.predict(handle_file(str(bad)), "auto", False, api_name="/import")
    message = str(caught.value)
    assert "415" in message  # the upload route refuses the type before any handler sees the file
    assert str(tmp_path) not in message and "Traceback" not in message


def test_unknown_entity_is_reported_not_guessed(client: Client) -> None:
    with pytest.raises(Exception, match="no entity is called"):
        client.predict("Atlantis", "capital", "Paris", "", api_name="/preview")


def test_files_outside_the_exports_folder_are_not_served(running_app: RunningApp) -> None:
    for path in ("/etc/passwd", str(Path(__file__).resolve())):
        response = requests.get(f"{running_app.url}gradio_api/file={path}", timeout=10)
        assert response.status_code in (403, 404)


def test_graph_api_draws_the_neighbourhood_with_edits_first(client: Client) -> None:
    image, _neighbours, table = client.predict("France", 1, 60, api_name="/graph")
    assert Path(image).stat().st_size > 10_000
    first = table["data"][0]
    assert first[0] == "France" and first[3] == "edit"
    assert "Paris" in {row[0] for row in table["data"]} or "Lyon" in {row[2] for row in table["data"]}


def test_upload_over_the_size_limit_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A second app points Gradio's process-wide upload folder at its own; the module's app gets it back.
    monkeypatch.setenv("GRADIO_TEMP_DIR", os.environ.get("GRADIO_TEMP_DIR", ""))
    big = tmp_path / "big.tsv"
    big.write_bytes(b"x" * (2 * 1024 * 1024))
    for app in start_app(tmp_path / "home", max_upload_mb=1):
        client = Client(app.url, verbose=False)
        with pytest.raises(Exception, match="exceeds the maximum file size"):
            client.predict(handle_file(str(big)), "auto", False, api_name="/import")
        assert app.store.stats().base_facts == app.store.stats().current_facts  # nothing imported


def test_uploaded_dataset_lands_in_the_data_folder_and_is_offered(
    running_app: RunningApp, client: Client
) -> None:
    from tests.app.conftest import DEV_DATA

    _, background, cleared = client.predict(
        handle_file(str(DEV_DATA / "background.tsv")), api_name="/add_dataset"
    )
    assert background["value"] == "datasets/background.tsv" and cleared is None
    assert ["datasets/background.tsv", "datasets/background.tsv"] in background["choices"]
    assert (running_app.services.settings.data_dir / "datasets" / "background.tsv").is_file()
