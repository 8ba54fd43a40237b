"""How well a weight edit took: efficacy, paraphrase, neighbourhood (CounterFact-style scores).

- *efficacy*: on the edited prompt the model prefers the new object to every object it replaces
  (mean log-probability per target token, so long names are not penalised);
- *paraphrase*: the same comparison on the single-hop question form ("Question: ...? Answer:");
- *neighbourhood*: other subjects of the same relation keep their preference between their own
  object and the edit's new object, compared with the unedited model (so a small model's own
  mistakes do not count against the edit); the CounterFact form (own object beats the new one after
  the edit) is reported too as ``neighbourhood_own``;
- *generation*: greedy continuation of the edited prompt starts with the new object (strictest).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from transformers import PreTrainedModel, PreTrainedTokenizerBase

from editors.requests import WeightRequest, prompt_for
from editors.tokens import pad_batch, pad_id, with_continuation
from kg.errors import InputError
from kg.records import Origin
from kg.store import FactStore

QUESTION_FORM = "Question: {question}\nAnswer:"


@dataclass(frozen=True)
class Neighbour:
    prompt: str
    own_object: str


@dataclass(frozen=True)
class EditScore:
    edit_id: str
    efficacy: bool
    paraphrase: bool | None
    generation: bool
    neighbours_kept: int
    neighbours_own: int
    neighbours: int


@dataclass(frozen=True)
class Summary:
    edits: int
    efficacy: float
    paraphrase: float
    generation: float
    neighbourhood: float
    neighbourhood_own: float

    def line(self) -> str:
        return (
            f"edits {self.edits}  efficacy {self.efficacy:.1%}  paraphrase {self.paraphrase:.1%}  "
            f"generation {self.generation:.1%}  neighbourhood {self.neighbourhood:.1%} "
            f"(own object wins {self.neighbourhood_own:.1%})"
        )


def continuation_scores(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    pairs: Sequence[tuple[str, str]],
    batch_rows: int = 32,
) -> list[float]:
    """Mean log-probability per token of each continuation after its prompt.

    The output head runs only at the positions that predict a continuation token: over a
    49,152-word vocabulary the head at every position costs about as much as the rest of a small
    model's pass, and scoring (neighbourhood, drift) runs after every edit.
    """
    device = next(model.parameters()).device
    head = model.get_output_embeddings()
    softcap = getattr(model.config, "final_logit_softcapping", None)
    scores: list[float] = []
    for start in range(0, len(pairs), batch_rows):
        encoded = [with_continuation(tokenizer, p, c) for p, c in pairs[start : start + batch_rows]]
        ids, mask = pad_batch([e.ids for e, _ in encoded], pad_id(tokenizer), device)
        where = [(row, t - 1, enc.ids[t]) for row, (enc, target) in enumerate(encoded) for t in target]
        rows, cols, gold = (torch.tensor(column, device=device) for column in zip(*where, strict=True))
        with torch.no_grad():
            hidden = model.base_model(input_ids=ids, attention_mask=mask).last_hidden_state[rows, cols]
            logits = (head(hidden) if head is not None else hidden).float()
        if softcap:
            logits = softcap * torch.tanh(logits / softcap)
        picked = torch.log_softmax(logits, dim=-1).gather(1, gold[:, None]).squeeze(1).tolist()
        cursor = 0
        for _enc, target in encoded:
            scores.append(sum(picked[cursor : cursor + len(target)]) / len(target))
            cursor += len(target)
    return scores


def greedy_starts_with(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    prompt: str,
    target: str,
    max_new_tokens: int = 8,
) -> bool:
    device = next(model.parameters()).device
    ids = tokenizer(prompt, return_tensors="pt").input_ids.to(device)
    with torch.no_grad():
        out = model.generate(  # type: ignore[operator]
            input_ids=ids,
            attention_mask=torch.ones_like(ids),
            max_new_tokens=max_new_tokens,
            do_sample=False,
            pad_token_id=pad_id(tokenizer),
        )
    text = str(tokenizer.decode(out[0, ids.shape[1] :], skip_special_tokens=True)).strip()
    return text.lower().startswith(target.strip().lower())


def neighbours_from_store(
    store: FactStore, requests: Sequence[WeightRequest], per_request: int = 10
) -> dict[str, list[Neighbour]]:
    """For each request, base facts of the same relation about subjects that no request edits."""
    edited = {(r.relation, r.subject) for r in requests}
    by_relation: dict[str, list[Neighbour]] = defaultdict(list)
    wanted = {r.relation for r in requests}
    labels: dict[str, str] = {}

    def label(ident: str) -> str:
        if ident not in labels:
            entity = store.entity(ident)
            labels[ident] = entity.label if entity is not None else ident
        return labels[ident]

    for fact in store.current_facts():
        if fact.relation not in wanted or fact.origin is not Origin.BASE:
            continue
        subject = label(fact.subject)
        if (fact.relation, subject) in edited or len(by_relation[fact.relation]) >= 4 * per_request:
            continue
        try:
            prompt = prompt_for(store.require_relation(fact.relation), subject)
        except InputError:
            continue
        by_relation[fact.relation].append(Neighbour(prompt, label(fact.object)))
    out = {}
    for request in requests:
        pool = [n for n in by_relation[request.relation] if n.own_object != request.target_new]
        out[request.edit_id] = pool[:per_request]
    return out


class EditEvaluator:
    """Scores requests on a model: call :meth:`baseline` on the unedited model, :meth:`score` after."""

    def __init__(
        self,
        model: PreTrainedModel,
        tokenizer: PreTrainedTokenizerBase,
        requests: Sequence[WeightRequest],
        neighbours: dict[str, list[Neighbour]],
    ) -> None:
        self.model, self.tokenizer, self.requests, self.neighbours = (
            model,
            tokenizer,
            list(requests),
            neighbours,
        )
        self._before: dict[str, list[bool]] | None = None

    def _neighbour_preferences(self, requests: Sequence[WeightRequest]) -> dict[str, list[bool]]:
        """Per request, whether each neighbour prefers its own object to the request's new one."""
        pairs = [
            (n.prompt, obj)
            for r in requests
            for n in self.neighbours.get(r.edit_id, [])
            for obj in (n.own_object, r.target_new)
        ]
        scores = continuation_scores(self.model, self.tokenizer, pairs)
        out, cursor = {}, 0
        for r in requests:
            count = len(self.neighbours.get(r.edit_id, []))
            out[r.edit_id] = [scores[cursor + 2 * i] > scores[cursor + 2 * i + 1] for i in range(count)]
            cursor += 2 * count
        return out

    def baseline(self) -> None:
        self._before = self._neighbour_preferences(self.requests)

    def score(self, only: Sequence[WeightRequest] | None = None) -> list[EditScore]:
        """Scores of ``only`` (all requests when None) on the model as it is now."""
        if self._before is None:
            raise InputError("call baseline() on the unedited model before score()")
        chosen = list(only) if only is not None else self.requests
        after = self._neighbour_preferences(chosen)
        results = []
        for request in chosen:
            before, now = self._before[request.edit_id], after[request.edit_id]
            kept = sum(a == b for a, b in zip(before, now, strict=True))
            results.append(self._score_one(request, kept, sum(now), len(now)))
        return results

    def _score_one(self, request: WeightRequest, kept: int, own: int, count: int) -> EditScore:
        pairs = [(request.prompt, request.target_new), *((request.prompt, o) for o in request.target_old)]
        question = QUESTION_FORM.format(question=request.question) if request.question else ""
        if question:
            pairs += [(question, request.target_new), *((question, o) for o in request.target_old)]
        scores = continuation_scores(self.model, self.tokenizer, pairs)
        n_old = len(request.target_old)
        efficacy = all(scores[0] > s for s in scores[1 : 1 + n_old])
        paraphrase = all(scores[1 + n_old] > s for s in scores[2 + n_old :]) if question else None
        generation = greedy_starts_with(self.model, self.tokenizer, request.prompt, request.target_new)
        return EditScore(request.edit_id, efficacy, paraphrase, generation, kept, own, count)


def summarise(scores: Sequence[EditScore]) -> Summary:
    if not scores:
        raise InputError("no edit scores to summarise")
    para = [s.paraphrase for s in scores if s.paraphrase is not None]
    total = sum(s.neighbours for s in scores) or 1
    return Summary(
        edits=len(scores),
        efficacy=sum(s.efficacy for s in scores) / len(scores),
        paraphrase=sum(para) / len(para) if para else float("nan"),
        generation=sum(s.generation for s in scores) / len(scores),
        neighbourhood=sum(s.neighbours_kept for s in scores) / total,
        neighbourhood_own=sum(s.neighbours_own for s in scores) / total,
    )
