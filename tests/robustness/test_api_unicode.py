"""Text that is not valid Unicode, sent over plain HTTP as JSON escapes, gets one clear sentence
from every endpoint it reaches and changes nothing (gradio_client cannot even send it)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import requests

from tests.app.conftest import RunningApp, start_app


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningApp]:
    yield from start_app(tmp_path_factory.mktemp("unicode-home"))


def call(app: RunningApp, endpoint: str, *data: object) -> str:
    body = json.dumps({"data": list(data)})  # ASCII JSON: a lone surrogate travels as \\udcff
    posted = requests.post(f"{app.url}gradio_api/call/{endpoint}", data=body, timeout=60,
                           headers={"Content-Type": "application/json"})  # fmt: skip
    posted.raise_for_status()
    reply = requests.get(f"{app.url}gradio_api/call/{endpoint}/{posted.json()['event_id']}", timeout=120)
    return reply.text


@pytest.mark.parametrize(
    ("endpoint", "data"),
    [
        ("add", ("France", "capital", "Lyo\udcffn", "", "curator", "why", False)),
        ("entity_facts", ("Fr\udcffance",)),
        ("preview", ("France", "capital", "Lyo\udcffn", "", False)),
        ("history", ("France\ud800", "capital")),
        ("ask", ("What is the capital of Fr\udcffance?", [], "graph")),
    ],
)
def test_lone_surrogates_are_refused_with_a_sentence(app: RunningApp, endpoint: str, data: tuple[object, ...]) -> None:
    before = set(app.store.backend.quads())
    reply = call(app, endpoint, *data)
    assert "event: error" in reply and "not valid Unicode" in reply, reply
    assert "Something went wrong" not in reply
    assert set(app.store.backend.quads()) == before
