"""MQuAKE-CF-3k, loaded once per session for the tests that check the real file."""

from __future__ import annotations

from pathlib import Path

import pytest

from qa.mquake import Case, load_cases

CF3K = Path(__file__).resolve().parents[3] / "shared" / "data" / "mquake" / "MQuAKE-CF-3k.json"


@pytest.fixture(scope="session")
def cf3k_cases() -> list[Case]:
    return load_cases(CF3K)
