"""OutletSpider: the crawling every outlet shares.

start() yields discovery requests (RSS feeds, news sitemaps) and the re-checks that are due.
Outlet spiders only declare where to look and which URLs are articles.

Spider arguments: mode = all (default) | discover | recheck; force=1 re-checks every tracked
article of the outlet now, whatever the schedule says.

Change signals: a feed entry's `updated` (Atom, RSS atom:updated / dcterms:modified / dc:modified)
or a sitemap entry's `<lastmod>` later than our last check of a tracked article makes it due now,
in this crawl (stat newsdiff/recheck/signalled). Each listing's stamps are kept in the store; a
listing that re-stamps most entries between fetches is not trusted for
NEWSDIFF_SIGNAL_DISTRUST_HOURS (newsdiff/signals/untrusted_listings).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
from datetime import UTC, datetime, timedelta
from html import unescape as html_unescape
from typing import Any, ClassVar
from urllib.parse import urljoin, urlsplit

import feedparser
from scrapy import Request, Spider
from scrapy.http import Response
from scrapy.spidermiddlewares.httperror import HttpError
from scrapy.utils.gz import gunzip
from scrapy.utils.sitemap import Sitemap
from w3lib.encoding import http_content_type_encoding

from newsdiff import checks, pages, schedule, workers
from newsdiff.items import Article
from newsdiff.storage import CrawlStore
from newsdiff.store import StoreError
from newsdiff.text import canonical_url

logger = logging.getLogger(__name__)

MODES = ("all", "discover", "recheck")
# What a page class's NotArticle reason means for the article's status.
NOT_ARTICLE_STATUS = {"paywall": "paywalled", "interstitial": "paywalled", "empty": "failing"}


_LINK_TAG = re.compile(rb"<link\b[^>]*>", re.I)
_ATTR = re.compile(rb"""\b(rel|href)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))""", re.I)


def canonical_link_of(html: bytes) -> str | None:
    """The page's rel=canonical URL, read from its head without parsing the whole page."""
    for tag in _LINK_TAG.findall(html[:300_000]):
        attrs = {m[0].lower(): m[1] or m[2] or m[3] for m in _ATTR.findall(tag)}
        if attrs.get(b"rel", b"").lower() == b"canonical" and attrs.get(b"href"):
            return html_unescape(attrs[b"href"].decode("utf-8", "replace")).strip()
    return None


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


def _key(url: str) -> str:
    # Stored stamps are keyed by a digest: URLs hold dots, which MongoDB keys may not.
    return hashlib.blake2b(url.encode(), digest_size=8).hexdigest()


def validators_of(response: Response) -> dict[str, str]:
    """The response's ETag and Last-Modified, for the next re-check's conditional request."""
    headers = response.headers
    return {
        key: headers.get(name).decode("latin-1")
        for key, name in (("etag", "ETag"), ("last_modified", "Last-Modified"))
        if headers.get(name)
    }


class SpiderArgumentError(ValueError):
    """A spider argument (from the command line or Scrapyd's schedule.json) is invalid."""


