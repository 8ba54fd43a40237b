"""Per-architecture facts the weight editors need, kept as data in one table.

ROME and MEMIT edit the MLP's output projection (the "value" matrix W_out whose input is the MLP's
hidden activation, the "key"). Where that matrix sits, whether it is stored transposed (GPT-2's
``Conv1D``), and which layers to edit by default differ by architecture; nothing else does. Default
layers are given as fractions of the model's depth so that one row serves every size of a family
(the papers edit GPT-2 XL at layer 17 of 48, GPT-J at 5 of 28 for ROME and 3-8 for MEMIT; EasyEdit's
Llama settings are 5 and 4-8 of 32). For SmolLM2-135M (30 layers) the Llama row gives ROME layer 4
and MEMIT layers 3-8; benchmarks/bench_weights.py measures them on the dev set (--layer,
--memit-layers try others).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from transformers import PreTrainedModel

from kg.errors import ModelError


@dataclass(frozen=True)
class ArchSpec:
    """Where the edited matrix lives in one architecture family."""

    family: str
    model_types: tuple[str, ...]
    layers: str  # dotted path of the ModuleList of blocks
    mlp_out: str  # dotted path, inside a block, of the MLP output projection
    transposed: bool  # weight stored as (in, out) rather than torch's (out, in)
    rome_layer: float  # fraction of depth
    memit_layers: tuple[float, float]  # first and last fraction of depth, inclusive


ARCHITECTURES: tuple[ArchSpec, ...] = (
    ArchSpec("gpt2", ("gpt2",), "transformer.h", "mlp.c_proj", True, 0.35, (0.25, 0.35)),
    ArchSpec("gptj", ("gptj",), "transformer.h", "mlp.fc_out", False, 0.18, (0.11, 0.29)),
    ArchSpec("gpt-neox", ("gpt_neox",), "gpt_neox.layers", "mlp.dense_4h_to_h", False, 0.18, (0.11, 0.29)),
    ArchSpec(
        "llama",
        ("llama", "qwen2", "qwen3", "mistral", "gemma", "gemma2", "phi3", "olmo", "olmo2"),
        "model.layers",
        "mlp.down_proj",
        False,
        0.15,
        (0.12, 0.28),
    ),
)


def spec_for(model: PreTrainedModel) -> ArchSpec:
    model_type = getattr(model.config, "model_type", "")
    for spec in ARCHITECTURES:
        if model_type in spec.model_types:
            return spec
    known = ", ".join(t for s in ARCHITECTURES for t in s.model_types)
    raise ModelError(f"weight editing does not support model type {model_type!r}; supported: {known}")


@dataclass(frozen=True)
class ModelLayout:
    """One loaded model's edit points: layer count, module names and default layers."""

    spec: ArchSpec
    num_layers: int

    @classmethod
    def of(cls, model: PreTrainedModel) -> ModelLayout:
        spec = spec_for(model)
        return cls(spec, len(_get(model, spec.layers)))  # type: ignore[arg-type]

    def check_layer(self, layer: int) -> int:
        if not 0 <= layer < self.num_layers:
            raise ModelError(f"layer {layer} is outside the model's layers 0..{self.num_layers - 1}")
        return layer

    def block_name(self, layer: int) -> str:
        return f"{self.spec.layers}.{self.check_layer(layer)}"

    def mlp_out_name(self, layer: int) -> str:
        return f"{self.block_name(layer)}.{self.spec.mlp_out}"

    def weight_name(self, layer: int) -> str:
        """The state-dict name of the edited matrix, as stored in the model."""
        return f"{self.mlp_out_name(layer)}.weight"

    def rome_layer(self) -> int:
        return min(self.num_layers - 1, round(self.spec.rome_layer * (self.num_layers - 1)))

    def memit_layers(self) -> tuple[int, ...]:
        first = round(self.spec.memit_layers[0] * (self.num_layers - 1))
        last = max(first, round(self.spec.memit_layers[1] * (self.num_layers - 1)))
        return tuple(range(first, min(last, self.num_layers - 1) + 1))

    def block(self, model: PreTrainedModel, layer: int) -> torch.nn.Module:
        return _get(model, self.block_name(layer))

    def mlp_out(self, model: PreTrainedModel, layer: int) -> torch.nn.Module:
        return _get(model, self.mlp_out_name(layer))

    def weight(self, model: PreTrainedModel, layer: int) -> torch.nn.Parameter:
        weight = self.mlp_out(model, layer).weight
        if not isinstance(weight, torch.nn.Parameter):
            raise ModelError(f"{self.mlp_out_name(layer)} has no weight matrix to edit")
        return weight

    def as_out_in(self, tensor: torch.Tensor) -> torch.Tensor:
        """A weight or delta in torch's (out, in) orientation, whatever the storage."""
        return tensor.T if self.spec.transposed else tensor


def _get(root: torch.nn.Module, dotted: str) -> torch.nn.Module:
    try:
        return root.get_submodule(dotted)
    except AttributeError as exc:
        raise ModelError(f"the model has no module {dotted!r}; is the architecture table right?") from exc
