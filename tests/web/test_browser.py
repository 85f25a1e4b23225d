"""The viewer in a real headless Chromium (Debian's `chromium`, driven by Playwright).

Needs `apt-get install -y chromium` and `pip install playwright` (never `playwright install`:
the browser is Debian's). Screenshots go to artifacts/screenshots/.
"""

from __future__ import annotations

import re
import threading
from pathlib import Path

import feedparser
import pytest

from tests.web.conftest import XSS_BODY, XSS_BYLINE, XSS_SUMMARY, XSS_TITLE
from tests.web.test_summary import DEK, EDITED, dek_story

pytestmark = pytest.mark.slow

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
SHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"


def in_browser(scenario, *args):
    """Run scenario(page, *args) in a fresh Chromium, on a thread of its own: Playwright's sync
    API must not meet the asyncio loop that pytest-twisted runs on the main thread."""
    if not CHROMIUM.exists():
        pytest.fail("browser tests need Debian's Chromium: apt-get install -y chromium")
    outcome: dict = {}

    def run():
        try:
            from playwright.sync_api import sync_playwright

            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
                try:
                    page = browser.new_page(viewport={"width": 1280, "height": 900})
                    page.dialogs = []  # any alert/confirm/prompt would mean a script ran
                    page.errors = []
                    page.on("dialog", lambda d: (page.dialogs.append(d.message), d.dismiss()))
                    page.on("pageerror", lambda e: page.errors.append(str(e)))
                    scenario(page, *args)
                    outcome["done"] = True
                finally:
                    browser.close()
        except BaseException as exc:  # re-raised on the test's thread
            outcome["error"] = exc

    thread = threading.Thread(target=run, name="playwright")
    thread.start()
    thread.join(180)
    if thread.is_alive():
        raise TimeoutError("the browser scenario did not finish in 3 minutes")
    if "error" in outcome:
        raise outcome["error"]
    assert outcome.get("done"), "the browser scenario did not run to its end"


def test_read_an_article_open_a_diff_follow_the_feed(live_server, seeded):
    in_browser(read_article_diff_and_feed, live_server, seeded)


def read_article_diff_and_feed(page, live_server, seeded):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.goto(live_server + "/")
    assert page.title() == "Recently changed articles · newsdiff"
    page.get_by_role("link", name="Council Narrowly Approves Budget").click()

    # The article page: the story in sentences, then the versions.
    page.wait_for_url(f"**/articles/{seeded.budget}")
    assert page.locator("h1").inner_text() == "Council Narrowly Approves Budget"
    story = page.locator("p.story").inner_text()
    assert "It last changed 55 minutes ago" in story
    assert "The article has changed 3 times." in story
    versions = page.locator("table.versions tbody tr")
    assert versions.count() == 4  # trivial and flip-flop hidden
    assert "Version 1 (35 minutes later)" in versions.nth(1).inner_text()
    page.screenshot(path=SHOTS / "article.png", full_page=True)

    # One click shows the hidden versions.
    page.get_by_role("link", name=re.compile("Show 2 hidden versions")).click()
    assert page.locator("table.versions tbody tr").count() == 6
    page.go_back()

    # The compare form (no JavaScript needed) opens the diff of the two newest versions.
    page.get_by_role("button", name="Compare the selected versions").click()
    page.wait_for_url(f"**/articles/{seeded.budget}/diff/3/5")
    assert page.locator("table.body del").count() >= 1
    assert page.locator("table.body ins").count() >= 1
    assert (
        "The mayor declined to comment on Wednesday."
        in page.locator("table.body ins").all_inner_texts()
    )
    # Side by side: the new column starts right of the old one.
    left, right = page.locator("table.body td.old").first, page.locator("table.body td.new").first
    assert right.bounding_box()["x"] > left.bounding_box()["x"] + 300
    assert right.bounding_box()["y"] == left.bounding_box()["y"]
    assert page.locator("section.field-byline").is_visible()  # byline change above the body
    page.screenshot(path=SHOTS / "diff.png", full_page=True)

    page.get_by_role("link", name=re.compile("Previous change")).click()
    page.wait_for_url(f"**/articles/{seeded.budget}/diff/1/3")
    assert "very" in page.locator("table.body ins").all_inner_texts()[0]

    # Follow the feed link from the article page.
    page.goto(f"{live_server}/articles/{seeded.budget}")
    with page.expect_response(re.compile(r"/feed\.atom$")) as info:
        page.get_by_role("link", name="Atom feed of changes").click()
    response = info.value
    assert response.headers["content-type"].startswith("application/atom+xml")
    feed = feedparser.parse(response.body())
    assert not feed.bozo and len(feed.entries) == 4
    assert "Council Narrowly Approves Budget" in page.locator("body").inner_text()
    page.screenshot(path=SHOTS / "feed.png", full_page=True)
    assert page.dialogs == [] and page.errors == []


def test_hostile_article_runs_nothing_and_shows_its_text(fresh_live_server, hostile):
    in_browser(hostile_article, fresh_live_server, hostile)


