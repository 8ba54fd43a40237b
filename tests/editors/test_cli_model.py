"""The propagate / model / revert commands end to end on a tiny Llama and an on-disk store."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from app.cli import app
from kg.store import FactStore
from tests.support import lowercase_capital_bundle


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("KGEDIT_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    store = FactStore.open(f"oxigraph:{tmp_path / 'home' / 'store'}")
    store.import_bundle(lowercase_capital_bundle())
    store.close()
    (tmp_path / "sample.txt").write_text(
        "the capital of italy is rome .\n\nalice lives in paris .\n", encoding="utf-8"
    )
    return tmp_path


def test_propagate_ask_and_revert(home: Path, tiny_llama_dir: Path) -> None:
    runner = CliRunner()
    model = ["--model", str(tiny_llama_dir)]
    sample = ["--stats-source", str(home / "sample.txt"), "--stats-tokens", "20"]
    done = runner.invoke(app, ["propagate", "--method", "rome", *model, *sample])
    assert done.exit_code == 0, done.output
    assert "ROME wrote 1 edit(s)" in done.output and "-> rome" in done.output

    listed = runner.invoke(app, ["model", "deltas", *model])
    assert listed.exit_code == 0 and "rome" in listed.output
    name = listed.output.split("\t")[0]

    asked = runner.invoke(app, ["model", "ask", "the capital of france is", *model])
    assert asked.exit_code == 0 and asked.output.startswith("the capital of france is")

    reverted = runner.invoke(app, ["revert", name, *model])
    assert reverted.exit_code == 0 and "reverted" in reverted.output
    after = runner.invoke(app, ["model", "deltas", *model])
    assert "no active deltas" in after.output
    deltas = list((home / "home" / "deltas").rglob("reverted/*.safetensors"))
    assert len(deltas) == 1


def test_propagate_unknown_method_is_one_clear_error(home: Path, tiny_llama_dir: Path) -> None:
    result = CliRunner().invoke(app, ["propagate", "--method", "magic", "--model", str(tiny_llama_dir)])
    assert result.exit_code != 0
    assert "--method must be one of rome, memit, projected" in str(result.exception)


def test_status_measures_drift_warns_past_a_threshold_and_refit_replaces_the_deltas(
    home: Path, tiny_llama_dir: Path
) -> None:
    runner = CliRunner()
    model = ["--model", str(tiny_llama_dir)]
    sample = ["--stats-source", str(home / "sample.txt"), "--stats-tokens", "20"]
    for method in ("rome", "projected"):  # the second is made on top of the first
        done = runner.invoke(app, ["propagate", "--method", method, *model, *sample])
        assert done.exit_code == 0, done.output

    calm = runner.invoke(
        app, ["model", "status", *model, "--min-efficacy", "0", "--max-perplexity-rise", "100"]
    )
    assert calm.exit_code == 0, calm.output
    assert "2 active delta(s)" in calm.output and "drift: efficacy" in calm.output
    assert "WARNING" not in calm.output

    strict = runner.invoke(app, ["model", "status", *model, "--min-efficacy", "1.01"])
    assert strict.exit_code == 0, strict.output
    assert "WARNING: the model has drifted" in strict.output and "kgedit model refit" in strict.output

    refit = runner.invoke(app, ["model", "refit", "--method", "projected", *model, *sample])
    assert refit.exit_code == 0, refit.output
    assert "replaces 2 delta(s)" in refit.output
    listed = runner.invoke(app, ["model", "deltas", *model])
    assert len(listed.output.strip().splitlines()) == 1 and "\tprojected\t" in listed.output
    assert len(list((home / "home" / "deltas").rglob("reverted/*.safetensors"))) == 2


def test_status_without_deltas_says_the_model_is_unedited(home: Path, tiny_llama_dir: Path) -> None:
    result = CliRunner().invoke(app, ["model", "status", "--model", str(tiny_llama_dir)])
    assert result.exit_code == 0 and "no active deltas" in result.output
