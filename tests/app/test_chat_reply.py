"""The Chat tab's handler without a browser: one answer with its chain, or one plain message."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.ui.chat import EMPTY_QUESTION, chat_reply
from app.ui.services import Services
from kg.errors import InputError
from tests.app.conftest import demo_services


@pytest.fixture
def services(tmp_path: Path) -> Services:
    return demo_services(tmp_path / "home")


def test_a_question_adds_the_answer_with_its_chain_and_clears_the_box(services: Services) -> None:
    messages, chain, trace, box = chat_reply(services, "What is the capital of France?", [], "graph")
    assert [m["role"] for m in messages] == ["user", "assistant"]
    assert "**Paris**" in messages[1]["content"] and "Answer: Paris" in chain
    assert trace is not None and trace["trace"]["system"] == "graph" and box == ""


def test_an_empty_question_is_one_message_and_an_unknown_system_one_sentence(services: Services) -> None:
    messages, chain, trace, _ = chat_reply(services, "  ", None, "graph")
    assert [m["content"] for m in messages] == [EMPTY_QUESTION] and chain == "" and trace is None
    with pytest.raises(InputError, match="unknown system 'oracle'"):
        chat_reply(services, "What is the capital of France?", [], "oracle")
