"""The Model tab's handlers on a tiny Llama: deltas land in the one deltas folder the CLI reads,
drift is measured, and re-fitting replaces the deltas by one batch delta."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from app.cli import app
from app.config import load_settings
from app.ui.model_handlers import ModelHandlers
from app.ui.services import Services
from kg.errors import InputError
from kg.store import FactStore
from tests.support import lowercase_capital_bundle


@pytest.fixture
def handlers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ModelHandlers:
    home = tmp_path / "home"
    monkeypatch.setenv("KGEDIT_HOME", str(home))
    store = FactStore.open("memory:")
    store.import_bundle(lowercase_capital_bundle())
    return ModelHandlers(Services(load_settings({"KGEDIT_HOME": str(home)}, device="cpu"), store))


def test_a_delta_made_in_the_model_tab_is_listed_and_reverted_by_the_cli(
    handlers: ModelHandlers, tiny_llama_dir: Path
) -> None:
    model = str(tiny_llama_dir)
    table, status, choices = handlers.propagate(model, "rome", None, 200)
    edit_id = table["edit"][0]
    assert len(choices) == 1 and f"edits {edit_id}" in status
    listed = CliRunner().invoke(app, ["model", "deltas", "--model", model])
    assert listed.exit_code == 0, listed.output
    assert listed.output.split("\t")[0] == choices[0] and f"edits {edit_id}" in listed.output

    reverted = CliRunner().invoke(app, ["revert", choices[0], "--model", model, "--store", "memory:"])
    assert reverted.exit_code == 0, reverted.output
    assert handlers.delta_choices(model) == [] and "original weights" in handlers.status(model)
    editor = handlers.model.editor(model)
    assert editor.patcher.applied_deltas == ()  # the loaded model follows the folder


def test_drift_is_measured_and_refit_replaces_the_deltas(handlers: ModelHandlers, tiny_llama_dir: Path) -> None:
    model = str(tiny_llama_dir)
    assert "nothing has drifted" in handlers.drift(model)
    ids = [e.id for e in handlers.services.store.edits()]
    handlers.propagate(model, "rome", ids, 200)
    handlers.propagate(model, "projected", ids, 200)
    assert "**Drift**" in handlers.drift(model) and "efficacy" in handlers.drift(model)
    done, _, choices = handlers.refit(model, "projected", 200)
    assert "replacing 2" in done
    assert [e.delta.method for e in handlers.model.deltas(model)] == ["projected"] and len(choices) == 1
    assert len(handlers.model.editor(model).patcher.applied_deltas) == 1
    with pytest.raises(InputError):
        handlers.refit(model, "rome", 200)
