"""Discovery: what a crawl fetches besides the pages it is handed. start() yields the listings (RSS
feeds, news sitemaps) and the re-checks that are due; a listing's article URLs become requests:
new ones through deltafetch, tracked ones that its change signals say changed re-checked now.

The outlet's URL rules and requests (canonical, is_article_url, article_request,
recheck_request) and the spider arguments (mode, force) are OutletSpider's (base.py)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from functools import cached_property
from typing import Any

from scrapy import Request, Spider
from scrapy.http import Response

from newsdiff.spiders import listings
from newsdiff.spiders.signals import ChangeSignals
from newsdiff.storage import CrawlStore

logger = logging.getLogger(__name__)


class Discovery(Spider):
    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._rechecking: set[str] = set()  # URLs re-checked in this crawl (due or signalled)

    @cached_property
    def change_signals(self) -> ChangeSignals:
        return ChangeSignals(self.crawler, self.name)

    async def start(self):
        if self.mode in ("all", "discover"):
            for url in self.feeds:
                yield Request(url, self.parse_feed, dont_filter=True, errback=self.listing_failed)
            for url in self.sitemaps:
                yield Request(
                    url, self.parse_sitemap, dont_filter=True, errback=self.listing_failed
                )
        if self.mode in ("all", "recheck") or self.force:
            for request in self.recheck_requests():
                yield request

    def recheck_requests(self):
        settings = self.crawler.settings
        budget = settings.getint("NEWSDIFF_RECHECK_BUDGET")
        due = CrawlStore.of(self.crawler).store.due(
            self.name, datetime.now(UTC), budget, force=self.force
        )
        self.crawler.stats.set_value("newsdiff/recheck/due", len(due))
        for state in due:
            if state["url"] not in self._rechecking:  # a signal may have asked for it already
                self._rechecking.add(state["url"])
                yield self.recheck_request(state)

    async def parse_feed(self, response: Response):
        feed = listings.feed_entries(response.body)
        if feed.error is not None:
            self.crawler.stats.inc_value("newsdiff/discovery/malformed_feeds")
            logger.warning(
                "Feed %s is not well-formed (%s); using the %d entries that could be read",
                response.url,
                feed.error,
                len(feed.entries),
            )
        for request in await self.discovered(response, feed.entries):
            yield request

    async def parse_sitemap(self, response: Response):
        max_size = self.crawler.settings.getint("DOWNLOAD_MAXSIZE")
        try:
            sitemap = listings.sitemap_entries(response.body, max_size)
        except listings.SitemapError as exc:
            self.crawler.stats.inc_value("newsdiff/discovery/malformed_sitemaps")
            logger.warning("Sitemap %s could not be parsed: %s", response.url, exc)
            return
        if sitemap.index:
            for loc, _ in sitemap.entries:
                try:
                    yield Request(loc, self.parse_sitemap, errback=self.listing_failed)
                except ValueError as exc:  # a relative or broken <loc>: the others still count
                    self.crawler.stats.inc_value("newsdiff/discovery/bad_urls")
                    logger.warning("Sitemap %s lists %r: %s", response.url, loc, exc)
        else:
            for request in await self.discovered(response, sitemap.entries):
                yield request

    async def discovered(self, response: Response, entries: list[listings.Entry]) -> list[Request]:
        """Requests for a listing's article URLs: new ones go through deltafetch; tracked ones
        whose announced modification time is newer than our last check are re-checked now."""
        stats = self.crawler.stats
        announced = listings.articles(entries, self.canonical, self.is_article_url)
        stats.inc_value("newsdiff/discovery/urls", len(announced))
        if not announced:
            stats.inc_value("newsdiff/discovery/empty_listings")
            logger.warning("Listing %s gave no article URLs", response.url)
        stamps = {url: when for url, when in announced.items() if when is not None}
        due = await self.change_signals.due(response.url, stamps)
        requests = []
        for url in sorted(announced):
            if url not in due:
                requests.append(self.article_request(url))
            # Not twice in a crawl (due, or another listing's signal), nor over the budget.
            elif url not in self._rechecking and self.change_signals.spend():
                self._rechecking.add(url)
                state, when = due[url]
                requests.append(self.recheck_request(state, announced=when))
        return requests

    def listing_failed(self, failure):
        self.crawler.stats.inc_value("newsdiff/discovery/failed_listings")
        logger.warning("Listing %s failed: %s", failure.request.url, failure.getErrorMessage())
