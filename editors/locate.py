"""The two measurements ROME and MEMIT share: keys at the subject, and the values that teach a fact.

*Keys* (Meng et al. 2022, sec. 3.1): the input of an edited MLP output matrix at the subject's last
token, averaged over the bare prompt and a few prompts with short model-written prefixes, so the
edit fires for the subject in varied contexts. *Values* (sec. 3.1, eq. 4): a vector δ added at one
point of the forward pass (an MLP output for ROME, the residual stream after the last edited layer
for MEMIT) at the subject's last token, optimised so that every prefixed prompt continues with the
new object, while a KL term keeps the model's idea of what the subject *is* unchanged and a weight
decay keeps δ small. Only δ has a gradient; the model's parameters are frozen during the search,
which roughly halves the backward pass.
"""

from __future__ import annotations

import logging
import weakref
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass

import torch
from transformers import PreTrainedModel, PreTrainedTokenizerBase

from editors.requests import WeightRequest
from editors.tokens import Encoded, encode, pad_batch, pad_id, with_continuation

log = logging.getLogger(__name__)

ESSENCE_PROMPT = "{} is a"


@dataclass(frozen=True)
class ValueSearch:
    """Settings of the δ search (the papers' values: 20-25 Adam steps at lr 0.5)."""

    steps: int = 25
    lr: float = 0.5
    kl_factor: float = 0.0625
    weight_decay: float = 1e-3
    clamp: float = 4.0  # ‖δ‖ ≤ clamp · ‖original value‖
    stop_loss: float = 0.05  # a request stops once its mean target NLL is below this
    chunk: int = 8  # requests optimised together (each has its own δ)


# Per model object (weakly held: an id() key could be reused by a later model).
_PREFIXES: weakref.WeakKeyDictionary[PreTrainedModel, dict[tuple[int, int, int], tuple[str, ...]]] = (
    weakref.WeakKeyDictionary()
)


def context_prefixes(
    model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase, count: int, length: int, seed: int
) -> tuple[str, ...]:
    """The bare prompt ("") plus ``count`` short texts the model writes itself, each ending ". ".

    Written once per model and setting in a process, so every edit sees the same contexts.
    """
    if count == 0:
        return ("",)
    written = _PREFIXES.setdefault(model, {})
    key = (count, length, seed)
    if key not in written:
        written[key] = _write_prefixes(model, tokenizer, count, length, seed)
    return written[key]


def _write_prefixes(
    model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase, count: int, length: int, seed: int
) -> tuple[str, ...]:
    start = tokenizer.bos_token_id if tokenizer.bos_token_id is not None else tokenizer.eos_token_id
    device = next(model.parameters()).device
    state = torch.random.get_rng_state()
    torch.manual_seed(seed)
    ids = torch.full((count, 1), start, dtype=torch.long, device=device)
    with torch.no_grad():
        out = model.generate(  # type: ignore[operator]
            input_ids=ids,
            attention_mask=torch.ones_like(ids),
            do_sample=True,
            top_k=5,
            max_new_tokens=length,
            min_new_tokens=length,
            pad_token_id=start,
        )
    torch.random.set_rng_state(state)
    texts = tokenizer.batch_decode(out[:, 1:], skip_special_tokens=True)
    cleaned = [" ".join(str(t).replace("{", " ").replace("}", " ").split()) for t in texts]
    return ("", *(f"{t}. " for t in cleaned))


def _rows(
    tokenizer: PreTrainedTokenizerBase, requests: Sequence[WeightRequest], prefixes: Sequence[str]
) -> tuple[list[Encoded], list[int], list[int]]:
    """Every (request, prefix) prompt encoded, its subject's last token, and which request it is."""
    rows, positions, owners = [], [], []
    for r, request in enumerate(requests):
        start, end = request.subject_span
        for prefix in prefixes:
            enc = encode(tokenizer, prefix + request.prompt)
            rows.append(enc)
            positions.append(enc.last_token_in(len(prefix) + start, len(prefix) + end))
            owners.append(r)
    return rows, positions, owners


