"""The cached-context value search equals running prompts whole, and so does replaying the blocks below
the edit point; the half-precision path works."""

from __future__ import annotations

import copy
from contextlib import nullcontext
from pathlib import Path

import pytest
import torch

from editors.arch import ModelLayout
from editors.hooks import Hook, hooked
from editors.lm import LanguageModel, load_lm
from editors.memit import MemitHyperParams
from editors.projected import ProjectedHyperParams
from editors.replay import BlocksBelow
from editors.requests import WeightRequest
from editors.rome import RomeHyperParams
from editors.stats import TextSample
from editors.values import SplitRows, ValueSearch, optimise_values
from editors.weights import StatsSettings, WeightEditor

SAMPLE = TextSample(
    "t", tuple(f"{s} lives in {c} ." for s in ("alice", "bob", "carol") for c in ("paris", "rome"))
)
SEARCH = ValueSearch(steps=40, lr=1.0, clamp=1e4, stop_loss=0.01)


@pytest.fixture(params=["tiny_gpt2_dir", "tiny_llama_dir"])
def lm(request: pytest.FixtureRequest) -> LanguageModel:
    folder: Path = request.getfixturevalue(request.param)
    return load_lm(str(folder), device="cpu")


def test_running_after_a_context_cache_equals_running_prompts_whole(lm: LanguageModel) -> None:
    texts = ["the capital of france is paris", "alice lives in rome", "bob"]
    splits = [4, 1, 0]  # the last row has an empty context
    rows = [(lm.tokenizer(t).input_ids, s) for t, s in zip(texts, splits, strict=True)]
    split = SplitRows.of(rows, 2, torch.device("cpu"))
    with torch.no_grad():
        hidden = split.hidden(lm.model, split.context_cache(lm.model))
        for i, (ids, s) in enumerate(rows):
            whole = lm.model.base_model(input_ids=torch.tensor([ids])).last_hidden_state[0, s:]
            assert torch.allclose(hidden[i, : len(ids) - s], whole, atol=1e-5)


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
def test_edits_compute_apply_and_revert_exactly_in_half_precision(
    tiny_llama_dir: Path, tmp_path: Path, dtype: torch.dtype
) -> None:
    """What a CUDA bf16/fp16 model goes through, on the CPU: maths in float32, weights kept exact."""
    base = load_lm(str(tiny_llama_dir), device="cpu")
    model = copy.deepcopy(base.model).to(dtype)  # type: ignore[arg-type]
    lm = LanguageModel(base.name, model, base.tokenizer, base.device)
    editor = WeightEditor(
        lm,
        cache_dir=tmp_path,
        stats=StatsSettings(tokens=60, sample=SAMPLE),
        rome=RomeHyperParams(layer=1, prefixes=2, prefix_length=4, search=SEARCH),
        memit=MemitHyperParams(layers=(1, 2), prefixes=2, prefix_length=4, cov_weight=10.0, search=SEARCH),
        projected=ProjectedHyperParams(layers=(1, 2), prefixes=2, prefix_length=4, ridge=1e-3, search=SEARCH),
    )
    original = {k: v.clone() for k, v in lm.model.state_dict().items()}
    request = WeightRequest("the capital of france", "france", "rome", ("paris",), edit_id="E1")
    for method in ("rome", "memit", "projected"):
        delta = editor.compute([request], method)
        assert all(u.left.dtype == torch.float32 and torch.isfinite(u.dense()).all() for u in delta.updates)
        editor.apply(delta)
    assert all(v.dtype == dtype for v in lm.model.state_dict().values())
    assert any(not torch.equal(v, original[k]) for k, v in lm.model.state_dict().items())
    editor.revert_all()
    assert all(torch.equal(v, original[k]) for k, v in lm.model.state_dict().items())


