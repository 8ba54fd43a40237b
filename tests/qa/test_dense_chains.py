"""Dense graphs where every person has every relation: the beam meets every ordering of the relations a
question names, a question may name one relation twice, and the bounded scoring embeds only the
chains that could win. A small graph built in code, the packaged embedding model and chain scorer."""

from __future__ import annotations

import random
from collections.abc import Iterator

import numpy as np
import pytest

from kg.records import Entity, Relation
from kg.store import FactStore, ImportBundle
from qa.paths import GraphView
from qa.pipeline import GraphPipeline, load_scorer
from qa.scorer_training import mask
from qa.search import bounded_scores, candidate_paths, open_relations
from retrieval.embedder import Embedder
from retrieval.linker import EntityLinker

ROLES = ["mentor", "tailor", "dentist", "landlord", "coach", "rival"]
PEOPLE = [
    "Ada Quill", "Bruno Marsh", "Cleo Vance", "Dario Finch", "Edda Stone", "Felix Crane", "Greta Holt",
    "Hugo Pike", "Ines Lark", "Jonas Reed", "Kira Moss", "Leon Hart", "Mila Frost", "Nils Ward",
    "Olga Brandt", "Pavel Roth", "Quinn Adler", "Rosa Kemp", "Sven Dahl", "Tilda Berg",
]  # fmt: skip


def dense_store() -> tuple[FactStore, dict[tuple[int, str], int]]:
    """Every person has all six relations, each to another person drawn at random."""
    rng = random.Random(7)
    relations = [
        Relation(r, r, f"The {r} of {{subject}} is {{object}}.", f"Who is the {r} of {{subject}}?", True)
        for r in ROLES
    ]
    truth = {(i, r): rng.choice([j for j in range(len(PEOPLE)) if j != i]) for i in range(len(PEOPLE)) for r in ROLES}
    facts = [(f"p{i}", r, f"p{j}") for (i, r), j in truth.items()]
    entities = [Entity(f"p{i}", name) for i, name in enumerate(PEOPLE)]
    store = FactStore.open("memory:")
    store.import_bundle(ImportBundle(entities=entities, relations=relations, facts=facts))
    return store, truth


@pytest.fixture(scope="module")
def embedder() -> Embedder:
    return Embedder()


@pytest.fixture(scope="module")
def dense(embedder: Embedder) -> Iterator[tuple[GraphPipeline, dict[tuple[int, str], int]]]:
    store, truth = dense_store()
    yield GraphPipeline(store, load_scorer(None, embedder), EntityLinker.from_store(store, embedder)), truth
    store.close()


def walk(truth: dict[tuple[int, str], int], start: int, chain: list[str]) -> str:
    node = start
    for relation in chain:
        node = truth[(node, relation)]
    return PEOPLE[node]


def question(chain: list[str], start: int) -> str:
    nested = " of the ".join(reversed(chain))
    return f"Who is the {nested} of {PEOPLE[start]}?"


@pytest.mark.parametrize(
    "chain",
    [
        ["coach", "dentist", "tailor", "mentor"],  # 4 of 6 relations: 360 orderings, a beam of 8
        ["rival", "landlord", "mentor"],
    ],
)
def test_every_hop_in_the_order_the_question_names_them(
    dense: tuple[GraphPipeline, dict[tuple[int, str], int]], chain: list[str]
) -> None:
    system, truth = dense
    for start in (0, 11):
        answer = system.answer(question(chain, start))
        assert [h.relation for h in answer.trace.hops] == chain
        assert answer.text == walk(truth, start, chain)


def test_bounded_scoring_picks_the_walk_full_scoring_picks_and_embeds_fewer_chains(embedder: Embedder) -> None:
    store, _ = dense_store()
    view = GraphView(store)
    view.refresh()
    scorer = load_scorer(None, embedder)
    embedded: list[str] = []
    real = embedder.encode

    def counting(texts: list[str], **kwargs: object) -> np.ndarray:
        embedded.extend(texts)
        return real(texts)

    scorer.encoder = type("Counting", (), {"encode": staticmethod(counting)})()
    rng = random.Random(3)
    for _ in range(6):
        chain = rng.sample(ROLES, rng.randint(2, 4))
        start = rng.randrange(len(PEOPLE))
        text = question(chain, start)
        at = text.index(PEOPLE[start])
        read = scorer.read_question(mask(text, (at, at + len(PEOPLE[start]))))
        for backwards in (False, True):
            paths = candidate_paths(scorer, view, read, f"p{start}", open_relations(scorer, read, view.relations()), backwards=backwards)
            embedded.clear()
            bounded = bounded_scores(scorer, read, paths, view, forward=not backwards)
            chains_embedded = len(embedded) // 3
            full = scorer.score(read, paths, view, forward=not backwards)
            assert int(np.argmax(bounded)) == int(np.argmax(full))
            assert np.all(bounded >= full - 1e-4)  # a walk not embedded keeps an upper bound of its score
            assert chains_embedded < len({p.relations for p in paths})
    store.close()
