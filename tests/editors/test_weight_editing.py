"""ROME and MEMIT on tiny random GPT-2 and Llama models built in code."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from editors.arch import ModelLayout
from editors.deltas import WeightDelta
from editors.lm import LanguageModel, load_lm
from editors.locate import context_prefixes
from editors.memit import MemitHyperParams
from editors.requests import WeightRequest, one_per_subject
from editors.rome import RomeHyperParams
from editors.stats import TextSample
from editors.values import ValueSearch
from editors.weight_eval import continuation_scores
from editors.weights import StatsSettings, WeightEditor

SAMPLE = TextSample(
    "test",
    tuple(
        f"{s} lives in {c} . the capital of {k} is {c} ."
        for s in ("alice", "bob", "carol", "dave", "eve", "frank")
        for c, k in (("paris", "france"), ("rome", "italy"), ("berlin", "germany"), ("madrid", "spain"))
    ),
)
# A random tiny model's MLP outputs are tiny, so the usual norm clamp would forbid any edit.
SEARCH = ValueSearch(steps=80, lr=1.0, clamp=1e4, stop_loss=0.01)


def _editor(lm: LanguageModel, tmp_path: Path) -> WeightEditor:
    return WeightEditor(
        lm,
        cache_dir=tmp_path,
        stats=StatsSettings(tokens=400, sample=SAMPLE),
        rome=RomeHyperParams(layer=1, prefixes=2, prefix_length=4, search=SEARCH),
        memit=MemitHyperParams(layers=(1, 2), prefixes=2, prefix_length=4, cov_weight=10.0, search=SEARCH),
    )


def _prefers(lm: LanguageModel, request: WeightRequest) -> bool:
    new, old = continuation_scores(
        lm.model,
        lm.tokenizer,
        [(request.prompt, request.target_new), (request.prompt, request.target_old[0])],
    )
    return new > old


def _next_word(lm: LanguageModel, prompt: str) -> str:
    ids = lm.tokenizer(prompt, return_tensors="pt").input_ids
    with torch.no_grad():
        top = int(lm.model(input_ids=ids).logits[0, -1].argmax())
    return str(lm.tokenizer.decode([top])).strip()


# Random tiny models pass little information between positions, so the subject ends the prompt.
CITIES = ("paris", "rome", "berlin", "madrid", "london")


def _request(lm: LanguageModel, prompt: str, subject: str, edit_id: str) -> WeightRequest:
    """A request whose new object is a city the unedited model does not predict (nor the old one)."""
    old = _next_word(lm, prompt)
    new = next(c for c in CITIES if c != old)
    return WeightRequest(prompt, subject, new, (old,), edit_id=edit_id)


def _batch(lm: LanguageModel) -> list[WeightRequest]:
    return [
        _request(lm, "the capital of france", "france", "E1"),
        _request(lm, "the capital of italy", "italy", "E2"),
        _request(lm, "who lives in spain ? alice", "alice", "E3"),
    ]


@pytest.fixture(params=["tiny_gpt2_dir", "tiny_llama_dir"])
def lm(request: pytest.FixtureRequest) -> LanguageModel:
    folder: Path = request.getfixturevalue(request.param)
    return load_lm(str(folder), device="cpu")


def _weights(lm: LanguageModel) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in lm.model.state_dict().items()}


def test_rome_edit_changes_the_target_prediction(lm: LanguageModel, tmp_path: Path) -> None:
    editor = _editor(lm, tmp_path)
    request = _batch(lm)[0]
    delta = editor.compute([request], "rome")
    with editor.applied(delta):
        assert _next_word(lm, request.prompt) == request.target_new
    assert _next_word(lm, request.prompt) == request.target_old[0]


def test_rome_is_rank_one_on_one_layer(lm: LanguageModel, tmp_path: Path) -> None:
    delta = _editor(lm, tmp_path).compute(_batch(lm)[:1], "rome")
    assert delta.layers == (1,) and len(delta.updates) == 1
    assert torch.linalg.matrix_rank(delta.updates[0].dense()) == 1
    assert delta.edit_ids == ("E1",)


def test_revert_restores_original_weights_exactly(lm: LanguageModel, tmp_path: Path) -> None:
    editor = _editor(lm, tmp_path)
    batch = _batch(lm)
    before = _weights(lm)
    first = editor.compute(batch[:1], "rome")
    second = editor.compute(batch[1:], "memit")
    editor.apply(first)
    editor.apply(second)
    weight = ModelLayout.of(lm.model).weight_name(1)
    assert not torch.equal(lm.model.state_dict()[weight], before[weight])
    editor.revert(first)
    editor.revert(second)
    after = _weights(lm)
    assert all(torch.equal(after[k], before[k]) for k in before)


def test_reverting_one_delta_keeps_the_other(lm: LanguageModel, tmp_path: Path) -> None:
    editor = _editor(lm, tmp_path)
    batch = _batch(lm)
    first = editor.compute(batch[:1], "rome")
    second = editor.compute(batch[1:2], "rome")
    editor.apply(second)
    only_second = _weights(lm)
    editor.revert_all()
    editor.apply(first)
    editor.apply(second)
    editor.revert(first)
    assert all(torch.equal(v, only_second[k]) for k, v in _weights(lm).items())
    editor.revert_all()


def test_memit_teaches_a_batch(lm: LanguageModel, tmp_path: Path) -> None:
    editor = _editor(lm, tmp_path)
    batch = _batch(lm)
    assert not any(_prefers(lm, r) for r in batch)
    delta = editor.compute(batch, "memit")
    assert delta.layers == (1, 2)
    with editor.applied(delta):
        assert all(_prefers(lm, r) for r in batch)


def test_memit_is_deterministic_with_a_seed(lm: LanguageModel, tmp_path: Path) -> None:
    batch = _batch(lm)
    first = _editor(lm, tmp_path).compute(batch, "memit")
    torch.manual_seed(123)  # unrelated global state must not matter
    second = _editor(lm, tmp_path).compute(batch, "memit")
    for a, b in zip(first.updates, second.updates, strict=True):
        assert torch.equal(a.left, b.left) and torch.equal(a.right, b.right)


def test_delta_round_trips_through_safetensors(lm: LanguageModel, tmp_path: Path) -> None:
    editor = _editor(lm, tmp_path)
    delta = editor.compute(_batch(lm)[:2], "memit")
    loaded = WeightDelta.load(delta.save(tmp_path / "d.safetensors"))
    assert loaded.edit_ids == ("E1", "E2") and loaded.method == "memit" and loaded.model == lm.name
    for a, b in zip(delta.updates, loaded.updates, strict=True):
        assert a.layer == b.layer and torch.equal(a.dense(), b.dense())


def test_statistics_are_cached_on_disk(lm: LanguageModel, tmp_path: Path) -> None:
    editor = _editor(lm, tmp_path)
    first = editor.moments([1, 2])
    files = sorted((tmp_path / "stats").rglob("*.safetensors"))
    assert len(files) == 2
    again = _editor(lm, tmp_path).moments([1, 2])
    assert torch.equal(first[1], again[1])
    d = first[1].shape[0]
    assert first[1].shape == (d, d) and torch.allclose(first[1], first[1].T)


def test_context_prefixes_are_written_once_per_model_object(lm: LanguageModel) -> None:
    import copy

    first = context_prefixes(lm.model, lm.tokenizer, 2, 4, 0)
    assert len(first) == 3 and first[0] == ""
    assert context_prefixes(lm.model, lm.tokenizer, 2, 4, 0) is first  # reused, not rewritten
    other = copy.deepcopy(lm.model)
    assert context_prefixes(other, lm.tokenizer, 2, 4, 0) is not first  # a new model writes its own


def test_new_statistics_settings_replace_the_moments_kept_in_memory(lm: LanguageModel, tmp_path: Path) -> None:
    """A long-lived editor given another token count computes its moments again; the same settings
    keep the ones it has."""
    editor = _editor(lm, tmp_path)
    layer = 1
    few = editor.moments([layer])[layer].clone()
    kept = editor.statistics
    editor.use(StatsSettings(tokens=400, sample=SAMPLE))
    assert editor.statistics is kept
    editor.use(StatsSettings(tokens=40, sample=SAMPLE))
    assert editor.statistics is not kept and editor.stats.tokens == 40
    assert not torch.allclose(editor.moments([layer])[layer], few)


def test_one_per_subject_merges_a_subjects_facts_and_the_later_object_wins() -> None:
    capital = WeightRequest("the capital of france is", "france", "rome", edit_id="E1")
    language = WeightRequest(
        "france speaks", "france", "german", edit_id="E2",
        kept=(("france has", "snow"), ("the capital of france is", "lyon")),
    )  # fmt: skip
    other = WeightRequest("the capital of spain is", "spain", "paris", edit_id="E3")
    again = WeightRequest("the capital of france is", "france", "berlin", edit_id="E4")
    merged, group = one_per_subject([capital, language, other, again])
    assert group == [0, 0, 1, 0]
    assert [m.edit_id for m in merged] == ["E1", "E3"]
    assert merged[0].target_new == "berlin"
    assert set(merged[0].kept) == {("france speaks", "german"), ("france has", "snow")}
    assert merged[1] == other
    alone, _ = one_per_subject([capital, language])
    assert alone[0].target_new == "rome"  # a request's own object, not another's kept "lyon"


def test_a_batch_that_edits_one_pair_twice_teaches_the_later_object(lm: LanguageModel, tmp_path: Path) -> None:
    first = _request(lm, "the capital of france", "france", "E1")
    later = WeightRequest(
        first.prompt, first.subject, next(c for c in CITIES if c not in (first.target_new, *first.target_old)),
        (first.target_new, *first.target_old), edit_id="E2",
    )
    editor = _editor(lm, tmp_path)
    with editor.applied(editor.compute([first, later], "memit")):
        assert _next_word(lm, first.prompt) == later.target_new
