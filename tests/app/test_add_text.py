"""Curators write facts in plain text: each sentence form, new objects, paragraphs, and nothing written
until a candidate is accepted (``kgedit kg add-text`` and the operation behind it)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

import app.service.text_facts as text_facts
from app.cli import app
from app.service.text_facts import commit, propose
from kg.demo import DEMO_RELATIONS, load_demo
from kg.errors import InputError
from kg.store import FactStore
from retrieval.embedder import Embedder
from retrieval.fact_text import FactTextReader
from retrieval.relation_model import RelationModel


@pytest.fixture(scope="module")
def embedder() -> Embedder:
    return Embedder()


@pytest.fixture(scope="module")
def model(embedder: Embedder, tmp_path_factory: pytest.TempPathFactory) -> RelationModel:
    """Fitted once on the demo graph's relations (the same ones every demo store holds)."""
    return RelationModel.cached(embedder, DEMO_RELATIONS, tmp_path_factory.mktemp("relation-model"))


@pytest.fixture
def demo() -> Iterator[FactStore]:
    store = FactStore.open("memory:")
    load_demo(store)
    yield store
    store.close()


@pytest.fixture
def reader(demo: FactStore, embedder: Embedder, model: RelationModel) -> FactTextReader:
    return FactTextReader(demo, embedder, model=model)


@pytest.mark.parametrize(
    ("text", "triple"),
    [
        pytest.param("Bhutan now pays in the Indian rupee.", ("country:BTN", "P38", "currency:INR"), id="statement"),
        pytest.param("fix - Germany's capital is Bonn", ("country:DEU", "P36", "+Bonn"), id="correction"),
        pytest.param("Chile moved its capital to Valparaíso", ("country:CHL", "P36", "+Valparaíso"), id="change"),
        pytest.param("BREAKING: Japan adopts the US Dollar", ("country:JPN", "P38", "currency:USD"), id="news"),
        pytest.param("germany now uses the swiss franc", ("country:DEU", "P38", "currency:CHF"), id="lower-case"),
        pytest.param("Oslo's country: Sweden", ("city:NOR:Oslo", "P17", "country:SWE"), id="colon"),
        pytest.param("Paris is the capital of Italy", ("country:ITA", "P36", "city:FRA:Paris"), id="reversed"),
    ],
)
def test_each_sentence_form_gives_its_triple(reader: FactTextReader, text: str, triple: tuple[str, str, str]) -> None:
    (candidate,) = reader.read(text).candidates
    obj = "+" + candidate.object_label if candidate.new_object else candidate.object
    assert (candidate.subject, candidate.relation, obj) == triple
    assert candidate.text == text
    assert text[candidate.subject_span.start : candidate.subject_span.end] == candidate.subject_span.text


def test_a_misspelt_name_is_still_linked(reader: FactTextReader) -> None:
    (candidate,) = reader.read("The currency of Swizterland is now the Euro").candidates
    assert (candidate.subject, candidate.object) == ("country:CHE", "currency:EUR")


def test_an_unknown_object_is_proposed_as_a_new_entity(reader: FactTextReader, demo: FactStore) -> None:
    proposals, _ = propose(reader, "Chile moved its capital to Valparaíso")
    (proposal,) = proposals
    assert proposal.candidate.new_object and proposal.candidate.object is None
    assert proposal.candidate.object_label == "Valparaíso"
    assert proposal.object_id.startswith("kg:") and not demo.has_entity(proposal.object_id)
    assert proposal.preview.new_entity and proposal.preview.supersedes == ["city:CHL:Santiago"]
    assert proposal.as_json()["new_object"] is True


def test_a_paragraph_with_two_facts_gives_two_candidates(reader: FactTextReader) -> None:
    found = reader.read("Peru's capital is Cusco and its currency is the US Dollar. Spain borders Morocco.")
    got = [(c.subject, c.relation, c.object_label) for c in found.candidates]
    assert got == [
        ("country:PER", "P36", "Cusco"),
        ("country:PER", "P38", "US Dollar"),
        ("country:ESP", "P47", "Morocco"),
    ]


