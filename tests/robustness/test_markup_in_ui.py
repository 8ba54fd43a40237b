"""User text (labels, notes, answers, questions) is shown as the characters it is made of, in every
UI output: chat Markdown, the chain panel, Curate's Markdown and tables, previews, graph pictures,
error toasts. The last test checks in headless Chromium that nothing a label carries executes.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.config import load_settings
from app.service.impact import preview_edit
from app.ui.chat import chain_html, chain_markdown
from app.ui.curate import conflicts_markdown
from app.ui.graph_view import draw, neighbourhood
from app.ui.impact import render_preview
from app.ui.markup import md_text
from app.ui.services import Services
from kg.demo import load_demo
from kg.records import EditRequest, Entity, Origin
from kg.store import FactStore
from qa.trace import Answer, Hop, Trace
from tests.app.conftest import RunningApp, start_app

HOSTILE = [
    "<img src=x onerror=alert(1)>",
    "<script>window.__kgPwned = 1</script>",
    "![tracker](http://203.0.113.9/pixel.png)",
    "[click me](javascript:alert(1))",
    "$$\\frac{1}{0}$$",
    "$\\undefinedcmd$",
    "a $x^ $ b",
    "# Heading\n- list item",
    "| a | b |\n|---|---|",
    "**bold** _it_ `code` ~~gone~~",
    "Mercury [planet]",
    "&lt;b&gt;entity&amp;",
]
# What must never reach a Markdown output raw: an HTML tag, an image or link opener, a LaTeX block.
RAW = re.compile(r"<(?!/?(span|b|i|br|small|ol|li|div|details|summary|table|tr|td|th)\b)|!\[|\]\(|\$\$")
RAW_HTML = re.compile(r"<(?!/?(span|b|i|br|small|ol|li|div|details|summary|table|tr|td|th)\b)")  # gr.HTML
EVIL_IMG = HOSTILE[0]
EVIL_SCRIPT = HOSTILE[1]


@pytest.mark.parametrize("text", HOSTILE)
def test_md_text_leaves_no_markup_and_keeps_every_character_readable(text: str) -> None:
    escaped = md_text(text)
    assert not RAW.search(escaped.replace("<span", "")), escaped
    assert "\n" not in escaped
    visible = re.sub(r"\\(.)", r"\1", escaped)  # what Markdown shows: escapes dropped, entities read
    import html

    assert html.unescape(visible) == text.replace("\n", " ")


@pytest.fixture
def hostile_services(tmp_path: Path) -> Iterator[Services]:
    store = FactStore.open("memory:")
    load_demo(store)
    store.add_entities([Entity(f"evil:{i}", text) for i, text in enumerate(HOSTILE)])
    yield Services(load_settings({"KGEDIT_HOME": str(tmp_path)}), store)
    store.close()


def hostile_answer(services: Services) -> Answer:
    hops = [
        Hop(question=f"What is the capital of {text}?", answer=text, origin=Origin.BASE, note=text)
        for text in HOSTILE
    ]
    trace = Trace(question=" ".join(HOSTILE), system="graph", hops=hops, grounded=False, reason=HOSTILE[0])
    return Answer(text=HOSTILE[0], trace=trace)


def test_the_chat_transcript_and_chain_carry_no_raw_markup(hostile_services: Services) -> None:
    answer = hostile_answer(hostile_services)
    assert not RAW.search(chain_markdown(hostile_services, answer))
    assert not RAW_HTML.search(chain_html(hostile_services, answer))


def test_curate_outputs_carry_no_raw_markup(hostile_services: Services) -> None:
    store = hostile_services.store
    for i in range(len(HOSTILE)):
        store.edit(EditRequest("country:FRA", "P36", f"evil:{i}", (), "curator", HOSTILE[i], "test"))
        store.edit(EditRequest("country:DEU", "P36", f"evil:{i}", (), "curator", HOSTILE[i], "test"))
    assert not RAW.search(conflicts_markdown(hostile_services))
    preview = preview_edit(store, "country:FRA", store.require_relation("P36"), "evil:0", False)
    assert not RAW.search(render_preview(preview, hostile_services.labels()))


def test_the_graph_picture_draws_labels_that_look_like_formulas(hostile_services: Services) -> None:
    store = hostile_services.store
    for i in range(len(HOSTILE)):
        store.edit(EditRequest("country:FRA", "P37", f"evil:{i}", (), "curator", "", "test"))
    hood = neighbourhood(store, "country:FRA")
    picture = draw(hood, hostile_services.labels(), {r.id: r.label for r in store.relations()})
    assert picture is not None


# ----- in the browser: nothing executes, every label reads as typed ------------------------------

playwright_api = pytest.importorskip("playwright.sync_api")


class CapitalOfFrance:
    """Answers every question with France's current capital, as one edited hop (no models needed)."""

    def __init__(self, services: Services) -> None:
        self.services = services

    def answer(self, question: str) -> Answer:
        [fact] = self.services.store.objects("country:FRA", "P36")
        label = self.services.label(fact.object)
        hop = Hop(question=question, answer=label, fact=fact, origin=fact.origin, note=label)
        return Answer(text=label, trace=Trace(question=question, system="graph", hops=[hop]))


