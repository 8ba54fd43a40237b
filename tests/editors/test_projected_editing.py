"""The null-space projected method and sequential editing, on tiny random models built in code."""

from __future__ import annotations

import itertools
from dataclasses import replace
from pathlib import Path

import pytest
import torch

from editors.arch import ModelLayout
from editors.deltas import WeightDelta
from editors.lm import LanguageModel, load_lm
from editors.memit import MemitHyperParams
from editors.projected import ProjectedHyperParams, earlier
from editors.requests import WeightRequest
from editors.rome import RomeHyperParams
from editors.stats import TextSample
from editors.values import ValueSearch, optimise_values
from editors.weights import StatsSettings, WeightEditor
from kg.errors import InputError

# Fewer tokens than the tiny models' key width (64): C then has an exact null space, so "unchanged"
# can be checked to rounding error rather than to a tolerance the method chooses.
PRESERVED = (
    "alice lives in paris .",
    "bob lives in rome .",
    "carol lives in berlin .",
    "the capital of spain is madrid .",
)
SAMPLE = TextSample("preserved", PRESERVED)
SEARCH = ValueSearch(steps=80, lr=1.0, clamp=1e4, stop_loss=0.01)
EXACT = 1.0 - 1e-9


def _editor(lm: LanguageModel, tmp_path: Path) -> WeightEditor:
    tokens = sum(len(lm.tokenizer(t).input_ids) for t in PRESERVED)
    return WeightEditor(
        lm,
        cache_dir=tmp_path,
        stats=StatsSettings(tokens=tokens, sample=SAMPLE),
        rome=RomeHyperParams(layer=1, prefixes=2, prefix_length=4, search=SEARCH),
        memit=MemitHyperParams(layers=(1, 2), prefixes=2, prefix_length=4, cov_weight=10.0, search=SEARCH),
        projected=ProjectedHyperParams(
            layers=(1, 2), prefixes=2, prefix_length=4, preserved_energy=EXACT, ridge=1e-3, search=SEARCH
        ),
    )


@pytest.fixture(params=["tiny_gpt2_dir", "tiny_llama_dir"])
def lm(request: pytest.FixtureRequest) -> LanguageModel:
    folder: Path = request.getfixturevalue(request.param)
    return load_lm(str(folder), device="cpu")


def _requests() -> list[WeightRequest]:
    return [
        WeightRequest("the capital of france", "france", "rome", ("paris",), edit_id="E1"),
        WeightRequest("the capital of italy", "italy", "london", ("rome",), edit_id="E2"),
        WeightRequest("who lives in spain ? dave", "dave", "berlin", ("madrid",), edit_id="E3"),
    ]


def _logits(lm: LanguageModel, texts: tuple[str, ...]) -> list[torch.Tensor]:
    with torch.no_grad():
        return [lm.model(input_ids=lm.tokenizer(t, return_tensors="pt").input_ids).logits[0] for t in texts]


def _weights(lm: LanguageModel) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in lm.model.state_dict().items()}


def test_projected_edit_leaves_the_preserved_texts_outputs_unchanged(
    lm: LanguageModel, tmp_path: Path
) -> None:
    editor = _editor(lm, tmp_path)
    before = _logits(lm, PRESERVED)
    request = _requests()[0]
    delta = editor.compute([request], "projected")
    assert delta.layers == (1, 2)
    with editor.applied(delta):
        after = _logits(lm, PRESERVED)
        edited_prompt = _logits(lm, (request.prompt,))[0]
    for a, b in zip(before, after, strict=True):
        assert torch.allclose(a, b, atol=1e-5), float((a - b).abs().max())
    assert not torch.allclose(edited_prompt, _logits(lm, (request.prompt,))[0], atol=1e-3)


def test_projected_update_is_orthogonal_to_every_preserved_key(lm: LanguageModel, tmp_path: Path) -> None:
    editor = _editor(lm, tmp_path)
    delta = editor.compute(_requests()[:2], "projected")
    for update in delta.updates:
        moment = editor.moments([update.layer])[update.layer].double()
        change = update.dense().double()
        # mean over the preserved keys of ‖ΔW k‖² is tr(ΔW C ΔWᵀ)
        leaked = float(torch.trace(change @ moment @ change.T))
        assert leaked <= 1e-10 * float(torch.trace(change @ change.T)) * float(torch.trace(moment))


def test_memit_on_the_same_edit_does_change_preserved_outputs(lm: LanguageModel, tmp_path: Path) -> None:
    """The check above is not vacuous: the unprojected method moves those outputs."""
    editor = _editor(lm, tmp_path)
    before = _logits(lm, PRESERVED)
    delta = editor.compute(_requests()[:1], "memit")
    with editor.applied(delta):
        after = _logits(lm, PRESERVED)
    assert max(float((a - b).abs().max()) for a, b in zip(before, after, strict=True)) > 1e-4


def test_projected_delta_records_keys_and_the_next_edit_sees_them(lm: LanguageModel, tmp_path: Path) -> None:
    editor = _editor(lm, tmp_path)
    first = editor.compute(_requests()[:1], "projected")
    assert set(first.keys) == {1, 2} and first.keys[1].shape[1] == 1
    loaded = WeightDelta.load(first.save(tmp_path / "first.safetensors"))
    assert all(torch.equal(loaded.keys[k], first.keys[k]) for k in first.keys)
    assert loaded.taught == (_requests()[0],)
    editor.apply(loaded)
    second = editor.compute(_requests()[1:2], "projected")
    editor.apply(second)
    assert earlier(editor.patcher.applied_deltas, _requests()[2:]).keys[1].shape[1] == 2
    editor.revert_all()


