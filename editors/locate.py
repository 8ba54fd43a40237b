"""Where ROME and MEMIT read the model: the context prefixes, and activations at the subject.

*Keys* (Meng et al. 2022, sec. 3.1): the input of an edited MLP output matrix at the subject's last
token, averaged over the bare prompt and a few prompts with short model-written prefixes, so the
edit fires for the subject in varied contexts. The search for the values that teach a fact is in
:mod:`editors.values`.
"""

from __future__ import annotations

import logging
import weakref
from collections.abc import Sequence
from contextlib import suppress

import torch
from transformers import PreTrainedModel, PreTrainedTokenizerBase

from editors.hooks import Hook, StopForward, hooked
from editors.requests import WeightRequest
from editors.tokens import Encoded, encode, pad_batch, pad_id

log = logging.getLogger(__name__)


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
                raise StopForward

        if kind == "input":
            return lambda _m, args: pick(args[0])
        return lambda _m, _a, out: pick(out[0] if isinstance(out, tuple) else out)

    with hooked(Hook(module, hook_for(key), before=kind == "input") for key, module in modules.items()):
        for start in range(0, len(rows), batch_rows):
            chunk = rows[start : start + batch_rows]
            ids, mask = pad_batch([r.ids for r in chunk], pad_id(tokenizer), device)
            current["rows"] = torch.arange(len(chunk), device=device)
            current["cols"] = torch.tensor(positions[start : start + batch_rows], device=device)
            with torch.no_grad(), suppress(StopForward):
                model(input_ids=ids, attention_mask=mask)
    return {k: torch.cat(v) for k, v in found.items()}
