"""The weight-delta service on a tiny Llama: a retracted edit's delta comes back out of the weights,
and asking with only some deltas leaves the loaded model as it was."""

from __future__ import annotations

from pathlib import Path

import torch

from app.config import load_settings
from app.service.model import ModelService
from kg.store import FactStore
from tests.support import lowercase_capital_bundle


def _service(tmp_path: Path) -> ModelService:
    store = FactStore.open("memory:")
    store.import_bundle(lowercase_capital_bundle())
    return ModelService(load_settings({"KGEDIT_HOME": str(tmp_path / "home")}, device="cpu"), store)


def test_revert_retracted_takes_the_retracted_edits_delta_out_of_the_weights_exactly(
    tiny_llama_dir: Path, tmp_path: Path
) -> None:
    service = _service(tmp_path)
    model = str(tiny_llama_dir)
    original = {k: v.clone() for k, v in service.editor(model).lm.model.state_dict().items()}
    done = service.propagate(model, "rome", None, service.stats("python-docs", 200))
    edited = service.editor(model).lm.model.state_dict()
    assert any(not torch.equal(edited[k], original[k]) for k in original)
    assert service.revert(model, retracted=True) == []  # the edit is still active: nothing to take out

    service.store.retract(done.requests[0].edit_id)
    assert [e.name for e in service.revert(model, retracted=True)] == [done.entry.name]
    assert service.deltas(model) == [] and (done.entry.path.parent / "reverted" / done.entry.name).is_file()
    restored = service.editor(model).lm.model.state_dict()
    assert all(torch.equal(restored[k], original[k]) for k in original)


def test_asking_with_no_delta_leaves_the_active_deltas_in_the_model(tiny_llama_dir: Path, tmp_path: Path) -> None:
    service = _service(tmp_path)
    model = str(tiny_llama_dir)
    service.propagate(model, "rome", None, service.stats("python-docs", 200))
    before = {k: v.clone() for k, v in service.editor(model).lm.model.state_dict().items()}
    _, count = service.generate(model, "the capital of france is", base=True, max_new_tokens=2)
    assert count == 0
    after = service.editor(model).lm.model.state_dict()
    assert all(torch.equal(after[k], before[k]) for k in before)
