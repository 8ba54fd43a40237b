"""Weight deltas, once for ``kgedit propagate`` / ``revert`` / ``model ...`` and the Model tab.

Every delta lives in the model's :class:`~editors.deltas.DeltaFolder` under ``settings.deltas_dir``
(the ``weights`` answering system caches its deltas in the same folder's ``edit-sets`` part), so a
delta made in the UI is listed by ``kgedit model deltas`` and one made on the command line is in the
model the UI uses. A loaded model carries exactly the folder's active deltas: before every operation
:class:`ModelService` puts in the deltas that became active and takes out those reverted, by this
process or by another.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from app.config import Settings
from editors.methods import DEFAULT_BATCH_METHOD, DEFAULT_STATS_TOKENS, METHODS
from kg.errors import InputError
from kg.records import EditStatus
from kg.store import FactStore

if TYPE_CHECKING:
    from editors.deltas import DeltaFolder, WeightDelta
    from editors.drift import DriftReport, DriftThresholds
    from editors.requests import WeightRequest
    from editors.stats import TextSample
    from editors.weights import StatsSettings, WeightEditor

BATCH_METHODS = ("memit", "projected")  # the methods that can re-fit every active edit in one delta
STATS_SOURCES = "python-docs (default), graph (the store's statements), model (text the model writes), or a text file"
COMPLETION_TOKENS = 8


@dataclass(frozen=True)
class DeltaEntry:
    """One delta file of the folder and what it holds."""

    path: Path
    delta: WeightDelta

    @property
    def name(self) -> str:
        return self.path.name


@dataclass(frozen=True)
class Propagation:
    """A new active delta, the requests it teaches, and (when asked) the completions before and after."""

    entry: DeltaEntry
    requests: tuple[WeightRequest, ...]
    before: tuple[str, ...] = ()
    after: tuple[str, ...] = ()


@dataclass(frozen=True)
class Refit:
    """The one delta that now carries every active edit, and the deltas it replaced (kept in reverted/)."""

    entry: DeltaEntry
    edits: int
    replaced: tuple[DeltaEntry, ...]


@dataclass(frozen=True)
class DeltaStatus:
    """The active deltas of a model, the edits they carry, which of those are no longer active, and
    the measured drift (None when nothing live was measured)."""

    model: str
    entries: tuple[DeltaEntry, ...]
    carried: tuple[str, ...]
    stale: tuple[str, ...]
    active_edits: int
    drift: DriftReport | None = None


@dataclass
class _Loaded:
    editor: WeightEditor
    applied: dict[Path, WeightDelta] = field(default_factory=dict)


def completion(editor: WeightEditor, prompt: str, max_new_tokens: int = COMPLETION_TOKENS) -> str:
    """The model's short greedy continuation of ``prompt``, cut at the first line or full stop."""
    return editor.lm.generate(prompt, max_new_tokens=max_new_tokens, stop=("\n", ".")).strip()


def takes(answer: str, target: str) -> bool:
    """Whether a completion starts with the edit's new object: the edit holds."""
    return answer.lower().startswith(target.lower())