def test_an_edit_of_an_edited_subject_keeps_its_other_facts_instead_of_its_keys() -> None:
    """The subject's key is what both facts are stored at: preserving it would undo the new edit."""
    capital = WeightRequest("the capital of france is", "france", "rome", ("paris",), "E1", "P36")
    language = WeightRequest("in france people speak", "france", "german", ("french",), "E2", "P37")
    other = WeightRequest("the capital of italy is", "italy", "london", ("rome",), "E3", "P36")
    key = torch.ones(4, 1)
    deltas = [
        WeightDelta("m", "projected", (r.edit_id,), (), keys={1: key * (i + 1)}, taught=(r,))
        for i, r in enumerate((capital, other))
    ]
    seen = earlier(deltas, [language])
    assert seen.requests[0].kept == ((capital.prompt, "rome"),)
    assert torch.equal(seen.keys[1], key * 2)  # only italy's key is preserved
    correction = WeightRequest(capital.prompt, "france", "lyon", ("rome",), "E4", "P36")
    again = earlier(deltas, [correction])
    assert again.requests[0].kept == ()  # the superseded capital is replaced, not kept
    legacy = WeightDelta("m", "projected", ("E0",), (), keys={1: torch.zeros(4, 3)})
    assert earlier([legacy], [language]).keys[1].shape[1] == 3


def test_kept_facts_enter_the_value_search_but_not_the_key(lm: LanguageModel) -> None:
    """The new value must serve the kept facts' prompts too; the key stays the edited prompt's own."""
    module = ModelLayout.of(lm.model).block(lm.model, 1)
    request = WeightRequest("the language of france", "france", "berlin", ("madrid",), "E2", "P37")
    kept = replace(request, kept=(("the capital of france", "rome"),))
    search = ValueSearch(steps=10, lr=1.0, clamp=1e4, stop_loss=0.0)
    plain = optimise_values(lm.model, lm.tokenizer, module, [request], ["", "a . "], search)
    both = optimise_values(lm.model, lm.tokenizer, module, [kept], ["", "a . "], search)
    assert torch.allclose(plain.key, both.key, atol=1e-5) and torch.allclose(plain.original, both.original, atol=1e-5)
    assert not torch.allclose(plain.delta, both.delta, atol=1e-3)
    with pytest.raises(InputError, match="kept fact"):
        replace(request, kept=(("the capital of italy", "rome"),))


def _sequential(editor: WeightEditor) -> list[WeightDelta]:
    """Three deltas made one after another, each on the model carrying the ones before it."""
    deltas = []
    for request, method in zip(_requests(), ("rome", "memit", "projected"), strict=True):
        delta = editor.compute([request], method)
        editor.apply(delta)
        deltas.append(delta)
    return deltas


def test_sequential_apply_then_revert_in_any_order_restores_weights_exactly(
    lm: LanguageModel, tmp_path: Path
) -> None:
    editor = _editor(lm, tmp_path)
    original = _weights(lm)
    deltas = _sequential(editor)
    editor.revert_all()
    assert all(torch.equal(v, original[k]) for k, v in _weights(lm).items())
    for order in itertools.permutations(range(len(deltas))):
        for delta in deltas:
            editor.apply(delta)
        remaining = list(range(len(deltas)))
        for index in order:
            editor.revert(deltas[index])
            remaining.remove(index)
            now = _weights(lm)
            with editor.patcher.applied_suspended():  # the same deltas applied freshly, in their order
                editor.revert_all()
                for kept in remaining:
                    editor.apply(deltas[kept])
                fresh = _weights(lm)
                editor.revert_all()
            assert all(torch.equal(now[k], fresh[k]) for k in now), order
        assert all(torch.equal(v, original[k]) for k, v in _weights(lm).items()), order


def test_sequential_edits_accumulate_on_the_edited_matrix(lm: LanguageModel, tmp_path: Path) -> None:
    editor = _editor(lm, tmp_path)
    original = _weights(lm)
    deltas = _sequential(editor)
    name = ModelLayout.of(lm.model).weight_name(1)
    assert not torch.equal(_weights(lm)[name], original[name])
    assert [d.method for d in editor.patcher.applied_deltas] == ["rome", "memit", "projected"]
    editor.revert(deltas[1])
    assert [d.method for d in editor.patcher.applied_deltas] == ["rome", "projected"]
    editor.revert_all()


@pytest.mark.parametrize("previous", [0, 5, 60])  # rank below d (Woodbury) and above it (direct solve)
def test_projected_solve_is_the_constrained_optimum_in_the_null_space(previous: int) -> None:
    from editors.projected import projected_solve

    torch.manual_seed(0)
    d = 40
    basis, _ = torch.linalg.qr(torch.randn(d, d, dtype=torch.float64))
    projection = basis[:, :15] @ basis[:, :15].T
    keys, earlier = torch.randn(3, d), torch.randn(previous, d)
    right = projected_solve(keys, earlier, projection, 0.1)
    both = torch.cat([keys, earlier]).double().T
    direct = torch.linalg.solve(
        projection @ both @ both.T + 0.1 * torch.eye(d, dtype=torch.float64), projection @ keys.double().T
    )
    assert torch.allclose(right, direct, atol=1e-10)
    assert torch.allclose(projection @ right, right, atol=1e-10)  # every column in the null space
