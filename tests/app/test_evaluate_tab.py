"""The Evaluate tab for a new user: the bundled dev set is offered and runs; results are shown once."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.config import load_settings
from app.ui.evaluate import BUNDLED, EvalForm, data_file, default_choice, run_evaluation
from app.ui.services import Services
from kg.errors import InputError
from kg.store import FactStore
from qa import systems
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