class OutletSpider(Spider):
    feeds: ClassVar[tuple[str, ...]] = ()
    sitemaps: ClassVar[tuple[str, ...]] = ()
    article_path: ClassVar[re.Pattern]  # matched against the canonical URL's path
    keep_query: ClassVar[bool] = False  # most outlets' article URLs need no query
    url_rewrites: ClassVar[tuple[tuple[str, str], ...]] = ()  # (regex, replacement) on the URL

    def __init__(self, mode: str = "all", force: str = "0", **kwargs: Any):
        super().__init__(**kwargs)
        if mode not in MODES:
            raise SpiderArgumentError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
        if str(force) not in ("0", "1", "true", "false", ""):
            raise SpiderArgumentError(f"force must be 0 or 1, not {force!r}")
        self.mode = mode
        self.force = str(force) in ("1", "true")
        self._rechecking: set[str] = set()  # URLs re-checked in this crawl (due or signalled)
        self._signals_left: int | None = None  # NEWSDIFF_SIGNAL_BUDGET, set at the first signal

    # --- URLs -----------------------------------------------------------------------------

    def canonical(self, url: str) -> str:
        url = canonical_url(url, keep_query=self.keep_query)
        for pattern, replacement in self.url_rewrites:
            url = re.sub(pattern, replacement, url)
        return url

    def is_article_url(self, url: str) -> bool:
        parts = urlsplit(url)
        host = parts.hostname or ""
        on_site = any(host == d or host.endswith("." + d) for d in self.allowed_domains)
        return on_site and bool(self.article_path.search(parts.path))

    # --- start ----------------------------------------------------------------------------

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

    def recheck_request(self, state, *, announced: datetime | None = None) -> Request:
        """A conditional re-fetch of a tracked article."""
        headers = {}
        validators = state.get("validators") or {}
        if validators.get("etag"):
            headers["If-None-Match"] = validators["etag"]
        if validators.get("last_modified"):
            headers["If-Modified-Since"] = validators["last_modified"]
        request = self.article_request(state["url"], known=state, headers=headers)
        if announced is not None:  # a change signal: when the outlet says the article changed
            request.meta["newsdiff_announced"] = announced.isoformat()
        return request

    def article_request(self, url: str, *, known=None, headers=None) -> Request:
        meta = {
            "newsdiff_url": url,
            "newsdiff_known": known,
            "handle_httpstatus_list": [304, 404, 410],
        }
        if known is None:
            meta["deltafetch_key"] = url  # discovery: skip URLs whose item was stored before
        else:
            meta["deltafetch_enabled"] = False
        return Request(
            url,
            self.parse_article,
            headers=headers,
            meta=meta,
            dont_filter=known is not None,
            errback=self.article_failed,
        )

    # --- discovery ------------------------------------------------------------------------

    async def parse_feed(self, response: Response):
        feed = feedparser.parse(response.body)
        if feed.bozo:
            self.crawler.stats.inc_value("newsdiff/discovery/malformed_feeds")
            logger.warning(
                "Feed %s is not well-formed (%s); using the %d entries that could be read",
                response.url,
                feed.bozo_exception,
                len(feed.entries),
            )
        # FeedBurner feeds (CNN's) put a redirect in <link> and the article in origLink.
        entries = [
            (e.get("feedburner_origlink") or e.get("link"), feed_modified(e)) for e in feed.entries
        ]
        for request in await self.discovered(response, [(u, m) for u, m in entries if u]):
            yield request

    async def parse_sitemap(self, response: Response):
        body = response.body
        if body[:2] == b"\x1f\x8b":
            body = gunzip(body, max_size=self.crawler.settings.getint("DOWNLOAD_MAXSIZE"))
        try:
            sitemap = Sitemap(body)
        except Exception as exc:  # lxml raises several types on garbage
            self.crawler.stats.inc_value("newsdiff/discovery/malformed_sitemaps")
            logger.warning("Sitemap %s could not be parsed: %s", response.url, exc)
            return
        entries = [
            (entry["loc"], schedule.parse_announced(entry.get("lastmod")))
            for entry in sitemap
            if entry.get("loc")
        ]
        if sitemap.type == "sitemapindex":
            for loc, _ in entries:
                yield Request(loc, self.parse_sitemap, errback=self.listing_failed)
        else:
            for request in await self.discovered(response, entries):
                yield request

    async def discovered(
        self, response: Response, entries: list[tuple[str, datetime | None]]
    ) -> list[Request]:
        """Requests for a listing's article URLs: new ones go through deltafetch; tracked ones
        whose announced modification time is newer than our last check are re-checked now."""
        stats = self.crawler.stats
        announced: dict[str, datetime | None] = {}
        for link, modified in entries:
            url = self.canonical(link)
            if self.is_article_url(url):
                known = announced.get(url)
                announced[url] = max(known, modified) if known and modified else known or modified
        stats.inc_value("newsdiff/discovery/urls", len(announced))
        if not announced:
            stats.inc_value("newsdiff/discovery/empty_listings")
            logger.warning("Listing %s gave no article URLs", response.url)
        stamps = {url: when for url, when in announced.items() if when is not None}
        due: dict[str, tuple[dict, datetime]] | None = {}
        if stamps and self.crawler.settings.getbool("NEWSDIFF_SIGNALS_ENABLED"):
            try:
                due = await asyncio.to_thread(self.signalled, response.url, stamps)
            except StoreError as exc:  # discovery goes on; the schedule still re-checks
                stats.inc_value("newsdiff/signals/store_errors")
                logger.warning("Change signals of %s not read: %s", response.url, exc)
            if due is None:
                stats.inc_value("newsdiff/signals/untrusted_listings")
                due = {}
        if self._signals_left is None:
            self._signals_left = self.crawler.settings.getint("NEWSDIFF_SIGNAL_BUDGET")
        requests = []
        for url in sorted(announced):
            if url not in due:
                requests.append(self.article_request(url))
            elif url in self._rechecking:
                continue  # already re-checked in this crawl (due, or another listing's signal)
            elif self._signals_left <= 0:
                stats.inc_value("newsdiff/signals/over_budget")
            else:
                self._signals_left -= 1
                self._rechecking.add(url)
                stats.inc_value("newsdiff/recheck/signalled")
                state, when = due[url]
                requests.append(self.recheck_request(state, announced=when))
        return requests

    def signalled(
        self, listing: str, stamps: dict[str, datetime]
    ) -> dict[str, tuple[dict, datetime]] | None:
        """The tracked articles of `stamps` that their listing says changed since we last
        checked them (url -> (article state, announced time)); None if the listing's stamps
        are not trusted. Runs in a thread (it reads and writes the store): no stats here."""
        settings = self.crawler.settings
        store = CrawlStore.of(self.crawler).store
        now = datetime.now(UTC)
        # Milliseconds, as MongoDB keeps them, so a stamp compares equal to its stored self.
        stamps = {
            url: when.replace(microsecond=when.microsecond // 1000 * 1000)
            for url, when in stamps.items()
        }
        keyed = {_key(url): when for url, when in stamps.items()}
        previous = store.listing(listing) or {}
        before = previous.get("stamps") or {}
        untrusted_until = previous.get("untrusted_until")
        reason = schedule.restamps_everything(
            before,
            keyed,
            max_share=settings.getfloat("NEWSDIFF_SIGNAL_MAX_RESTAMPED_SHARE"),
        )
        if reason:
            hours = settings.getfloat("NEWSDIFF_SIGNAL_DISTRUST_HOURS")
            untrusted_until = now + timedelta(hours=hours)
            logger.warning(
                "Listing %s re-stamps its entries (%s): its modification times are ignored "
                "for %g hours",
                listing,
                reason,
                hours,
            )
        # Newest stamps first, at most 10,000: a news sitemap lists a few hundred.
        newest = dict(sorted(keyed.items(), key=lambda kv: kv[1], reverse=True)[:10_000])
        state = {"outlet": self.name, "fetched": now, "stamps": newest}
        store.save_listing(listing, {**state, "untrusted_until": untrusted_until})
        if untrusted_until is not None and untrusted_until > now:
            return None
        tolerance = timedelta(minutes=settings.getfloat("NEWSDIFF_SIGNAL_TOLERANCE_MINUTES"))
        due = {}
        for state in store.signal_candidates(self.name, sorted(stamps)):
            if state.get("status") == "not-article" and not state.get("version_count"):
                continue  # never an article: nothing to re-check
            announced = stamps[state["url"]]
            if announced > now:
                # A stamp in the future (a skewed clock) means "now" once, then only if it moves.
                if before.get(_key(state["url"])) == announced:
                    continue
                announced = now
            last_checked = state.get("last_checked") or state.get("first_seen") or now
            modified = schedule.parse_announced(state.get("modified"))
            if not schedule.signalled(
                announced,
                last_checked=last_checked,
                modified=modified,
                tolerance=tolerance,
            ):
                continue
            due[state["url"]] = (state, announced)
        return due

    def listing_failed(self, failure):
        self.crawler.stats.inc_value("newsdiff/discovery/failed_listings")
        logger.warning("Listing %s failed: %s", failure.request.url, failure.getErrorMessage())

    # --- articles -------------------------------------------------------------------------

    def _item(self, response_or_request, **fields) -> Article:
        meta = response_or_request.meta
        fields.setdefault("url", meta["newsdiff_url"])
        return Article(
            outlet=self.name,
            fetched_at=meta.get("newsdiff_fetched_at") or datetime.now(UTC).isoformat(),
            known=meta.get("newsdiff_known"),
            announced=meta.get("newsdiff_announced"),
            **fields,
        )

    async def parse_article(self, response: Response):
        yield await self.article_item(response)

    async def article_item(self, response: Response) -> Article:
        # The fetch's time is its response's arrival, not the end of its (slower) extraction:
        # versions are ordered by it (StorePipeline._stale).
        response.meta.setdefault("newsdiff_fetched_at", datetime.now(UTC).isoformat())
        if response.status == 304:
            return self._item(response, status="unchanged", http_status=304)
        if response.status in (404, 410):
            reason = f"HTTP {response.status}: the page is gone"
            return self._item(response, status="gone", reason=reason, http_status=response.status)
        known, digest = response.meta.get("newsdiff_known"), checks.raw_digest(response.body)
        if known and known.get("raw_digest") == digest:
            # The very bytes of the last fetch that matched the latest version: as good as a 304.
            self.crawler.stats.inc_value("newsdiff/checks/same_bytes")
            return self._item(
                response,
                status="unchanged",
                http_status=response.status,
                validators=validators_of(response),
                raw_digest=digest,
            )
        url = response.meta["newsdiff_url"]
        aliases = {url, self.canonical(response.url)}
        canonical_link = canonical_link_of(response.body)
        if canonical_link:
            # urljoin on the URL, not response.urljoin, which decodes the whole body for <base>.
            candidate = self.canonical(urljoin(response.url, canonical_link))
            if self.is_article_url(candidate):
                url = candidate
        charset = http_content_type_encoding(
            response.headers.get("Content-Type", b"").decode("latin-1")
        )
        try:
            fields = await workers.extract(self.crawler, response.body, charset, url, self.name)
        except pages.NotArticle as exc:
            # Kept as the article's status and checked again: a layout fix or a reparse may
            # still recover a page wrongly called "not an article".
            self.crawler.stats.inc_value(f"newsdiff/status/not-article/{exc.reason}")
            status = NOT_ARTICLE_STATUS.get(exc.reason, "not-article")
            return self._item(
                response, url=url, status=status, reason=str(exc), http_status=response.status
            )
        except workers.WorkerDied as exc:
            logger.error("%s", exc)
            return self._item(
                response, url=url, status="failing", reason=str(exc), http_status=response.status
            )
        return self._item(
            response,
            url=url,
            http_status=response.status,
            aliases=sorted(aliases - {url}),
            validators=validators_of(response),
            html=response.body,
            raw_digest=digest,
            extractor_version=pages.EXTRACTOR_VERSION,
            **fields,
        )

    def article_failed(self, failure):
        request = failure.request
        if failure.check(HttpError):
            reason = f"HTTP {failure.value.response.status} after retries"
        else:
            # Some Scrapy errors (ResponseDataLossError, DownloadCancelledError) carry no message.
            detail = failure.getErrorMessage() or (failure.type.__doc__ or "").strip()
            reason = f"{failure.type.__name__}: {detail.splitlines()[0] if detail else '?'}"
        self.crawler.stats.inc_value("newsdiff/fetch/failed")
        logger.warning("Fetching %s failed: %s", request.url, reason)
        yield self._item(request, status="failing", reason=reason)
