"""The δ search's matrix multiplies in bfloat16, on CPUs that do them natively.

Profiling ROME on SmolLM2 (one CPU thread) put about three quarters of the value search in the
linear layers of the blocks above the edit point and the output head, at a few dozen tokens per
step: reading float32 weights bounds them. CPUs with AVX512-BF16 or AMX multiply bfloat16 three
to four times faster at those shapes. Only the linear layers *above* the edit point (the blocks
after the one that holds it, and the output head) are lowered: everything up to the edit point runs
in the model's dtype, so the key, the original value and the blocks' outputs that later steps replay
are exactly those of a float32 search, and the weight update is computed and applied in the model's
own dtype as before. Attention, norms, the residual stream, δ, the loss and the optimiser stay
float32 (CPU attention's backward is many times slower in bfloat16, and the KL and NLL need the
precision).

Where the CPU lacks native bfloat16 (or the model is not float32), ``"auto"`` keeps the model's
dtype: emulated bfloat16 would be slower and less exact, so the search never silently takes it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import torch

log = logging.getLogger(__name__)

COMPUTE_DTYPES = ("auto", "model", "bfloat16")


def native_bf16(device: torch.device) -> bool:
    """Whether ``device`` multiplies bfloat16 in hardware (CPU: AVX512-BF16 or AMX via oneDNN)."""
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    if device.type != "cpu" or not torch.backends.mkldnn.is_available():
        return False
    cpu = torch.backends.cpu.get_cpu_capability()
    probes = (getattr(torch.cpu, "_is_avx512_bf16_supported", None), getattr(torch.cpu, "_is_amx_tile_supported", None))
    return cpu.startswith("AVX512") and any(probe is not None and probe() for probe in probes)


def matmul_dtype(setting: str, model_dtype: torch.dtype, device: torch.device) -> torch.dtype:
    """The dtype the search multiplies in: bfloat16 where asked for (or ``auto``) and native, else the model's."""
    if setting not in COMPUTE_DTYPES:
        raise ValueError(f"compute_dtype must be one of {', '.join(COMPUTE_DTYPES)}, got {setting!r}")
    if setting == "model" or model_dtype != torch.float32:
        return model_dtype
    if native_bf16(device):
        return torch.bfloat16
    if setting == "bfloat16":
        log.warning("%s has no native bfloat16 matrix multiply; the value search stays in %s", device, model_dtype)
    return model_dtype


class Lowered(torch.nn.Module):
    """A linear layer's product in ``dtype``: its input cast down, its output cast back up."""

    def __init__(self, linear: torch.nn.Linear, dtype: torch.dtype) -> None:
        super().__init__()
        self.weight = linear.weight.detach().to(dtype)
        self.bias = linear.bias.detach().to(dtype) if linear.bias is not None else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.nn.functional.linear(x.to(self.weight.dtype), self.weight, self.bias).to(x.dtype)


@contextmanager
def lowered_linears(roots: Sequence[torch.nn.Module], dtype: torch.dtype) -> Iterator[None]:
    """Every ``nn.Linear`` under ``roots`` multiplies in ``dtype`` for the duration.

    The copies are taken from the weights as they are on entry, so deltas applied before the search
    are in them; the real layers are put back on exit, even on error.
    """
    swapped: list[tuple[torch.nn.Module, str, torch.nn.Module]] = []
    try:
        for root in roots:
            for parent in list(root.modules()):
                for name, child in list(parent.named_children()):
                    if isinstance(child, torch.nn.Linear) and child.weight.dtype != dtype:
                        setattr(parent, name, Lowered(child, dtype))
                        swapped.append((parent, name, child))
        yield
    finally:
        for parent, name, child in reversed(swapped):
            setattr(parent, name, child)
