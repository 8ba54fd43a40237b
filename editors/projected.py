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
layers are MEMIT's. The delta records its subjects' keys per layer (``WeightDelta.keys``) and the
facts they belong to (``WeightDelta.taught``), so that the next projected edit, made on top,
includes them in K_p.

Except for the subjects being edited now. A fact is stored at its subject's key, which every
relation of that subject shares (and a correction of an edited fact has the very same key), so
"keep the output at K_p" and "close the gap at K" would ask opposite things of one key: the solve
splits the difference and neither fact holds. In the dev stream of 1,000 sequential edits 793 edit
a subject edited before. So those keys leave K_p, and the subject's other edited facts join the
value search as kept facts (``WeightRequest.kept``): the new value at the subject makes the new
object and the earlier edited ones true together, and a superseded fact of the same pair is simply
replaced.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

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
    must not touch; the rest is where edits are written. Higher protects more and leaves less room:
    at 0.98 the room on SmolLM2 was about 200-320 of 1,536 directions per layer, holding 13-19% of a
    subject key's energy, and 200 sequential edits ended at 60% efficacy, 73.6% neighbourhood and
    perplexity 29.3; at 0.9 (669-883 directions, 41-47%) at 90%, 82.1% and 24.9 (docs/weight_editing.md).
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
    preserved_energy: float = 0.9
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


@dataclass(frozen=True)
class Earlier:
    """What the projected deltas already in the model hold, as the next edit must see it."""

    keys: dict[int, torch.Tensor]  # per layer, in × m: the keys whose outputs must stay
    requests: tuple[WeightRequest, ...]  # the new requests, each with its subject's kept facts


def earlier(deltas: Sequence[WeightDelta], requests: Sequence[WeightRequest]) -> Earlier:
    """K_p and the kept facts for ``requests`` on top of ``deltas`` (in the order applied).

    Of the facts the deltas taught, only each (subject, relation)'s latest counts: a later delta of
    the same pair superseded it. Keys of the subjects edited now are left out of K_p; their facts
    of other relations become kept facts. Deltas saved without their facts keep all their keys.
    """
    latest: dict[tuple[str, str], tuple[WeightRequest, dict[int, torch.Tensor]]] = {}
    preserved: list[dict[int, torch.Tensor]] = []  # per layer, in × columns
    for delta in deltas:
        if not delta.keys:
            continue
        if len(delta.taught) != next(iter(delta.keys.values())).shape[1]:
            preserved.append(delta.keys)
            continue
        for i, fact in enumerate(delta.taught):
            latest[(fact.subject, fact.relation)] = (fact, {layer: k[:, i : i + 1] for layer, k in delta.keys.items()})
    now = {(r.subject, r.relation) for r in requests}
    subjects = {r.subject for r in requests}
    kept: dict[str, list[tuple[str, str]]] = {}
    for (subject, relation), (fact, keys) in latest.items():
        if subject not in subjects:
            preserved.append(keys)
        elif (subject, relation) not in now:
            kept.setdefault(subject, []).append((fact.prompt, fact.target_new))
    layers = sorted({layer for keys in preserved for layer in keys})
    return Earlier(
        keys={layer: torch.cat([keys[layer] for keys in preserved if layer in keys], dim=1) for layer in layers},
        requests=tuple(replace(r, kept=(*r.kept, *kept.get(r.subject, ()))) for r in requests),
    )


def projected_delta(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    requests: Sequence[WeightRequest],
    statistics: KeyStatistics,
    deltas: Sequence[WeightDelta] = (),
    params: ProjectedHyperParams = ProjectedHyperParams(),
    model_name: str = "",
) -> WeightDelta:
    """The delta teaching ``requests`` on top of the model as it is; the model is left unchanged.

    ``deltas``: the deltas already applied to the model, in their order.
    """
    layers = edited_layers(model, params.layers)
    moments = statistics.moments(layers)
    before = earlier(deltas, requests)

    def solve(layer: int, keys: torch.Tensor) -> torch.Tensor:
        moment = moments[layer].double()
        alpha = params.ridge * float(torch.trace(moment)) / moment.shape[0]
        previous = before.keys.get(layer, torch.zeros(moment.shape[0], 0))
        return projected_solve(keys, previous.T, statistics.null_projection(layer, params.preserved_energy), alpha)

    updates, recorded = spread_over_layers(
        model, tokenizer, before.requests, layers, params, solve, "projected", model_name
    )
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
        taught=tuple(replace(r, kept=()) for r in requests),
    )
