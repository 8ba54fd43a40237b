"""The Evaluate tab for a new user: the bundled dev set is offered and runs; results are shown once."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.config import load_settings
from app.service.evaluating import EvaluationRequest, evaluate
from app.ui.evaluate import BUNDLED, EvalForm, data_file, default_choice, run_evaluation
from app.ui.services import Services
from kg.errors import InputError
from kg.store import FactStore
from qa import systems
from qa.systems import SystemContext
from qa.trace import Answer, Trace


class Silent:
    """A system that never answers: the tab's plumbing is under test here, not answering."""

    name = "silent"

    def answer(self, question: str) -> Answer:
        return Answer("", Trace(question, self.name, grounded=False, reason="silent"), abstained=True)


@pytest.fixture
def fresh(tmp_path: Path) -> Services:
    return Services(load_settings({"KGEDIT_HOME": str(tmp_path / "home")}), FactStore.open("memory:"))


def test_a_fresh_home_starts_with_the_bundled_dev_set_selected(fresh: Services) -> None:
    if not fresh.settings.dev_data_dir.is_dir():
        pytest.skip("the bundled dev set is not beside this checkout")
    assert default_choice(fresh) == (BUNDLED + "mquake_dev.json", BUNDLED + "background.tsv")


def test_bundled_names_cannot_leave_the_dev_set_folder(fresh: Services) -> None:
    with pytest.raises(InputError, match="bundled dev set"):
        data_file(fresh, BUNDLED + "../mquake/MQuAKE-CF-3k.json")


def test_the_bundled_dev_set_runs_and_shows_its_metrics_once_with_both_plots(
    fresh: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    dataset, background = default_choice(fresh)
    if dataset is None:
        pytest.skip("the bundled dev set is not beside this checkout")
    monkeypatch.setitem(systems._FACTORIES, "silent", lambda store, context: Silent())
    form = EvalForm(dataset, background, "kg", "1", "silent", 2, 0, "exact")
    text, table, batch_plot, hops_plot, files = run_evaluation(fresh, form)
    assert "MQuAKE evaluation" in text and "| batch | cases |" not in text
    assert list(table["subset"]) == ["all", "consistent"]
    assert batch_plot and Path(batch_plot).is_file() and hops_plot and Path(hops_plot).is_file()
    assert any(f.endswith("summary.md") for f in files)


def test_an_evaluation_never_uses_the_curated_stores_index_and_shares_the_deltas_folder(
    fresh: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The evaluation's store is built in memory for the run; the fact index saved beside the
    curated store describes other facts, so a system must not load (or overwrite) it."""
    dataset, background = default_choice(fresh)
    if dataset is None:
        pytest.skip("the bundled dev set is not beside this checkout")
    contexts: list[SystemContext] = []

    def silent(store: FactStore, context: SystemContext) -> Silent:
        contexts.append(context)
        return Silent()

    monkeypatch.setitem(systems._FACTORIES, "silent", silent)
    run_evaluation(fresh, EvalForm(dataset, background, "kg", "1", "silent", 1, 0, "exact"))
    assert [c.index_dir for c in contexts] == [None]
    assert contexts[0].deltas_dir == fresh.settings.deltas_dir and contexts[0].lm == fresh.settings.lm


def test_a_mistyped_choice_is_one_sentence_before_anything_runs(fresh: Services, tmp_path: Path) -> None:
    dataset = tmp_path / "cases.json"
    dataset.write_text("[]", encoding="utf-8")
    with pytest.raises(InputError, match="--setting must be kg or model, not 'graph'"):
        evaluate(fresh.settings, EvaluationRequest(dataset, tmp_path / "out", setting="graph"))
    with pytest.raises(InputError, match="unknown system 'oracle'"):
        evaluate(fresh.settings, EvaluationRequest(dataset, tmp_path / "out", system="oracle"))
    assert not (tmp_path / "out").exists()
