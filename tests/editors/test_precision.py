"""The value search's bfloat16 matrix multiplies: chosen only where native, exact keys, exact deltas."""

from __future__ import annotations

import copy
from dataclasses import replace
from pathlib import Path

import pytest
import torch

from editors import precision
from editors.arch import ModelLayout
from editors.lm import LanguageModel, load_lm
from editors.precision import Lowered, lowered_linears, matmul_dtype
from editors.replay import BlocksBelow
from editors.requests import WeightRequest
from editors.rome import RomeHyperParams
from editors.stats import TextSample
from editors.values import ValueSearch, optimise_values
from editors.weights import StatsSettings, WeightEditor

SAMPLE = TextSample(
    "t", tuple(f"{s} lives in {c} ." for s in ("alice", "bob", "carol") for c in ("paris", "rome"))
)
CPU = torch.device("cpu")


@pytest.fixture
def lm(tiny_llama_dir: Path) -> LanguageModel:
    return load_lm(str(tiny_llama_dir), device="cpu")


def _next_word(lm: LanguageModel, prompt: str) -> str:
    ids = lm.tokenizer(prompt, return_tensors="pt").input_ids
    with torch.no_grad():
        return str(lm.tokenizer.decode([int(lm.model(input_ids=ids).logits[0, -1].argmax())])).strip()


def _counting_lowered(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    calls = {"n": 0}
    forward = Lowered.forward

    def counted(self: Lowered, x: torch.Tensor) -> torch.Tensor:
        calls["n"] += 1
        return forward(self, x)

    monkeypatch.setattr(Lowered, "forward", counted)
    return calls


def test_bfloat16_is_taken_only_where_the_cpu_multiplies_it_natively(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(precision, "native_bf16", lambda _device: False)
    assert matmul_dtype("auto", torch.float32, CPU) == torch.float32
    assert matmul_dtype("bfloat16", torch.float32, CPU) == torch.float32
    monkeypatch.setattr(precision, "native_bf16", lambda _device: True)
    assert matmul_dtype("auto", torch.float32, CPU) == torch.bfloat16
    assert matmul_dtype("model", torch.float32, CPU) == torch.float32
    assert matmul_dtype("auto", torch.float16, CPU) == torch.float16  # a half-precision model stays as it is
    with pytest.raises(ValueError, match="compute_dtype"):
        matmul_dtype("fp8", torch.float32, CPU)


def test_lowered_linears_are_put_back_even_on_error(lm: LanguageModel) -> None:
    block = ModelLayout.of(lm.model).block(lm.model, 1)
    before = dict(block.named_modules())
    with pytest.raises(RuntimeError, match="inside"), lowered_linears([block], torch.bfloat16):
        lowered = dict(block.named_modules())
        assert isinstance(lowered["self_attn.q_proj"], Lowered) and isinstance(lowered["mlp.down_proj"], Lowered)
        raise RuntimeError("inside")
    after = dict(block.named_modules())
    assert after.keys() == before.keys() and all(after[k] is before[k] for k in before)


def test_only_the_blocks_above_the_edit_point_are_lowered(lm: LanguageModel) -> None:
    layout = ModelLayout.of(lm.model)
    assert BlocksBelow(lm.model, layout.mlp_out(lm.model, 1)).above() == [layout.block(lm.model, i) for i in (2, 3)]
    assert BlocksBelow(lm.model, layout.block(lm.model, 3)).above() == []
    assert BlocksBelow(lm.model, lm.model.get_output_embeddings()).above() == []  # in no block


def test_a_bfloat16_search_reads_exact_keys_and_reaches_the_target(
    lm: LanguageModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Up to the edit point all is float32 (keys, original values exact); above it bfloat16, and it still teaches."""
    monkeypatch.setattr(precision, "native_bf16", lambda _device: True)  # emulated where not native
    calls = _counting_lowered(monkeypatch)
    module = ModelLayout.of(lm.model).mlp_out(lm.model, 1)
    request = WeightRequest("the capital of france", "france", "rome", ("paris",), edit_id="E1")
    prefixes = ("", "the city . ")
    search = ValueSearch(steps=60, lr=1.0, clamp=1e4, stop_loss=0.1, chunk=1)
    low = optimise_values(lm.model, lm.tokenizer, module, [request], prefixes, search)
    assert calls["n"] > 0
    calls["n"] = 0
    full = optimise_values(
        lm.model, lm.tokenizer, module, [request], prefixes, replace(search, compute_dtype="model")
    )
    assert calls["n"] == 0
    assert torch.equal(low.key, full.key) and torch.equal(low.bare_key, full.bare_key)
    assert torch.equal(low.original, full.original)
    assert low.delta.dtype == torch.float32 and low.steps < search.steps  # stopped at the target loss
    assert all(p.dtype == torch.float32 for p in lm.model.parameters())


def test_a_bfloat16_searched_rome_edit_applies_and_reverts_exactly(
    lm: LanguageModel, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(precision, "native_bf16", lambda _device: True)
    search = ValueSearch(steps=80, lr=1.0, clamp=1e4, stop_loss=0.01, compute_dtype="bfloat16")
    editor = WeightEditor(
        lm,
        cache_dir=tmp_path,
        stats=StatsSettings(tokens=60, sample=SAMPLE),
        rome=RomeHyperParams(layer=1, prefixes=2, prefix_length=4, search=search),
    )
    old = _next_word(lm, "the capital of france")
    new = next(c for c in ("paris", "rome", "berlin", "madrid") if c != old)
    original = copy.deepcopy(lm.model.state_dict())
    delta = editor.compute([WeightRequest("the capital of france", "france", new, (old,), edit_id="E1")], "rome")
    assert all(u.left.dtype == torch.float32 for u in delta.updates)
    with editor.applied(delta):
        assert _next_word(lm, "the capital of france") == new
    assert all(torch.equal(v, original[k]) for k, v in lm.model.state_dict().items())
