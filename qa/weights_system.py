"""System ``weights``: the language model with the store's active edits written into its weights (MEMIT).

The edits are taught to a private copy of the model (the shared one stays unedited for the other
systems), and the edited model answers each question directly, like the ``lm`` baseline. The delta
is cached on disk by model and edit set, so a rerun of the same evaluation does not recompute it.
Edits whose relation has no usable statement template cannot become a prompt and are left out,
with a warning and a note in every trace.
"""

from __future__ import annotations

import copy
import hashlib
import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

from kg.errors import InputError
from kg.records import EditStatus
from kg.store import FactStore
from qa.baseline import LanguageModelBaseline
from qa.systems import SystemContext, register_system
from qa.trace import Answer

if TYPE_CHECKING:
    from editors.lm import LanguageModel

log = logging.getLogger(__name__)


class WeightEditedModel(LanguageModelBaseline):
    """Answers with a model whose weights carry the store's edits."""

    reads_store = True

    def __init__(self, lm: LanguageModel, skipped: list[str], edits: int) -> None:
        super().__init__(lm, name="weights")
        self.skipped = skipped
        self.edits = edits

    def answer_many(self, questions: Sequence[str]) -> list[Answer]:
        answers: list[Answer] = super().answer_many(questions)
        for answer in answers:
            answer.trace.reason = (
                f"answered by the language model with {self.edits} edit(s) in its weights (MEMIT)"
            )
            if self.skipped:
                answer.trace.reason += f"; edits left out for want of a template: {', '.join(self.skipped)}"
        return answers


def build(store: FactStore, context: SystemContext) -> WeightEditedModel:
    from editors.deltas import WeightDelta
    from editors.lm import LanguageModel, load_lm
    from editors.requests import request_for_edit
    from editors.weights import WeightEditor

    shared = load_lm(context.lm, context.cache_dir, context.device)
    lm = LanguageModel(shared.name, copy.deepcopy(shared.model), shared.tokenizer, shared.device)
    requests, skipped = [], []
    for edit in store.edits(EditStatus.ACTIVE):
        try:
            requests.append(request_for_edit(store, edit))
        except InputError as exc:
            log.warning("edit %s is not propagated to the weights: %s", edit.id, exc)
            skipped.append(edit.id)
    if requests:
        editor = WeightEditor(lm, context.cache_dir)
        key = hashlib.blake2b(
            "\x1f".join(f"{r.edit_id}:{r.prompt}:{r.target_new}" for r in requests).encode(), digest_size=10
        ).hexdigest()
        path = (
            context.cache_dir / "weights-system" / f"{editor.model_key}-{key}.safetensors"
            if context.cache_dir
            else None
        )
        if path is not None and path.exists():
            delta = WeightDelta.load(path)
        else:
            delta = editor.compute(requests, "memit")
            if path is not None:
                delta.save(path)
        editor.apply(delta)
    return WeightEditedModel(lm, skipped, len(requests))


register_system("weights", build)
