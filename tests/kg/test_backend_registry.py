"""Backends are found by URL scheme, and only the backend asked for is loaded."""

from __future__ import annotations

import subprocess
import sys

import pytest

from kg.backend import PROVIDERS, open_backend
from kg.errors import InputError


def test_a_local_store_opens_without_loading_the_sparql_client() -> None:
    code = (
        "import sys; from kg.store import FactStore; FactStore.open('memory:'); "
        "print(sorted({'requests', 'kg.sparql_backend'} & set(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_an_unknown_scheme_lists_every_backend_even_before_any_is_loaded() -> None:
    with pytest.raises(InputError, match="unknown store URL") as error:
        open_backend("postgres://db/facts")
    for scheme in PROVIDERS:
        assert f"{scheme}:" in str(error.value)
