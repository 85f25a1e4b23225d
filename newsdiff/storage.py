"""CrawlStore: the one owner of a crawl's database connection, and the spool around it.

Everything in a crawl that reads or writes MongoDB reaches the same Store through
`CrawlStore.of(crawler)`: the spider (due re-checks, change signals), the store pipeline, the
health check and publishing after the crawl. It is opened on first use and closed once the
engine has stopped, after every spider_closed handler has run (tools that run the pipeline
without an engine call close() themselves).

Writes go through write(): when MongoDB is unreachable or fails a write, the fetch is kept in
the local spool (newsdiff.spool) and replay() writes it later, in fetch order. For a short while
after a failure (NEWSDIFF_STORE_RETRY_SECONDS) fetches go straight to the spool instead of each
waiting for a timeout.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from itemadapter import ItemAdapter
from scrapy import signals

from newsdiff.spool import Spool
from newsdiff.store import (
    ConnectionFailure,
    Store,
    StoreError,
    data_dir,
    describe_error,
    open_store,
)

logger = logging.getLogger(__name__)

# Stores one fetch: appends the stats events it caused; raises StoreError when the database fails.
Record = Callable[[ItemAdapter, list[str]], None]


class CrawlStore:
    """Scrapy extension (newsdiff.settings.EXTENSIONS)."""

    def __init__(self, crawler):
        self.crawler = crawler
        settings = crawler.settings
        self._store: Store | None = None
        self.spool = Spool(data_dir(settings) / "spool")
        self.retry_after = settings.getfloat("NEWSDIFF_STORE_RETRY_SECONDS")
        self._down_until = 0.0
        self.failed: str | None = None  # why the crawl stops: a fetch could not even be spooled

    @classmethod
    def of(cls, crawler) -> CrawlStore:
        """The crawl's owner, made on first use (also for crawlers without extensions)."""
        owner = crawler.__dict__.get("newsdiff_store")
        if owner is None:
            owner = crawler.newsdiff_store = cls(crawler)
        return owner

    @classmethod
    def from_crawler(cls, crawler):
        owner = cls.of(crawler)
        crawler.signals.connect(owner.close, signal=signals.engine_stopped)
        return owner

    @property
    def store(self) -> Store:
        if self._store is None:
            self._store = open_store(self.crawler.settings)
        return self._store

    def where(self) -> str:
        """The database, for messages (never its credentials)."""
        uri = self.crawler.settings.get("NEWSDIFF_MONGO_URI")
        return uri.split("@")[-1] if uri else "the embedded store"

    def open(self) -> Store:
        """Connect and prepare the collections; raises when MongoDB cannot be reached."""
        self.store.ping()
        self.store.ensure_indexes()
        return self.store

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None

    # --- writes, spooled when the database cannot take them --------------------------------

    def write(self, a: ItemAdapter, record: Record, spool: bool = True) -> list[str]:
        """Store one fetch with `record`; on a database failure keep it in the spool. Returns
        the stats events; `store/errors` (not spooled) or `store/lost` (could not be spooled
        either: self.failed says why) when it was neither stored nor kept."""
        events: list[str] = []
        try:
            if spool and time.monotonic() < self._down_until:
                raise ConnectionFailure("MongoDB was unreachable moments ago")
            record(a, events)
        except StoreError as exc:  # unreachable, or the server failed the write (disk full, …)
            if not spool:
                return ["store/errors"]
            self._down_until = time.monotonic() + self.retry_after
            try:
                path = self.spool.add(a.asdict())
            except OSError as spool_error:  # e.g. the disk the database filled up
                a["reason"] = self.failed = (
                    f"store_failed: {a['url']} could not be stored ({describe_error(exc)}) "
                    f"nor spooled to {self.spool.directory} ({spool_error})"
                )
                return ["store/lost"]
            why = "unreachable" if isinstance(exc, ConnectionFailure) else "failed a write"
            logger.warning("MongoDB %s (%s): spooled %s to %s", why, exc, a["url"], path)
            return ["store/spooled"]
        return events

    def replay(self, record: Record) -> list[str]:
        """Write the spooled fetches, oldest first, while the database takes them; returns the
        stats events of those written."""
        if not self.spool.pending():
            return []
        try:
            self.store.ping()
        except StoreError:
            logger.warning("%d spooled fetches wait for MongoDB", len(self.spool.pending()))
            return []
        written: list[str] = []
        replayed = 0
        for path, item in self.spool.items():
            events = self.write(ItemAdapter(item), record, spool=False)
            if "store/errors" in events:
                self.spool.release(path)
                break
            path.unlink()
            replayed += 1
            written += events
        if replayed:
            written += ["spool/replayed"] * replayed
            logger.info("Wrote %d fetches spooled while MongoDB was unreachable", replayed)
        return written