def subject_keys(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    modules: dict[int, torch.nn.Module],
    requests: Sequence[WeightRequest],
    prefixes: Sequence[str],
    batch_rows: int = 64,
) -> dict[int, torch.Tensor]:
    """Per layer, the (requests × d_in) keys at the subject, averaged over the prefixes (float32)."""
    rows, positions, owners = _rows(tokenizer, requests, prefixes)
    captured = capture(model, tokenizer, modules, rows, positions, "input", batch_rows)
    owner = torch.tensor(owners)
    out = {}
    for layer, values in captured.items():
        sums = torch.zeros(len(requests), values.shape[1]).index_add_(0, owner, values)
        out[layer] = sums / len(prefixes)
    return out


def values_at_subject(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    module: torch.nn.Module,
    requests: Sequence[WeightRequest],
    kind: str = "output",
) -> torch.Tensor:
    """(requests × d) input or output of ``module`` at the subject's last token of the bare prompts."""
    rows, positions, _ = _rows(tokenizer, requests, ("",))
    return capture(model, tokenizer, {0: module}, rows, positions, kind)[0]


class _Stop(Exception):
    pass


def capture(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    modules: dict[int, torch.nn.Module],
    rows: Sequence[Encoded],
    positions: Sequence[int],
    kind: str,
    batch_rows: int = 64,
) -> dict[int, torch.Tensor]:
    """The input or output of each module at one token per row; the pass stops after the last module."""
    device = next(model.parameters()).device
    found: dict[int, list[torch.Tensor]] = {k: [] for k in modules}
    order = list(modules)
    current: dict[str, torch.Tensor] = {}

    def hook_for(key: int):  # noqa: ANN202 - torch hook signature
        def pick(tensor: torch.Tensor) -> None:
            found[key].append(tensor[current["rows"], current["cols"]].detach().float().cpu())
            if all(len(v) == len(found[order[0]]) for v in found.values()):
                raise _Stop

        if kind == "input":
            return lambda _m, args: pick(args[0])
        return lambda _m, _a, out: pick(out[0] if isinstance(out, tuple) else out)

    handles = []
    for key, module in modules.items():
        if kind == "input":
            handles.append(module.register_forward_pre_hook(hook_for(key)))
        else:
            handles.append(module.register_forward_hook(hook_for(key)))
    try:
        for start in range(0, len(rows), batch_rows):
            chunk = rows[start : start + batch_rows]
            ids, mask = pad_batch([r.ids for r in chunk], pad_id(tokenizer), device)
            current["rows"] = torch.arange(len(chunk), device=device)
            current["cols"] = torch.tensor(positions[start : start + batch_rows], device=device)
            with torch.no_grad(), suppress(_Stop):
                model(input_ids=ids, attention_mask=mask)
    finally:
        for handle in handles:
            handle.remove()
    return {k: torch.cat(v) for k, v in found.items()}


def logits_at(
    model: PreTrainedModel, ids: torch.Tensor, mask: torch.Tensor, rows: torch.Tensor, cols: torch.Tensor
) -> torch.Tensor:
    """Logits at chosen (row, position) pairs only: the vocabulary projection of every position costs
    as much as several transformer layers for a small model, and only a few positions are scored."""
    hidden = model.base_model(input_ids=ids, attention_mask=mask).last_hidden_state
    head = model.get_output_embeddings()
    if head is None:
        return model(input_ids=ids, attention_mask=mask).logits[rows, cols]
    return head(hidden[rows, cols])


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
) -> tuple[torch.Tensor, torch.Tensor]:
    """For each request, the original value at ``module``'s output and the δ that teaches the fact."""
    originals = values_at_subject(model, tokenizer, module, requests, "output")
    deltas = []
    for start in range(0, len(requests), search.chunk):
        chunk = requests[start : start + search.chunk]
        deltas.append(
            _search(model, tokenizer, module, chunk, prefixes, search, originals[start : start + len(chunk)])
        )
    return originals, torch.cat(deltas)


