"""An extractor upgrade is not an edit: a fetch that differs from a version an older extractor
read is compared with today's reading of that version's page."""

from __future__ import annotations

import pytest

from newsdiff import pages
from newsdiff.replay import corpus_pages
from newsdiff.store import STATE_FIELDS


@pytest.fixture(scope="module")
def page():
    url, source = next(iter(corpus_pages("nytimes")))
    html = source.read_bytes()
    return url, html, pages.extract(html, url, "nytimes").to_dict()


def fetch(pipeline, page, minutes, version, **changes):
    url, html, fields = page
    return pipeline(minutes, url=url, html=html, extractor_version=version, **(fields | changes))


def labels(store):
    return [v["label"] for v in store.versions.find({}, sort=[("number", 1)])]


def test_a_new_reading_of_the_same_page_is_not_a_version(pipeline, store, page):
    # Version 0 as an older extractor read the page: the site name left in the title.
    fetch(pipeline, page, 0, "0", title=page[2]["title"] + " - The New York Times")
    fetch(pipeline, page, 30, pages.EXTRACTOR_VERSION)
    assert labels(store) == ["first"]
    stats = pipeline.crawler.stats
    assert stats.get_value("newsdiff/extract/reread") == 1
    assert stats.get_value("newsdiff/checks/unchanged") == 1
    # The article now holds today's reading: the next same fetch needs no second reading.
    article = store.articles.find_one({"url": page[0]}, STATE_FIELDS)
    assert article["extractor_version"] == pages.EXTRACTOR_VERSION
    fetch(pipeline, page, 60, pages.EXTRACTOR_VERSION)
    assert labels(store) == ["first"]
    assert stats.get_value("newsdiff/extract/reread") == 1
    assert stats.get_value("newsdiff/checks/unchanged") == 2


def test_an_edit_after_an_upgrade_is_the_edit_alone(pipeline, store, page):
    fetch(pipeline, page, 0, "0", title=page[2]["title"] + " - The New York Times")
    edited = [*page[2]["body"], "An added paragraph that the newsroom wrote after publication."]
    fetch(pipeline, page, 30, pages.EXTRACTOR_VERSION, body=edited)
    assert labels(store) == ["first", "change"]
    latest = store.versions.find_one({"number": 1})
    assert latest["changed"] == ["body"]  # not the title: today's rules read it the same
    assert latest["extractor_version"] == pages.EXTRACTOR_VERSION


def test_the_same_extractor_is_not_read_again(pipeline, store, page):
    fetch(pipeline, page, 0, pages.EXTRACTOR_VERSION, title="A Headline Before the Edit")
    fetch(pipeline, page, 30, pages.EXTRACTOR_VERSION)
    assert labels(store) == ["first", "change"]
    assert store.versions.find_one({"number": 1})["changed"] == ["title"]
    assert pipeline.crawler.stats.get_value("newsdiff/extract/reread") is None


def test_a_shorter_reading_is_not_a_shrunk_body(pipeline, store, page):
    # The older extractor kept a long run of page furniture that today's rules leave out.
    furniture = ["Read more of our coverage of the city and the region in the newsletter. " * 40]
    fetch(pipeline, page, 0, "0", body=page[2]["body"] + furniture * 8)
    fetch(pipeline, page, 30, pages.EXTRACTOR_VERSION)
    assert labels(store) == ["first"]
    article = store.articles.find_one({"url": page[0]})
    assert article["status"] == "live"
    assert pipeline.crawler.stats.get_value("newsdiff/extract/shrunk") is None


def test_articles_stored_before_summaries_gain_one_without_a_version(pipeline, store, page):
    """Versions stored before the summary field: their hashes have none, and the page's
    description is not an edit of every article when today's extractor first reads it."""
    assert page[2]["summary"]  # the NYT page's description
    fetch(pipeline, page, 0, "6", summary=None)
    for collection in (store.articles, store.versions):  # as a release without summaries stored
        collection.update_many({}, {"$unset": {"hashes.summary": "", "loose_hashes.summary": ""}})
    fetch(pipeline, page, 30, "6", summary=None)  # the same extractor: no summary, no change
    fetch(pipeline, page, 60, pages.EXTRACTOR_VERSION)
    assert labels(store) == ["first"]
    assert pipeline.crawler.stats.get_value("newsdiff/extract/reread") == 1
    edited = page[2]["summary"] + " Updated with the mayor's response."
    fetch(pipeline, page, 90, pages.EXTRACTOR_VERSION, summary=edited)
    assert labels(store) == ["first", "change"]
    latest = store.versions.find_one({"number": 1})
    assert latest["changed"] == ["summary"] and latest["summary"] == edited
