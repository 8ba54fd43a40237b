"""The MQuAKE loader and the kg import of MQuAKE files: variants, real files, and bad files."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest

from kg.errors import InputError
from kg.io.mquake import read_mquake
from kg.relation_table import RelationTable
from kg.store import FactStore
from qa.mquake import Case, load_cases
from tests.qa.cases import tiny_cases

DATA = Path(__file__).resolve().parents[3] / "shared" / "data"
DEV = DATA / "dev" / "mquake_dev.json"
CF3K = DATA / "mquake" / "MQuAKE-CF-3k.json"


def write(tmp_path: Path, cases: Any, name: str = "cases.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(cases), encoding="utf-8")
    return path


def test_loader_reads_cf3k_style_cases_with_ids_labels_aliases_and_probes(tmp_path: Path) -> None:
    cases = load_cases(write(tmp_path, tiny_cases()))
    first = cases[0]
    assert (first.case_id, first.hops, first.edit_count) == ("1", 2, 1)
    assert first.graph.labels["Y"] == "Yland"
    assert first.new_golds == ("Y City", "cy")
    assert first.graph.base_triples() == [("P1", "P27", "X"), ("X", "P36", "CX"), ("Y", "P36", "CY")]
    probe = first.edit_probes()[0]
    assert probe.question == "P27 of Ann Person?" and probe.golds[0] == "Yland"


def test_loader_accepts_variant_without_edit_triples_ids_single_hops_or_case_ids(tmp_path: Path) -> None:
    """MQuAKE-T style files may lack edit_triples, labelled new chains, target ids and single hops."""
    raw = tiny_cases()
    for i, case in enumerate(raw):
        del case["orig"]["edit_triples"], case["orig"]["new_triples_labeled"], case["case_id"]
        del case["single_hops"], case["new_single_hops"], case["answer_alias"]
        for rewrite in case["requested_rewrite"]:
            rewrite["target_true"].pop("id")
            rewrite["target_new"].pop("id")
        raw[i] = case
    cases = load_cases(write(tmp_path, raw))
    assert [c.case_id for c in cases] == ["1", "2", "3", "4"]
    assert cases[2].graph.edit_triples == (("HZ", "P27", "Y"), ("Y", "P36", "CZ"))
    assert cases[0].graph.rewrites[0].true_id == "X"
    assert cases[0].new_single_hops == () and cases[0].edit_probes()[0].golds[0] == "Yland"


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda c: c.pop("questions"), "case 2: missing key 'questions'"),
        (lambda c: c.update(new_answer=7), "case 2: key 'new_answer' must be a str"),
        (lambda c: c["orig"].pop("new_triples"), "case 2, orig: missing key 'new_triples'"),
        (lambda c: c["orig"]["triples"].append(["X", "P36"]), "triples[2] must be a list of three"),
        (lambda c: c["orig"]["edit_triples"].append(["X", "P35", "HY"]), "1 requested_rewrite entries but 2"),
        (lambda c: c["requested_rewrite"][0].pop("relation_id"), "requested_rewrite[0]: missing key 'relation_id'"),
        (lambda c: c["new_single_hops"].pop(), "new_single_hops has 1 hops but the chain has 2"),
        (lambda c: c.update(requested_rewrite=[]), "requested_rewrite is empty"),
    ],
)
def test_loader_names_case_and_key_of_a_bad_case(tmp_path: Path, mutate: Any, message: str) -> None:
    raw = tiny_cases()
    mutate(raw[1])
    with pytest.raises(InputError, match=message.replace("[", r"\[").replace("]", r"\]")):
        load_cases(write(tmp_path, raw))


def test_loader_rejects_files_that_are_not_case_lists(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json", encoding="utf-8")
    with pytest.raises(InputError, match="not valid JSON"):
        load_cases(bad)
    with pytest.raises(InputError, match="JSON list of cases"):
        load_cases(write(tmp_path, {"cases": []}))
    with pytest.raises(InputError, match="appears twice"):
        load_cases(write(tmp_path, [tiny_cases()[0], tiny_cases()[0]]))


def test_read_mquake_imports_world_graph_and_edits_into_a_store(tmp_path: Path) -> None:
    bundle = read_mquake(write(tmp_path, tiny_cases()))
    store = FactStore.open("memory:")
    report = store.import_bundle(bundle)
    assert {f.object for f in store.objects("P1", "P27")} == {"Y"}  # the edit is active
    assert store.base_objects("P1", "P27") == {"X"}
    assert len(report.edits) == 5
    assert store.require_relation("P36").question("Xland") == "What is the capital of Xland?"
    assert store.entity("CY") is not None and "cy" in store.entity("CY").aliases  # type: ignore[union-attr]


def test_unknown_relation_gets_label_templates_and_a_warning(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    raw = tiny_cases()[:1]
    for triple in raw[0]["orig"]["triples"] + raw[0]["orig"]["new_triples"] + raw[0]["orig"]["edit_triples"]:
        if triple[1] == "P36":
            triple[1] = "P99999"
    for labelled in raw[0]["orig"]["triples_labeled"] + raw[0]["orig"]["new_triples_labeled"]:
        if labelled[1] == "capital":
            labelled[1] = "seat of power"
    with caplog.at_level(logging.WARNING):
        bundle = read_mquake(write(tmp_path, raw), RelationTable.load())
    derived = next(r for r in bundle.relations if r.id == "P99999")
    assert derived.question("Xland") == "What is the seat of power of Xland?"
    assert "P99999" in caplog.text and "not in the relation table" in caplog.text


def test_dev_set_loads_and_imports() -> None:
    cases = load_cases(DEV)
    assert len(cases) == 120 and {c.hops for c in cases} == {2, 3, 4}
    store = FactStore.open("memory:")
    store.import_bundle(read_mquake(DEV))
    assert store.entity("E:Japan") is not None
    assert len(store.edits()) == 67


def test_cf3k_loads_with_wikidata_ids_keeping_same_label_entities_apart(cf3k_cases: list[Case]) -> None:
    cases = cf3k_cases
    assert len(cases) == 3000 and sum(c.edit_count for c in cases) == 6015
    bundle = read_mquake(CF3K)
    mustangs = {e.id for e in bundle.entities if e.label == "Ford Mustang"}
    assert {"Q183476", "Q5467866"} <= mustangs  # one label, several entities: kept apart by id
    assert all(e.wikidata_id == e.id for e in bundle.entities)


def test_relation_table_covers_the_mquake_family_and_has_150_properties(cf3k_cases: list[Case]) -> None:
    table = RelationTable.load()
    assert len(table) >= 150
    used = {t[1] for c in [*load_cases(DEV), *cf3k_cases] for t in c.graph.triples + c.graph.new_triples}
    assert used <= set(table.ids())
    for ident in table.ids():
        relation = table.relation(ident)
        statement = relation.statement_template
        assert statement.index("{subject}") < statement.index("{object}"), ident  # cloze needs the subject first
        assert relation.question("X").endswith("?") and relation.cloze("X")
