"""Asking, once for the command line and the UI: the answering systems' context and the systems.

:func:`system_context` is the one place that turns settings into the
:class:`~qa.systems.SystemContext` every answering system is built with (``kgedit ask``, the Chat
tab, ``kgedit eval`` and the Evaluate tab all come here), so a new setting reaches every system at
once. :class:`AnsweringService` builds each system once per process over the curated store; a
system follows the store through its change listener, so one instance serves every question.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from app.config import Settings
from kg.errors import InputError
from kg.store import FactStore

if TYPE_CHECKING:
    from qa.systems import System, SystemContext
    from qa.trace import Answer


def system_context(
    settings: Settings, lm: str | None = None, device: str | None = None, curated_store: bool = True
) -> SystemContext:
    """The context of answering systems under ``settings``; ``lm`` and ``device`` override them.

    ``curated_store=False`` is for a store built for one evaluation: the fact index saved beside the
    curated store describes other facts, so such a system indexes its own store in memory."""
    from qa.systems import SystemContext

    return SystemContext(
        lm=lm or settings.lm,
        cache_dir=settings.cache_dir,
        device=device or settings.device,
        embedding_model=settings.embedding_model,
        index_dir=settings.index_dir if curated_store else None,
        deltas_dir=settings.deltas_dir,
    )


def read_questions(question: str | None, file: Path | None) -> list[str]:
    """One question, or every non-empty line of a UTF-8 text file; an empty result is an error."""
    if (question is None) == (file is None):
        raise InputError("give either a question or --file QUESTIONS.txt, not both or neither")
    if file is None:
        if not (question or "").strip():
            raise InputError("the question is empty")
        return [(question or "").strip()]
    try:
        lines = file.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{file}: cannot read the questions ({exc.__class__.__name__})") from exc
    found = [line.strip() for line in lines if line.strip()]
    if not found:
        raise InputError(f"{file}: no questions (one question a line)")
    return found


class AnsweringService:
    """Answers questions over one store with the registered systems, each built on first use."""

    def __init__(self, settings: Settings, store: FactStore) -> None:
        self.settings = settings
        self.store = store
        self._systems: dict[str, System] = {}
        self._lock = threading.Lock()

    def system(self, name: str) -> System:
        """The system registered as ``name`` over this store (models load once, on first use)."""
        with self._lock:
            if name not in self._systems:
                from qa.systems import make_system

                self._systems[name] = make_system(name, self.store, system_context(self.settings))
            return self._systems[name]

    def answer(self, question: str, system: str = "auto") -> Answer:
        text = question.strip()
        if not text:
            raise InputError("the question is empty")
        return self.system(system).answer(text)

    def answer_all(self, questions: Sequence[str], system: str = "auto") -> Iterator[Answer]:
        """Answers in order, one at a time, so a caller can show each as soon as it is ready."""
        for question in questions:
            yield self.answer(question, system)
