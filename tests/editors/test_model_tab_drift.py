"""The model tab's session: drift of the applied deltas, and re-fitting them into one batch delta."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from app.ui.model import ModelSession
from kg.errors import InputError
from kg.store import FactStore
from tests.support import lowercase_capital_bundle


def _session(tmp_path: Path) -> ModelSession:
    store = FactStore.open("memory:")
    store.import_bundle(lowercase_capital_bundle())
    settings = SimpleNamespace(deltas_dir=tmp_path / "deltas", cache_dir=tmp_path / "cache", device="cpu")
    services: Any = SimpleNamespace(store=store, settings=settings)
    return ModelSession(services)


def test_drift_is_measured_and_refit_replaces_the_applied_deltas(
    tiny_llama_dir: Path, tmp_path: Path
) -> None:
    session = _session(tmp_path)
    model = str(tiny_llama_dir)
    assert "nothing has drifted" in session.drift(model)
    ids = [e.id for e in session.services.store.edits()]
    session.propagate(model, "rome", ids, 200)
    session.propagate(model, "projected", ids, 200)
    assert "**Drift**" in session.drift(model) and "efficacy" in session.drift(model)
    done = session.refit(model, "projected", 200)
    assert "replacing 2" in done
    assert [a.delta.method for a in session.applied] == ["projected"]
    with pytest.raises(InputError):
        session.refit(model, "rome", 200)
