"""The picker answers only the key typing paused after, per browser session."""

from __future__ import annotations

from app.ui.common import LatestKeys


def test_a_later_key_of_the_same_session_overtakes_an_earlier_one_but_not_another_sessions() -> None:
    latest = LatestKeys()
    first = latest.take("tab-a")
    other = latest.take("tab-b")
    second = latest.take("tab-a")
    assert not latest.current("tab-a", first)
    assert latest.current("tab-a", second)
    assert latest.current("tab-b", other)


def test_old_sessions_are_forgotten_beyond_the_limit() -> None:
    latest = LatestKeys(sessions=2)
    oldest = latest.take("one")
    latest.take("two")
    latest.take("three")
    assert not latest.current("one", oldest)