def test_a_negated_object_is_what_the_candidate_replaces(reader: FactTextReader) -> None:
    (candidate,) = reader.read("Japan's official language is now English, not Japanese").candidates
    assert (candidate.object, candidate.replaces) == ("language:en", ("language:ja",))


def test_text_with_no_fact_is_refused_with_what_to_do(reader: FactTextReader) -> None:
    with pytest.raises(InputError, match="no fact found.*kgedit kg add"):
        propose(reader, "hello there, how are you")
    with pytest.raises(InputError, match="empty"):
        propose(reader, "   ")


def test_a_low_confidence_candidate_is_not_committed_unless_picked(reader: FactTextReader, demo: FactStore) -> None:
    proposals, _ = propose(reader, "Brunei has switched to the Harrowgate")
    (low,) = proposals
    assert not low.high_confidence
    before = demo.revision()
    with pytest.raises(InputError, match="low confidence"):
        commit(demo, [low], set(), "t", "test")
    assert demo.revision() == before and not demo.edits()
    (outcome,) = commit(demo, [low], {low.number}, "t", "test")
    assert outcome.edit.object == low.object_id


def test_a_committed_edit_keeps_its_sentence(reader: FactTextReader, demo: FactStore) -> None:
    text = "Bhutan now pays in the Indian rupee."
    proposals, _ = propose(reader, text)
    (outcome,) = commit(demo, proposals, set(), "curator", "test", "news item")
    assert text in outcome.edit.source and outcome.edit.note == "news item"
    assert [f.object for f in demo.objects("country:BTN", "P38")] == ["currency:INR"]


# ----- the command line -----------------------------------------------------------------------


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, embedder: Embedder) -> Path:
    """A home with the demo graph; the command shares the module's embedding model (no reload)."""
    monkeypatch.setenv("KGEDIT_HOME", str(tmp_path / "home"))
    monkeypatch.setattr(text_facts, "Embedder", lambda *args, **kwargs: embedder)
    assert kgedit("kg", "demo").exit_code == 0
    return tmp_path / "home"


def kgedit(*args: str, input: str | None = None):  # noqa: ANN201 - typer's Result
    return CliRunner().invoke(app, list(args), input=input, catch_exceptions=False)


def edits_in(home: Path) -> list:
    store = FactStore.open(f"oxigraph:{home / 'store'}", read_only=True)
    try:
        return store.edits()
    finally:
        store.close()


def test_dry_run_json_prints_one_object_per_candidate_and_writes_nothing(home: Path) -> None:
    result = kgedit("kg", "add-text", "Bhutan now pays in the Indian rupee. Chile moved its capital to Valparaíso",
                    "--dry-run", "--json")  # fmt: skip
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.output.splitlines()]
    keys = {"text", "subject", "subject_label", "relation", "object", "object_label", "new_object", "confidence"}
    assert all(keys <= row.keys() for row in rows) and len(rows) == 2
    assert (rows[0]["object"], rows[1]["new_object"]) == ("currency:INR", True)
    assert edits_in(home) == []


def test_yes_commits_high_confidence_candidates_with_their_sentence(home: Path) -> None:
    result = kgedit("kg", "add-text", "Bhutan now pays in the Indian rupee.", "--yes")
    assert result.exit_code == 0, result.output
    assert "supersedes: Ngultrum" in result.output and "E1:" in result.output
    (edit,) = edits_in(home)
    assert (edit.subject, edit.relation, edit.object) == ("country:BTN", "P38", "currency:INR")
    assert "Bhutan now pays in the Indian rupee." in edit.source


