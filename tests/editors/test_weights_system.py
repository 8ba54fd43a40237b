"""System ``weights`` on a tiny Llama: edits go into a private copy of the model, cached by edit set."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import pytest
import torch

from editors.deltas import DeltaFolder
from editors.lm import load_lm
from kg.records import EditStatus
from kg.store import FactStore
from qa.harness import Harness, HarnessConfig, Setting, prepare_store
from qa.mquake import load_cases
from qa.runlog import RunLog
from qa.systems import SystemContext, make_system
from qa.trace import Answer
from qa.weights_system import WeightEditedModel
from tests.qa.cases import tiny_cases
from tests.support import lowercase_capital_bundle


def _store() -> FactStore:
    store = FactStore.open("memory:")
    store.import_bundle(lowercase_capital_bundle())
    return store


def test_weights_system_edits_a_private_copy_and_caches_the_delta(
    tiny_llama_dir: Path, tmp_path: Path
) -> None:
    shared = load_lm(str(tiny_llama_dir), device="cpu")
    before = {k: v.clone() for k, v in shared.model.state_dict().items()}
    context = SystemContext(lm=str(tiny_llama_dir), cache_dir=tmp_path, device="cpu", deltas_dir=tmp_path / "deltas")
    system = make_system("weights", _store(), context)
    assert isinstance(system, WeightEditedModel) and system.edits == 1
    assert all(torch.equal(v, before[k]) for k, v in shared.model.state_dict().items())
    edited = system.lm.model.state_dict()
    assert any(not torch.equal(edited[k], before[k]) for k in before)
    folder = DeltaFolder(tmp_path / "deltas", system.lm.name)
    cached = list((folder.root / DeltaFolder.EDIT_SETS).glob("*.safetensors"))
    assert len(cached) == 1 and folder.active() == []  # a cache, not a delta propagate applies
    again = make_system("weights", _store(), context)
    assert isinstance(again, WeightEditedModel)
    assert all(torch.equal(v, edited[k]) for k, v in again.lm.model.state_dict().items())


def test_weights_system_follows_the_store_batch_by_batch_in_the_harness(
    tiny_llama_dir: Path, tmp_path: Path
) -> None:
    """Built before any edit is loaded (as ``kgedit eval`` builds it), the system must still answer
    each batch's questions with that batch's edits in its weights, and not the previous batch's."""
    dataset = tmp_path / "tiny.json"
    dataset.write_text(json.dumps(tiny_cases()), encoding="utf-8")
    cases = load_cases(dataset)
    store = prepare_store(cases, Setting.KG)
    context = SystemContext(lm=str(tiny_llama_dir), cache_dir=tmp_path, device="cpu")
    system = make_system("weights", store, context)
    assert isinstance(system, WeightEditedModel) and system.delta is None
    seen: list[tuple[set[tuple[str, str, str]], set[tuple[str, str, str]]]] = []
    answer_many = system.answer_many

    def spying(questions: Sequence[str]) -> list[Answer]:
        answers = answer_many(questions)
        in_model = system.editor.patcher.applied_deltas
        carried = {i for delta in in_model for i in delta.edit_ids}
        triples = {(e.subject, e.relation, e.object) for e in map(store.get_edit, carried)}
        active = {(e.subject, e.relation, e.object) for e in store.edits(EditStatus.ACTIVE)}
        seen.append((triples, active))
        return answers

    system.answer_many = spying  # type: ignore[method-assign]
    # The tiny tokenizer cannot run generate's stop strings; what the weights hold is the point here.
    system._generate = lambda prompts: [""] * len(prompts)  # type: ignore[method-assign]
    config = HarnessConfig(Setting.KG, ("2",), single_hops=False)
    Harness(store, system, config, RunLog(tmp_path / "progress.jsonl", {"test": "2"})).run(cases, progress=False)
    batch_one = {("P1", "P27", "Y"), ("X", "P35", "HZ")}
    batch_two = {("HZ", "P27", "Y"), ("Y", "P36", "CZ"), ("Y", "P35", "HX")}
    assert [frozenset(in_model) for in_model, _ in seen] == [frozenset(batch_one), frozenset(batch_two)]
    assert all(in_model == active for in_model, active in seen)


@pytest.mark.slow
def test_weights_system_answers_with_a_trace(tmp_path: Path) -> None:
    context = SystemContext(cache_dir=tmp_path, device="cpu")
    answer = make_system("weights", _store(), context).answer("What is the capital of france?")
    assert answer.trace.system == "weights"
    assert "1 edit(s) in its weights" in answer.trace.reason
    assert answer.text
