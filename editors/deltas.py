"""Weight deltas that carry the ids of the edits they teach, saved with safetensors, applied reversibly.

ROME and MEMIT updates are low rank (one rank per request and layer), so a delta is kept as factors
``left`` (out × r) and ``right`` (in × r) of each edited matrix, ΔW = left · rightᵀ in torch's
(out, in) orientation: a few hundred kilobytes instead of whole matrices. Reverting never subtracts
(float addition does not undo exactly): the :class:`Patcher` keeps the untouched original of every
matrix it changes and rebuilds from it, so taking every delta out restores the weights bit for bit.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, safe_open, save_file
from transformers import PreTrainedModel

from editors.arch import ModelLayout
from editors.requests import WeightRequest
from kg.errors import InputError, ModelError
from kg.files import replacing

DELTA_FORMAT = "kgedit-delta/1"


@dataclass(frozen=True)
class LowRankUpdate:
    """ΔW = left · rightᵀ for one edited layer, (out, in) orientation, float32 on the CPU."""

    layer: int
    left: torch.Tensor
    right: torch.Tensor

    def dense(self) -> torch.Tensor:
        return self.left @ self.right.T


@dataclass(frozen=True)
class WeightDelta:
    """What one propagation changed in a model, and which graph edits it carries."""

    model: str
    method: str
    edit_ids: tuple[str, ...]
    updates: tuple[LowRankUpdate, ...]
    created: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    info: dict[str, str] = field(default_factory=dict)
    # Per layer, the edited subjects' keys (in × requests): a null-space projected edit made later
    # keeps these keys' outputs, so edits made one after another do not overwrite each other.
    keys: dict[int, torch.Tensor] = field(default_factory=dict)
    # The facts the keys' columns belong to, in their order, so that a later edit of the same
    # subject can drop them from what it preserves and keep them true in its value instead.
    taught: tuple[WeightRequest, ...] = ()

    @property
    def layers(self) -> tuple[int, ...]:
        return tuple(sorted({u.layer for u in self.updates}))

    def save(self, path: Path) -> Path:
        """Write atomically (temp file, fsync, rename) so a crash never leaves half a delta."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tensors = {}
        for i, update in enumerate(self.updates):
            tensors[f"{i}.layer{update.layer}.left"] = update.left.contiguous()
            tensors[f"{i}.layer{update.layer}.right"] = update.right.contiguous()
        for layer, keys in self.keys.items():
            tensors[f"keys.layer{layer}"] = keys.contiguous()
        meta = {
            "format": DELTA_FORMAT,
            "model": self.model,
            "method": self.method,
            "edit_ids": json.dumps(list(self.edit_ids)),
            "created": self.created,
            "info": json.dumps(self.info),
            "taught": json.dumps([r.as_json() for r in self.taught]),
        }
        with replacing(path, ".safetensors") as temp:
            save_file(tensors, str(temp), metadata=meta)
        return path

    @classmethod
    def load(cls, path: Path) -> WeightDelta:
        try:
            with safe_open(str(path), framework="pt") as handle:
                meta = handle.metadata() or {}
            tensors = load_file(str(path))
        except (OSError, SafetensorError) as exc:
            raise InputError(f"{path}: not a readable delta file ({exc})") from exc
        if meta.get("format") != DELTA_FORMAT:
            raise InputError(
                f"{path}: not a kgedit delta (format {meta.get('format')!r}, want {DELTA_FORMAT})"
            )
        updates = []
        count = sum(1 for k in tensors if k.endswith(".left"))
        for i in range(count):
            name = next((k for k in tensors if k.startswith(f"{i}.layer") and k.endswith(".left")), None)
            if name is None:
                raise InputError(f"{path}: update {i} is missing")
            layer = int(name.split(".")[1].removeprefix("layer"))
            updates.append(
                LowRankUpdate(layer, tensors[name], tensors[name.removesuffix(".left") + ".right"])
            )
        return cls(
            model=meta.get("model", ""),
            method=meta.get("method", ""),
            edit_ids=tuple(json.loads(meta.get("edit_ids", "[]"))),
            updates=tuple(updates),
            created=meta.get("created", ""),
            info=json.loads(meta.get("info", "{}")),
            keys={
                int(k.removeprefix("keys.layer")): v for k, v in tensors.items() if k.startswith("keys.layer")
            },
            taught=tuple(WeightRequest.from_json(r) for r in json.loads(meta.get("taught", "[]"))),
        )


