"""The blocks below an edit point, run once and then replayed, for searches that re-run a prompt.

The δ search (:mod:`editors.values`) runs the same tokens through the model at every optimisation
step, changing only a value added at one module inside block L. The model is a stack of blocks,
so what blocks 0..L-1 produce never depends on that value: it is the same at every step. Running
them once and handing block L their recorded output afterwards gives the same pass without
L of the model's blocks (4 of 30 for ROME on SmolLM2, 8 of 30 for MEMIT's last layer).

The recorded outputs are returned as the blocks gave them (a tensor or a tuple), so nothing about
an architecture's block interface is assumed beyond "a block's output feeds the next block". The
stand-ins are put in place only inside :meth:`BlocksBelow.replaying`, which puts the real blocks
back on exit, even when the block raises.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch
from transformers import PreTrainedModel

from editors.arch import ModelLayout
from editors.hooks import Hook


class _Replay(torch.nn.Module):
    """Stands in for one block: whatever it is given, it returns that block's recorded output."""

    def __init__(self, output: object) -> None:
        super().__init__()
        self.output = output

    def forward(self, *_args: object, **_kwargs: object) -> object:
        return self.output


def _detached(output: object) -> object:
    if isinstance(output, torch.Tensor):
        return output.detach()
    if isinstance(output, tuple):
        return tuple(_detached(item) for item in output)
    return output


class BlocksBelow:
    """The blocks below the one that holds ``module``: record their outputs once, then replay them."""

    def __init__(self, model: PreTrainedModel, module: torch.nn.Module) -> None:
        layout = ModelLayout.of(model)
        blocks = model.get_submodule(layout.spec.layers)
        if not isinstance(blocks, torch.nn.ModuleList):
            raise TypeError(f"{layout.spec.layers} is not a list of blocks")
        self._blocks: torch.nn.ModuleList = blocks
        holder = next(
            (i for i, block in enumerate(self._blocks) if any(m is module for m in block.modules())), None
        )
        self.count = holder or 0
        self._above = list(self._blocks)[holder + 1 :] if holder is not None else []
        self._outputs: dict[int, object] = {}

    def above(self) -> list[torch.nn.Module]:
        """The blocks above the one that holds the edit point (none when no block holds it)."""
        return list(self._above)

    def recorders(self) -> list[Hook]:
        """Hooks that keep each lower block's output of the next pass (the one to replay)."""

        def keep(index: int):  # noqa: ANN202 - torch hook signature
            def hook(_m: torch.nn.Module, _args: tuple, output: object) -> None:
                self._outputs[index] = _detached(output)

            return hook

        return [Hook(self._blocks[i], keep(i)) for i in range(self.count)]

    @contextmanager
    def replaying(self) -> Iterator[None]:
        """Lower blocks replaced by their recorded outputs for the duration (real ones back on exit)."""
        if len(self._outputs) != self.count:
            raise RuntimeError("run one pass with the recorders before replaying the blocks below")
        real = [self._blocks[i] for i in range(self.count)]
        try:
            for i in range(self.count):
                self._blocks[i] = _Replay(self._outputs[i])
            yield
        finally:
            for i, block in enumerate(real):
                self._blocks[i] = block