@pytest.fixture(scope="module")
def hostile_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningApp]:
    for app in start_app(tmp_path_factory.mktemp("markup-home")):
        app.store.add_entities([Entity("evil:img", EVIL_IMG), Entity("evil:script", EVIL_SCRIPT)])
        app.store.edit(EditRequest("country:FRA", "P36", "evil:img", (), EVIL_SCRIPT, EVIL_IMG, "test"))
        app.store.edit(EditRequest("country:ITA", "P36", "evil:script", (), "curator", EVIL_SCRIPT, "test"))
        stand_in = CapitalOfFrance(app.services)
        app.services.system = lambda name, system=stand_in: system  # type: ignore[method-assign]
        yield app


@pytest.mark.browser
def test_hostile_labels_do_not_execute_in_the_browser(hostile_app: RunningApp) -> None:
    from tests.app.test_browser import install_chromium

    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=install_chromium(), args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.set_default_timeout(180_000)
        dialogs: list[str] = []
        outside: list[str] = []
        page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
        page.on(
            "request",
            lambda r: (
                None
                if re.match(r"https?://127\.0\.0\.1[:/]", r.url) or r.url.startswith(("data:", "blob:"))
                else outside.append(r.url)
            ),
        )
        page.goto(hostile_app.url)

        page.locator("#chat-question textarea").fill("What is the capital of France?")
        page.locator("#chat-ask").click()
        playwright_api.expect(page.locator("#chat-chain .kg-answer")).to_contain_text(EVIL_IMG)
        playwright_api.expect(page.locator("#chat-log")).to_contain_text(EVIL_IMG)

        page.get_by_role("tab", name="Curate").click()
        entity = page.locator("#curate-entity input")
        entity.fill("country:ITA")
        entity.press("Enter")
        page.get_by_role("button", name="Show facts").click()
        playwright_api.expect(page.locator("#curate-facts")).to_contain_text(EVIL_SCRIPT)
        page.get_by_text("Edit log and conflicts").click()
        page.get_by_role("button", name="Refresh", exact=True).first.click()
        playwright_api.expect(page.locator("#curate-log")).to_contain_text(EVIL_IMG)

        entity.fill(EVIL_IMG + " nobody")
        entity.press("Enter")
        page.get_by_role("button", name="Show facts").click()
        playwright_api.expect(page.get_by_test_id("toast-text").first).to_contain_text(EVIL_IMG)

        page.get_by_role("tab", name="Graph").click()
        graph_entity = page.locator("#graph-entity input")
        graph_entity.fill("country:FRA")
        graph_entity.press("Enter")
        playwright_api.expect(page.locator("#graph-edges")).to_contain_text(EVIL_IMG)
        playwright_api.expect(page.locator("#graph-image img")).to_be_visible()

        executed = page.evaluate("() => window.__kgPwned === 1")
        injected = page.evaluate(
            """() => [...document.querySelectorAll("img[src='x'], img[src$='/x']")].map(
                (img) => (img.closest("[id]") || document.body).id + ": " + img.parentElement.outerHTML.slice(0, 200))"""
        )
        browser.close()
    assert dialogs == [] and not executed and injected == []
    assert outside == [], f"the page fetched outside hosts: {outside[:5]}"
