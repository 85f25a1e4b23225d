"""Crawl components: discovery's seen-set (deltafetch), offsite redirects, the offline host map."""

from __future__ import annotations

import contextlib
import dbm
import logging
import sqlite3
import time
from pathlib import Path
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


class SeenFile:
    """Discovery's seen-set on one node: canonical URLs in an SQLite file, <spider>.sqlite3 in
    DELTAFETCH_DIR, in place of the dbm file scrapy-deltafetch opens. Without gdbm (a Python
    built without it, Debian's without python3-gdbm) that is dbm.dumb, which reads its whole
    index at every open (2.2 s for 200,000 URLs), takes 512 bytes of disk per URL and rewrites
    its index at every close, where two crawls of one outlet lose each other's URLs. SQLite
    opens at once and is shared safely by two crawls.

    Each mark is its own transaction (write-ahead log, no sync per mark: about 0.015 ms), so
    two crawls never wait on each other's marks; a power cut may forget the last ones, whose
    articles the next discovery fetches again and the store finds known (a fetch, never a
    version). A dbm seen-set left by an earlier release is read in at the first open and removed.
    A file that cannot be opened or written costs the same: the crawl goes on, logs why, and
    keeps this crawl's marks in memory.
    """

    def __init__(self, path: Path, reset: bool = False):
        self.path = path
        self._failed = False
        try:
            self.db = self._open(path, reset)
            self._import_dbm()
        except sqlite3.OperationalError as exc:  # a directory, no permission, a full disk
            if getattr(self, "db", None) is not None:
                self.db.close()
            logger.error(
                "The seen-set %s cannot be opened (%s): this crawl keeps it in memory, and the "
                "next discovery fetches its URLs again",
                path,
                exc,
            )
            self.db = self._open(":memory:", reset)
        except sqlite3.DatabaseError as exc:  # not an SQLite file (a crash, a copy gone wrong)
            logger.warning("The seen-set %s is unreadable (%s); starting it afresh", path, exc)
            path.unlink(missing_ok=True)
            self.db = self._open(path, reset)

    @staticmethod
    def _open(path: Path | str, reset: bool) -> sqlite3.Connection:
        db = sqlite3.connect(path, timeout=30, isolation_level=None)  # autocommit
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute(
                "CREATE TABLE IF NOT EXISTS seen (key BLOB PRIMARY KEY, at REAL) WITHOUT ROWID"
            )
            if reset:
                db.execute("DELETE FROM seen")
        except sqlite3.DatabaseError:
            db.close()
            raise
        return db

    def _import_dbm(self) -> None:
        legacy = self.path.with_suffix(".db")  # scrapy-deltafetch's name; dbm adds its suffixes
        if dbm.whichdb(str(legacy)) in (None, ""):
            return
        try:
            with dbm.open(str(legacy), "r") as old:
                rows = [(key, float(old[key] or 0)) for key in old.keys()]  # noqa: SIM118 - gdbm
        except (dbm.error[0], OSError, ValueError) as exc:
            logger.warning("The old seen-set %s could not be read (%s); left as it is", legacy, exc)
            return
        with self.db:  # one transaction (the context manager opens none in autocommit mode)
            self.db.execute("BEGIN")
            self.db.executemany("INSERT OR IGNORE INTO seen VALUES (?, ?)", rows)
        for file in legacy.parent.glob(legacy.name + "*"):
            file.unlink()
        logger.info("Moved %d URLs from the dbm seen-set %s to %s", len(rows), legacy, self.path)

    def __contains__(self, key: bytes) -> bool:
        try:
            found = self.db.execute("SELECT 1 FROM seen WHERE key = ?", (key,)).fetchone()
        except sqlite3.Error as exc:
            self._failure(exc)
            return False  # fetched: the store knows it if it is
        return found is not None

    def __setitem__(self, key: bytes, when: str) -> None:
        try:
            self.db.execute("INSERT OR REPLACE INTO seen VALUES (?, ?)", (key, float(when)))
        except sqlite3.Error as exc:
            self._failure(exc)

    def _failure(self, exc: sqlite3.Error) -> None:
        if not self._failed:  # once: a full disk would otherwise log every URL
            self._failed = True
            logger.error(
                "The seen-set %s failed (%s): URLs it cannot hold are fetched again by the next "
                "discovery",
                self.path,
                exc,
            )

    def close(self) -> None:
        self.db.close()


class DeltaFetch(scrapy_deltafetch.DeltaFetch):
    """scrapy-deltafetch 2.1.0 on Scrapy >= 2.16, for discovery only.

    Its synchronous process_spider_output no longer loads; this one is asynchronous. A page is
    marked seen only once its item has passed every pipeline (item_scraped), so an article whose
    store write failed is fetched again by the next discovery. Keys are canonical URLs (set by the
    spider in meta["deltafetch_key"]), which survive redirects. DELTAFETCH_DIR defaults to an
    absolute NEWSDIFF_DATA_DIR/deltafetch, which works under Scrapyd (no scrapy.cfg there). The
    seen-set is a SeenFile, not a dbm file.
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

    def spider_opened(self, spider):
        directory = Path(self.dir)
        with contextlib.suppress(OSError):  # SeenFile says why it cannot open its file
            directory.mkdir(parents=True, exist_ok=True)
        reset = self.reset or getattr(spider, "deltafetch_reset", False)
        self.db = SeenFile(directory / f"{spider.name}.sqlite3", reset)

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