class Patcher:
    """Applies deltas to a model in place and takes them out again exactly.

    The first time a matrix is touched its original is copied; reverting restores the originals and
    re-applies the deltas that stay, in their order, so the result equals never having applied the
    reverted one.
    """

    def __init__(self, model: PreTrainedModel) -> None:
        self.model = model
        self.layout = ModelLayout.of(model)
        self._originals: dict[int, torch.Tensor] = {}
        self._applied: list[WeightDelta] = []

    @property
    def applied_deltas(self) -> tuple[WeightDelta, ...]:
        return tuple(self._applied)

    def apply(self, delta: WeightDelta) -> None:
        for update in delta.updates:
            self._check(update)
        for update in delta.updates:
            self._add(update)
        self._applied.append(delta)

    def revert(self, delta: WeightDelta) -> None:
        if not any(d is delta for d in self._applied):
            raise InputError("this delta is not applied to the model")
        keep = [d for d in self._applied if d is not delta]
        self.revert_all()
        for other in keep:
            self.apply(other)

    def revert_all(self) -> None:
        with torch.no_grad():
            for layer, original in self._originals.items():
                self.layout.weight(self.model, layer).copy_(original)
        self._originals.clear()
        self._applied.clear()

    @contextmanager
    def applied(self, *deltas: WeightDelta) -> Iterator[PreTrainedModel]:
        """The model with ``deltas`` applied inside the block, exactly as before it afterwards."""
        before = list(self._applied)
        try:
            for delta in deltas:
                self.apply(delta)
            yield self.model
        finally:
            self.revert_all()
            for delta in before:
                self.apply(delta)

    @contextmanager
    def applied_suspended(self) -> Iterator[PreTrainedModel]:
        """The original model inside the block (for statistics of the unedited model); deltas come back after."""
        before = list(self._applied)
        self.revert_all()
        try:
            yield self.model
        finally:
            self.revert_all()
            for delta in before:
                self.apply(delta)

    def _check(self, update: LowRankUpdate) -> None:
        weight = self.layout.as_out_in(self.layout.weight(self.model, update.layer))
        want = (weight.shape[0], weight.shape[1])
        if (update.left.shape[0], update.right.shape[0]) != want:
            raise ModelError(
                f"delta for layer {update.layer} has shape {(update.left.shape[0], update.right.shape[0])}, "
                f"the model's matrix is {want}: the delta was made for another model"
            )

    def _add(self, update: LowRankUpdate) -> None:
        weight = self.layout.weight(self.model, update.layer)
        if update.layer not in self._originals:
            self._originals[update.layer] = weight.detach().clone()
        change = update.dense().to(weight.device)
        with torch.no_grad():
            view = self.layout.as_out_in(weight)
            view.copy_((view.float() + change).to(weight.dtype))


class DeltaFolder:
    """Every weight delta of one model on disk, whoever made it (CLI, UI or the ``weights`` system).

    ``root/*.safetensors`` are the active deltas, applied on top of the base model wherever kgedit
    uses that model's weights; ``root/reverted/`` holds the ones taken out; ``root/edit-sets/``
    caches the delta the ``weights`` system computes for one set of edits (derived data: never
    applied by anything else, and safe to delete). A delta is taken out of the model by moving its
    file aside (never deleting it), so a revert can itself be undone by moving the file back.
    """

    EDIT_SETS = "edit-sets"

    def __init__(self, root: Path, model: str) -> None:
        self.root = Path(root) / _safe_name(Path(model).name or model)
        self.model = model

    def active(self) -> list[Path]:
        return sorted(self.root.glob("*.safetensors")) if self.root.exists() else []

    def add(self, delta: WeightDelta) -> Path:
        """Save ``delta`` as an active delta, named by time, method and (the start of) its edit ids."""
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
        name = _safe_name(f"{stamp}-{delta.method}-{'-'.join(delta.edit_ids)}")[:120]
        return delta.save(self.root / f"{name}.safetensors")

    def edit_set(self, key: str) -> Path:
        """Where the ``weights`` system caches its delta for the set of edits ``key`` names."""
        return self.root / self.EDIT_SETS / f"{_safe_name(key)}.safetensors"

    def find(self, name: str) -> Path:
        """An active delta by path or file name (with or without the extension)."""
        candidates = [Path(name), self.root / name, self.root / f"{name}.safetensors"]
        for path in candidates:
            if path.is_file() and path.parent.resolve() == self.root.resolve():
                return path
        known = ", ".join(p.name for p in self.active()) or "none"
        raise InputError(f"no active delta {name!r} for {self.model} in {self.root}; active deltas: {known}")

    def revert(self, path: Path) -> Path:
        target = self.root / "reverted" / path.name
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(path, target)
        return target

    def carrying(self, edit_ids: set[str]) -> list[Path]:
        """Active deltas that carry any of ``edit_ids``."""
        return [p for p in self.active() if edit_ids & set(WeightDelta.load(p).edit_ids)]


def _safe_name(text: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in text)
