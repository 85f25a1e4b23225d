"""Item pipelines, in order: validate -> prepare (normalise + hash) -> store (decide + write).

Stats (all under newsdiff/): extract/empty/<field>, extract/shrunk, extract/fell_back,
status/<status>, agreement/checked, agreement/low, versions/new, versions/<label>,
checks/unchanged, versions/conflicts, versions/stale, extract/oversized, store/errors,
store/spooled, store/lost (neither stored nor spooled: the crawl stops), spool/replayed,
spool/waiting, recheck/signalled_changed, checks/unsaved (the spider counts
checks/same_reading and reading/<element|page|fetched>), index/versions, index/seconds,
index/failed.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from itemadapter import ItemAdapter
from scrapy import signals
from scrapy.exceptions import CloseSpider
from scrapy.utils.defer import deferred_from_coro

from newsdiff import text
from newsdiff.recorder import Recorder
from newsdiff.storage import CrawlStore
from newsdiff.store import StoreError

logger = logging.getLogger(__name__)


class _Pipeline:
    def __init__(self, crawler):
        self.crawler = crawler
        self.stats = crawler.stats

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)


class ValidatePipeline(_Pipeline):
    """An article without a body or a title is a failed extraction, not a version."""

    def process_item(self, item):
        a = ItemAdapter(item)
        if a["status"] != "ok":
            return item
        for name in ("title", "byline", "body"):
            if not a.get(name):
                self.stats.inc_value(f"newsdiff/extract/empty/{name}")
        missing = [name for name in ("title", "body") if not a.get(name)]
        if missing:
            a["status"] = "failing"
            a["reason"] = f"extraction found no {' and no '.join(missing)}"
        return item


class PreparePipeline(_Pipeline):
    """Normal form and hashes (text.prepare), unless the extraction worker already made them."""

    def process_item(self, item):
        a = ItemAdapter(item)
        if a["status"] == "ok" and not a.get("hashes"):
            a.update(text.prepare(a))
        return item


class StorePipeline(_Pipeline):
    """Stores each fetch through the crawl's Recorder (what to write) and CrawlStore (where, and
    the spool when the database cannot take it).

    Settings: NEWSDIFF_MONGO_URI / NEWSDIFF_MONGO_DB, the NEWSDIFF_RECHECK_* schedule,
    NEWSDIFF_SHRINK_RATIO and NEWSDIFF_SHRINK_MIN_CHARS, NEWSDIFF_MAX_BODY_BYTES and
    NEWSDIFF_MAX_PARAGRAPHS (the bound on a version's text, below MongoDB's 16 MB documents),
    NEWSDIFF_CHECK_BATCH, NEWSDIFF_STORE_RETRY_SECONDS.
    """

    def __init__(self, crawler):
        super().__init__(crawler)
        self.owner = CrawlStore.of(crawler)
        self.record: Recorder | None = None
        self._stopping = False
        crawler.signals.connect(self.spider_idle, signal=signals.spider_idle)

    def open_spider(self):
        try:
            self.record = Recorder(self.crawler, self.owner.open())
        except Exception as exc:
            logger.error("MongoDB is unreachable (%s): %s", self.owner.where(), exc)
            raise CloseSpider(f"mongodb_unreachable: {exc}") from exc
        self._replay()

    def spider_idle(self):
        """The crawl is about to end: fetches still spooled make its finish reason say so."""
        if self.record is None:
            return
        self._replay()  # the database may be back: write what waited
        waiting = self.owner.spool.waiting()
        self.stats.set_value("newsdiff/spool/waiting", waiting)
        if waiting:
            raise CloseSpider(
                f"versions_spooled: {waiting} fetches wait on local disk in "
                f"{self.owner.spool.directory}: the database did not take them; a later crawl "
                "writes them"
            )

    def close_spider(self):
        if self.record is None:
            return
        self._flush_checks()
        self._replay()
        self.stats.set_value("newsdiff/spool/waiting", self.owner.spool.waiting())
        self.record.index_new_versions(self.stats)

    def _flush_checks(self) -> None:
        """Write the unchanged checks still waiting (see newsdiff.checks)."""
        checks = self.record.checks
        checks.flush()
        if checks.unsaved:
            self.stats.set_value("newsdiff/checks/unsaved", checks.unsaved)

    def _replay(self) -> None:
        try:
            events = self.owner.replay(self.record)
        except OSError as exc:  # the spool, not the database: the crawl can still store
            logger.error("The spool in %s cannot be replayed: %s", self.owner.spool.directory, exc)
            return
        for event in events:
            self.stats.inc_value(f"newsdiff/{event}")

    async def process_item(self, item):
        a = ItemAdapter(item)
        if (events := self.record.unchanged(a)) is not None:  # most fetches: no round trip
            a["html"] = a["known"] = None
            if self.record.checks.due():
                await asyncio.to_thread(self.record.checks.flush)
            return self._count(item, events)
        # Database round trips and compression run in a worker thread, so downloads and
        # extraction go on meanwhile; concurrent writes stay correct (see Store.add_version).
        return self._count(item, await asyncio.to_thread(self._write, item))

    def store_item(self, item):
        """The same as process_item, for callers without a running event loop; a check is
        written before it returns, not batched."""
        events = self._write(item)
        self._flush_checks()
        return self._count(item, events)

    def _write(self, item) -> list[str]:
        a = ItemAdapter(item)
        try:
            return self.owner.write(a, self.record)
        finally:
            a["html"] = None  # stored as a snapshot; keep it out of logs and feed exports
            a["known"] = None

    def _count(self, item, events: list[str]):
        for event in events:  # stats are updated here, on the crawl's own thread
            self.stats.inc_value(f"newsdiff/{event}")
        if "store/lost" in events and not self._stopping:
            self._stopping = True
            logger.error("%s; stopping the crawl", self.owner.failed)
            deferred_from_coro(self.crawler.engine.close_spider_async(reason=self.owner.failed))
        if "store/errors" in events or "store/lost" in events:
            a = ItemAdapter(item)
            for name in ("body", "byline", "corrections"):
                a[name] = []  # Scrapy logs the failed item: never a whole page with it
            raise StoreError(a.get("reason") or "store write failed")
        return item


PREPARE = (ValidatePipeline, PreparePipeline)


def prepare(crawler) -> Callable[[Any], Any]:
    """The crawl's validate -> normalise -> hash stages as one function (reparse, tests)."""
    stages = [cls.from_crawler(crawler) for cls in PREPARE]

    def run(item):
        for stage in stages:
            item = stage.process_item(item)
        return item

    return run


class Chain:
    """The whole pipeline, validate -> normalise -> hash -> store, run synchronously, one item
    at a time: for tools and tests that store fetches without a crawl. close() when done."""

    def __init__(self, crawler):
        self.crawler = crawler
        self.prepare = prepare(crawler)
        self.stage = StorePipeline.from_crawler(crawler)
        self.stage.open_spider()

    def __call__(self, item):
        return self.stage.store_item(self.prepare(item))

    def close(self) -> None:
        self.stage.close_spider()
        self.stage.owner.close()
