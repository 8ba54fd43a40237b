"""The case generator: consistent MQuAKE-format cases from a small graph built in code."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from typer.testing import CliRunner

from app.cli import app
from kg.errors import InputError
from kg.records import Entity
from kg.relation_table import RelationTable
from kg.store import FactStore, ImportBundle
from qa.consistency import edit_conflicts, inconsistent_case_ids
from qa.generator import CaseGenerator, GeneratorConfig
from qa.harness import Setting, prepare_store
from qa.mquake import load_cases, parse_case

COUNTRIES = ["Aland", "Borduria", "Carpania", "Dorne", "Elbonia", "Freedonia"]


def small_world() -> FactStore:
    """Six countries with capitals, heads of state and currencies; people who are their citizens."""
    table = RelationTable.load()
    entities, facts = [], []
    for i, name in enumerate(COUNTRIES):
        entities += [Entity(f"c{i}", name), Entity(f"cap{i}", f"{name} City"), Entity(f"h{i}", f"Leader {name}"),
                     Entity(f"m{i}", f"{name} Mark")]
        facts += [(f"c{i}", "P36", f"cap{i}"), (f"c{i}", "P35", f"h{i}"), (f"c{i}", "P38", f"m{i}"),
                  (f"h{i}", "P27", f"c{i}"), (f"cap{i}", "P17", f"c{i}")]
        for j in range(3):
            entities.append(Entity(f"p{i}{j}", f"Person {i}{j}", (f"P{i}{j}",)))
            facts += [(f"p{i}{j}", "P27", f"c{(i + j) % 6}"), (f"p{i}{j}", "P19", f"cap{(i + 2 * j) % 6}")]
    relations = [table.relation(r) for r in ("P17", "P19", "P27", "P35", "P36", "P38")]
    store = FactStore.open("memory:")
    store.import_bundle(ImportBundle(entities, relations, facts))
    return store


def test_generated_cases_are_consistent_with_all_edits_loaded() -> None:
    raw = CaseGenerator(small_world()).generate(GeneratorConfig(cases=60, seed=3), progress=False)
    cases = [parse_case(c, i) for i, c in enumerate(raw)]
    assert len(cases) == 60 and len({c.case_id for c in cases}) == 60
    assert inconsistent_case_ids(cases) == set() and edit_conflicts(cases) == []
    assert set(Counter(c.hops for c in cases)) <= {2, 3, 4} and Counter(c.hops for c in cases)[2] >= 15
    assert len({c.graph.triples for c in cases}) == 60  # distinct chains
    for case in cases:
        for rewrite in case.graph.rewrites:
            assert rewrite.true_id != rewrite.new_id
            assert rewrite.triple in case.graph.new_triples
        assert case.new_answer != case.answer
        start = case.graph.labels[case.graph.triples[0][0]]
        assert all(start in q for q in case.questions) and len(set(case.questions)) == 3


def test_questions_are_composed_from_relation_templates() -> None:
    generator = CaseGenerator(small_world())
    questions = generator.questions("p00", ["P27", "P36"])
    assert questions == [
        "What is the capital of the country of citizenship of Person 00?",
        "Tell me the capital of the country of citizenship of Person 00.",
        "Can you name the capital of the country of citizenship of Person 00?",
    ]
    assert generator.questions("c0", ["P35", "P19"])[:2] == [
        "Where was the head of state of Aland born?",
        "What is the birthplace of the head of state of Aland?",
    ]


def test_same_seed_gives_the_same_cases() -> None:
    one = CaseGenerator(small_world()).generate(GeneratorConfig(cases=20, seed=5), progress=False)
    two = CaseGenerator(small_world()).generate(GeneratorConfig(cases=20, seed=5), progress=False)
    assert one == two


def test_asking_for_more_cases_than_the_graph_holds_is_an_error() -> None:
    with pytest.raises(InputError, match="could make only"):
        CaseGenerator(small_world()).generate(GeneratorConfig(cases=100_000), progress=False)


def test_generated_cases_load_into_both_settings(tmp_path: Path) -> None:
    raw = CaseGenerator(small_world()).generate(GeneratorConfig(cases=30, seed=1), progress=False)
    path = tmp_path / "made.json"
    path.write_text(json.dumps(raw), encoding="utf-8")
    cases = load_cases(path)
    kg = prepare_store(cases, Setting.KG)
    chain = cases[0].graph.triples
    assert {f.object for f in kg.objects(chain[0][0], chain[0][1])} == {chain[0][2]}
    assert prepare_store(cases, Setting.MODEL).stats().base_facts == 0


def test_bench_make_cli_writes_checked_cases(tmp_path: Path) -> None:
    facts = tmp_path / "facts.tsv"
    store = small_world()
    rows = []
    for fact in store.current_facts():
        s, o = store.entity(fact.subject), store.entity(fact.object)
        assert s and o
        rows.append("\t".join([s.id, s.label, fact.relation, fact.relation, o.id, o.label]))
    facts.write_text("\n".join(rows) + "\n", encoding="utf-8")
    out = tmp_path / "bench.json"
    result = CliRunner().invoke(app, ["bench", "make", "--facts", str(facts), "--cases", "25", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "25 cases written" in result.output and len(load_cases(out)) == 25
