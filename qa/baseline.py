"""The unedited language-model baseline: ask the LM the question, ignore the store entirely.

This is the floor every editing method is measured against: with no edits in its weights and no
facts in its prompt, an LM can only give the pre-edit answers it learned (if any). The prompt is a
short question-answer pattern (three hand-written general-knowledge examples) that makes even a
135M-parameter model answer with a name; answers are cut at the first line. Questions can be
answered in padded batches, which is what makes thousands of questions affordable on a CPU.
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

from kg.records import Origin
from kg.store import FactStore
from qa.systems import SystemContext, register_system
from qa.trace import Answer, Hop, Trace

if TYPE_CHECKING:
    from editors.lm import LanguageModel

_EXAMPLES = (
    ("What is the capital of Japan?", "Tokyo"),
    ("Who wrote the play Hamlet?", "William Shakespeare"),
    ("Which country is the Eiffel Tower in?", "France"),
)
_PREFIX = "".join(f"Q: {q}\nA: {a}\n" for q, a in _EXAMPLES)
_LEADS = re.compile(r"^(?:the answer is|answer:|a:|it is|it's)\s+", re.IGNORECASE)
_REASON = "answered by the unedited language model; the store's facts and edits are not used"


def prompt_for(question: str) -> str:
    return f"{_PREFIX}Q: {question.strip()}\nA:"


class LanguageModelBaseline:
    """System ``lm``: the language model's own answer, traced as one model hop."""

    reads_store = False

    def __init__(self, lm: LanguageModel, name: str = "lm", max_new_tokens: int = 10, batch_size: int = 16) -> None:
        self.lm = lm
        self.name = name
        self.max_new_tokens = max_new_tokens
        self.batch_size = batch_size

    def answer(self, question: str) -> Answer:
        return self.answer_many([question])[0]

    def answer_many(self, questions: Sequence[str]) -> list[Answer]:
        """Answers in input order; questions go through the model ``batch_size`` at a time."""
        answers: list[Answer] = []
        for start in range(0, len(questions), self.batch_size):
            chunk = list(questions[start : start + self.batch_size])
            began = time.perf_counter()
            raws = self._generate([prompt_for(q) for q in chunk])
            seconds = (time.perf_counter() - began) / len(chunk)
            answers += [self._answer(q, raw, seconds) for q, raw in zip(chunk, raws, strict=True)]
        return answers

    def _answer(self, question: str, raw: str, seconds: float) -> Answer:
        text = short_answer(raw)
        hop = Hop(question=question, answer=text, origin=Origin.MODEL, note=f"model output: {raw.strip()!r}")
        trace = Trace(question, self.name, hops=[hop], grounded=False, reason=_REASON, seconds=seconds)
        return Answer(text, trace)

    def _generate(self, prompts: list[str]) -> list[str]:
        """Greedy continuations of a padded batch (left padding, so every row ends at its prompt)."""
        import torch

        tokenizer, model = self.lm.tokenizer, self.lm.model
        side = tokenizer.padding_side
        pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
        try:
            tokenizer.padding_side = "left"
            if tokenizer.pad_token_id is None:
                tokenizer.pad_token = tokenizer.eos_token
            encoded = tokenizer(prompts, return_tensors="pt", padding=True).to(self.lm.device)
        finally:
            tokenizer.padding_side = side
        with torch.no_grad():
            out = model.generate(  # type: ignore[operator]
                **encoded,
                max_new_tokens=self.max_new_tokens,
                do_sample=False,
                pad_token_id=pad,
                stop_strings=["\n"],
                tokenizer=tokenizer,
            )
        new = out[:, encoded["input_ids"].shape[1] :]
        return [str(text) for text in tokenizer.batch_decode(new, skip_special_tokens=True)]


def short_answer(raw: str) -> str:
    """The first line of a reply, without a lead-in phrase or a closing full stop."""
    line = raw.strip().split("\n", 1)[0].strip()
    line = _LEADS.sub("", line).strip()
    return line[:-1].rstrip() if line.endswith(".") else line


def _factory(store: FactStore, context: SystemContext) -> LanguageModelBaseline:
    from editors.lm import load_lm

    return LanguageModelBaseline(load_lm(context.lm, context.cache_dir, context.device))


register_system("lm", _factory)
