"""Forward hooks that are always taken off the model again (baukit's ``Trace`` idea).

ROME and MEMIT read activations (keys at the subject, second-moment statistics) and rewrite them
(the δ search adds a value at one module) by hooking modules of a model that the rest of kgedit
keeps using afterwards. A hook left behind by an exception would silently change every later
answer of that model, so every hook goes through :func:`hooked`, which removes all of them on exit,
whether the block ends normally or raises, and also when registering a later hook fails.

A hook that has seen all it needs raises :class:`StopForward` to cut the pass short; callers run
the model under ``contextlib.suppress(StopForward)``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import torch


class StopForward(Exception):
    """Raised by a hook once the layers it reads are done, so the rest of the pass is skipped."""


@dataclass(frozen=True)
class Hook:
    """One function on one module: ``before`` sees the inputs (a pre-hook), else the output.

    ``fn`` has torch's signature for the kind: ``(module, args)`` before, ``(module, args, output)``
    after, each with a trailing ``kwargs`` when ``with_kwargs``; returning a value replaces the
    inputs or the output, returning None leaves them as they are.
    """

    module: torch.nn.Module
    fn: Callable[..., Any]
    before: bool = False
    with_kwargs: bool = False


@contextmanager
def hooked(hooks: Iterable[Hook]) -> Iterator[None]:
    """Register ``hooks`` for the duration of the block; all are removed on exit, even on error."""
    handles: list[torch.utils.hooks.RemovableHandle] = []
    try:
        for hook in hooks:
            if hook.before:
                handles.append(hook.module.register_forward_pre_hook(hook.fn, with_kwargs=hook.with_kwargs))
            else:
                handles.append(hook.module.register_forward_hook(hook.fn, with_kwargs=hook.with_kwargs))
        yield
    finally:
        for handle in handles:
            handle.remove()
