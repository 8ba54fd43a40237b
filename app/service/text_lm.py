"""A language model's guess at the fact in a clause the relation model could not read (opt-in).

When no frame of a clause scores (an unusual phrasing, a relation word the patterns never used), the
configured causal LM is asked to write the fact as ``subject | relation | object``. Its answer is only
a proposal: the subject must link to a known entity, the relation to one the store knows (by label,
else by the relation model reading "X's <relation words>: Y"), and the candidate is marked
``language-model`` with a confidence below the commit threshold, so a curator must pick it.
"""

from __future__ import annotations

import logging
from typing import Protocol

from retrieval.fact_text import CandidateTriple, FactTextReader, TextSpan, Unread

log = logging.getLogger(__name__)

LM_CONFIDENCE = 0.2  # below HIGH_CONFIDENCE: a guess is never committed without the curator's choice
LANGUAGE_MODEL = "language-model"
# Generic examples, written for this prompt (not taken from any benchmark).
_PROMPT = """Write the fact the sentence states as: subject | relation | object

Sentence: The capital of Italy is Rome.
Fact: Italy | capital | Rome
Sentence: Marta has written novels for a living since 1990.
Fact: Marta | occupation | novelist
Sentence: The river town of Ulm now belongs to Bavaria.
Fact: Ulm | located in | Bavaria
Sentence: {sentence}
Fact:"""


class Generator(Protocol):
    """What this needs from :class:`editors.lm.LanguageModel`."""

    def generate(self, prompt: str, max_new_tokens: int = 32, stop: tuple[str, ...] | list[str] = ()) -> str: ...


def lm_candidates(lm: Generator, reader: FactTextReader, unread: list[Unread]) -> list[CandidateTriple]:
    """One marked guess per unread clause whose LM answer names a known subject and relation."""
    found = []
    for item in unread:
        try:
            answer = lm.generate(_PROMPT.format(sentence=item.clause.text), max_new_tokens=32, stop=["\n"])
        except Exception:  # a model failure must not lose the candidates the relation model found
            log.exception("language model failed on %r", item.clause.text)
            continue
        guess = _candidate(reader, item, answer)
        if guess is not None:
            found.append(guess)
    return found


def _candidate(reader: FactTextReader, item: Unread, answer: str) -> CandidateTriple | None:
    parts = [p.strip(" .\"'") for p in answer.strip().split("|")]
    if len(parts) < 3 or not all(parts):
        log.info("language model answer %r is not 'subject | relation | object'", answer)
        return None
    subject_text, relation_text, object_text = parts[0], " ".join(parts[1:-1]), parts[-1]  # a split relation joins
    subjects = reader.linker.link(subject_text, limit=1)
    if not subjects:
        return None
    subject = subjects[0]
    relation = _relation(reader, relation_text)
    if relation is None:
        return None
    objects = reader.linker.link(object_text, limit=1)
    exact = bool(objects) and objects[0].end - objects[0].start >= len(object_text.strip()) - 1
    rel = reader.store.require_relation(relation)
    return CandidateTriple(
        text=item.sentence,
        subject=subject.entity_id,
        subject_label=subject.label,
        relation=rel.id,
        relation_label=rel.label,
        object=objects[0].entity_id if exact else None,
        object_label=objects[0].label if exact else object_text,
        new_object=not exact,
        confidence=LM_CONFIDENCE,
        subject_span=_find(item.clause, subject_text),
        object_span=_find(item.clause, object_text),
        clause=item.clause,
        form=item.form,
        method=LANGUAGE_MODEL,
    )


def _relation(reader: FactTextReader, text: str) -> str | None:
    wanted = text.casefold()
    for relation in reader.store.relations():
        if relation.label.casefold() == wanted or relation.id.casefold() == wanted:
            return relation.id
    (guesses,) = reader.model.guesses([f"X's {text} : Y"], top=1)
    best = guesses[0] if guesses else None
    return best.relation if best is not None and best.probability >= 0.3 else None


def _find(clause: TextSpan, words: str) -> TextSpan:
    """Where the LM's words sit in the clause, or the whole clause when it paraphrased them."""
    at = clause.text.casefold().find(words.casefold())
    if at < 0:
        return clause
    return TextSpan(clause.start + at, clause.start + at + len(words), clause.text[at : at + len(words)])
