"""System ``weights`` on a tiny Llama: edits go into a private copy of the model, cached by edit set."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from editors.lm import load_lm
from kg.store import FactStore
from qa.systems import SystemContext, make_system
from qa.weights_system import WeightEditedModel
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
    context = SystemContext(lm=str(tiny_llama_dir), cache_dir=tmp_path, device="cpu")
    system = make_system("weights", _store(), context)
    assert isinstance(system, WeightEditedModel) and system.edits == 1
    assert all(torch.equal(v, before[k]) for k, v in shared.model.state_dict().items())
    edited = system.lm.model.state_dict()
    assert any(not torch.equal(edited[k], before[k]) for k in before)
    cached = list((tmp_path / "weights-system").glob("*.safetensors"))
    assert len(cached) == 1
    again = make_system("weights", _store(), context)
    assert isinstance(again, WeightEditedModel)
    assert all(torch.equal(v, edited[k]) for k, v in again.lm.model.state_dict().items())


@pytest.mark.slow
def test_weights_system_answers_with_a_trace(tmp_path: Path) -> None:
    context = SystemContext(cache_dir=tmp_path, device="cpu")
    answer = make_system("weights", _store(), context).answer("What is the capital of france?")
    assert answer.trace.system == "weights"
    assert "1 edit(s) in its weights" in answer.trace.reason
    assert answer.text
