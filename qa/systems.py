"""The answering-system interface the harness evaluates, and the registry that builds one by name.

A system gets a store already loaded for the evaluation setting and answers one question at a time
with an :class:`~qa.trace.Answer`. Each kind of system (the unedited LM baseline, the graph pipeline,
MeLLo, weight editors) registers a factory under a name with :func:`register_system` in its own
module, and adds ``name: module`` to :data:`PROVIDERS` so :func:`make_system` can import that module
on first use without the registry importing every model library up front.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

from editors.methods import DEFAULT_LM
from kg.errors import InputError
from kg.store import FactStore
from qa.trace import Answer
from retrieval.defaults import DEFAULT_EMBEDDING_MODEL


@runtime_checkable
class System(Protocol):
    """Answers questions from (or despite) the store it was built on.

    Two optional extras the harness uses when present: ``reads_store = False`` (answers never depend
    on the store, so they are reused across edit batches), and ``answer_many(questions) ->
    list[Answer]`` (answers in input order; lets a language model work in padded batches).
    """

    name: str

    def answer(self, question: str) -> Answer: ...


@dataclass(frozen=True)
class SystemContext:
    """What a system may need besides the store: model names, caches and the device.

    ``deltas_dir`` is the folder of weight deltas (:class:`editors.deltas.DeltaFolder`); the
    ``weights`` system caches its per-edit-set deltas there, and without it computes them afresh."""

    lm: str = DEFAULT_LM
    cache_dir: Path | None = None
    device: str = "auto"
    embedding_model: str = DEFAULT_EMBEDDING_MODEL
    index_dir: Path | None = None
    deltas_dir: Path | None = None


SystemFactory = Callable[[FactStore, SystemContext], System]

_FACTORIES: dict[str, SystemFactory] = {}

# name -> module whose import registers that system (kept as text so nothing heavy loads early).
PROVIDERS: dict[str, str] = {
    "lm": "qa.baseline",
    "graph": "qa.pipeline",
    "auto": "qa.pipeline",
    "mello": "qa.mello",
    "weights": "qa.weights_system",
}


def register_system(name: str, factory: SystemFactory) -> None:
    _FACTORIES[name] = factory


def system_names() -> list[str]:
    return sorted(set(_FACTORIES) | set(PROVIDERS))


def make_system(name: str, store: FactStore, context: SystemContext | None = None) -> System:
    """Build the system registered as ``name`` on ``store``."""
    if name not in _FACTORIES and name in PROVIDERS:
        importlib.import_module(PROVIDERS[name])
    factory = _FACTORIES.get(name)
    if factory is None:
        raise InputError(f"unknown system {name!r}; known systems: {', '.join(system_names())}")
    return factory(store, context or SystemContext())


def reads_store(system: System) -> bool:
    return bool(getattr(system, "reads_store", True))
