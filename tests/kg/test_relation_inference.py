"""A user's own graph imports without a relations file: relation metadata is inferred, listed and overridable."""

from __future__ import annotations

from pathlib import Path

import pytest

from kg.io import import_file
from kg.relation_inference import infer_relations, label_from_name, local_name
from kg.relation_table import DEFAULT_TABLE
from kg.store import FactStore
from kg.vocab import SCHEMA_GRAPH, relation_iri

EX = "http://example.org/people#"
TURTLE = f"""
@prefix ex: <{EX}> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
ex:ada rdfs:label "Ada Quill" ; ex:worksFor ex:acme ; ex:speaks ex:french, ex:german .
ex:bob rdfs:label "Bob Marsh" ; ex:worksFor ex:globex ; ex:speaks ex:french .
ex:acme rdfs:label "Acme Works" ; ex:has_headquarters ex:lyon .
ex:globex rdfs:label "Globex" ; ex:has_headquarters ex:turin .
ex:lyon rdfs:label "Lyon" . ex:turin rdfs:label "Turin" .
ex:french rdfs:label "French" . ex:german rdfs:label "German" .
ex:speaks rdfs:label "language spoken" .
"""


@pytest.fixture
def people(tmp_path: Path) -> Path:
    path = tmp_path / "people.ttl"
    path.write_text(TURTLE, encoding="utf-8")
    return path


def test_local_names_become_words() -> None:
    assert label_from_name(local_name("http://x.org/ns#countryOfCitizenship")) == "country of citizenship"
    assert label_from_name(local_name("http://x.org/ns/has_capital")) == "capital"
    assert label_from_name(local_name("urn:x:birth-place")) == "birth place"
    assert label_from_name("ISOCode") == "ISO code"


def test_turtle_with_unknown_predicates_imports_with_inferred_metadata(people: Path) -> None:
    store = FactStore.open("memory:")
    report = import_file(store, people)
    assert report.facts == 7 and set(report.inferred) == {
        EX + "worksFor",
        EX + "speaks",
        EX + "has_headquarters",
    }
    works, speaks, seat = (store.relation(EX + n) for n in ("worksFor", "speaks", "has_headquarters"))
    assert works is not None and works.label == "works for" and works.functional and works.inferred
    assert speaks is not None and speaks.label == "language spoken" and not speaks.functional
    assert seat is not None and seat.label == "headquarters"
    assert seat.statement("Acme Works", "Lyon") == "The headquarters of Acme Works is Lyon."
    assert seat.question("Acme Works") == "What is the headquarters of Acme Works?"
    assert works.statement("Ada Quill", "Acme Works") == "Ada Quill works for Acme Works."
    assert [f.object for f in store.objects(EX + "ada", EX + "speaks")] == [EX + "french", EX + "german"]


def test_a_relations_file_overrides_what_was_inferred(people: Path, tmp_path: Path) -> None:
    store = FactStore.open("memory:")
    import_file(store, people)
    relations = tmp_path / "relations.tsv"
    relations.write_text(f"{EX}worksFor\temployer\tThe employer of {{}} is\tWho employs {{}}?\tyes\n")
    import_file(store, relations)
    works = store.relation(EX + "worksFor")
    assert works is not None and works.label == "employer" and not works.inferred
    assert works.question("Ada Quill") == "Who employs Ada Quill?"
    labels = list(store.backend.quads(relation_iri(EX + "worksFor"), None, None, SCHEMA_GRAPH))
    assert len([q for q in labels if q[1].endswith("label")]) == 1
    assert len(store.objects(EX + "ada", EX + "worksFor")) == 1  # the facts stay


def test_wikidata_ids_in_a_labelled_tsv_take_the_shipped_templates(tmp_path: Path) -> None:
    path = tmp_path / "books.tsv"
    path.write_text(
        "Q1\tUlysses\tP407\tlanguage of work\tQ2\tEnglish\nQ3\tDubliners\tP999\tshelf mark\tQ4\tA12\n"
    )
    store = FactStore.open("memory:")
    report = import_file(store, path)
    assert report.inferred == ("P407", "P999")
    language = store.relation("P407")
    assert (
        language is not None and language.statement("Ulysses", "English") == "Ulysses is written in English."
    )
    mark = store.relation("P999")
    assert mark is not None and mark.label == "shelf mark" and mark.functional


def test_the_shipped_relation_table_imports_itself() -> None:
    store = FactStore.open("memory:")
    report = import_file(store, DEFAULT_TABLE)
    assert report.relations == len(store.relations()) > 150
    capital = store.relation("P36")
    assert capital is not None and capital.functional and not capital.inferred


def test_functional_is_inferred_from_the_share_of_subjects_with_several_objects() -> None:
    one_each = [(f"s{i}", "r", f"o{i}") for i in range(100)]
    few_doubles = one_each + [(f"s{i}", "r", "extra") for i in range(3)]
    many_doubles = one_each + [(f"s{i}", "r", "extra") for i in range(30)]
    assert infer_relations(["r"], few_doubles)[0].functional
    assert not infer_relations(["r"], many_doubles)[0].functional


def test_an_edit_on_an_unknown_relation_is_still_refused(people: Path) -> None:
    from kg.errors import InputError
    from kg.records import EditRequest

    store = FactStore.open("memory:")
    import_file(store, people)
    with pytest.raises(InputError, match="unknown relation"):
        store.edit(EditRequest(EX + "ada", EX + "likes", EX + "bob"))
