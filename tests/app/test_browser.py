"""End to end in headless Chromium: ask, edit in Curate, ask again, and see the edit in the chain.

Drives Debian's ``chromium`` through Playwright's ``executable_path`` (no browser download); the
session fixture installs the package with apt when it is missing. Screenshots of every tab land in
``test-artifacts/screenshots/`` (git-ignored) for the closing note.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from kg.records import EditRequest
from tests.app.conftest import DEV_DATA, REPO, RunningApp, start_app

pytestmark = pytest.mark.browser
playwright_api = pytest.importorskip("playwright.sync_api")
Page = playwright_api.Page
expect = playwright_api.expect

SCREENSHOTS = REPO / "test-artifacts" / "screenshots"
QUESTION = "What is the currency of the country where Paris is located?"
TIMEOUT_MS = 180_000


def install_chromium() -> str:
    """Debian's chromium, installed with apt when missing (CI machines start bare)."""
    found = shutil.which("chromium")
    if found:
        return found
    prefix = [] if os.geteuid() == 0 else ["sudo", "-n"]
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run([*prefix, "apt-get", "update"], check=True, env=env, capture_output=True)
    subprocess.run(
        [*prefix, "apt-get", "install", "-y", "chromium"], check=True, env=env, capture_output=True
    )
    found = shutil.which("chromium")
    if not found:
        pytest.fail("apt-get installed chromium but it is not on PATH")
    return found


@pytest.fixture(scope="session")
def chromium_path() -> str:
    return install_chromium()


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningApp]:
    datasets = (DEV_DATA / "mquake_dev.json", DEV_DATA / "background.tsv")
    yield from start_app(tmp_path_factory.mktemp("browser-home"), datasets=datasets)


@pytest.fixture(scope="module")
def browser(chromium_path: str) -> Iterator[Any]:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with playwright_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium_path, args=["--no-sandbox"])
        yield launched
        launched.close()


def new_tab(browser: Any, url: str) -> Page:
    tab = browser.new_page(viewport={"width": 1400, "height": 1000})
    tab.set_default_timeout(TIMEOUT_MS)
    expect.set_options(timeout=TIMEOUT_MS)  # the first question loads the models
    tab.goto(url)
    return tab


