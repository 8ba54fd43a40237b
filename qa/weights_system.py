"""System ``weights``: the language model with the store's active edits written into its weights (MEMIT).

The edits are taught to a private copy of the model (the shared one stays unedited for the other
systems), and the edited model answers each question directly, like the ``lm`` baseline. The system
follows the store: before answering it compares the store's revision with the one its delta was made
for, and on a change takes the old delta out and puts in the delta of the edits now active, so an
evaluation that loads and retracts edit batches scores each batch with that batch's edits only.
Deltas are cached per model and edit set in the deltas folder's ``edit-sets`` part
(:meth:`editors.deltas.DeltaFolder.edit_set`), so a rerun of the same evaluation does not recompute
them. Edits whose relation has no usable statement template cannot become a prompt and are left
out, with a warning and a note in every trace.
"""

from __future__ import annotations

import copy
import hashlib
import logging
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING

from editors.methods import DEFAULT_BATCH_METHOD
from kg.errors import InputError
from kg.records import EditStatus
from kg.store import FactStore
from qa.baseline import LanguageModelBaseline
from qa.systems import SystemContext, register_system
from qa.trace import Answer

if TYPE_CHECKING:
    from editors.deltas import DeltaFolder, WeightDelta
    from editors.requests import WeightRequest
    from editors.weights import WeightEditor

log = logging.getLogger(__name__)


class WeightEditedModel(LanguageModelBaseline):
    """Answers with a model whose weights carry the store's active edits, re-fitted when they change."""

    reads_store = True

    def __init__(self, store: FactStore, editor: WeightEditor, folder: DeltaFolder | None) -> None:
        super().__init__(editor.lm, name="weights")
        self.store = store
        self.editor = editor
        self.folder = folder
        self.skipped: list[str] = []
        self.edits = 0
        self.delta: WeightDelta | None = None
        self._revision: int | None = None
        self._lock = threading.Lock()
        self.follow_store()

    def follow_store(self) -> None:
        """Make the weights carry exactly the store's active edits (nothing to do when unchanged)."""
        with self._lock:
            revision = self.store.revision()
            if revision == self._revision:
                return
            requests, self.skipped = _requests(self.store)
            if self.delta is not None:
                self.editor.revert(self.delta)
                self.delta = None
            if requests:
                self.delta = self._delta_for(requests)
                self.editor.apply(self.delta)
            self.edits = len(requests)
            self._revision = revision

    def _delta_for(self, requests: list[WeightRequest]) -> WeightDelta:
        from editors.deltas import WeightDelta

        key = hashlib.blake2b(
            "\x1f".join(f"{r.edit_id}:{r.prompt}:{r.target_new}" for r in requests).encode(), digest_size=10
        ).hexdigest()
        path = self.folder.edit_set(f"{self.editor.model_key}-{key}") if self.folder else None
        if path is not None and path.exists():
            return WeightDelta.load(path)
        delta = self.editor.compute(requests, DEFAULT_BATCH_METHOD)
        if path is not None:
            delta.save(path)
        return delta

    def answer_many(self, questions: Sequence[str]) -> list[Answer]:
        self.follow_store()
        answers: list[Answer] = super().answer_many(questions)
        for answer in answers:
            answer.trace.reason = (
                f"answered by the language model with {self.edits} edit(s) in its weights (MEMIT)"
            )
            if self.skipped:
                answer.trace.reason += f"; edits left out for want of a template: {', '.join(self.skipped)}"
        return answers


def _requests(store: FactStore) -> tuple[list[WeightRequest], list[str]]:
    """Requests for the store's active edits, and the ids of those that cannot become a prompt."""
    from editors.requests import request_for_edit

    requests, skipped = [], []
    for edit in store.edits(EditStatus.ACTIVE):
        try:
            requests.append(request_for_edit(store, edit))
        except InputError as exc:
            log.warning("edit %s is not propagated to the weights: %s", edit.id, exc)
            skipped.append(edit.id)
    return requests, skipped


def build(store: FactStore, context: SystemContext) -> WeightEditedModel:
    from editors.deltas import DeltaFolder
    from editors.lm import LanguageModel, load_lm
    from editors.weights import WeightEditor

    shared = load_lm(context.lm, context.cache_dir, context.device)
    lm = LanguageModel(shared.name, copy.deepcopy(shared.model), shared.tokenizer, shared.device)
    folder = DeltaFolder(context.deltas_dir, lm.name) if context.deltas_dir else None
    return WeightEditedModel(store, WeightEditor(lm, context.cache_dir), folder)


register_system("weights", build)