def test_a_rejected_candidate_leaves_the_store_unchanged(home: Path) -> None:
    result = kgedit("kg", "add-text", "Bhutan now pays in the Indian rupee.", input="n\n")
    assert result.exit_code == 0, result.output
    assert "commit candidate 1?" in result.output and "nothing committed" in result.output
    assert edits_in(home) == []


def test_nothing_found_is_one_clear_error(home: Path) -> None:
    result = CliRunner().invoke(app, ["kg", "add-text", "hello there"])
    assert result.exit_code != 0
    assert "no fact found" in str(result.exception)


class _FakeLM:
    """Stands in for the causal LM: answers every prompt with one fixed line."""

    def __init__(self, answer: str) -> None:
        self.answer = answer
        self.prompts: list[str] = []

    def generate(self, prompt: str, max_new_tokens: int = 32, stop: object = ()) -> str:
        self.prompts.append(prompt)
        return self.answer


def test_the_language_model_guesses_only_what_nothing_else_read_and_is_marked_low(reader: FactTextReader) -> None:
    lm = _FakeLM(" Chile | capital | Valparaíso\n")
    text = "Bhutan now pays in the Indian rupee. Word is the Chileans govern from Valparaíso these days"
    proposals, unread = propose(reader, text, lm=lm)
    assert len(lm.prompts) == 1 and "govern from" in lm.prompts[0]  # only the clause nothing read
    first, guess = proposals
    assert first.candidate.method == "relation-model" and first.high_confidence
    assert guess.candidate.method == "language-model" and not guess.high_confidence
    assert (guess.candidate.subject, guess.candidate.relation, guess.candidate.object_label) == (
        "country:CHL", "P36", "Valparaíso")  # fmt: skip
    assert guess.candidate.new_object and unread == []


def test_a_language_model_answer_that_names_nothing_known_is_dropped(reader: FactTextReader) -> None:
    with pytest.raises(InputError, match="no fact found"):
        propose(reader, "the weather is lovely today", lm=_FakeLM("Weather | mood | lovely"))


def test_a_pronoun_refers_to_the_previous_sentences_subject(reader: FactTextReader) -> None:
    found = reader.read("Bhutan now pays in the Indian rupee. Its capital is Paro.").candidates
    assert [(c.subject, c.relation, c.object_label) for c in found] == [
        ("country:BTN", "P38", "Indian Rupee"),
        ("country:BTN", "P36", "Paro"),
    ]


def test_a_fact_stated_twice_is_one_candidate(reader: FactTextReader) -> None:
    proposals, _ = propose(reader, "Bhutan now pays in the Indian rupee. bhutan now pays in the indian rupee")
    assert len(proposals) == 1


def test_yes_skips_a_low_confidence_candidate_and_pick_commits_it(home: Path) -> None:
    sentence = "Brunei has switched to the Harrowgate"
    skipped = kgedit("kg", "add-text", sentence, "--yes")
    assert "skipped: low confidence" in skipped.output and edits_in(home) == []
    picked = kgedit("kg", "add-text", sentence, "--pick", "1", "--json")
    assert picked.exit_code == 0, picked.output
    (row,) = [json.loads(line) for line in picked.output.splitlines()]
    assert row["edit"] == "E1" and row["new_object"] is True and row["high_confidence"] is False
    assert [e.id for e in edits_in(home)] == ["E1"]


def test_a_new_name_keeps_its_capitalised_first_word(reader: FactTextReader) -> None:
    (candidate,) = reader.read("news - Egypt moves its capital to the New Administrative Capital").candidates
    assert (candidate.new_object, candidate.object_label) == (True, "New Administrative Capital")


def test_a_sentence_stating_the_current_fact_writes_no_edit(home: Path) -> None:
    result = kgedit("kg", "add-text", "The currency of Germany is the Euro.", "--yes")
    assert result.exit_code == 0, result.output
    assert "already the current fact; not written" in result.output and "nothing committed" in result.output
    assert edits_in(home) == []
