"""Admission for questions: a length bound, a lane of its own for long questions, a time budget.

A 4,000-character question can keep the answering pipeline busy for seconds (every sub-question is
embedded, linked and, under ``auto``, may reach the language model), while a short one takes well
under a second. When both share the same few workers, a handful of long questions stall the chat for
everyone. So questions run on two pools: short ones on ``SHORT_WORKERS`` threads, long ones on a
single lane that admits one at a time and turns the next away at once with a sentence, never a
queue. Every question waits at most ``answer_seconds`` for its answer; Python cannot stop a thread,
so a question past its budget finishes in the background on its own lane, where it delays only
questions of its own kind. The long lane also runs at a lower CPU priority (Linux thread niceness),
so on a machine with few cores a long question slows short ones as little as possible.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import TypeVar

from app.config import Settings
from kg.errors import InputError

log = logging.getLogger(__name__)
T = TypeVar("T")

SHORT_WORKERS = 2  # the CPU work is torch and numpy; more threads than cores only adds contention
LONG_NICENESS = 10  # the long lane's thread (and the torch threads it starts) yield the CPU to short ones


def _yield_cpu() -> None:
    """Run the calling thread (the long lane's worker) at a lower CPU priority, where Linux allows.

    On Linux a thread has its own nice value, and threads it starts (torch's OpenMP team for this
    thread) inherit it, so a long question takes the CPU that short ones leave rather than half of it.
    """
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), LONG_NICENESS)
    except (AttributeError, OSError) as exc:  # not Linux, or not permitted: the lane still bounds it
        log.info("long questions run at normal priority: %s", exc)


class QuestionLanes:
    """Run each question on the lane its length picks, within the settings' bounds."""

    def __init__(self, settings: Settings) -> None:
        self.max_chars = settings.max_question_chars
        self.long_chars = settings.long_question_chars
        self.budget = float(settings.answer_seconds)
        self._short = ThreadPoolExecutor(SHORT_WORKERS, thread_name_prefix="kgedit-question")
        self._long = ThreadPoolExecutor(1, thread_name_prefix="kgedit-long-question", initializer=_yield_cpu)
        self._long_free = threading.Semaphore(1)

    def check(self, question: str) -> None:
        """Refuse a question over the length bound, with the bound in the sentence."""
        if len(question) > self.max_chars:
            raise InputError(
                f"the question is {len(question):,} characters long; questions may be at most "
                f"{self.max_chars:,} characters, so shorten it"
            )

    def is_long(self, question: str) -> bool:
        return len(question) > self.long_chars

    @property
    def long_in_flight(self) -> bool:
        """True while a long question holds its lane (tests and the load benchmark wait on this)."""
        if self._long_free.acquire(blocking=False):
            self._long_free.release()
            return False
        return True

    def run(self, question: str, answer: Callable[[], T]) -> T:
        """``answer()`` on the question's lane; its result, or an :class:`InputError` past the budget."""
        self.check(question)
        future: Future[T]
        if self.is_long(question):
            if not self._long_free.acquire(blocking=False):
                raise InputError(
                    f"another long question (over {self.long_chars:,} characters) is being answered; "
                    "ask again in a moment, or ask a shorter question"
                )
            try:
                future = self._long.submit(answer)
            except BaseException:
                self._long_free.release()
                raise
            future.add_done_callback(lambda _: self._long_free.release())
        else:
            future = self._short.submit(answer)
        try:
            return future.result(timeout=self.budget)
        except FutureTimeout:
            started = not future.cancel()
            log.warning(
                "question of %d characters passed the %.0f s budget (%s)",
                len(question),
                self.budget,
                "still running" if started else "never started",
            )
            if not started:
                advice = "the server is busy, ask again in a moment"
            elif self.is_long(question):
                advice = "ask a shorter question"
            else:
                advice = "the models may still be loading, ask again in a moment"
            raise InputError(f"no answer within the {self.budget:.0f} s time budget; {advice}") from None

    def close(self) -> None:
        self._short.shutdown(wait=False, cancel_futures=True)
        self._long.shutdown(wait=False, cancel_futures=True)