def hostile_article(page, fresh_live_server, hostile):
    SHOTS.mkdir(parents=True, exist_ok=True)
    pages = [
        f"/articles/{hostile}",
        f"/articles/{hostile}/diff/0/1",
        f"/articles/{hostile}/versions/0",
        "/",
    ]
    for path in pages:
        page.goto(fresh_live_server + path)
        page.wait_for_load_state("load")
        assert page.evaluate("typeof window.__pwned") == "undefined", path
        # No element the article text tried to create exists; it is all text.
        for tag in ("script", "img", "svg", "iframe", "b", "style"):
            assert page.locator(tag).count() == 0, (path, tag)
    assert page.dialogs == []

    page.goto(f"{fresh_live_server}/articles/{hostile}/versions/0")
    assert page.locator("h1").inner_text() == XSS_TITLE
    assert page.locator("p.byline").inner_text() == ", ".join(XSS_BYLINE)
    assert page.locator("p.dek").inner_text() == XSS_SUMMARY
    body = page.locator("article.version-text > p:not(.byline):not(.dek)").all_inner_texts()
    assert body[: len(XSS_BODY)] == XSS_BODY
    assert page.locator("body").is_visible()  # the injected <style> hid nothing

    page.goto(f"{fresh_live_server}/articles/{hostile}/diff/0/1")
    assert (
        '<img src=x onerror="window.__pwned=4">' in page.locator("table.body ins").all_inner_texts()
    )
    assert page.evaluate("typeof window.__pwned") == "undefined"
    page.screenshot(path=SHOTS / "hostile-diff.png", full_page=True)
    assert page.dialogs == [] and page.errors == []


def test_hostile_text_in_search_snippets_stays_text(
    fresh_live_server, hostile, store, crawl_settings
):
    from newsdiff import search

    search.catch_up(store, search.SearchIndex(search.index_root(crawl_settings())))
    in_browser(hostile_snippets, fresh_live_server)


def hostile_snippets(page, fresh_live_server):
    SHOTS.mkdir(parents=True, exist_ok=True)
    for path in ("/search?q=pwned", "/search/changes?q=pwned", "/search/changes?added=pwned"):
        page.goto(fresh_live_server + path)
        page.wait_for_load_state("load")
        assert page.evaluate("typeof window.__pwned") == "undefined", path
        assert page.locator("li.hit").count() >= 1, path
        assert page.locator("p.snippet mark").count() >= 1, path  # our highlight, nothing else
        for tag in ("script", "img", "svg", "iframe", "b", "style"):
            assert page.locator(f"main {tag}").count() == 0, (path, tag)
        text = " ".join(page.locator("p.snippet").all_inner_texts())
        assert "<script>" in text or "<img" in text, path  # shown as the text it was
    page.goto(fresh_live_server + "/search?q=pwned")
    assert "<script>window.__pwned" in page.locator("li.hit").first.inner_text()
    page.screenshot(path=SHOTS / "hostile-search.png", full_page=True)
    assert page.dialogs == [] and page.errors == []


def test_a_summary_edit_reads_under_the_headline_and_above_the_body(
    fresh_live_server, ingest, store
):
    in_browser(summary_edit, fresh_live_server, dek_story(ingest, store))


def summary_edit(page, fresh_live_server, aid):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.goto(f"{fresh_live_server}/articles/{aid}/versions/0")
    headline, dek = page.locator("article h1"), page.locator("article p.dek")
    assert dek.inner_text() == DEK
    assert dek.bounding_box()["y"] > headline.bounding_box()["y"]  # shown under the headline
    assert dek.bounding_box()["y"] < page.locator("article p:not(.dek)").first.bounding_box()["y"]

    page.goto(f"{fresh_live_server}/articles/{aid}/diff/0/1")
    section = page.locator("section.field-summary")
    assert section.is_visible()
    assert section.locator("h2").inner_text() == "Summary changed"
    assert section.locator("ins").all_inner_texts() == ["bitter "]
    assert section.locator("td.new").inner_text() == EDITED
    body = page.locator("section.field-body")
    assert section.bounding_box()["y"] < body.bounding_box()["y"]
    page.screenshot(path=SHOTS / "summary-diff.png", full_page=True)
    assert page.dialogs == [] and page.errors == []


ARABIC_URL = "https://www.example.com/ar/2026/11/30/floods"
ARABIC = ["قالت السلطات إن الأمطار تسببت في فيضانات.", "وأضافت أن الحركة ستعود إلى طبيعتها."]


def test_right_to_left_text_reads_from_the_right(fresh_live_server, ingest, store):
    title = "فيضانات في المدينة"
    ingest(ARABIC_URL, 0, title=title, body=ARABIC)
    ingest(ARABIC_URL, 30, title=title, body=[ARABIC[0].replace("فيضانات", "سيول"), ARABIC[1]])
    aid = str(store.articles.find_one({"url": ARABIC_URL})["_id"])
    in_browser(right_to_left, fresh_live_server, aid)


def _text_edges(page, selector: str) -> tuple[float, float, float, float]:
    """(text left, text right, box left, box right) of the first element `selector` finds."""
    return page.eval_on_selector(
        selector,
        """el => { const r = document.createRange(); r.selectNodeContents(el);
                   const t = r.getBoundingClientRect(), b = el.getBoundingClientRect();
                   const pad = parseFloat(getComputedStyle(el).paddingRight);
                   return [t.left, t.right, b.left, b.right - pad]; }""",
    )


def right_to_left(page, fresh_live_server, aid):
    page.goto(f"{fresh_live_server}/articles/{aid}/versions/0")
    for selector in ("article h1", "article p:last-of-type"):
        left, right, box_left, box_right = _text_edges(page, selector)
        assert abs(right - box_right) < 2, selector  # starts on the right, as Arabic does
        assert left - box_left > 100, selector  # a short line: the space is on its left
    page.goto(f"{fresh_live_server}/articles/{aid}/diff/0/1")
    left, right, box_left, box_right = _text_edges(page, "section.field-body tr td.new")
    assert abs(right - box_right) < 2 and left - box_left > 50
    assert page.locator("section.field-body ins").all_inner_texts() == ["سيول"]
    page.screenshot(path=SHOTS / "right-to-left-diff.png", full_page=True)
    assert page.dialogs == [] and page.errors == []
