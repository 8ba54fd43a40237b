"""Curate's "Type a fact" through Gradio's API, as a ``gradio_client`` script would use it."""

from __future__ import annotations

import pytest
from gradio_client import Client

from tests.app.conftest import RunningApp


@pytest.fixture(scope="module")
def client(running_app: RunningApp) -> Client:
    return Client(running_app.url, verbose=False)


def test_preview_lists_candidates_and_writes_nothing(running_app: RunningApp, client: Client) -> None:
    text, choices = client.predict("Bhutan now pays in the Indian rupee.", api_name="/add_text_preview")
    assert "Candidate 1" in text and "**Supersedes**: **Ngultrum**" in text
    assert choices == "1"
    assert running_app.store.edits() == []


def test_commit_writes_only_the_ticked_candidate_with_its_sentence(running_app: RunningApp, client: Client) -> None:
    sentence = "Chile moved its capital to Valparaíso. Japan adopts the US Dollar."
    outcome, _ = client.predict(sentence, "2", "api-test", "typed", api_name="/add_text_commit")
    assert "Committed E" in outcome and "US Dollar" in outcome and "Valpara" not in outcome
    (edit,) = running_app.store.edits()
    assert (edit.subject, edit.object, edit.author) == ("country:JPN", "currency:USD", "api-test")
    assert "Japan adopts the US Dollar." in edit.source  # its own sentence, not the whole paragraph
    assert [f.object for f in running_app.store.objects("country:CHL", "P36")] == ["city:CHL:Santiago"]


def test_nothing_ticked_is_refused(running_app: RunningApp, client: Client) -> None:
    with pytest.raises(Exception, match="tick at least one candidate"):
        client.predict("Bhutan now pays in the Indian rupee.", "", "a", "", api_name="/add_text_commit")
