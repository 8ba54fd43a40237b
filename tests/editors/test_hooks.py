"""The hook context manager leaves the model as it found it, however the block ends."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import torch
from transformers import GPT2Config, GPT2LMHeadModel

from editors.hooks import Hook, StopForward, hooked


@pytest.fixture(scope="module")
def model() -> GPT2LMHeadModel:
    torch.manual_seed(0)
    config = GPT2Config(vocab_size=16, n_embd=8, n_layer=2, n_head=2, n_positions=8)
    return GPT2LMHeadModel(config).eval()


IDS = torch.tensor([[1, 2, 3, 4]])


def _logits(model: GPT2LMHeadModel) -> torch.Tensor:
    with torch.no_grad():
        return model(input_ids=IDS).logits


def _module(model: GPT2LMHeadModel, name: str) -> torch.nn.Module:
    return model.get_submodule(f"transformer.h.{name}")


def _hook_count(model: GPT2LMHeadModel) -> int:
    return sum(len(m._forward_hooks) + len(m._forward_pre_hooks) for m in model.modules())


def _zero_output(_module: torch.nn.Module, _args: tuple, out: torch.Tensor) -> torch.Tensor:
    return torch.zeros_like(out)


def test_output_rewrite_applies_inside_and_is_gone_after(model: GPT2LMHeadModel) -> None:
    original = _logits(model)
    with hooked([Hook(_module(model, "0.mlp"), _zero_output)]):
        rewritten = _logits(model)
    assert not torch.allclose(rewritten, original)
    assert torch.equal(_logits(model), original)
    assert _hook_count(model) == 0


def test_pre_hook_sees_the_module_input(model: GPT2LMHeadModel) -> None:
    seen: list[torch.Tensor] = []
    mlp_out = _module(model, "1.mlp.c_proj")
    with hooked([Hook(mlp_out, lambda _m, args: seen.append(args[0]), before=True)]):
        _logits(model)
    assert seen[0].shape == (1, 4, 4 * 8)


def test_hooks_are_removed_when_the_block_raises(model: GPT2LMHeadModel) -> None:
    original = _logits(model)
    mlps = [_module(model, "0.mlp"), _module(model, "1.mlp")]
    with pytest.raises(RuntimeError, match="inside"), hooked(Hook(mlp, _zero_output) for mlp in mlps):
        assert _hook_count(model) == len(mlps)
        raise RuntimeError("inside")
    assert _hook_count(model) == 0
    assert torch.equal(_logits(model), original)


def test_hooks_registered_before_a_failing_one_are_removed(model: GPT2LMHeadModel) -> None:
    def hooks() -> Iterator[Hook]:
        yield Hook(_module(model, "0.mlp"), _zero_output)
        raise ValueError("no such layer")

    with pytest.raises(ValueError, match="no such layer"), hooked(hooks()):
        pass
    assert _hook_count(model) == 0


def test_stop_forward_cuts_the_pass_and_leaves_no_hook(model: GPT2LMHeadModel) -> None:
    reached: list[int] = []

    def stop(_m: torch.nn.Module, _args: tuple) -> None:
        raise StopForward

    hooks = [
        Hook(_module(model, "0"), stop, before=True),
        Hook(_module(model, "1"), lambda *_: reached.append(1), before=True),
    ]
    with hooked(hooks), pytest.raises(StopForward):
        _logits(model)
    assert reached == []
    assert _hook_count(model) == 0
