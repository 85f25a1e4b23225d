"""Listings read without a crawl: feed and sitemap bytes -> (URL, announced time) entries."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime

import pytest

from newsdiff.spiders.listings import SitemapError, articles, feed_entries, sitemap_entries

RSS = b"""<?xml version="1.0"?><rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom"
xmlns:feedburner="http://rssnamespace.org/feedburner/ext/1.0"><channel><title>t</title>
<item><link>https://a.org/1</link><atom:updated>2024-01-02T10:00:00Z</atom:updated></item>
<item><link>https://feeds.example/~r/x</link><feedburner:origLink>https://a.org/2</feedburner:origLink>
</item>
<item><title>no link</title></item>
</channel></rss>"""

SITEMAP = b"""<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
<url><loc>https://a.org/1</loc><lastmod>2024-01-02T10:00:00+01:00</lastmod></url>
<url><loc>https://a.org/2</loc></url>
<url><lastmod>2024-01-03</lastmod></url>
</urlset>"""

INDEX = b"""<?xml version="1.0" encoding="UTF-8"?>
<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
<sitemap><loc>https://a.org/news.xml</loc></sitemap></sitemapindex>"""


def test_feed_entries_take_the_original_link_and_drop_entries_without_one():
    feed = feed_entries(RSS)
    assert feed.error is None
    assert feed.entries == [
        ("https://a.org/1", datetime(2024, 1, 2, 10, tzinfo=UTC)),
        ("https://a.org/2", None),
    ]


def test_a_malformed_feed_gives_what_it_could_read_and_its_error():
    feed = feed_entries(RSS.replace(b"</channel></rss>", b"<item><link>&bogus;"))
    assert feed.error is not None
    assert [url for url, _ in feed.entries][:2] == ["https://a.org/1", "https://a.org/2"]


JSON_FEED = {
    "version": "https://jsonfeed.org/version/1.1",
    "title": "A blog",
    "items": [
        {
            "id": "1",
            "url": "https://a.org/1",
            "external_url": "https://elsewhere.example/story",
            "date_published": "2024-01-01T09:00:00Z",
            "date_modified": "2024-01-02T10:00:00Z",
        },
        {"id": "2", "url": "https://a.org/2", "date_published": "2024-01-01T09:00:00Z"},
        {"id": "3", "content_text": "a note without a page of its own"},
        "not an item",
    ],
}


@pytest.mark.parametrize("bom", [b"", b"\xef\xbb\xbf\n"])
def test_json_feed_entries_are_their_pages_with_their_modification_times(bom):
    feed = feed_entries(bom + json.dumps(JSON_FEED).encode())
    assert feed.error is None
    assert feed.entries == [
        ("https://a.org/1", datetime(2024, 1, 2, 10, tzinfo=UTC)),  # modified, not published
        ("https://a.org/2", None),
    ]


@pytest.mark.parametrize("body", [b'{"items": ', b'{"title": "no items"}', b"{\xff}"])
def test_a_broken_json_feed_is_an_error_not_a_crash(body):
    feed = feed_entries(body)
    assert feed.entries == [] and feed.error is not None


@pytest.mark.parametrize("zipped", [False, True], ids=["plain", "gzip"])
def test_sitemap_entries_with_their_lastmod(zipped):
    body = gzip.compress(SITEMAP) if zipped else SITEMAP
    sitemap = sitemap_entries(body, max_size=1_000_000)
    assert not sitemap.index
    assert sitemap.entries == [
        ("https://a.org/1", datetime(2024, 1, 2, 9, tzinfo=UTC)),
        ("https://a.org/2", None),
    ]


def test_a_sitemap_index_lists_sitemaps():
    sitemap = sitemap_entries(INDEX, max_size=1_000_000)
    assert sitemap.index
    assert sitemap.entries == [("https://a.org/news.xml", None)]


def test_garbage_is_not_a_sitemap():
    with pytest.raises(SitemapError):
        sitemap_entries(b"\x00\x01 not xml at all", max_size=1_000_000)


def test_articles_are_canonical_with_the_latest_announced_time():
    early, late = datetime(2024, 1, 1, tzinfo=UTC), datetime(2024, 1, 2, tzinfo=UTC)
    entries = [
        ("https://a.org/story?utm=1", early),
        ("https://a.org/story", late),
        ("https://a.org/story?utm=2", None),
        ("https://a.org/quiet", None),
        ("https://a.org/video/1", late),
    ]
    found = articles(entries, lambda url: url.split("?")[0], lambda url: "/video/" not in url)
    assert found == {"https://a.org/story": late, "https://a.org/quiet": None}
