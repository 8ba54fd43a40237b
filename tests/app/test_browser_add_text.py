"""End to end in headless Chromium: type a fact in Curate, accept it, see it in the edit log and in a
Chat answer's chain. Follows ``test_browser.py`` (Debian's chromium, installed with apt when missing)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.app.conftest import RunningApp, start_app
from tests.app.test_browser import ask, browser_page, open_tab, shoot

pytestmark = pytest.mark.browser
playwright_api = pytest.importorskip("playwright.sync_api")
Page = playwright_api.Page
expect = playwright_api.expect

SENTENCE = "Bhutan now pays in the Indian rupee."
QUESTION = "What is the currency of the country where Thimphu is located?"


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningApp]:
    yield from start_app(tmp_path_factory.mktemp("browser-add-text-home"))


@pytest.fixture(scope="module")
def page(app: RunningApp) -> Iterator[Page]:
    with browser_page(app.url) as tab:
        yield tab


def test_a_typed_fact_is_previewed_accepted_logged_and_answered(page: Page, app: RunningApp) -> None:
    open_tab(page, "Curate")
    page.locator("#fact-text textarea").fill(SENTENCE)
    page.locator("#fact-read").click()
    candidates = page.locator("#fact-candidates")
    expect(candidates).to_contain_text("Candidate 1")
    expect(candidates).to_contain_text("Supersedes")
    expect(candidates).to_contain_text("Ngultrum")
    expect(page.locator("#fact-choices textarea, #fact-choices input").first).to_have_value("1")
    assert app.store.edits() == []  # nothing is written by reading
    shoot(page, "7-curate-typed-fact")
    page.locator("#fact-accept").click()
    expect(page.locator("#fact-outcome")).to_contain_text("Committed E1")
    page.get_by_text("Edit log and conflicts").click()
    log = page.locator("#curate-log")
    expect(log).to_contain_text("E1")
    expect(log).to_contain_text("Indian Rupee")
    expect(log).to_contain_text(SENTENCE)
    shoot(page, "8-curate-typed-fact-committed")

    open_tab(page, "Chat")
    ask(page, QUESTION)
    chain = page.locator("#chat-chain")
    expect(chain.locator(".kg-answer")).to_contain_text("Indian Rupee")
    expect(chain.locator("li.kg-hop .kg-badge-edit")).to_contain_text("edit E1")
    shoot(page, "9-chat-after-typed-fact")
    assert [f.object for f in app.store.objects("country:BTN", "P38")] == ["currency:INR"]
