"""Listings read: a feed's or a sitemap's bytes -> the (URL, announced modification time) entries
it lists. Pure functions (no engine, no store), so each format's quirks are tested on their own."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

import feedparser
from scrapy.utils.gz import gunzip
from scrapy.utils.sitemap import Sitemap

from newsdiff import schedule

Entry = tuple[str, datetime | None]  # a listed URL and when the listing says it last changed


@dataclass(frozen=True)
class Feed:
    entries: list[Entry]
    error: Exception | None = None  # the feed is not well-formed: entries are what could be read


@dataclass(frozen=True)
class SitemapListing:
    index: bool  # a sitemap index: its entries are sitemaps, not pages
    entries: list[Entry]


class SitemapError(ValueError):
    """A sitemap that could not be parsed at all."""


def feed_modified(entry) -> datetime | None:
    """A feed entry's modification time: Atom `updated` (which feedparser also reads from RSS
    atom:updated and dcterms:modified), else dc:modified; never the publication date."""
    # feedparser's .get("updated") falls back to the publication date: test the key. Its
    # parsed form drops fractions of a second, so read the text first.
    if "updated" in entry:
        announced = schedule.parse_announced(entry["updated"])
        if announced is None and entry.get("updated_parsed"):
            announced = datetime(*entry["updated_parsed"][:6], tzinfo=UTC)
        return announced
    return schedule.parse_announced(entry.get("dc_modified") or entry.get("dcterms_modified"))


def feed_entries(body: bytes) -> Feed:
    """An RSS, Atom or JSON Feed's entries; a malformed feed gives the entries read before the
    error."""
    if body.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] == b"{":
        return json_feed_entries(body)
    feed = feedparser.parse(body)
    # FeedBurner feeds (CNN's) put a redirect in <link> and the article in origLink.
    links = [(e.get("feedburner_origlink") or e.get("link"), e) for e in feed.entries]
    entries = [(link, feed_modified(e)) for link, e in links if link]
    return Feed(entries, feed.bozo_exception if feed.bozo else None)


def json_feed_entries(body: bytes) -> Feed:
    """A JSON Feed's (jsonfeed.org, versions 1 and 1.1) items: each one's url (its page, not
    external_url: the page it links to) and date_modified (never date_published)."""
    try:
        feed = json.loads(body.decode("utf-8-sig"))
    except ValueError as exc:  # UnicodeDecodeError and JSONDecodeError both are
        return Feed([], exc)
    items = feed.get("items") if isinstance(feed, dict) else None
    if not isinstance(items, list):
        return Feed([], ValueError("a JSON document that is not a JSON Feed (no items)"))
    entries = [
        (item["url"], schedule.parse_announced(modified if isinstance(modified, str) else None))
        for item in items
        if isinstance(item, dict) and isinstance(item.get("url"), str) and item["url"]
        for modified in [item.get("date_modified")]
    ]
    return Feed(entries)


def sitemap_entries(body: bytes, max_size: int) -> SitemapListing:
    """A sitemap's or sitemap index's entries, gzipped or not (at most max_size bytes unzipped).
    Raises SitemapError on bytes that are not a sitemap."""
    if body[:2] == b"\x1f\x8b":
        body = gunzip(body, max_size=max_size)
    try:
        sitemap = Sitemap(body)
    except Exception as exc:  # lxml raises several types on garbage
        raise SitemapError(str(exc)) from exc
    entries = [
        (entry["loc"], schedule.parse_announced(entry.get("lastmod")))
        for entry in sitemap
        if entry.get("loc")
    ]
    return SitemapListing(sitemap.type == "sitemapindex", entries)


def articles(
    entries: Iterable[Entry], canonical: Callable[[str], str], is_article: Callable[[str], bool]
) -> dict[str, datetime | None]:
    """A listing's article URLs (canonical) with the latest time announced for each of them;
    a link no browser could open ("http://[x]/") is left out, not the listing."""
    announced: dict[str, datetime | None] = {}
    for link, modified in entries:
        try:
            url = canonical(link)
        except ValueError:
            continue
        if is_article(url):
            known = announced.get(url)
            announced[url] = max(known, modified) if known and modified else known or modified
    return announced
