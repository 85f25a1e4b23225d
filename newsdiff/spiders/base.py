"""OutletSpider: the crawling every outlet shares. Outlet spiders only declare where to look and
which URLs are articles.

Spider arguments: mode = all (default) | discover | recheck; force=1 re-checks every tracked
article of the outlet now, whatever the schedule says.

What to fetch (listings, due and signalled re-checks) is discovery.py's; this module turns a
fetched article into an Article item (or a status item: unchanged, gone, failing, paywalled).
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime
from html import unescape as html_unescape
from types import EllipsisType
from typing import Any, ClassVar
from urllib.parse import urljoin, urlsplit

from scrapy import Request
from scrapy.http import Response
from scrapy.spidermiddlewares.httperror import HttpError
from w3lib.encoding import http_content_type_encoding

from newsdiff import pages, workers
from newsdiff.items import Article
from newsdiff.spiders.discovery import Discovery
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


class OutletSpider(Discovery):
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

    # --- requests -------------------------------------------------------------------------

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

    # --- articles -------------------------------------------------------------------------

    def canonical_of(self, response: Response) -> str | None:
        """The page's rel=canonical URL, canonicalised, when it is one of this outlet's article
        URLs (None for a link no browser could open: "http://[x]/")."""
        link = canonical_link_of(response.body)
        if not link:
            return None
        try:  # urljoin on the URL, not response.urljoin, which decodes the body for <base>
            candidate = self.canonical(urljoin(response.url, link))
        except ValueError:
            return None
        return candidate if self.is_article_url(candidate) else None

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
        charset = http_content_type_encoding(
            response.headers.get("Content-Type", b"").decode("latin-1")
        )
        # What the last fetch that matched the latest version read (the digest the article
        # keeps), read again: as good as a 304. Decided here, not in the extraction worker:
        # sending it the page costs the crawl's thread more than finding the reading.
        read: pages.Reading | EllipsisType = ...  # not looked for: a new article's worker does
        if kept := (response.meta.get("newsdiff_known") or {}).get("raw_digest"):
            if pages.digest(response.body, charset) == kept:
                return self._same_reading(response, kept)
            read = pages.reading_of(response.body, self.name)
            if pages.digest(read.data, charset) == kept:
                return self._same_reading(response, kept)
        url = response.meta["newsdiff_url"]
        aliases = {url, self.canonical(response.url)}
        if candidate := self.canonical_of(response):
            url = candidate
        try:
            fields = await workers.extract(
                self.crawler, response.body, charset, url, self.name, read
            )
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
        except Exception as exc:  # a fault of the rules on this page: recorded as failing, not lost
            logger.exception("%s: the extraction failed", url)
            self.crawler.stats.inc_value("newsdiff/extract/error")
            reason = f"the extraction failed: {type(exc).__name__}: {exc}"[:300]
            return self._item(
                response, url=url, status="failing", reason=reason, http_status=response.status
            )
        self.crawler.stats.inc_value(f"newsdiff/reading/{fields.pop('read')}")
        return self._item(
            response,
            url=url,
            http_status=response.status,
            aliases=sorted(aliases - {url}),
            validators=validators_of(response),
            html=response.body,
            extractor_version=pages.EXTRACTOR_VERSION,
            **fields,
        )

    def _same_reading(self, response: Response, kept: str) -> Article:
        """An unchanged check of a page whose extraction would read what the last fetch that
        matched the latest version read (the digest the article keeps): as good as a 304."""
        self.crawler.stats.inc_value("newsdiff/checks/same_reading")
        return self._item(
            response,
            status="unchanged",
            http_status=response.status,
            validators=validators_of(response),
            raw_digest=kept,
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