class ModelService:
    """Propagate, revert, list, measure, re-fit and ask, over the deltas folder and one store."""

    def __init__(self, settings: Settings, store: FactStore) -> None:
        self.settings = settings
        self.store = store
        self.lock = threading.RLock()
        self._loaded: dict[str, _Loaded] = {}

    def model_name(self, model: str | None) -> str:
        name = (model or self.settings.lm).strip()
        if not name:
            raise InputError("name the model first")
        return name

    def folder(self, model: str | None = None) -> DeltaFolder:
        from editors.deltas import DeltaFolder

        return DeltaFolder(self.settings.deltas_dir, self.model_name(model))

    def deltas(self, model: str | None = None) -> list[DeltaEntry]:
        """The active deltas, oldest first."""
        from editors.deltas import WeightDelta

        return [DeltaEntry(p, WeightDelta.load(p)) for p in self.folder(model).active()]

    def loaded(self, model: str | None = None) -> bool:
        return self.model_name(model) in self._loaded

    def editor(self, model: str | None = None) -> WeightEditor:
        """The model's weight editor, loaded once per process, carrying exactly the active deltas."""
        from editors.lm import load_lm
        from editors.weights import WeightEditor

        name = self.model_name(model)
        with self.lock:
            if name not in self._loaded:
                lm = load_lm(name, self.settings.cache_dir, self.settings.device)
                self._loaded[name] = _Loaded(WeightEditor(lm, self.settings.cache_dir))
            loaded = self._loaded[name]
            active = {e.path: e.delta for e in self.deltas(name)}
            for path in [p for p in loaded.applied if p not in active]:
                loaded.editor.revert(loaded.applied.pop(path))
            for path, delta in active.items():
                if path not in loaded.applied:
                    loaded.editor.apply(delta)
                    loaded.applied[path] = delta
            return loaded.editor

    def stats(self, source: str = "python-docs", tokens: int = DEFAULT_STATS_TOKENS) -> StatsSettings:
        """Statistics settings from a named text source (see :data:`STATS_SOURCES`)."""
        from editors.weights import StatsSettings

        if tokens < 1:
            raise InputError("the statistics need at least one token of text")
        if source in ("python-docs", "model"):
            return StatsSettings(tokens=tokens, from_model=source == "model")
        return StatsSettings(tokens=tokens, sample=self._sample(source))

    def _sample(self, source: str) -> TextSample:
        from editors.stats import sample_from_file, sample_from_statements

        if source == "graph":
            relations = {r.id: r for r in self.store.relations()}
            labels = {e.id: e.label for e in self.store.entities()}
            return sample_from_statements(
                relations[f.relation].statement(labels.get(f.subject, f.subject), labels.get(f.object, f.object))
                for f in self.store.current_facts()
                if f.relation in relations
            )
        return sample_from_file(Path(source))

    def propagate(
        self,
        model: str | None,
        method: str,
        edit_ids: Sequence[str] | None = None,
        stats: StatsSettings | None = None,
        compare: bool = False,
    ) -> Propagation:
        """Teach the given active edits (None: all) to the model as it is, carrying every active
        delta, so edits made one after another pile up; the new delta is saved as active."""
        from editors.requests import requests_from_store

        if method not in METHODS:
            raise InputError(f"--method must be one of {', '.join(METHODS)}, got {method!r}")
        requests = tuple(requests_from_store(self.store, list(edit_ids) if edit_ids is not None else None))
        with self.lock:
            editor = self.editor(model)
            if stats is not None:
                editor.use(stats)
            before = tuple(completion(editor, r.prompt) for r in requests) if compare else ()
            delta = editor.compute(requests, method)
            entry = self._add(model, delta)
            after = tuple(completion(editor, r.prompt) for r in requests) if compare else ()
        return Propagation(entry, requests, before, after)

    def _add(self, model: str | None, delta: WeightDelta) -> DeltaEntry:
        entry = DeltaEntry(self.folder(model).add(delta), delta)
        self.editor(model)  # puts the new delta into a loaded model
        return entry

    def revert(
        self, model: str | None = None, name: str | None = None, retracted: bool = False
    ) -> list[DeltaEntry]:
        """Move deltas to ``reverted/`` (kept, so they can be restored): the one called ``name``,
        with ``retracted`` every delta carrying an edit no longer active, and with neither all."""
        folder = self.folder(model)
        with self.lock:
            if name:
                paths = [folder.find(name)]
            elif retracted:
                inactive = {e.id for e in self.store.edits() if e.status is not EditStatus.ACTIVE}
                paths = folder.carrying(inactive)
            else:
                paths = folder.active()
            wanted = {p.resolve() for p in paths}
            chosen = [e for e in self.deltas(model) if e.path.resolve() in wanted]
            for entry in chosen:
                folder.revert(entry.path)
            if self.loaded(model):
                self.editor(model)
        return chosen

    def status(
        self, model: str | None = None, thresholds: DriftThresholds | None = None, measure: bool = True
    ) -> DeltaStatus:
        """The active deltas and, with ``measure``, the drift of the edits they carry that are live."""
        from editors.drift import DriftThresholds, measure_drift
        from editors.requests import requests_from_store

        entries = tuple(self.deltas(model))
        active = {e.id for e in self.store.edits(EditStatus.ACTIVE)}
        carried = tuple(dict.fromkeys(i for e in entries for i in e.delta.edit_ids))
        stale = tuple(i for i in carried if i not in active)
        live = [i for i in carried if i in active]
        status = DeltaStatus(self.model_name(model), entries, carried, stale, len(active))
        if not (measure and live):
            return status
        with self.lock:
            editor = self.editor(model)
            with editor.patcher.applied_suspended():  # measure_drift puts the deltas in itself
                report = measure_drift(
                    editor,
                    [e.delta for e in entries],
                    requests_from_store(self.store, live),
                    thresholds or DriftThresholds(),
                )
        return DeltaStatus(status.model, entries, carried, stale, len(active), report)

    def refit(
        self, model: str | None, method: str = DEFAULT_BATCH_METHOD, stats: StatsSettings | None = None
    ) -> Refit:
        """Replace every active delta by one delta fitting all active edits together, computed on
        the original weights; the old deltas move to ``reverted/`` only after it succeeded."""
        from editors.requests import requests_from_store

        if method not in BATCH_METHODS:
            raise InputError(f"--method must be memit or projected (a batch method), got {method!r}")
        requests = requests_from_store(self.store)
        with self.lock:
            editor = self.editor(model)
            if stats is not None:
                editor.use(stats)
            with editor.patcher.applied_suspended():
                delta = editor.compute(requests, method)
            old = tuple(self.deltas(model))
            for entry in old:
                self.folder(model).revert(entry.path)
            entry = self._add(model, delta)
        return Refit(entry, len(requests), old)

    def generate(
        self,
        model: str | None,
        prompt: str,
        deltas: Sequence[str] | None = None,
        base: bool = False,
        max_new_tokens: int = 24,
    ) -> tuple[str, int]:
        """The greedy continuation of ``prompt`` with the active deltas (or only ``deltas``, or
        none with ``base``), and how many deltas were in the model."""
        from editors.deltas import WeightDelta

        folder = self.folder(model)
        with self.lock:
            editor = self.editor(model)
            if not deltas and not base:
                return editor.lm.generate(prompt, max_new_tokens=max_new_tokens, stop=("\n",)), len(self.deltas(model))
            chosen = [] if base else [WeightDelta.load(folder.find(d)) for d in deltas or ()]
            with editor.patcher.applied_suspended(), editor.applied(*chosen):
                return editor.lm.generate(prompt, max_new_tokens=max_new_tokens, stop=("\n",)), len(chosen)

    def compare(self, model: str | None, prompt: str) -> tuple[str, str]:
        """The model's short continuation of ``prompt`` with its original weights and with its deltas."""
        if not prompt.strip():
            raise InputError("type a prompt first")
        with self.lock:
            editor = self.editor(model)
            with editor.patcher.applied_suspended():
                before = completion(editor, prompt)
            return before, completion(editor, prompt)

    def save(self, model: str | None, out: Path) -> int:
        """Write the model with its active deltas as a whole model (save_pretrained); the delta count."""
        with self.lock:
            editor = self.editor(model)
            editor.lm.model.save_pretrained(str(out))
            editor.lm.tokenizer.save_pretrained(str(out))
            return len(self.deltas(model))
