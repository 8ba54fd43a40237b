from __future__ import annotations

from pathlib import Path

import pytest
import torch

from editors.hooks import Hook, hooked
from editors.lm import LanguageModel, cut_at_stop, load_lm, pick_device
from editors.methods import DEFAULT_LM
from kg.errors import ModelError


def test_load_local_folder_on_cpu_in_float32(tiny_llama_dir: Path) -> None:
    lm = load_lm(str(tiny_llama_dir), device="cpu")
    assert isinstance(lm, LanguageModel)
    assert lm.device == torch.device("cpu")
    assert next(lm.model.parameters()).dtype == torch.float32
    assert not lm.model.training


def test_same_name_loads_same_object(tiny_llama_dir: Path) -> None:
    assert load_lm(str(tiny_llama_dir), device="cpu") is load_lm(str(tiny_llama_dir), device="cpu")


def test_generate_is_greedy_and_returns_only_new_text(tiny_llama_dir: Path) -> None:
    lm = load_lm(str(tiny_llama_dir), device="cpu")
    first = lm.generate("the capital of france is", max_new_tokens=5)
    assert first == lm.generate("the capital of france is", max_new_tokens=5)
    assert not first.startswith("the capital")
    assert first.strip()


def test_generate_cuts_at_first_stop_string(tiny_llama_dir: Path) -> None:
    lm = load_lm(str(tiny_llama_dir), device="cpu")
    full = lm.generate("who is", max_new_tokens=8)
    word = full.split()[1]
    steps: list[int] = []
    with hooked([Hook(lm.model, lambda *_: steps.append(1))]):
        cut = lm.generate("who is", max_new_tokens=8, stop=[word])
    assert cut == full[: full.find(word)]
    assert len(steps) < 8  # decoding stopped at the stop string instead of running to the limit


def test_chat_without_template_still_answers(tiny_llama_dir: Path) -> None:
    lm = load_lm(str(tiny_llama_dir), device="cpu")
    reply = lm.chat([{"role": "user", "content": "who is alice"}], max_new_tokens=4)
    assert isinstance(reply, str) and reply.strip()


def test_cut_at_stop_picks_earliest() -> None:
    assert cut_at_stop("Paris.\nQ: x", ["Q:", "\n"]) == "Paris."
    assert cut_at_stop("Paris", ["\n"]) == "Paris"


def test_unknown_model_raises_model_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ModelError, match="cannot load language model"):
        load_lm(str(tmp_path / "no-such-model"), device="cpu")


def test_pick_device_auto_and_bad_setting() -> None:
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert pick_device("auto").type == expected
    assert pick_device("cpu").type == "cpu"
    with pytest.raises(ModelError):
        pick_device("not-a-device")


@pytest.mark.slow
def test_default_model_loads_from_packaged_gguf_and_caches(tmp_path: Path) -> None:
    lm = load_lm(DEFAULT_LM, cache_dir=tmp_path, device="cpu")
    assert (tmp_path / "lm" / DEFAULT_LM / "config.json").exists()
    assert any((tmp_path / "lm" / DEFAULT_LM).glob("*.safetensors"))
    assert "Paris" in lm.generate("The capital of France is", max_new_tokens=6)
    reply = lm.chat([{"role": "user", "content": "What is the capital of France?"}], max_new_tokens=16)
    assert "Paris" in reply
