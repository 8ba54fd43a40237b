"""Second-moment statistics of the edited layers' keys, from a local text sample, cached on disk.

ROME and MEMIT need C = E[k kᵀ], the uncentred second moment of the inputs ("keys") of each edited
MLP output matrix, so that an update changes the edited key's output while disturbing typical keys
as little as possible. The papers estimate C from 100,000 Wikipedia articles (tens of GPU-hours);
kgedit estimates it from a local sample, never downloaded: a text file the user names, the graph's
own statements, or text sampled from the model itself. The forward pass stops after the deepest
layer needed, so early edit layers are cheap. A few thousand tokens estimate C poorly in its small
eigen-directions (the matrix is even singular below ``d`` tokens), which is why the editors shrink it
towards a multiple of the identity (:func:`shrunk`); the benchmark measures the effect of sample size.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import random
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file
from tqdm import tqdm
from transformers import PreTrainedModel, PreTrainedTokenizerBase

from editors.arch import ModelLayout
from editors.hooks import Hook, StopForward, hooked
from editors.tokens import pad_batch, pad_id
from kg.errors import InputError
from kg.files import replacing, write_bytes

log = logging.getLogger(__name__)

STATS_VERSION = "1"


@dataclass(frozen=True)
class TextSample:
    """The texts statistics are computed from; ``source`` names where they came from."""

    source: str
    texts: tuple[str, ...]

    def fingerprint(self) -> str:
        digest = hashlib.blake2b(digest_size=10)
        for text in self.texts:
            digest.update(text.encode())
            digest.update(b"\x1e")
        return digest.hexdigest()


def sample_from_file(path: Path) -> TextSample:
    """Paragraphs of a UTF-8 text file (blank lines separate them)."""
    try:
        raw = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read the text sample ({exc}); give a UTF-8 text file") from exc
    texts = tuple(p.strip() for p in raw.split("\n\n") if p.strip())
    if not texts:
        raise InputError(f"{path}: the text sample is empty")
    return TextSample(f"file:{Path(path).name}", texts)


def sample_from_statements(statements: Iterable[str], per_text: int = 8) -> TextSample:
    """Graph statements grouped a few to a text, so keys see sentence boundaries in context."""
    items = [s.strip() for s in statements if s.strip()]
    if not items:
        raise InputError("the graph has no statements to sample text from; add facts or give a text file")
    texts = tuple(" ".join(items[i : i + per_text]) for i in range(0, len(items), per_text))
    return TextSample("graph", texts)


def sample_from_python_docs() -> TextSample:
    """The prose of Python's own reference documentation (``pydoc_data``, part of every Python).

    About 100,000 tokens of English that are on every machine kgedit runs on: a sample that needs
    neither a download nor minutes of generation on a CPU, and shares no text with any graph.
    """
    from pydoc_data.topics import topics

    paragraphs = [p.strip() for key in sorted(topics) for p in topics[key].split("\n\n")]
    texts = [" ".join(p.split()) for p in paragraphs if len(p.split()) >= 8]
    random.Random(0).shuffle(texts)  # so that a small budget still spans many topics
    return TextSample("python-docs", tuple(texts))


def sample_from_model(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    tokens: int,
    cache_dir: Path | None = None,
    model_key: str = "",
    seed: int = 0,
    length: int = 128,
    batch_size: int = 32,
) -> TextSample:
    """Text the model writes itself (temperature-1 sampling from the start token), cached as JSON."""
    path = cache_dir / "samples" / f"{model_key or 'model'}-seed{seed}.json" if cache_dir else None
    texts: list[str] = []
    if path is not None and path.exists():
        texts = json.loads(path.read_text(encoding="utf-8"))
    have = len(texts) * length
    if have < tokens:
        generator = torch.Generator().manual_seed(seed + len(texts))
        start = tokenizer.bos_token_id if tokenizer.bos_token_id is not None else tokenizer.eos_token_id
        device = next(model.parameters()).device
        batches = -(-(tokens - have) // (length * batch_size))
        for _ in tqdm(range(batches), desc="sampling text from the model", unit="batch"):
            torch.manual_seed(int(torch.randint(0, 2**31 - 1, (1,), generator=generator)))
            ids = torch.full((batch_size, 1), start, dtype=torch.long, device=device)
            with torch.no_grad():
                out = model.generate(  # type: ignore[operator]
                    input_ids=ids,
                    attention_mask=torch.ones_like(ids),
                    do_sample=True,
                    top_k=0,
                    top_p=1.0,
                    temperature=1.0,
                    min_new_tokens=length,
                    max_new_tokens=length,
                    pad_token_id=start,
                )
            texts += [str(t) for t in tokenizer.batch_decode(out[:, 1:], skip_special_tokens=True)]
            if path is not None:  # after every batch: sampling is slow on a CPU, keep what is done
                write_bytes(path, json.dumps(texts).encode())
    needed = -(-tokens // length)
    return TextSample(f"model-seed{seed}", tuple(texts[:needed]))


@dataclass(frozen=True)
class StatsKey:
    """What a cached statistic depends on: model, edited matrix, sample and token budget."""

    model_key: str
    weight: str
    sample: str
    tokens: int

    def path(self, cache_dir: Path) -> Path:
        return cache_dir / "stats" / self.model_key / f"{self.weight}-{self.sample}-{self.tokens}.safetensors"


def model_fingerprint(name: str, model: PreTrainedModel) -> str:
    """A folder-safe key for a model: its name plus a hash of its configuration."""
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in Path(name).name or name)
    digest = hashlib.blake2b(model.config.to_json_string().encode(), digest_size=6).hexdigest()
    return f"{safe}-{digest}"


def second_moments(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    layers: Sequence[int],
    sample: TextSample,
    tokens: int,
    cache_dir: Path | None = None,
    model_key: str = "",
    batch_size: int = 16,
    max_length: int = 256,
) -> dict[int, torch.Tensor]:
    """E[k kᵀ] (float32, on the CPU) of the edited matrix's inputs at each layer, over ``tokens`` tokens.

    Cached values are read when present; missing layers are computed in one pass over the sample.
    """
    layout = ModelLayout.of(model)
    key_of = {
        layer: StatsKey(model_key, layout.mlp_out_name(layer), sample.fingerprint(), tokens)
        for layer in layers
    }
    result: dict[int, torch.Tensor] = {}
    for layer, key in key_of.items():
        if cache_dir is not None and key.path(cache_dir).exists():
            stored = load_file(str(key.path(cache_dir)))
            result[layer] = stored["second_moment"]
    missing = [layer for layer in layers if layer not in result]
    if missing:
        computed, seen = _compute(model, tokenizer, layout, missing, sample, tokens, batch_size, max_length)
        for layer in missing:
            result[layer] = computed[layer]
            if cache_dir is not None:
                meta = {"version": STATS_VERSION, "tokens_seen": str(seen), "source": sample.source}
                _atomic_save(key_of[layer].path(cache_dir), {"second_moment": computed[layer]}, meta)
    return result


def _compute(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    layout: ModelLayout,
    layers: Sequence[int],
    sample: TextSample,
    tokens: int,
    batch_size: int,
    max_length: int,
) -> tuple[dict[int, torch.Tensor], int]:
    device = next(model.parameters()).device
    sums: dict[int, torch.Tensor] = {}
    mask_holder: dict[str, torch.Tensor] = {}
    deepest = max(layers)

    def hook_for(layer: int):  # noqa: ANN202 - torch hook signature
        def hook(_module: torch.nn.Module, args: tuple[torch.Tensor, ...]) -> None:
            keys = args[0][mask_holder["mask"]].double()
            total = keys.T @ keys
            sums[layer] = sums[layer] + total if layer in sums else total
            if layer == deepest:
                raise StopForward

        return hook

    seen = 0
    progress = tqdm(total=tokens, desc=f"key statistics, layers {list(layers)}", unit="tok")
    hooks = (Hook(layout.mlp_out(model, layer), hook_for(layer), before=True) for layer in layers)
    with progress, hooked(hooks):
        for start in range(0, len(sample.texts), batch_size):
            if seen >= tokens:
                break
            rows = [
                tokenizer(text).input_ids[:max_length] for text in sample.texts[start : start + batch_size]
            ]
            rows = [r for r in rows if r]
            if not rows:
                continue
            ids, attention = pad_batch(rows, pad_id(tokenizer), device)
            mask = attention.bool()
            room = tokens - seen
            if int(mask.sum()) > room:  # keep exactly the token budget: drop the surplus at the end
                flat = mask.flatten().cumsum(0) <= room
                mask = mask & flat.view_as(mask)
            mask_holder["mask"] = mask
            with torch.no_grad(), contextlib.suppress(StopForward):
                model(input_ids=ids, attention_mask=attention)
            seen += int(mask.sum())
            progress.update(int(mask.sum()))
    if seen == 0:
        raise InputError(f"the text sample {sample.source!r} produced no tokens")
    if seen < tokens:
        log.warning("text sample %s gave %d tokens, fewer than the %d asked for", sample.source, seen, tokens)
    return {layer: (sums[layer] / seen).float().cpu() for layer in layers}, seen


def shrunk(moment: torch.Tensor, shrink: float) -> torch.Tensor:
    """(1 - s)·C + s·(tr C / d)·I: a well-conditioned C from few tokens (Ledoit-Wolf style shrinkage)."""
    if not 0.0 <= shrink <= 1.0:
        raise InputError(f"covariance shrinkage must be between 0 and 1, got {shrink}")
    d = moment.shape[0]
    scale = torch.trace(moment) / d
    return (1.0 - shrink) * moment + shrink * scale * torch.eye(d, dtype=moment.dtype, device=moment.device)


class KeyStatistics:
    """One model's key second moments, read or computed once, and the matrices the editors derive.

    Reading a cached moment, lifting the deltas to compute it on the unedited model, and inverting a
    1536-wide matrix cost about a second together; an editor that makes edits one after another asks
    for the same ones every time, so they are kept here for the editor's lifetime.
    """

    def __init__(self, source: Callable[[Sequence[int]], dict[int, torch.Tensor]]) -> None:
        self._source = source
        self._moments: dict[int, torch.Tensor] = {}
        self._inverses: dict[tuple[int, float], torch.Tensor] = {}
        self._projections: dict[tuple[int, float], torch.Tensor] = {}

    def moments(self, layers: Sequence[int]) -> dict[int, torch.Tensor]:
        missing = [layer for layer in layers if layer not in self._moments]
        if missing:
            self._moments.update(self._source(missing))
        return {layer: self._moments[layer] for layer in layers}

    def inverse(self, layer: int, shrink: float) -> torch.Tensor:
        """(shrunk C)⁻¹ in float64: ROME's u = C⁻¹ k needs the precision when C is ill-conditioned."""
        key = (layer, shrink)
        if key not in self._inverses:
            moment = self.moments([layer])[layer].double()
            self._inverses[key] = torch.linalg.inv(shrunk(moment, shrink))
        return self._inverses[key]

    def null_projection(self, layer: int, preserved_energy: float) -> torch.Tensor:
        """P (float64, d × d): the projection onto the directions that typical keys hardly use.

        The eigenvectors of C are taken from the largest eigenvalue down until they carry
        ``preserved_energy`` of its trace (of E‖k‖²); P projects onto the rest. An update whose rows
        lie in P's range changes a typical key's output only by its component there, which carries
        1 - ``preserved_energy`` of the keys' energy on average. A C of rank below d (fewer tokens than
        dimensions) has an exact null space: an energy just below 1 (1 - 1e-9) projects onto exactly it.
        The promise holds only as far as C is estimated well in its smallest directions: on SmolLM2,
        held-out prose put 4.3-5.4% of its key energy into the 2% space of 10,000 tokens' C, and
        1.8% into that of the whole Python-docs sample (91,508 tokens).
        """
        if not 0.0 < preserved_energy < 1.0:
            raise InputError(f"preserved energy must be between 0 and 1 (exclusive), got {preserved_energy}")
        key = (layer, preserved_energy)
        if key not in self._projections:
            moment = self.moments([layer])[layer].double()
            eigenvalues, eigenvectors = torch.linalg.eigh(moment)  # ascending
            descending = eigenvalues.flip(0).clamp_min(0.0)
            share = descending.cumsum(0) / descending.sum()
            kept = int((share < preserved_energy).sum()) + 1  # leading directions that reach the share
            null = eigenvectors[:, : moment.shape[0] - kept]
            self._projections[key] = null @ null.T
        return self._projections[key]


def _atomic_save(path: Path, tensors: dict[str, torch.Tensor], meta: dict[str, str]) -> None:
    with replacing(path, ".safetensors") as temp:
        save_file({k: v.contiguous() for k, v in tensors.items()}, str(temp), metadata=meta)
