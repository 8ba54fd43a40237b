"""The search for the value vector δ that teaches a fact (Meng et al. 2022, sec. 3.1, eq. 4).

δ is added at one point of the forward pass (an MLP output for ROME, the residual stream after the
last edited layer for MEMIT) at the subject's last token, and optimised so that every prefixed
prompt continues with the new object (and every prompt of the request's kept facts with its own
object), while a KL term keeps the model's idea of what the subject *is* unchanged and a weight
decay keeps δ small.

Why this is fast: the model is causal, so no token *before* the subject's last token is affected by
δ, at any layer. Those tokens (the context prefix and the start of the prompt) are run once, without
gradients, into a key/value cache; every optimisation step then runs only the few tokens from the
subject's last token to the end of the target (typically 3-8 of ~25), on top of that cache. The
result is the same as running every prompt whole (a test checks it), at a fraction of the cost.
The same first step also reads the module's input (ROME's key k) and original output at the
subject, so callers need no separate passes for them. Only δ has a gradient; the model's parameters
are frozen during the search, so backward stops at the edited layer. The linear layers of the
blocks above the edit point and the output head multiply in bfloat16 where the CPU does that
natively (:mod:`editors.precision`), since reading their float32 weights is most of a step.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import torch
from transformers import PreTrainedModel, PreTrainedTokenizerBase

from editors.hooks import Hook, hooked
from editors.precision import Lowered, lowered_linears, matmul_dtype
from editors.replay import BlocksBelow
from editors.requests import WeightRequest
from editors.tokens import encode, pad_id, with_continuation

log = logging.getLogger(__name__)

ESSENCE_PROMPT = "{} is a"


@dataclass(frozen=True)
class ValueSearch:
    """Settings of the δ search (the papers' values: 20-25 Adam steps at lr 0.5).

    ``stop_loss``: a request stops once its mean target NLL is below this; 0.05 is a probability
    of about 0.95 per target token, which leaves the new object ahead in paraphrased prompts too.
    ``most_probable_stop``: a request also stops once its new object is the most probable
    continuation, token by token, in every prefixed prompt (ENCORE's most-probable early stopping,
    Gupta et al. 2025): pushing its probability further only grows δ, and in edits made one after
    another the grown targets are what drives the edited matrices' norms up.
    ``compute_dtype``: what the layers above the edit point multiply in (:mod:`editors.precision`);
    ``auto`` takes bfloat16 only where the CPU (or GPU) has it natively and the model is float32.
    """

    steps: int = 25
    lr: float = 0.5
    kl_factor: float = 0.0625
    weight_decay: float = 1e-3
    clamp: float = 4.0  # ‖δ‖ ≤ clamp · ‖original value‖
    stop_loss: float = 0.05
    chunk: int = 8  # requests optimised together (each has its own δ)
    most_probable_stop: bool = False
    compute_dtype: str = "auto"  # auto, model or bfloat16


@dataclass(frozen=True)
class Values:
    """What the search measured for each request (rows) at the edited module, float32 on the CPU."""

    original: torch.Tensor  # the module's output at the subject's last token of the bare prompt
    delta: torch.Tensor  # the change of that output that teaches the fact
    key: torch.Tensor  # the module's input there, averaged over the bare and prefixed prompts
    bare_key: torch.Tensor  # the module's input there, bare prompt only
    steps: int  # optimisation steps the slowest request needed


@dataclass(frozen=True)
class SplitRows:
    """Prompts split at the token where δ is added: a context run once, and the tokens after it.

    The context is left-padded so each row's split point sits at the same column; the part after it
    is right-padded. ``positions`` are the true positions of the part after the split.
    """

    context_ids: torch.Tensor
    context_mask: torch.Tensor
    ids: torch.Tensor
    mask: torch.Tensor
    positions: torch.Tensor

    @classmethod
    def of(cls, rows: Sequence[tuple[list[int], int]], pad: int, device: torch.device) -> SplitRows:
        """``rows``: each prompt's token ids and the index of the token where δ is added."""
        width_context = max(split for _, split in rows)
        width = max(len(ids) - split for ids, split in rows)
        context_ids = torch.full((len(rows), width_context), pad, dtype=torch.long)
        context_mask = torch.zeros((len(rows), width_context), dtype=torch.long)
        ids = torch.full((len(rows), width), pad, dtype=torch.long)
        mask = torch.zeros((len(rows), width), dtype=torch.long)
        positions = torch.zeros((len(rows), width), dtype=torch.long)
        for i, (row, split) in enumerate(rows):
            if split:
                context_ids[i, width_context - split :] = torch.tensor(row[:split])
                context_mask[i, width_context - split :] = 1
            rest = row[split:]
            ids[i, : len(rest)] = torch.tensor(rest)
            mask[i, : len(rest)] = 1
            positions[i] = split + torch.arange(width)
        return cls(*(t.to(device) for t in (context_ids, context_mask, ids, mask, positions)))

    def context_cache(self, model: PreTrainedModel) -> object | None:
        """The key/value cache of the contexts (None when every context is empty)."""
        if self.context_ids.shape[1] == 0:
            return None
        positions = (self.context_mask.cumsum(1) - 1).clamp_min(0)
        with torch.no_grad():
            out = model.base_model(
                input_ids=self.context_ids,
                attention_mask=self.context_mask,
                position_ids=positions,
                use_cache=True,
            )
        return out.cache

    def hidden(self, model: PreTrainedModel, cache: object | None) -> torch.Tensor:
        """Last hidden states of the parts after the split, on top of a copy of the context cache."""
        mask = torch.cat([self.context_mask, self.mask], dim=1) if cache is not None else self.mask
        out = model.base_model(
            input_ids=self.ids,
            attention_mask=mask,
            position_ids=self.positions,
            cache=copy.deepcopy(cache) if cache is not None else None,
            use_cache=cache is not None,
        )
        return out.last_hidden_state


@contextmanager
def frozen(model: PreTrainedModel) -> Iterator[None]:
    """Parameters without gradients for the duration (restored on exit, even on error)."""
    flags = [(p, p.requires_grad) for p in model.parameters()]
    for p, _ in flags:
        p.requires_grad_(False)
    try:
        yield
    finally:
        for p, flag in flags:
            p.requires_grad_(flag)


def optimise_values(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    module: torch.nn.Module,
    requests: Sequence[WeightRequest],
    prefixes: Sequence[str],
    search: ValueSearch,
) -> Values:
    """For each request: the original value at ``module``'s output, the δ that teaches the fact, keys."""
    parts = [
        _search(model, tokenizer, module, requests[start : start + search.chunk], prefixes, search)
        for start in range(0, len(requests), search.chunk)
    ]
    return Values(
        original=torch.cat([p.original for p in parts]),
        delta=torch.cat([p.delta for p in parts]),
        key=torch.cat([p.key for p in parts]),
        bare_key=torch.cat([p.bare_key for p in parts]),
        steps=max(p.steps for p in parts),
    )


@dataclass(frozen=True)
class _Layout:
    """Which rows belong to which request and where their scored tokens are."""

    split: SplitRows
    owner: torch.Tensor  # request of each row
    bare_rows: torch.Tensor  # the row of each request's bare prompt
    main_rows: torch.Tensor  # the rows of each request's own prompt (its kept facts' rows are not)
    pick_rows: torch.Tensor  # scored (row, column) pairs: target tokens, then essence last tokens
    pick_cols: torch.Tensor
    gold: torch.Tensor  # target token ids
    token_owner: torch.Tensor  # request of each target token


def _layout(
    tokenizer: PreTrainedTokenizerBase,
    requests: Sequence[WeightRequest],
    prefixes: Sequence[str],
    device: torch.device,
) -> _Layout:
    rows: list[tuple[list[int], int]] = []
    owners: list[int] = []
    picks: list[tuple[int, int]] = []
    gold: list[int] = []
    bare: list[int] = []
    main: list[int] = []
    for r, request in enumerate(requests):
        facts = [(request.prompt, request.target_new), *request.kept]
        for prefix in prefixes:
            for f, (prompt, obj) in enumerate(facts):
                start, end = request.span_in(prompt)
                enc, target = with_continuation(tokenizer, prefix + prompt, obj)
                split = enc.last_token_in(len(prefix) + start, len(prefix) + end)
                if f == 0:
                    main.append(len(rows))
                    if prefix == "":
                        bare.append(len(rows))
                # logits at token t-1 predict target token t; the row needs tokens up to target[-1]-1
                picks += [(len(rows), t - 1 - split) for t in target]
                gold += [enc.ids[t] for t in target]
                rows.append((enc.ids[: target[-1]], split))
                owners.append(r)
    for r, request in enumerate(requests):
        enc = encode(tokenizer, ESSENCE_PROMPT.format(request.subject))
        split = enc.last_token_in(0, len(request.subject))
        picks.append((len(rows), len(enc.ids) - 1 - split))
        rows.append((enc.ids, split))
        owners.append(r)
    owner = torch.tensor(owners, device=device)
    pick_rows = torch.tensor([p[0] for p in picks], device=device)
    return _Layout(
        split=SplitRows.of(rows, pad_id(tokenizer), device),
        owner=owner,
        bare_rows=torch.tensor(bare, device=device),
        main_rows=torch.tensor(main, device=device),
        pick_rows=pick_rows,
        pick_cols=torch.tensor([p[1] for p in picks], device=device),
        gold=torch.tensor(gold, device=device),
        token_owner=owner[pick_rows[: len(gold)]],
    )


def _search(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    module: torch.nn.Module,
    requests: Sequence[WeightRequest],
    prefixes: Sequence[str],
    search: ValueSearch,
) -> Values:
    if "" not in prefixes:
        raise ValueError("the prefixes must include the bare prompt ('')")
    device = next(model.parameters()).device
    n = len(requests)
    lay = _layout(tokenizer, requests, prefixes, device)
    head = model.get_output_embeddings()
    seen: dict[str, torch.Tensor] = {}

    def inject(_m: torch.nn.Module, args: tuple, kwargs: dict, out: object) -> object:
        hidden = out[0] if isinstance(out, tuple) else out
        assert isinstance(hidden, torch.Tensor)
        if "delta" not in seen:  # the first pass: read the key and the original value; δ starts at 0
            given = args[0] if args else kwargs["hidden_states"]
            seen["key"] = given[:, 0].detach().float()
            seen["value"] = hidden[:, 0].detach().float()
            seen["delta"] = torch.zeros(n, hidden.shape[-1], device=hidden.device, requires_grad=True)
        added = torch.zeros_like(hidden)
        added[:, 0] = seen["delta"][lay.owner].to(hidden.dtype)
        hidden = hidden + added
        return (hidden, *out[1:]) if isinstance(out, tuple) else hidden

    def logits(head: torch.nn.Module | None) -> torch.Tensor:
        hidden = lay.split.hidden(model, cache)[lay.pick_rows, lay.pick_cols]
        return (head(hidden) if head is not None else hidden).float()

    # The first step's pass (δ = 0) also reads the key, the original value and the essence
    # distribution the KL term keeps (its KL is 0 with a zero gradient, as a separate pass would
    # give), and records the blocks below the edit point, which later steps replay.
    below = BlocksBelow(model, module)
    dtype = matmul_dtype(search.compute_dtype, next(model.parameters()).dtype, device)
    if isinstance(head, torch.nn.Linear) and head.weight.dtype != dtype:
        head = Lowered(head, dtype)
    hooks = [Hook(module, inject, with_kwargs=True), *below.recorders()]
    with lowered_linears(below.above(), dtype):
        cache = lay.split.context_cache(model)
        with hooked(hooks), frozen(model), torch.enable_grad():
            scored = logits(head)
            essence_init = torch.log_softmax(scored[len(lay.gold) :].detach(), dim=-1)
            delta = seen["delta"]
            originals = seen["value"][lay.bare_rows]
            limit = search.clamp * originals.norm(dim=1)
            orig_sq = originals.norm(dim=1) ** 2
            active = torch.ones(n, dtype=torch.bool, device=device)
            optimiser = torch.optim.Adam([delta], lr=search.lr)
            tokens_per_request = torch.zeros(n, device=device).index_add_(
                0, lay.token_owner, torch.ones(len(lay.gold), device=device)
            )
            with below.replaying():
                step = 0
                for step in range(search.steps):  # noqa: B007 - reported after the loop
                    if step:
                        scored = logits(head)
                    logp = torch.log_softmax(scored[: len(lay.gold)], dim=-1)
                    token_nll = -logp.gather(1, lay.gold[:, None]).squeeze(1)
                    nll = torch.zeros(n, device=device).index_add(0, lay.token_owner, token_nll)
                    nll = nll / tokens_per_request
                    essence = torch.log_softmax(scored[len(lay.gold) :], dim=-1)
                    kl = (essence_init.exp() * (essence_init - essence)).sum(dim=1)
                    decay = (delta**2).sum(dim=1) / orig_sq
                    loss_each = nll + search.kl_factor * kl + search.weight_decay * decay
                    active &= nll.detach() > search.stop_loss
                    if search.most_probable_stop:
                        missed = (scored[: len(lay.gold)].detach().argmax(dim=-1) != lay.gold).float()
                        misses = torch.zeros(n, device=device).index_add_(0, lay.token_owner, missed)
                        active &= misses > 0
                    if not bool(active.any()):
                        break
                    optimiser.zero_grad()
                    (loss_each * active).sum().backward()
                    done = delta.detach().clone()
                    optimiser.step()
                    with torch.no_grad():
                        delta[~active] = done[~active]  # Adam's momentum must not move a finished request
                        norms = delta.norm(dim=1).clamp_min(1e-12)
                        delta.mul_(torch.clamp(limit / norms, max=1.0)[:, None])
            log.info("value search: %d steps, target NLL %s", step + 1, [round(x, 3) for x in nll.tolist()])
    keys = seen["key"][lay.main_rows]
    key_sums = torch.zeros(n, keys.shape[1], device=device).index_add_(0, lay.owner[lay.main_rows], keys)
    return Values(
        original=originals.cpu(),
        delta=delta.detach().float().cpu(),
        key=(key_sums / len(prefixes)).cpu(),
        bare_key=seen["key"][lay.bare_rows].cpu(),
        steps=step + 1,
    )
