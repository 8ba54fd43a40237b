"""Ask and add through Gradio's API: a script sees an edit change a multi-hop answer and its trace."""

from __future__ import annotations

from typing import Any

import pytest
from gradio_client import Client

from tests.app.conftest import RunningApp

QUESTION = "What is the currency of the country where Berlin is located?"


@pytest.fixture(scope="module")
def client(running_app: RunningApp) -> Client:
    return Client(running_app.url, verbose=False)


def ask(client: Client, question: str, system: str = "graph") -> tuple[list[Any], str, dict[str, Any]]:
    history, chain, trace, cleared = client.predict(question, [], system, api_name="/ask")
    assert cleared == ""
    return history, chain, trace


def test_ask_then_add_then_ask_sees_the_edit_in_the_chain(client: Client) -> None:
    _, chain, trace = ask(client, QUESTION)
    assert trace["text"] == "Euro"
    assert [h["origin"] for h in trace["trace"]["hops"]] == ["base", "base"]
    assert "kg-badge-base" in chain and "kg-badge-edit" not in chain

    outcome, *_ = client.predict("Germany", "currency", "Swiss Franc", "", "script", "", api_name="/add")
    edit_id = outcome.split("Committed ")[1].split("**")[0]

    history, chain, trace = ask(client, QUESTION)
    assert trace["text"] == "Swiss Franc"
    last = trace["trace"]["hops"][-1]
    assert last["origin"] == "edit" and last["fact"]["edit_id"] == edit_id
    assert f"edit {edit_id}</span>" in chain
    assert history[-1]["role"] == "assistant"

    client.predict(edit_id, api_name="/retract")
    _, _, trace = ask(client, QUESTION)
    assert trace["text"] == "Euro"


def test_empty_question_gets_one_plain_message_and_unknown_system_one_sentence(client: Client) -> None:
    history, chain, trace = ask(client, "   ")
    assert [m["role"] for m in history] == ["assistant"] and "Type a question first" in str(history[0]["content"])
    assert chain == "" and trace is None
    with pytest.raises(Exception, match="not in the list of choices"):
        ask(client, QUESTION, system="oracle")
