"""The summary (the publisher's description, a dek) through the viewer: a version shows it under
the headline; an edit of it alone is a version whose diff shows it word by word above the body;
the JSON API, the feeds and search carry it. A version stored before summaries were recorded
shows no summary change."""

from __future__ import annotations

import re

import feedparser

from newsdiff import search
from newsdiff.search import SearchIndex
from tests.web.conftest import article_id
from tests.web.test_pages import text

URL = "https://www.nytimes.com/2026/01/01/us/dek.html"
DEK = "The council approved the budget after a long night of debate."
EDITED = "The council approved the budget after a long night of bitter debate."


def dek_story(ingest, store) -> str:
    ingest(URL, 0, title="Budget Passes", summary=DEK)
    ingest(URL, 30, title="Budget Passes", summary=EDITED)
    return article_id(store, URL)


def test_an_edited_summary_is_a_version_shown_word_by_word(fresh_client, ingest, store):
    aid = dek_story(ingest, store)
    latest = store.versions.find_one({"url": URL, "number": 1})
    assert latest["label"] == "change" and latest["changed"] == ["summary"]

    html = fresh_client.get(f"/articles/{aid}/diff/0/1").text
    page = text(html)
    assert f"Summary changed from “{DEK}” to “{EDITED}” Picture" in page  # the diff's sentence
    assert html.index("Summary changed</h2>") < html.index("<h2>Body")
    assert re.search(r"<ins>\s?bitter\s?</ins>", html)
    assert "Headline, byline, corrections unchanged." in page
    assert "Body unchanged" in page

    article = fresh_client.get(f"/articles/{aid}").text
    assert f'<p class="dek">{EDITED}</p>' in article  # the latest, under the headline
    assert fresh_client.get(f"/api/articles/{aid}").json()["article"]["summary"] == EDITED

    version = fresh_client.get(f"/articles/{aid}/versions/1").text
    assert f'<p class="dek">{EDITED}</p>' in version
    assert version.index("<h1>") < version.index('class="dek"')

    api = fresh_client.get(f"/api/articles/{aid}/diff/0/1").json()["diff"]
    assert api["changed"] == ["summary"]
    assert api["fields"]["summary"]["words"] == {"added": 1, "removed": 0}
    assert fresh_client.get(f"/api/articles/{aid}/versions/0").json()["version"]["summary"] == DEK

    feed = feedparser.parse(fresh_client.get(f"/articles/{aid}/feed.atom").content)
    assert not feed.bozo
    change = feed.entries[0].content[0].value
    assert "<h3>Summary</h3>" in change and re.search(r"<ins>\s?bitter\s?</ins>", change)


def test_search_finds_a_summary_and_its_edit(fresh_client, ingest, store, crawl_settings):
    aid = dek_story(ingest, store)
    search.catch_up(store, SearchIndex(search.index_root(crawl_settings())))
    found = fresh_client.get("/api/search", params={"q": '"long night"'}).json()["hits"]
    assert {h["article_id"] for h in found} == {aid}
    changes = fresh_client.get("/api/search/changes", params={"q": "added:bitter"}).json()
    assert [(h["article_id"], h["number"]) for h in changes["hits"]] == [(aid, 1)]


def test_a_version_from_before_summaries_shows_no_summary_change(fresh_client, ingest, store):
    """Versions stored before the field have no summary key: the next version's summary is not
    shown (or found) as added, and the diff does not claim the summary was unchanged."""
    ingest(URL, 0, title="Budget Passes")
    store.versions.update_one({"url": URL, "number": 0}, {"$unset": {"summary": ""}})
    ingest(URL, 30, title="Budget Passes Narrowly", summary=DEK)
    aid = article_id(store, URL)
    html = fresh_client.get(f"/articles/{aid}/diff/0/1").text
    assert "Headline changed" in text(html)
    assert "Summary" not in text(html)
    assert search.change_text(
        store.versions.find_one({"number": 0}), store.versions.find_one({"number": 1})
    ) == (["Narrowly"], [])


def test_a_summary_that_opens_the_body_is_not_shown_twice(fresh_client, ingest, store):
    ingest(URL, 0, title="Budget Passes", summary=DEK, body=[DEK, "The vote was 7-2."])
    version = fresh_client.get(f"/articles/{article_id(store, URL)}/versions/0").text
    assert 'class="dek"' not in version and text(version).count(DEK) == 1
