"""Each default is declared once, and the config that offers them loads no model code."""

from __future__ import annotations

import inspect
import subprocess
import sys
from pathlib import Path

from app.config import Settings
from editors.lm import load_lm
from editors.methods import DEFAULT_BATCH_METHOD, DEFAULT_LM, DEFAULT_METHOD, METHODS
from editors.weights import WeightEditor
from qa.systems import SystemContext
from retrieval.defaults import DEFAULT_EMBEDDING_MODEL
from retrieval.embedder import Embedder


def _default(function: object, name: str) -> object:
    return inspect.signature(function).parameters[name].default  # type: ignore[arg-type]


def test_the_config_the_systems_and_the_loaders_share_one_default_model(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path)
    context = SystemContext()
    assert settings.lm == context.lm == _default(load_lm, "name_or_path") == DEFAULT_LM
    assert settings.embedding_model == context.embedding_model == DEFAULT_EMBEDDING_MODEL
    assert _default(Embedder.__init__, "model") == DEFAULT_EMBEDDING_MODEL
    assert _default(WeightEditor.compute, "method") == DEFAULT_METHOD
    assert {DEFAULT_METHOD, DEFAULT_BATCH_METHOD} <= set(METHODS)


def test_reading_the_config_loads_neither_torch_nor_numpy() -> None:
    code = "import sys, app.config; print(sorted({'torch', 'numpy'} & set(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
