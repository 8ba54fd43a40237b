"""Hostile input: every parser and every store entry point gives a clear error or the right result.

Random Unicode, control characters, 1 MB strings, SPARQL-injection attempts, IRIs with spaces and
numbers as labels go into labels, ids, edit requests, lookups and import files. Each either lands
exactly as given (and reads back equal) or is refused with a :class:`KgeditError`, and a refused
input changes nothing in the store. Any other exception, or a changed store, fails the test.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from rdflib import URIRef

from kg.errors import InputError, KgeditError, StoreError
from kg.io import IMPORT_FORMATS, import_file
from kg.records import EditRequest, Entity
from kg.store import FactStore
from tests.support import tiny_world

INJECTIONS = [
    '"} ; DROP ALL ; {',
    "<urn:x> ?p ?o",
    "'} ; CLEAR ALL ; {",
    '" . } } ; INSERT DATA { GRAPH <http://kgedit.org/graph/current> { <urn:a> <urn:b> <urn:c> } } #',
    "} UNION { ?s ?p ?o",
    "\\u0022 } ; DROP ALL",
    "http://example.org/has space",
    "<http://kgedit.org/entity/Q90>",
    "Q90 ",
    "42",
    "3.14",
    "-0",
    "1e9",
    "NaN",
    "true",
    "_:b0",
    "\x00",
    "\x1b[31mred\x1b[0m",
    "\u202eevil\u202c",
    "a\r\nb",
    "😀" * 3,
]

hostile = st.one_of(st.sampled_from(INJECTIONS), st.text(max_size=80), st.from_regex(r"[ -~]{0,40}", fullmatch=True))
STORE_SETTINGS = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
_counter = itertools.count()


def snapshot(store: FactStore) -> set[tuple[object, ...]]:
    """Every quad of the store (no graph filter), to prove a refused input changed nothing."""
    return set(store.backend.quads())


@given(ident=hostile, label=hostile, alias=hostile)
@example(ident="New York City", label='"} ; DROP ALL ; {', alias="<urn:x> ?p ?o")
@example(ident="12", label="12", alias="3.5")
@STORE_SETTINGS
def test_any_id_label_and_alias_land_exactly_or_are_refused(
    store: FactStore, ident: str, label: str, alias: str
) -> None:
    unique = f"{next(_counter)}|{ident}"
    before = snapshot(store)
    revision = store.revision()
    entity = Entity(unique, label, (alias,))
    try:
        store.add_entities([entity])
    except InputError:
        assert not label.strip(), f"label {label!r} was refused"
        assert snapshot(store) == before and store.revision() == revision
        return
    assert store.entity(unique) == entity
    assert entity in store.find_entities(label)
    assert entity in store.find_entities(alias)
    assert store.revision() == revision + 1


@given(subject=hostile, relation=hostile, obj=hostile)
@example(subject='"} ; DROP ALL ; {', relation="P36", obj="Q90")
@example(subject="Q142", relation="<urn:x> ?p ?o", obj="Q90")
@example(subject="Q142", relation="P36", obj="} UNION { ?s ?p ?o")
@STORE_SETTINGS
def test_hostile_edit_requests_are_refused_and_change_nothing(
    world: FactStore, subject: str, relation: str, obj: str
) -> None:
    known_ids = {"Q142", "Q38", "Q90", "Q456", "Q220", "Q150", "Q652", "Q1", "Q2", "Q3"}
    if subject in known_ids and obj in known_ids and relation in {"P36", "P37", "P6", "P26"}:
        return  # a legitimate edit; the store suite covers those
    before = snapshot(world)
    revision = world.revision()
    with pytest.raises(InputError):
        world.edit(EditRequest(subject, relation, obj, note=subject, author=obj))
    assert snapshot(world) == before and world.revision() == revision


@given(text=hostile)
@STORE_SETTINGS
def test_lookups_with_hostile_text_answer_nothing_and_change_nothing(world: FactStore, text: str) -> None:
    before = snapshot(world)
    assert world.find_entities(text) == [e for e in world.find_entities(text) if text in (e.label, *e.aliases)]
    assert world.entity(text) is None or text in {"Q142", "Q38", "Q90", "Q456", "Q220", "Q150", "Q652"}
    assert world.objects(text, "P36") == [] or text in ("Q142", "Q38")
    assert world.facts_about(text) == [] or world.has_entity(text)
    assert world.edits_on(text, text) == []
    with pytest.raises(InputError):
        world.get_edit(text + " x")
    assert snapshot(world) == before


def test_one_megabyte_label_and_lookup_round_trip(store: FactStore) -> None:
    label = ("Ünïcode 漢字 😀 \t\"quote\" '} ; DROP ALL ; {' " * 30_000)[:1_000_000]
    entity = Entity("big", label, ("x" * 1_000_000,))
    store.add_entities([entity])
    assert store.entity("big") == entity
    assert store.find_entities(label) == [entity]
    before = snapshot(store)
    with pytest.raises(InputError):
        store.edit(EditRequest("y" * 1_000_000, "P36", "big"))
    assert snapshot(store) == before


def test_backend_refuses_raw_iris_that_could_break_out_of_a_query(store: FactStore) -> None:
    """The store never builds such IRIs (ids are percent-encoded); every backend refuses them anyway
    with a StoreError, and nothing changes."""
    before = snapshot(store)
    for bad in ("urn:a b", "urn:x> ?p ?o . <urn:y", 'urn:"}'):
        with pytest.raises(StoreError, match="IRI"):
            list(store.backend.quads(URIRef(bad)))
        with pytest.raises(StoreError, match="IRI"):
            store.backend.apply(add=[(URIRef(bad), URIRef("urn:p"), URIRef("urn:o"), URIRef("urn:g"))])
    assert snapshot(store) == before


# ----- parsers ---------------------------------------------------------------------------------

PARSER_SETTINGS = settings(max_examples=30, deadline=None)
_SUFFIX = {"turtle": ".ttl", "nt": ".nt", "nquads": ".nq", "tsv": ".tsv", "relations": ".tsv"}


def _fresh_world() -> FactStore:
    store = FactStore.open("memory:")
    store.import_bundle(tiny_world())
    return store


def _import_or_refuse(content: bytes, fmt: str, tmp_path: Path) -> None:
    path = tmp_path / f"input-{next(_counter)}{_SUFFIX.get(fmt, '.json')}"
    path.write_bytes(content)
    store = _fresh_world()
    before = snapshot(store)
    try:
        import_file(store, path, fmt)
    except KgeditError as exc:
        assert str(exc), "an error without a message"
        assert snapshot(store) == before, f"a refused {fmt} import changed the store"
    finally:
        store.close()


texts = st.one_of(
    st.text(max_size=400),
    st.sampled_from(INJECTIONS),
    st.lists(st.sampled_from(INJECTIONS + ["\t", "\n", " ", "{", "}", "[", "]", '"', ":", ",", "<", ">", "."]),
             max_size=60).map("".join),
)  # fmt: skip


def test_turtle_injection_text_is_an_input_error(tmp_path: Path) -> None:
    path = tmp_path / "bad.ttl"
    path.write_text('"} ; DROP ALL ; {', encoding="utf-8")
    with pytest.raises(InputError):
        import_file(_fresh_world(), path, "turtle")


def test_mquake_file_that_is_not_utf8_is_an_input_error(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_bytes(b"\x80[]")
    with pytest.raises(InputError):
        import_file(_fresh_world(), path, "mquake")


@pytest.mark.parametrize("fmt", IMPORT_FORMATS)
@given(content=st.one_of(texts.map(lambda t: t.encode("utf-8")), st.binary(max_size=300)))
@PARSER_SETTINGS
def test_every_import_format_refuses_garbage_cleanly(tmp_path_factory: pytest.TempPathFactory, fmt: str,
                                                    content: bytes) -> None:  # fmt: skip
    _import_or_refuse(content, fmt, tmp_path_factory.mktemp("garbage"))


cell = st.one_of(st.sampled_from(INJECTIONS), st.text(max_size=30)).map(
    lambda t: t.replace("\t", " ").replace("\n", " ").replace("\r", " ").replace("\x0b", " ")
    .replace("\x0c", " ").replace("\x1c", " ").replace("\x1d", " ").replace("\x1e", " ")
    .replace("\x85", " ").replace("\u2028", " ").replace("\u2029", " ").strip()
)  # fmt: skip


@given(rows=st.lists(st.tuples(cell, cell, cell, cell), min_size=1, max_size=5))
@PARSER_SETTINGS
def test_labelled_tsv_with_hostile_cells_imports_them_verbatim_or_refuses(
    tmp_path_factory: pytest.TempPathFactory, rows: list[tuple[str, str, str, str]]
) -> None:
    path = tmp_path_factory.mktemp("tsv") / "facts.tsv"
    lines = [f"{s}\t{sl}\tP36\tcapital\t{o}\t{ol}" for s, sl, o, ol in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    store = _fresh_world()
    before = snapshot(store)
    try:
        import_file(store, path, "tsv")
    except KgeditError:
        assert snapshot(store) == before
        return
    finally:
        pass
    labels: dict[str, str] = {}
    for s, s_label, o, o_label in rows:
        if s.startswith("#") or not (s + s_label + o + o_label):
            continue
        labels.setdefault(s, s_label)
        labels.setdefault(o, o_label)
        assert o in {f.object for f in store.objects(s, "P36")}
    for ident, label in labels.items():
        found = store.entity(ident)
        assert found is not None and found.label == label
    store.close()