@contextmanager
def browser_page(url: str) -> Iterator[Page]:
    """One headless Chromium tab on ``url``, for a test module that brings its own app."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with playwright_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=install_chromium(), args=["--no-sandbox"])
        yield new_tab(launched, url)
        launched.close()


@pytest.fixture(scope="module")
def page(browser: Any, app: RunningApp) -> Iterator[Page]:
    tab = new_tab(browser, app.url)
    yield tab
    tab.close()


@pytest.fixture
def franc_edit(app: RunningApp) -> None:
    """France's currency as Swiss Franc in edit E1: what the first test commits through the Curate
    tab, made here through the store when that test did not run first (``pytest -k graph``)."""
    if not app.store.edits():
        app.store.edit(EditRequest("country:FRA", "P38", "currency:CHF", author="browser test"))


def shoot(page: Page, name: str) -> Path:
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def pick(page: Page, elem_id: str, typed: str, option: str) -> None:
    """Type into an autocompleting dropdown and choose the option whose text starts with ``option``."""
    box = page.locator(f"#{elem_id} input")
    box.click()
    box.fill("")
    box.press_sequentially(typed, delay=20)
    pattern = re.escape(option).replace("/", r"\/")  # Playwright hands the pattern to JavaScript
    page.get_by_role("option", name=re.compile(f"^{pattern}")).first.click()


def open_tab(page: Page, name: str) -> None:
    page.get_by_role("tab", name=name).click()


def ask(page: Page, question: str) -> None:
    box = page.locator("#chat-question textarea")
    box.fill(question)
    page.locator("#chat-ask").click()


def test_edit_in_curate_changes_the_chat_answer(page: Page, app: RunningApp) -> None:
    open_tab(page, "Chat")
    ask(page, QUESTION)
    chain = page.locator("#chat-chain")
    expect(chain.locator(".kg-answer")).to_contain_text("Euro")
    expect(chain.locator(".kg-badge-base").first).to_be_visible()
    shoot(page, "1-chat-before-edit")

    open_tab(page, "Curate")
    pick(page, "curate-entity", "French Rep", "France")
    expect(page.locator("#curate-facts")).to_contain_text("Euro")
    pick(page, "edit-relation", "curr", "currency")
    pick(page, "edit-object", "Swiss", "Swiss Franc")
    page.locator("#edit-preview").click()
    preview = page.locator("#edit-preview-text")
    expect(preview).to_contain_text("Supersedes")
    expect(preview).to_contain_text("Paris —country→ France —currency→ Swiss Franc")
    page.locator("#edit-commit").click()
    expect(page.locator("#edit-outcome")).to_contain_text("Committed E1")
    expect(page.locator("#curate-facts")).to_contain_text("Swiss Franc")
    page.get_by_text("Edit log and conflicts").click()
    expect(page.locator("#curate-log")).to_contain_text("E1")
    shoot(page, "2-curate-after-commit")

    open_tab(page, "Chat")
    ask(page, QUESTION)
    expect(chain.locator(".kg-answer")).to_contain_text("Swiss Franc")
    expect(chain.locator("li.kg-hop .kg-badge-edit")).to_contain_text("edit E1")
    expect(page.locator("#chat-log")).to_contain_text("Swiss Franc")
    shoot(page, "3-chat-after-edit")
    assert [f.object for f in app.store.objects("country:FRA", "P38")] == ["currency:CHF"]


def test_curate_refuses_a_duplicate_and_lists_the_new_edit_to_retract_without_a_refresh(page: Page) -> None:
    open_tab(page, "Curate")
    page.locator("#edit-commit").click()  # the same fields again: France · currency → Swiss Franc
    expect(page.locator("#edit-outcome")).to_contain_text("Not committed")
    expect(page.locator("#edit-outcome")).to_contain_text("already the current fact")
    page.get_by_text("Retract an edit").click()
    page.locator("#retract-pick input").click()
    expect(page.get_by_role("option", name=re.compile(r"^E1: France · currency → Swiss Franc"))).to_be_visible()
    shoot(page, "2b-curate-duplicate-and-retract-list")
    page.keyboard.press("Escape")


def test_an_empty_question_shows_one_plain_message(page: Page) -> None:
    open_tab(page, "Chat")
    page.locator("#chat-question textarea").fill("")
    page.locator("#chat-ask").click()
    expect(page.locator("#chat-log")).to_contain_text("Type a question first")
    expect(page.get_by_text("Error", exact=True)).to_have_count(0)
    shoot(page, "3b-chat-empty-question")


@pytest.mark.usefixtures("franc_edit")
def test_graph_tab_draws_the_edited_edge_and_clicks_through(page: Page) -> None:
    open_tab(page, "Graph")
    pick(page, "graph-entity", "Franc", "France")
    expect(page.locator("#graph-image img")).to_be_visible()
    edges = page.locator("#graph-edges")
    expect(edges).to_contain_text("Swiss Franc")
    expect(edges).to_contain_text("E1")
    shoot(page, "4-graph")
    pick(page, "graph-neighbour", "Germ", "Germany")
    expect(page.locator("#graph-entity input")).to_have_value(re.compile("^Germany"))
    expect(edges).to_contain_text("Berlin")


def test_evaluate_tab_runs_a_small_sample(page: Page) -> None:
    open_tab(page, "Evaluate")
    expect(page.locator("#eval-dataset input")).to_have_value("datasets/mquake_dev.json")
    page.locator("#eval-sample input").fill("2")
    page.locator("#eval-batches textarea, #eval-batches input").first.fill("1")
    page.locator("#eval-run").click()
    expect(page.locator("#eval-table")).to_contain_text("consistent")
    expect(page.locator("#eval-summary")).to_contain_text("MQuAKE evaluation")
    expect(page.locator("#eval-summary")).not_to_contain_text("old answer")  # the metrics table is shown once
    for plot in ("#eval-plot-0 img", "#eval-plot-1 img"):
        expect(page.locator(plot)).to_be_visible()
    shoot(page, "5-evaluate")


def test_evaluate_runs_the_bundled_dev_set_from_a_fresh_home(
    browser: Any, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    from qa import systems
    from tests.app.test_evaluate_tab import Silent

    # A system that never answers: what is tested is that a new user can run the bundled set.
    monkeypatch.setitem(systems._FACTORIES, "silent", lambda store, context: Silent())
    fresh = start_app(tmp_path_factory.mktemp("fresh-home"))
    running = next(fresh)
    try:
        tab = new_tab(browser, running.url)
        open_tab(tab, "Evaluate")
        expect(tab.locator("#eval-dataset input")).to_have_value("bundled/mquake_dev.json")
        pick(tab, "eval-system", "silent", "silent")
        tab.locator("#eval-sample input").fill("2")
        tab.locator("#eval-batches textarea, #eval-batches input").first.fill("1")
        tab.locator("#eval-run").click()
        expect(tab.locator("#eval-table")).to_contain_text("consistent")
        expect(tab.locator("#eval-plot-1 img")).to_be_visible()
        shoot(tab, "5b-evaluate-fresh-home")
        tab.close()
    finally:
        fresh.close()


@pytest.mark.usefixtures("franc_edit")
def test_model_tab_offers_the_active_edit_for_propagation(page: Page) -> None:
    open_tab(page, "Model")
    expect(page.locator("#model-status")).to_contain_text("No deltas applied")
    page.locator("#model-edits input").click()
    expect(page.get_by_role("option", name=re.compile(r"^E1: France · currency → Swiss Franc"))).to_be_visible()
    shoot(page, "6-model")
