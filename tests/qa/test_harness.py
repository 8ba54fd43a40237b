"""The harness: settings, edit batches, consistency, resume, and the written reports."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from kg.errors import InputError
from kg.records import EditStatus
from kg.store import FactStore
from qa.consistency import inconsistent_case_ids
from qa.evaluate import EvalRequest, run_mquake
from qa.harness import Harness, HarnessConfig, Setting, parse_batch_sizes, prepare_store, stratified_sample
from qa.mquake import Case, load_cases
from qa.runlog import RunLog
from qa.systems import SystemContext, register_system
from tests.qa.cases import ChainWalker, tiny_cases

DATA = Path(__file__).resolve().parents[3] / "shared" / "data"


@pytest.fixture
def dataset(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.json"
    path.write_text(json.dumps(tiny_cases()), encoding="utf-8")
    return path


def run(dataset: Path, out: Path, setting: Setting, batches: str, walker: ChainWalker | None = None) -> tuple[
    ChainWalker, dict[str, Any]
]:
    cases = load_cases(dataset)
    store = prepare_store(cases, setting)
    system = walker or ChainWalker(store)
    system.store = store
    config = HarnessConfig(setting, parse_batch_sizes(batches))
    runlog = RunLog(out / "progress.jsonl", {"test": batches, "setting": setting.value})
    results = Harness(store, system, config, runlog).run(cases, progress=False)
    return system, results


def test_each_batch_loads_exactly_its_edits_and_removes_them(dataset: Path, tmp_path: Path) -> None:
    walker, _ = run(dataset, tmp_path, Setting.KG, "2")
    batch_one = {("P1", "P27", "Y"), ("X", "P35", "HZ")}
    batch_two = {("HZ", "P27", "Y"), ("Y", "P36", "CZ"), ("Y", "P35", "HX")}
    assert {frozenset(s) for s in walker.active_seen} == {frozenset(batch_one), frozenset(batch_two)}
    assert walker.store.edits(EditStatus.ACTIVE) == []
    assert len(walker.store.edits(EditStatus.RETRACTED)) == 5


def test_kg_setting_follows_edits_and_flags_the_case_another_edit_breaks(dataset: Path, tmp_path: Path) -> None:
    _, results = run(dataset, tmp_path, Setting.KG, "1,all")
    by_batch = {label: {r.case_id: r for r in records} for label, records in results.items()}
    assert all(r.multi_hop_correct and r.hop_wise_correct and r.consistent for r in by_batch["1"].values())
    everything = by_batch["all"]
    assert [cid for cid, r in everything.items() if not r.consistent] == ["1"]
    assert "edited to CZ by case 3" in everything["1"].contradictions[0]
    assert not everything["1"].multi_hop_correct  # Y's capital was edited away by case 3
    assert all(everything[c].multi_hop_correct for c in ("2", "3", "4"))
    edit_answers = [q for q in everything["3"].questions if q.kind == "edit"]
    assert [q.correct for q in edit_answers] == [True, True]


def test_model_setting_holds_only_the_edits(dataset: Path, tmp_path: Path) -> None:
    walker, results = run(dataset, tmp_path, Setting.MODEL, "all")
    assert walker.store.stats().base_facts == 0
    records = {r.case_id: r for r in results["all"]}
    assert not records["2"].multi_hop_correct  # its first hop is a base fact the model setting lacks
    assert records["4"].of_kind("edit")[0].correct


def test_resume_after_interruption_gives_the_same_results(dataset: Path, tmp_path: Path) -> None:
    first, straight = run(dataset, tmp_path / "straight", Setting.KG, "1,all")
    interrupted = ChainWalker(FactStore.open("memory:"), fail_after=9)
    with pytest.raises(KeyboardInterrupt):
        run(dataset, tmp_path / "resumed", Setting.KG, "1,all", interrupted)
    log_lines = (tmp_path / "resumed" / "progress.jsonl").read_text().splitlines()
    assert 1 < len(log_lines) < 1 + 8  # some cases were saved, not all
    with (tmp_path / "resumed" / "progress.jsonl").open("a") as handle:
        handle.write('{"type": "case", "rec')  # a line cut off by the kill
    second, resumed = run(dataset, tmp_path / "resumed", Setting.KG, "1,all")

    def answers(results: dict[str, Any]) -> list[tuple[str, str, list[tuple[str, bool]]]]:
        return [(b, r.case_id, [(q.answer, q.correct) for q in r.questions]) for b, rs in results.items() for r in rs]

    assert answers(resumed) == answers(straight)
    assert second.calls < first.calls  # the saved cases were not asked again


def test_run_log_refuses_a_different_run(tmp_path: Path) -> None:
    RunLog(tmp_path / "progress.jsonl", {"setting": "kg"})
    with pytest.raises(InputError, match="different run"):
        RunLog(tmp_path / "progress.jsonl", {"setting": "model"})


def test_run_writes_summary_results_markdown_and_plots(dataset: Path, tmp_path: Path) -> None:
    register_system("test-walker", lambda store, context: ChainWalker(store))
    config = HarnessConfig(Setting.KG, ("1", "all"))
    summary = run_mquake(EvalRequest(dataset, config, "test-walker", tmp_path / "out", SystemContext(), progress=False))
    written = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert written == json.loads(json.dumps(summary))
    entry = written["batches"]["all"]
    assert entry["multi_hop_accuracy"] == 0.75 and entry["consistent"]["multi_hop_accuracy"] == 1.0
    assert entry["inconsistent_cases"] == 1 and entry["consistent"]["cases"] == 3
    for key in ("question_accuracy", "hop_wise_accuracy", "edit_wise_success"):
        assert 0.0 <= entry[key] <= 1.0 and key in entry["consistent"]
    assert written["setting"] == "kg" and written["system"] == "test-walker"
    results = json.loads((tmp_path / "out" / "results.json").read_text())
    first = results["batches"]["1"][0]["questions"][0]
    assert first["trace"]["hops"] and first["answer"] == "Y City"
    assert "| all | 4 | all | 75.0" in (tmp_path / "out" / "summary.md").read_text()
    for name in ("accuracy_by_batch.png", "accuracy_by_hops.png"):
        assert (tmp_path / "out" / name).read_bytes()[:4] == b"\x89PNG"


def test_cf3k_with_all_edits_loaded_has_the_998_known_inconsistent_cases(cf3k_cases: list[Case]) -> None:
    expected = json.loads((DATA / "mquake" / "MQuAKE-CF-3k.conflicted_case_ids.json").read_text())
    found = inconsistent_case_ids(cf3k_cases)
    assert len(found) == 998
    assert found == {str(i) for i in expected["case_ids"]}


def test_stratified_sample_keeps_hop_and_edit_proportions(cf3k_cases: list[Case]) -> None:
    cases = cf3k_cases
    sample = stratified_sample(cases, 300, seed=1)
    assert len(sample) == 300 and len({c.case_id for c in sample}) == 300
    counts = Counter((c.hops, c.edit_count) for c in sample)
    full = Counter((c.hops, c.edit_count) for c in cases)
    assert all(abs(counts[k] - full[k] / 10) <= 1 for k in full)
    assert stratified_sample(cases, 300, seed=1) == sample


@pytest.mark.parametrize("text", ["", "0", "10,x", "-1"])
def test_bad_batch_sizes_are_refused(text: str) -> None:
    with pytest.raises(InputError):
        parse_batch_sizes(text)


def test_eval_cli_runs_a_registered_system_and_resumes(dataset: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from app.cli import app

    monkeypatch.setenv("KGEDIT_HOME", str(tmp_path / "home"))
    register_system("test-walker", lambda store, context: ChainWalker(store))
    args = ["eval", "mquake", str(dataset), "--setting", "kg", "--batch", "1,all", "--system", "test-walker",
            "--out", str(tmp_path / "cli")]
    first = CliRunner().invoke(app, args)
    assert first.exit_code == 0, first.output
    summary = json.loads((tmp_path / "cli" / "summary.json").read_text())
    assert summary["batches"]["1"]["multi_hop_accuracy"] == 1.0
    again = CliRunner().invoke(app, args)  # everything is in the run log: nothing is asked again
    assert again.exit_code == 0 and json.loads((tmp_path / "cli" / "summary.json").read_text())["batches"] == summary["batches"]
    bad = CliRunner().invoke(app, [*args[:3], "--setting", "both", "--out", str(tmp_path / "x")])
    assert isinstance(bad.exception, InputError) and "kg or model" in str(bad.exception)
