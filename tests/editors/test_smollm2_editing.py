"""ROME and MEMIT on the real default model (SmolLM2-135M-Instruct): slow, run in CI."""

from __future__ import annotations

import pytest
import torch

from editors.lm import load_lm
from editors.memit import MemitHyperParams
from editors.methods import DEFAULT_LM
from editors.requests import WeightRequest
from editors.rome import RomeHyperParams
from editors.weight_eval import continuation_scores
from editors.weights import StatsSettings, WeightEditor

pytestmark = pytest.mark.slow

REQUESTS = [
    WeightRequest("The capital of France is", "France", "Rome", ("Paris",), edit_id="E1"),
    WeightRequest(
        "The Eiffel Tower is located in the city of", "Eiffel Tower", "London", ("Paris",), edit_id="E2"
    ),
]


def _margin(editor: WeightEditor, request: WeightRequest) -> float:
    new, old = continuation_scores(
        editor.lm.model,
        editor.lm.tokenizer,
        [(request.prompt, request.target_new), (request.prompt, request.target_old[0])],
    )
    return new - old


@pytest.fixture(scope="module")
def editor(tmp_path_factory: pytest.TempPathFactory) -> WeightEditor:
    cache = tmp_path_factory.mktemp("cache")
    lm = load_lm(DEFAULT_LM, cache_dir=cache, device="cpu")
    return WeightEditor(
        lm,
        cache,
        StatsSettings(tokens=2000),
        RomeHyperParams(prefixes=3, prefix_length=6),
        MemitHyperParams(prefixes=3, prefix_length=6),
    )


def test_rome_teaches_one_fact_and_reverts_exactly(editor: WeightEditor) -> None:
    before = {k: v.clone() for k, v in editor.lm.model.state_dict().items()}
    request = REQUESTS[0]
    assert _margin(editor, request) < 0
    delta = editor.compute([request], "rome")
    with editor.applied(delta):
        assert _margin(editor, request) > 0
        assert editor.lm.generate(request.prompt, max_new_tokens=3).strip().startswith("Rome")
    assert all(torch.equal(v, before[k]) for k, v in editor.lm.model.state_dict().items())


def test_memit_teaches_two_facts(editor: WeightEditor) -> None:
    delta = editor.compute(REQUESTS, "memit")
    with editor.applied(delta):
        assert all(_margin(editor, r) > 0 for r in REQUESTS)