@pytest.mark.parametrize("layer", [0, 2])
def test_the_search_replays_the_blocks_below_the_edit_point_and_finds_the_same_delta(
    lm: LanguageModel, layer: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Blocks below the edited one run for the context and the first step only, and δ is unchanged."""
    layout = ModelLayout.of(lm.model)
    module = layout.mlp_out(lm.model, layer)
    request = WeightRequest("alice lives in paris", "alice", "rome", ("paris",), edit_id="E1")
    prefixes = ("", "the city . ")
    search = ValueSearch(steps=6, lr=0.5, clamp=1e4, stop_loss=0.0, chunk=1)
    calls = {"first": 0, "edited": 0}
    counters = [
        Hook(layout.block(lm.model, 0), lambda *_: calls.__setitem__("first", calls["first"] + 1)),
        Hook(layout.block(lm.model, layer), lambda *_: calls.__setitem__("edited", calls["edited"] + 1)),
    ]
    with hooked(counters):
        replayed = optimise_values(lm.model, lm.tokenizer, module, [request], prefixes, search)
    assert calls["edited"] == 1 + search.steps  # the context pass, then every step
    assert calls["first"] == (calls["edited"] if layer == 0 else 2)  # block 0: context and first step
    monkeypatch.setattr(BlocksBelow, "replaying", lambda _self: nullcontext())
    whole = optimise_values(lm.model, lm.tokenizer, module, [request], prefixes, search)
    assert torch.allclose(replayed.delta, whole.delta, atol=1e-6)
    assert whole.delta.norm() > 0


def _next_token_is_target(lm: LanguageModel, module: torch.nn.Module, request: WeightRequest, delta: torch.Tensor) -> bool:
    """Whether, with ``delta`` added at the subject's last token, every target token is the argmax."""
    from editors.tokens import with_continuation

    enc, target = with_continuation(lm.tokenizer, request.prompt, request.target_new)
    split = enc.last_token_in(*request.subject_span)

    def add(_m: torch.nn.Module, _args: tuple, out: object) -> object:
        hidden = out[0] if isinstance(out, tuple) else out
        assert isinstance(hidden, torch.Tensor)
        hidden = hidden.clone()
        hidden[0, split] += delta[0]
        return (hidden, *out[1:]) if isinstance(out, tuple) else hidden

    with hooked([Hook(module, add)]), torch.no_grad():
        logits = lm.model(input_ids=torch.tensor([enc.ids[: target[-1]]])).logits[0]
    return all(int(logits[t - 1].argmax()) == enc.ids[t] for t in target)


def test_most_probable_stop_ends_the_search_at_the_first_step_the_new_object_wins(lm: LanguageModel) -> None:
    """With the loss threshold out of play, the search stops exactly when the target becomes the
    argmax: one step earlier it was not, and the δ it stops at is smaller than a full search's."""
    module = ModelLayout.of(lm.model).mlp_out(lm.model, 1)
    request = WeightRequest("the capital of france", "france", "rome", ("paris",), edit_id="E1")
    assert not _next_token_is_target(lm, module, request, torch.zeros(1, lm.model.config.hidden_size))
    base = ValueSearch(
        steps=100, lr=0.5, clamp=1e4, stop_loss=0.0, kl_factor=0.0, weight_decay=0.0, chunk=1, compute_dtype="model"
    )
    mpes = ValueSearch(**{**base.__dict__, "most_probable_stop": True})
    stopped = optimise_values(lm.model, lm.tokenizer, module, [request], ("",), mpes)
    full = optimise_values(lm.model, lm.tokenizer, module, [request], ("",), base)
    assert 1 < stopped.steps < base.steps and full.steps == base.steps
    assert _next_token_is_target(lm, module, request, stopped.delta)
    # The step that stops only checks; the δ it checks was reached after steps - 1 updates.
    earlier = optimise_values(
        lm.model, lm.tokenizer, module, [request], ("",), ValueSearch(**{**base.__dict__, "steps": stopped.steps - 2})
    )
    assert not _next_token_is_target(lm, module, request, earlier.delta)
    assert stopped.delta.norm() < full.delta.norm()