def _search(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    module: torch.nn.Module,
    requests: Sequence[WeightRequest],
    prefixes: Sequence[str],
    search: ValueSearch,
    originals: torch.Tensor,
) -> torch.Tensor:
    device = next(model.parameters()).device
    rows, positions, owners, targets = [], [], [], []
    for r, request in enumerate(requests):
        start, end = request.subject_span
        for prefix in prefixes:
            enc, target = with_continuation(tokenizer, prefix + request.prompt, request.target_new)
            rows.append(Encoded(enc.ids[: target[-1]], enc.spans[: target[-1]]))
            positions.append(enc.last_token_in(len(prefix) + start, len(prefix) + end))
            owners.append(r)
            targets.append((target, [enc.ids[t] for t in target]))
    n_target_rows = len(rows)
    for r, request in enumerate(requests):
        enc = encode(tokenizer, ESSENCE_PROMPT.format(request.subject))
        rows.append(enc)
        positions.append(enc.last_token_in(0, len(request.subject)))
        owners.append(r)
    ids, mask = pad_batch([row.ids for row in rows], pad_id(tokenizer), device)
    row_index = torch.arange(len(rows), device=device)
    col_index = torch.tensor(positions, device=device)
    owner = torch.tensor(owners, device=device)
    essence_last = torch.tensor([len(row.ids) - 1 for row in rows[n_target_rows:]], device=device)
    logit_rows = torch.tensor([i for i, (t, _) in enumerate(targets) for _ in t], device=device)
    logit_cols = torch.tensor([p - 1 for t, _ in targets for p in t], device=device)
    gold = torch.tensor([g for _, ids_ in targets for g in ids_], device=device)
    token_owner = owner[logit_rows]
    pick_rows = torch.cat([logit_rows, n_target_rows + torch.arange(len(requests), device=device)])
    pick_cols = torch.cat([logit_cols, essence_last])
    tokens_per_request = torch.zeros(len(requests), device=device).index_add_(
        0, token_owner, torch.ones_like(logit_cols, dtype=torch.float)
    )

    delta = torch.zeros(len(requests), originals.shape[1], device=device, requires_grad=True)
    limit = (search.clamp * originals.norm(dim=1)).to(device)
    orig_sq = (originals.norm(dim=1) ** 2).to(device)
    active = torch.ones(len(requests), dtype=torch.bool, device=device)
    optimiser = torch.optim.Adam([delta], lr=search.lr)

    def inject(_m: torch.nn.Module, _a: tuple, out: object) -> object:
        hidden = out[0] if isinstance(out, tuple) else out
        assert isinstance(hidden, torch.Tensor)
        added = torch.zeros_like(hidden)
        added = added.index_put((row_index, col_index), delta[owner].to(hidden.dtype))
        hidden = hidden + added
        return (hidden, *out[1:]) if isinstance(out, tuple) else hidden

    with torch.no_grad():
        base_logits = model(input_ids=ids[n_target_rows:], attention_mask=mask[n_target_rows:]).logits
        essence_init = torch.log_softmax(
            base_logits[torch.arange(len(requests)), essence_last].float(), dim=-1
        )
    handle = module.register_forward_hook(inject)
    try:
        with frozen(model), torch.enable_grad():
            for step in range(search.steps):
                optimiser.zero_grad()
                logits = logits_at(model, ids, mask, pick_rows, pick_cols).float()
                logp = torch.log_softmax(logits[: len(gold)], dim=-1)
                token_nll = -logp.gather(1, gold[:, None]).squeeze(1)
                nll = torch.zeros(len(requests), device=device).index_add(0, token_owner, token_nll)
                nll = nll / tokens_per_request
                essence = torch.log_softmax(logits[len(gold) :], dim=-1)
                kl = (essence_init.exp() * (essence_init - essence)).sum(dim=1)
                decay = (delta**2).sum(dim=1) / orig_sq
                loss_each = nll + search.kl_factor * kl + search.weight_decay * decay
                active &= nll.detach() > search.stop_loss
                log.debug("step %d nll %s", step, [round(x, 3) for x in nll.tolist()])
                if not bool(active.any()):
                    break
                (loss_each * active).sum().backward()
                done = delta.detach().clone()
                optimiser.step()
                with torch.no_grad():
                    delta[~active] = done[~active]  # Adam's momentum must not move a finished request
                    norms = delta.norm(dim=1).clamp_min(1e-12)
                    delta.mul_(torch.clamp(limit / norms, max=1.0)[:, None])
        log.info("value search: %d steps, target NLL %s", step + 1, [round(x, 3) for x in nll.tolist()])
    finally:
        handle.remove()
    return delta.detach().float().cpu()
