"""In headless Chromium on a graph too large to ship every label: an entity picker starts with one page
of choices, and typing narrows it on the server to names the browser never held. Follows
``test_browser.py`` (Debian's chromium, installed with apt when missing)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from app.ui.services import PICKER_ALL_UP_TO, PICKER_CHOICES
from kg.records import Entity
from tests.app.conftest import RunningApp, start_app
from tests.app.test_browser import browser_page, open_tab, shoot

pytestmark = [pytest.mark.browser, pytest.mark.slow]
playwright_api = pytest.importorskip("playwright.sync_api")
Page = playwright_api.Page
expect = playwright_api.expect

PEOPLE = PICKER_ALL_UP_TO + 1000  # more entities than a picker ever sends to the browser


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningApp]:
    people = [Entity(f"person{i}", f"Person {i:05d}") for i in range(PEOPLE)]
    yield from start_app(tmp_path_factory.mktemp("browser-picker-home"), entities=people)


@pytest.fixture
def page(app: RunningApp) -> Iterator[Page]:
    with browser_page(app.url) as tab:
        yield tab


@pytest.mark.parametrize("key_delay_ms", [30, 200])  # keys faster than the server answers, and a steady typist
def test_typing_in_a_picker_fetches_matching_names_from_the_server(page: Page, app: RunningApp, key_delay_ms: int) -> None:
    assert app.services.searched_on_server()
    open_tab(page, "Curate")
    box = page.locator("#curate-entity input")
    box.click()
    options = page.get_by_role("option")
    expect(options.first).to_be_visible()
    assert options.count() <= PICKER_CHOICES
    last = f"Person {PEOPLE - 1:05d}"  # far past the first page: only the server can offer it
    box.press_sequentially(last, delay=key_delay_ms)
    expect(options).to_have_count(1, timeout=15000)  # the one name holding the whole text, not an earlier prefix's page
    expect(page.get_by_role("option", name=re.compile(f"^{last}"))).to_be_visible()
    if key_delay_ms == 30:
        shoot(page, "10-curate-picker-server-search")
    page.get_by_role("option", name=re.compile(f"^{last}")).first.click()
    expect(box).to_have_value(re.compile(last))
