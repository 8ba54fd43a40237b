"""Tiny MQuAKE-format cases built in code, and a small real system that walks the store.

The world: persons P1, P2 are citizens of X; countries X, Y, Z have capitals CX, CY, CZ and heads of
state HX, HY, HZ. Case 1 moves P1 to Y (capital question), case 2 changes X's head of state, case 3
moves Y's capital to CZ, which breaks case 1's new chain when both are loaded together.
"""

from __future__ import annotations

import copy
from typing import Any

from kg.records import EditStatus
from kg.store import FactStore
from qa.trace import Answer, Hop, Trace

LABELS = {
    "P1": "Ann Person",
    "P2": "Bob Person",
    "X": "Xland",
    "Y": "Yland",
    "Z": "Zland",
    "CX": "X City",
    "CY": "Y City",
    "CZ": "Z City",
    "HX": "Hal X",
    "HY": "Hana Y",
    "HZ": "Hugo Z",
}
WORLD = {
    ("P1", "P27"): "X", ("P2", "P27"): "X", ("HX", "P27"): "X", ("HY", "P27"): "Y", ("HZ", "P27"): "Z",
    ("X", "P36"): "CX", ("Y", "P36"): "CY", ("Z", "P36"): "CZ",
    ("X", "P35"): "HX", ("Y", "P35"): "HY", ("Z", "P35"): "HZ",
}
RELATION_LABELS = {"P27": "country of citizenship", "P36": "capital", "P35": "head of state"}
Triple = tuple[str, str, str]


def make_case(case_id: int, triples: list[Triple], new_triples: list[Triple], edits: list[Triple]) -> dict[str, Any]:
    """A full MQuAKE case in the published format; questions name the chain so a walker can parse them."""

    def hop(t: Triple) -> dict[str, Any]:
        s, r, o = t
        return {"question": f"{r} of {LABELS[s]}?", "cloze": f"{r} of {LABELS[s]} is", "answer": LABELS[o],
                "answer_alias": [o.lower()]}

    relations = "/".join(r for _, r, _ in triples)
    start = LABELS[triples[0][0]]
    return {
        "case_id": case_id,
        "requested_rewrite": [
            {
                "prompt": f"{r} of {{}} is",
                "relation_id": r,
                "target_new": {"str": LABELS[o], "id": o},
                "target_true": {"str": LABELS[WORLD[(s, r)]], "id": WORLD[(s, r)]},
                "subject": LABELS[s],
                "question": f"{r} of {LABELS[s]}?",
            }
            for s, r, o in edits
        ],
        "questions": [f"{relations} of {start}?", f"chain {relations} from {start}?", f"walk {relations} from {start}?"],
        "answer": LABELS[triples[-1][2]],
        "answer_alias": [],
        "new_answer": LABELS[new_triples[-1][2]],
        "new_answer_alias": [new_triples[-1][2].lower()],
        "single_hops": [hop(t) for t in triples],
        "new_single_hops": [hop(t) for t in new_triples],
        "orig": {
            "triples": [list(t) for t in triples],
            "triples_labeled": [[LABELS[s], RELATION_LABELS[r], LABELS[o]] for s, r, o in triples],
            "new_triples": [list(t) for t in new_triples],
            "new_triples_labeled": [[LABELS[s], RELATION_LABELS[r], LABELS[o]] for s, r, o in new_triples],
            "edit_triples": [list(t) for t in edits],
        },
    }


def tiny_cases() -> list[dict[str, Any]]:
    return copy.deepcopy(
        [
            make_case(1, [("P1", "P27", "X"), ("X", "P36", "CX")], [("P1", "P27", "Y"), ("Y", "P36", "CY")],
                      [("P1", "P27", "Y")]),
            make_case(2, [("P2", "P27", "X"), ("X", "P35", "HX")], [("P2", "P27", "X"), ("X", "P35", "HZ")],
                      [("X", "P35", "HZ")]),
            make_case(3, [("Z", "P35", "HZ"), ("HZ", "P27", "Z"), ("Z", "P36", "CZ")],
                      [("Z", "P35", "HZ"), ("HZ", "P27", "Y"), ("Y", "P36", "CZ")],
                      [("HZ", "P27", "Y"), ("Y", "P36", "CZ")]),
            make_case(4, [("Y", "P35", "HY"), ("HY", "P27", "Y")], [("Y", "P35", "HX"), ("HX", "P27", "X")],
                      [("Y", "P35", "HX")]),
        ]
    )


class ChainWalker:
    """A real (if simple) system: parses "R1/R2 of Label?" style questions and walks the store.

    It records which edits were active whenever it answered, so tests can check the batching.
    """

    def __init__(self, store: FactStore, fail_after: int | None = None) -> None:
        self.name = "walker"
        self.store = store
        self.fail_after = fail_after
        self.calls = 0
        self.active_seen: list[set[tuple[str, str, str]]] = []

    def answer(self, question: str) -> Answer:
        self.calls += 1
        if self.fail_after is not None and self.calls > self.fail_after:
            raise KeyboardInterrupt("simulated kill")
        self.active_seen.append(
            {(e.subject, e.relation, e.object) for e in self.store.edits(EditStatus.ACTIVE)}
        )
        body = question.rstrip("?")
        for lead in ("chain ", "walk "):
            body = body.removeprefix(lead)
        relations_text, _, start_text = body.partition(" from " if " from " in body else " of ")
        matches = self.store.find_entities(start_text)
        trace = Trace(question, self.name)
        if not matches:
            return Answer("", trace)
        current = matches[0].id
        for relation in relations_text.split("/"):
            facts = self.store.objects(current, relation)
            if not facts:
                return Answer("", trace)
            trace.hops.append(Hop(question, facts[0].object, facts[0], facts[0].origin, relation))
            current = facts[0].object
        entity = self.store.entity(current)
        return Answer(entity.label if entity else current, trace)
