"""Null-space projected editing, after AlphaEdit (Fang et al., ICLR 2025), written from the paper's maths.

MEMIT (:mod:`editors.memit`) trades each edit against the keys the model usually sees through a
penalty, λ·C; after hundreds of edits made one after another the penalties add up to a large drift
and earlier edits are overwritten. AlphaEdit instead *constrains* the update: with P the projection
onto the directions that typical keys do not use (the null space of C = E[k kᵀ], from
:meth:`editors.stats.KeyStatistics.null_projection`), an update ΔW whose rows lie in P's range
leaves W k unchanged for every such key, so the preserved knowledge cannot be disturbed whatever the
number of edits. What the penalty was there for is then handled exactly, and the objective keeps
only the new keys K (columns), the gaps R they must close (rows of the same requests), and the keys
K_p of the edits made before (which should keep their outputs):

    min over X = P Z of  ‖Kᵀ X − R‖² + ‖K_pᵀ X‖² + α‖X‖²,   ΔW = Xᵀ.

Setting the gradient in P's range to zero gives P(A + αI)X = P K R with A = K Kᵀ + K_p K_pᵀ, and
any X = P Z satisfies it exactly when (P A + αI) X = P K R: from that equation
X = P(K R − A X)/α lies in P's range by construction, so one linear solve gives the constrained
optimum, with no explicit basis of the null space. α (``ridge``, relative to tr C so it is
scale-free) keeps the solve well-posed when K has little energy in the null space.

The layers, the value search at the last edited layer and the split of the residual gap over the
layers are MEMIT's. The delta records its subjects' keys per layer (``WeightDelta.keys``), so that
the next projected edit, made on top, includes them in K_p.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

import torch
from transformers import PreTrainedModel, PreTrainedTokenizerBase

from editors.deltas import WeightDelta
from editors.memit import edited_layers, spread_over_layers
from editors.requests import WeightRequest
from editors.stats import KeyStatistics
from editors.values import ValueSearch

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ProjectedHyperParams:
    """Settings of the projected method. ``layers`` None takes the architecture table's MEMIT range.

    ``preserved_energy``: the share of the typical keys' energy (tr C) whose directions the update
    must not touch; the rest is where edits are written. Higher protects more and leaves less room.
    ``ridge``: α as a multiple of tr C / d (the mean key energy per dimension).
    ``search`` stops each value search once the new object is the most probable continuation
    (:class:`editors.values.ValueSearch`): in edits made one after another, searching on to the loss
    threshold grew δ with the drifting residual (76 -> 143 over 200 SmolLM2 edits) and with it the
    edited matrices (‖ΔW‖ / ‖W‖ 2-3 at 200 edits), and the model broke (perplexity 216 at 200 edits);
    with this stop (and 100k statistics tokens) it stayed at 37.9 (docs/weight_editing.md).
    """

    layers: tuple[int, ...] | None = None
    prefixes: int = 5
    prefix_length: int = 10
    preserved_energy: float = 0.98
    ridge: float = 1.0
    seed: int = 0
    search: ValueSearch = field(
        default_factory=lambda: ValueSearch(clamp=0.75, weight_decay=0.5, most_probable_stop=True)
    )


def projected_solve(
    keys: torch.Tensor, previous: torch.Tensor, projection: torch.Tensor, ridge: float
) -> torch.Tensor:
    """The (in × n) right factor Y of ΔW = Rᵀ Yᵀ: solves (P A + αI) Y = P K (float64).

    ``keys`` (n × in), ``previous`` (m × in; m may be 0), ``projection`` P. The gaps R multiply from
    the right of X = Y R and do not enter the solve, so the delta stays low rank (n per layer).
    A = U Uᵀ with U = [K, K_p] has rank r = n + m, so while r < d the Woodbury identity
    (αI + PU Uᵀ)⁻¹ = (I − PU (αI_r + UᵀPU)⁻¹ Uᵀ) / α replaces the d × d solve by an r × r one.
    """
    p = projection.double()
    k = keys.double().T  # in × n
    u = torch.cat([k, previous.double().T], dim=1) if previous.numel() else k
    pk = p @ k
    if u.shape[1] >= p.shape[0]:
        system = p @ (u @ u.T) + ridge * torch.eye(p.shape[0], dtype=torch.float64)
        return torch.linalg.solve(system, pk)
    pu = p @ u
    small = ridge * torch.eye(u.shape[1], dtype=torch.float64) + u.T @ pu
    return (pk - pu @ torch.linalg.solve(small, u.T @ pk)) / ridge


def projected_delta(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    requests: Sequence[WeightRequest],
    statistics: KeyStatistics,
    previous_keys: dict[int, torch.Tensor],
    params: ProjectedHyperParams = ProjectedHyperParams(),
    model_name: str = "",
) -> WeightDelta:
    """The delta teaching ``requests`` on top of the model as it is; the model is left unchanged.

    ``previous_keys``: per layer, (in × m) keys of the edits already in the model.
    """
    layers = edited_layers(model, params.layers)
    moments = statistics.moments(layers)

    def solve(layer: int, keys: torch.Tensor) -> torch.Tensor:
        moment = moments[layer].double()
        alpha = params.ridge * float(torch.trace(moment)) / moment.shape[0]
        before = previous_keys.get(layer, torch.zeros(moment.shape[0], 0))
        return projected_solve(keys, before.T, statistics.null_projection(layer, params.preserved_energy), alpha)

    updates, recorded = spread_over_layers(model, tokenizer, requests, layers, params, solve, "projected", model_name)
    return WeightDelta(
        model=model_name,
        method="projected",
        edit_ids=tuple(r.edit_id for r in requests),
        updates=tuple(updates),
        info={
            "layers": ",".join(map(str, layers)),
            "preserved_energy": str(params.preserved_energy),
            "ridge": str(params.ridge),
        },
        keys=recorded,
    )


def keys_of(deltas: Sequence[WeightDelta]) -> dict[int, torch.Tensor]:
    """Per layer, the recorded subject keys of ``deltas`` side by side (in × total)."""
    out: dict[int, list[torch.Tensor]] = {}
    for delta in deltas:
        for layer, keys in delta.keys.items():
            out.setdefault(layer, []).append(keys)
    return {layer: torch.cat(parts, dim=1) for layer, parts in out.items()}
