"""Graph edits -> weight-edit requests: a cloze prompt naming the subject, and the new object to teach.

The prompt comes from the relation's statement template, cut before its object (``Relation.cloze``):
"The capital of {subject} is {object}." becomes "The capital of France is". A relation whose template
has no object slot, puts the object first, or does not name the subject cannot give a prompt a causal
model can complete, and is reported with what to change.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace

from kg.errors import InputError
from kg.records import Edit, EditStatus, Relation
from kg.store import FactStore


@dataclass(frozen=True)
class WeightRequest:
    """One fact to write into a model: ``prompt`` should continue with ``target_new``.

    ``target_old`` holds the objects the edit replaces (for efficacy: new must beat old), and
    ``question`` the single-hop question form (for the paraphrase score). ``kept`` are other
    (prompt, object) facts of the same subject that the new value must leave true: an edit changes
    what the model stores at the subject, which every relation of that subject reads.
    """

    prompt: str
    subject: str
    target_new: str
    target_old: tuple[str, ...] = ()
    edit_id: str = ""
    relation: str = ""
    question: str = ""
    kept: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        if not self.subject or self.subject not in self.prompt:
            raise InputError(f"request {self.edit_id or self.prompt!r}: the prompt must contain the subject")
        if not self.target_new.strip():
            raise InputError(f"request {self.edit_id or self.prompt!r}: the new object is empty")
        if any(self.subject not in prompt for prompt, _ in self.kept):
            raise InputError(f"request {self.edit_id or self.prompt!r}: a kept fact's prompt must contain the subject")

    @property
    def subject_span(self) -> tuple[int, int]:
        """Characters of the subject's last mention in the prompt (the token ROME edits is its last)."""
        return self.span_in(self.prompt)

    def span_in(self, prompt: str) -> tuple[int, int]:
        start = prompt.rindex(self.subject)
        return start, start + len(self.subject)

    def as_json(self) -> dict[str, object]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> WeightRequest:
        return cls(
            **{
                **data,
                "target_old": tuple(data.get("target_old", ())),
                "kept": tuple((str(p), str(o)) for p, o in data.get("kept", ())),
            }
        )


def one_per_subject(requests: Sequence[WeightRequest]) -> tuple[list[WeightRequest], list[int]]:
    """One request per subject, holding all of that subject's facts, and each request's group.

    A batch edit stores each fact at its subject's key, which every relation of the subject shares:
    two requests of one subject would ask one key for two different values, and the solve would
    average them so that neither holds. So the value search runs once per subject, on its first
    request with the others' facts (and every kept fact) as kept facts. A request's own object wins
    over any kept fact of the same prompt, and of two requests with one prompt the later one wins.
    """
    first: dict[str, WeightRequest] = {}
    facts: dict[str, dict[str, str]] = {}  # per subject, prompt -> object (insertion ordered)
    for request in requests:
        first.setdefault(request.subject, request)
        wanted = facts.setdefault(request.subject, {})
        for prompt, obj in request.kept:
            wanted.setdefault(prompt, obj)
    for request in requests:
        facts[request.subject][request.prompt] = request.target_new
    index = {subject: i for i, subject in enumerate(first)}
    merged = []
    for subject, request in first.items():
        wanted = dict(facts[subject])
        main = wanted.pop(request.prompt)
        merged.append(replace(request, target_new=main, kept=tuple(wanted.items())))
    return merged, [index[r.subject] for r in requests]


def prompt_for(relation: Relation, subject: str) -> str:
    """The cloze prompt of ``relation`` for ``subject``, or an InputError saying what to fix."""
    template = relation.statement_template
    where = f"relation {relation.id} ({relation.label})"
    if not template or "{object}" not in template:
        raise InputError(
            f"{where} has no statement template with an {{object}} slot; set one to edit weights"
        )
    if "{subject}" not in template.split("{object}")[0]:
        raise InputError(
            f"{where}: its statement template {template!r} must name {{subject}} before {{object}} so a "
            "language model can complete it; rephrase the template"
        )
    prompt = relation.cloze(subject)
    if not prompt.strip():
        raise InputError(f"{where}: its statement template gives an empty prompt")
    return prompt


def request_for_edit(store: FactStore, edit: Edit) -> WeightRequest:
    relation = store.require_relation(edit.relation)
    subject = store.require_entity(edit.subject, "subject").label
    new = store.require_entity(edit.object, "object").label
    old = tuple(
        label
        for label in (_label(store, ident) for ident in edit.replaces)
        if label is not None and label != new
    )
    return WeightRequest(
        prompt=prompt_for(relation, subject),
        subject=subject,
        target_new=new,
        target_old=old,
        edit_id=edit.id,
        relation=relation.id,
        question=relation.question(subject) if relation.question_template else "",
    )


def requests_from_store(store: FactStore, edit_ids: Sequence[str] | None = None) -> list[WeightRequest]:
    """Requests for the given edits (each must be active), or for every active edit when None."""
    if edit_ids is None:
        edits = store.edits(EditStatus.ACTIVE)
    else:
        edits = []
        for ident in edit_ids:
            edit = store.get_edit(ident)
            if edit.status is not EditStatus.ACTIVE:
                raise InputError(f"edit {ident} is {edit.status.value}; only active edits can be propagated")
            edits.append(edit)
    if not edits:
        raise InputError("there are no active edits to propagate; make an edit first (kgedit kg add ...)")
    return [request_for_edit(store, edit) for edit in edits]


def _label(store: FactStore, ident: str) -> str | None:
    entity = store.entity(ident)
    return entity.label if entity is not None else None
