"""The Model tab through the API on a tiny random GPT-2 built in code: propagate, compare, revert."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import torch
from gradio_client import Client
from tokenizers import Tokenizer, models, pre_tokenizers
from transformers import GPT2Config, GPT2LMHeadModel, PreTrainedTokenizerFast

from editors.deltas import DeltaFolder
from tests.app.conftest import RunningApp, start_app

WORDS = [
    "the",
    "currency",
    "of",
    "capital",
    "is",
    "france",
    "germany",
    "euro",
    "swiss",
    "franc",
    "berlin",
    "paris",
    "located",
    "in",
    "country",
    ".",
]


def tiny_gpt2(folder: Path) -> Path:
    vocab = {"<unk>": 0, "<s>": 1, "</s>": 2}
    for word in WORDS:
        vocab.setdefault(word, len(vocab))
    tok = Tokenizer(models.WordLevel(vocab=vocab, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=tok, unk_token="<unk>", bos_token="<s>", eos_token="</s>", pad_token="</s>"
    )
    torch.manual_seed(0)
    config = GPT2Config(
        vocab_size=len(vocab), n_embd=32, n_layer=4, n_head=4, n_positions=256, bos_token_id=1, eos_token_id=2
    )
    GPT2LMHeadModel(config).save_pretrained(str(folder))
    tokenizer.save_pretrained(str(folder))
    return folder


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningApp]:
    model_dir = tiny_gpt2(tmp_path_factory.mktemp("tiny-gpt2"))
    yield from start_app(tmp_path_factory.mktemp("model-home"), lm=str(model_dir))


def weights(app: RunningApp) -> dict[str, torch.Tensor]:
    from editors.lm import load_lm

    settings = app.services.settings
    lm = load_lm(settings.lm, settings.cache_dir, settings.device)
    return {k: v.detach().clone() for k, v in lm.model.state_dict().items()}


def test_propagate_saves_a_delta_and_revert_restores_the_weights(app: RunningApp) -> None:
    client = Client(app.url, verbose=False)
    outcome, *_ = client.predict("Germany", "currency", "Swiss Franc", "", "t", "", api_name="/add")
    edit_id = outcome.split("Committed ")[1].split("**")[0]
    model = app.services.settings.lm
    original = weights(app)  # loads the model the app shares (one copy per process)

    table, status, _ = client.predict(model, "rome", [edit_id], 200, api_name="/propagate")
    assert [row[:3] for row in table["data"]] == [[edit_id, "The currency of Germany is", "Swiss Franc"]]
    assert f"edits {edit_id}" in status and "ROME" in status
    saved = DeltaFolder(app.services.settings.deltas_dir, model).active()  # where kgedit model deltas looks
    assert len(saved) == 1 and edit_id in saved[0].name
    edited = weights(app)
    changed = [k for k in original if not torch.equal(original[k], edited[k])]
    assert changed and all(".mlp." in k for k in changed)

    before, after = client.predict(model, "The currency of Germany is", api_name="/compare")
    assert isinstance(before, str) and isinstance(after, str)

    client.predict(edit_id, api_name="/retract")
    _, status, _ = client.predict(model, api_name="/model_status")
    assert f"carries edits no longer active: {edit_id}" in status

    status, _ = client.predict(model, api_name="/revert_all")
    assert "No deltas applied" in status
    assert DeltaFolder(app.services.settings.deltas_dir, model).active() == []
    restored = weights(app)
    assert all(torch.equal(original[k], restored[k]) for k in original)


def test_propagate_refuses_when_there_is_nothing_to_propagate(app: RunningApp) -> None:
    client = Client(app.url, verbose=False)
    with pytest.raises(Exception, match="no active edits to propagate"):
        client.predict(app.services.settings.lm, "memit", [], 200, api_name="/propagate")
