"""Crawl components: discovery's seen-set (deltafetch), offsite redirects, the offline host map."""

from __future__ import annotations

import logging
import time
from urllib.parse import urlsplit, urlunsplit

import scrapy_deltafetch
from scrapy import Request, signals
from scrapy.core.downloader.handlers.http11 import HTTP11DownloadHandler
from scrapy.downloadermiddlewares.offsite import OffsiteMiddleware
from scrapy.downloadermiddlewares.redirect import MetaRefreshMiddleware
from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware
from scrapy.exceptions import NotConfigured
from scrapy.http import HtmlResponse
from scrapy.utils.httpobj import urlparse_cached
from twisted.internet.defer import Deferred

from newsdiff.store import data_dir

logger = logging.getLogger(__name__)


class DeltaFetch(scrapy_deltafetch.DeltaFetch):
    """scrapy-deltafetch 2.1.0 on Scrapy >= 2.16, for discovery only.

    Its synchronous process_spider_output no longer loads; this one is asynchronous. A page is
    marked seen only once its item has passed every pipeline (item_scraped), so an article whose
    store write failed is fetched again by the next discovery. Keys are canonical URLs (set by the
    spider in meta["deltafetch_key"]), which survive redirects. DELTAFETCH_DIR defaults to an
    absolute NEWSDIFF_DATA_DIR/deltafetch, which works under Scrapyd (no scrapy.cfg there).
    """

    @classmethod
    def from_crawler(cls, crawler):
        settings = crawler.settings
        if not settings.getbool("DELTAFETCH_ENABLED"):
            raise NotConfigured("DELTAFETCH_ENABLED is off")
        directory = settings.get("DELTAFETCH_DIR") or data_dir(settings) / "deltafetch"
        mw = cls(str(directory), settings.getbool("DELTAFETCH_RESET"), crawler.stats)
        mw.fingerprint = crawler.request_fingerprinter.fingerprint
        crawler.signals.connect(mw.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(mw.spider_closed, signal=signals.spider_closed)
        crawler.signals.connect(mw.item_scraped, signal=signals.item_scraped)
        return mw

    async def process_spider_output(self, response, result):
        async for request in result:
            if (
                isinstance(request, Request)
                and self._is_enabled_for_request(request)
                and self._get_key(request) in self.db
            ):
                self.stats.inc_value("deltafetch/skipped")
                continue
            yield request

    def item_scraped(self, item, response):
        request = getattr(response, "request", None)
        if request is not None and request.meta.get("deltafetch_key"):
            self.db[self._get_key(request)] = str(time.time())
            self.stats.inc_value("deltafetch/stored")


class HostMapDownloadHandler(HTTP11DownloadHandler):
    """Downloads a mapped host's URLs from a local server (NEWSDIFF_HOST_MAP), keeping the
    real URL everywhere above the downloader: redirects, robots.txt, stored data."""

    def __init__(self, crawler):
        super().__init__(crawler)
        self.host_map: dict[str, str] = dict(crawler.settings.getdict("NEWSDIFF_HOST_MAP"))

    async def download_request(self, request):
        parts = urlsplit(request.url)
        target = self.host_map.get(parts.netloc) or self.host_map.get(parts.hostname or "")
        if not target:
            return await super().download_request(request)
        local = request.replace(
            url=urlunsplit(("http", target, parts.path, parts.query, "")),
            headers={**request.headers.to_unicode_dict(), "Host": parts.netloc},
        )
        response = await super().download_request(local)
        # Rebuilt rather than replace()d: replace() reads `encoding`, which decodes the body.
        keep = [a for a in response.attributes if a not in ("url", "encoding")]
        return type(response)(url=request.url, **{a: getattr(response, a) for a in keep})


# Scrapy looks for a refresh tag in the first 4096 characters, at most 4 bytes each in UTF-8.
_REFRESH_WINDOW = 4 * 4096
_WIDE_BOMS = (b"\xff\xfe", b"\xfe\xff")  # UTF-16/32 text hides ASCII words from a byte search


class MetaRefresh(MetaRefreshMiddleware):
    """Scrapy's meta-refresh redirects, without decoding every page to look for the tag: a page
    whose head has no "refresh" at all is passed on untouched."""

    def process_response(self, request, response, spider=None):
        if isinstance(response, HtmlResponse):
            head = response.body[:_REFRESH_WINDOW]
            if b"refresh" not in head.lower() and not head.startswith(_WIDE_BOMS):
                return response
        return super().process_response(request, response)


class RobotsTxt(RobotsTxtMiddleware):
    """Scrapy's robots.txt middleware, obeyed by every request that waited for the file.

    In Scrapy 2.19 the requests of a host that arrive while its robots.txt downloads all await
    one Deferred through Deferred.asFuture, whose callback returns None: only the first gets the
    parser, the others get None and are let through. Read the parser back once it is known.
    """

    async def robot_parser(self, request):
        parser = await super().robot_parser(request)
        known = self._parsers.get(urlparse_cached(request).netloc)
        return parser if isinstance(known, Deferred) else known


class OffsiteRedirects(OffsiteMiddleware):
    """Scrapy's offsite filter, also for redirects of dont_filter requests (re-checks): Scrapy
    lets those follow a redirect to any domain, so an outlet could hand us another site's page."""

    def request_scheduled(self, request, spider):
        if not (request.dont_filter and request.meta.get("redirect_urls")):
            super().request_scheduled(request, spider)  # else judged below, where errbacks run

    def process_request(self, request, spider=None):
        if request.dont_filter and request.meta.get("redirect_urls"):
            request = request.replace(dont_filter=False)  # judged by its domain alone
        return super().process_request(request)
