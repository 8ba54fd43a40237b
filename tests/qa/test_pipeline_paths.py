"""Candidate paths over the in-memory current view, and the questions composed for training."""

from __future__ import annotations

from kg.records import EditRequest, Entity, Origin, Relation
from kg.store import FactStore
from qa.paths import GraphView, enumerate_paths
from qa.phrasing import asked_type, canonical_question
from qa.training_data import sample_examples
from tests.qa.qa_support import tiny_store


def test_view_follows_edits_and_retractions() -> None:
    store = tiny_store()
    view = GraphView(store)
    view.refresh()
    outcome = store.edit(EditRequest("murakami", "P27", "italy", replaces=("japan",)))
    view.refresh()
    (fact,) = view.objects("murakami", "P27")
    assert fact.object == "italy" and fact.origin is Origin.EDIT and fact.edit_id == outcome.edit.id
    store.retract(outcome.edit.id)
    view.refresh()
    (fact,) = view.objects("murakami", "P27")
    assert fact.object == "japan" and fact.origin is Origin.BASE


def test_view_learns_new_entities() -> None:
    store = tiny_store()
    view = GraphView(store)
    view.refresh()
    store.add_entities([Entity("france", "France")])
    store.add_facts([("murakami", "P27", "france")])
    view.refresh()
    assert view.label("france") == "France"
    assert {f.object for f in view.objects("murakami", "P27")} == {"japan", "france"}


def test_paths_cover_one_to_four_hops_without_repeating_a_key() -> None:
    view = GraphView(tiny_store())
    view.refresh()
    paths = enumerate_paths(view, "kafka")
    chains = {p.relations for p in paths}
    assert ("P50",) in chains and ("P50", "P27", "P36") in chains and ("P50", "P27", "P35") in chains
    for path in paths:
        keys = [(f.subject, f.relation) for f in path.facts]
        assert len(keys) == len(set(keys)) and 1 <= path.hops <= 4


def test_missing_hops_are_offered_only_where_the_graph_lacks_the_relation() -> None:
    view = GraphView(tiny_store())
    view.refresh()
    paths = enumerate_paths(view, "joyce", open_relations=["P38", "P36"])
    missing = {(p.facts[-1].object if p.facts else p.start, p.missing) for p in paths if p.missing}
    assert ("ireland", "P38") in missing  # Ireland has no currency fact
    assert ("ireland", "P36") not in missing  # but it has a capital
    assert not enumerate_paths(view, "nobody-knows-this-id")


def test_composed_questions_name_their_subject_and_vary() -> None:
    view = GraphView(tiny_store())
    view.refresh()
    examples = list(sample_examples(view, 40, seed=3))
    assert len(examples) == 40
    for example in examples:
        start, end = example.span
        assert example.question[start:end] == view.label(example.start)
        assert 1 <= len(example.relations) <= 4
    assert len({e.question.split()[0] for e in examples}) > 3


def test_canonical_question_and_asked_type() -> None:
    view = GraphView(tiny_store())
    view.refresh()
    chain = [view.relation("P27"), view.relation("P36")]
    text = canonical_question([r for r in chain if r is not None])
    assert text.startswith("What is the capital of") and text.endswith("X?")
    assert asked_type("In which country was the author born?") == "country"
    assert asked_type("What is the capital of X?") is None  # no "which <noun>": no asked type
    assert asked_type("Where did the founder of X's religion work?") == "place"
    assert asked_type("From where does X operate?") == "place"
    assert asked_type("Who is the head of state of the country where X was born?") is None  # a relative "where"


def test_missing_hops_are_offered_only_where_entities_of_that_kind_have_the_relation() -> None:
    view = GraphView(tiny_store())
    view.refresh()
    missing = {
        (p.facts[-1].relation if p.facts else None, p.missing)
        for p in enumerate_paths(view, "ulysses", open_relations=["P19", "P36"])
        if p.missing
    }
    assert ("P50", "P19") in missing  # another author has a birthplace: Joyce's is a gap
    assert ("P27", "P19") not in missing  # countries have no birthplace: no hop for the LM to invent
    assert (None, "P36") not in missing  # nor do books have capitals
    assert view.expected("P27") == {"P36", "P38", "P35"}
    assert view.expected_of("ulysses") == {"P50"}


def _with_countries() -> FactStore:
    """The tiny graph plus cities' countries: two capitals, three other cities."""
    store = tiny_store()
    store.add_entities([Entity("osaka", "Osaka"), Entity("milan", "Milan")])
    store.add_relations([Relation("P17", "country", "{subject} is in {object}.", "Which country is {subject} in?", True, "P17")])
    store.add_facts([(c, "P17", k) for c, k in [("tokyo", "japan"), ("kyoto", "japan"), ("osaka", "japan"), ("rome", "italy"), ("milan", "italy")]])
    return store


def test_return_rates_tell_a_pair_that_undoes_itself_from_a_coincidence() -> None:
    view = GraphView(_with_countries())
    view.refresh()
    assert view.return_rate("P36", "P17") == 1.0  # a capital's country is always where you came from
    assert view.return_rate("P17", "P36") == 2 / 5  # a city's country's capital: only for capitals
    assert view.return_rate("P50", "P27") == 0.0


def test_training_walks_may_come_back_but_never_repeat_a_key_or_undo_a_hop() -> None:
    view = GraphView(_with_countries())
    view.refresh()
    examples = list(sample_examples(view, 400, seed=1))
    assert any(len({e.start, *(f.object for f in e.facts)}) <= len(e.facts) for e in examples)
    for example in examples:
        keys = [(f.subject, f.relation) for f in example.facts]
        assert len(keys) == len(set(keys))
        assert ("P36", "P17") not in zip(example.relations, example.relations[1:], strict=False)
