"""Item pipelines, in order: validate -> normalise -> hash -> store (decide + write).

Stats (all under newsdiff/): extract/empty/<field>, extract/shrunk, extract/fell_back,
status/<status>, agreement/checked, agreement/low, versions/new, versions/<label>,
checks/unchanged, versions/conflicts, versions/stale, extract/oversized, store/errors,
store/spooled, store/lost (neither stored nor spooled: the crawl stops), spool/replayed,
spool/waiting, recheck/signalled_changed, checks/unsaved (the spider counts
checks/same_bytes), index/versions, index/seconds, index/failed.
"""

from __future__ import annotations

import asyncio
import logging
import time
import weakref
from collections.abc import Callable
from datetime import datetime
from typing import Any

from itemadapter import ItemAdapter
from scrapy import signals
from scrapy.exceptions import CloseSpider
from scrapy.utils.defer import deferred_from_coro

from newsdiff import pages, publish, schedule, search, text, versions, workers
from newsdiff.checks import CheckBatch
from newsdiff.spool import Spool
from newsdiff.store import (
    ArticleState,
    ConnectionFailure,
    DocumentError,
    Store,
    StoreError,
    VersionConflict,
    check_update,
    data_dir,
    describe_error,
    open_store,
)

logger = logging.getLogger(__name__)


_stores: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def store_for(crawler) -> Store:
    """The crawl's one Store, shared by the spider (due re-checks) and the pipelines."""
    if crawler not in _stores:
        _stores[crawler] = open_store(crawler.settings)
    return _stores[crawler]


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


class NormalisePipeline(_Pipeline):
    def process_item(self, item):
        a = ItemAdapter(item)
        if a["status"] == "ok":
            a["title"] = text.normalise(a["title"])
            a["section"] = text.normalise(a["section"]) if a.get("section") else None
            for name in ("byline", "body", "corrections"):
                a[name] = text.normalise_list(a.get(name) or [])
        return item


class HashPipeline(_Pipeline):
    def process_item(self, item):
        a = ItemAdapter(item)
        if a["status"] == "ok":
            fields = {name: a.get(name) for name in text.HASHED_FIELDS}
            a["hashes"] = text.field_hashes(fields)
            a["loose_hashes"] = text.loose_hashes(fields)
        return item


class StorePipeline(_Pipeline):
    """Decides whether a fetch is a new version and writes it atomically.

    Settings: NEWSDIFF_MONGO_URI / NEWSDIFF_MONGO_DB, the NEWSDIFF_RECHECK_* schedule,
    NEWSDIFF_SHRINK_RATIO and NEWSDIFF_SHRINK_MIN_CHARS, NEWSDIFF_MAX_BODY_BYTES and
    NEWSDIFF_MAX_PARAGRAPHS (the bound on a version's text, below MongoDB's 16 MB documents),
    NEWSDIFF_CHECK_BATCH.
    """

    def __init__(self, crawler):
        super().__init__(crawler)
        settings = crawler.settings
        self.policy = schedule.Policy.from_settings(settings)
        self.bounds = versions.Bounds.from_settings(settings)
        self.min_agreement = settings.getfloat("NEWSDIFF_HEALTH_MIN_AGREEMENT")
        # A discovery crawl stores mostly first versions: a sample of them is enough.
        self.first_checks_left = settings.getint("NEWSDIFF_AGREEMENT_FIRST_VERSIONS")
        self.store: Store | None = None
        self.checks: CheckBatch | None = None
        self.spool = Spool(data_dir(settings) / "spool")
        self.retry_after = settings.getfloat("NEWSDIFF_STORE_RETRY_SECONDS")
        self._down_until = 0.0
        try:
            self.publish_to = publish.targets_from_settings(settings)
        except publish.PublishConfigError as exc:  # versions matter more than posts about them
            logger.error("Publishing is off for this crawl: %s", exc)
            self.publish_to = []
        self.failed: str | None = None  # why the crawl stops: a fetch could not even be spooled
        self._stopping = False
        crawler.signals.connect(self.spider_idle, signal=signals.spider_idle)
        # Versions stored by this crawl, indexed for search when it closes (off the hot path).
        self.to_index: list | None = [] if settings.getbool("NEWSDIFF_INDEX_ENABLED") else None

    def open_spider(self):
        try:
            self.store = store_for(self.crawler)
            self.store.ping()
            self.store.ensure_indexes()
            batch = self.crawler.settings.getint("NEWSDIFF_CHECK_BATCH")
            self.checks = CheckBatch(self.store, batch)
        except Exception as exc:
            where = (
                "the embedded store"
                if not self.crawler.settings.get("NEWSDIFF_MONGO_URI")
                else self.crawler.settings.get("NEWSDIFF_MONGO_URI").split("@")[-1]
            )
            logger.error("MongoDB is unreachable (%s): %s", where, exc)
            raise CloseSpider(f"mongodb_unreachable: {exc}") from exc
        try:
            self._replay_spool()
        except OSError as exc:  # the spool, not the database: the crawl can still store
            logger.error("The spool in %s cannot be replayed: %s", self.spool.directory, exc)

    def spider_idle(self):
        """The crawl is about to end: fetches still spooled make its finish reason say so."""
        if self.store is None:
            return
        if self.spool.pending():
            self._replay_spool()  # the database may be back: write what waited
        waiting = self.spool.waiting()
        self.stats.set_value("newsdiff/spool/waiting", waiting)
        if waiting:
            raise CloseSpider(
                f"versions_spooled: {waiting} fetches wait on local disk in "
                f"{self.spool.directory}: the database did not take them; a later crawl "
                "writes them"
            )

    def close_spider(self):
        if self.store is not None:
            self._flush_checks()
            if self.spool.pending():
                self._replay_spool()  # the database may be back: write what waited
            self.stats.set_value("newsdiff/spool/waiting", self.spool.waiting())
            self._update_index()
            self.store.close()
            _stores.pop(self.crawler, None)

    def _flush_checks(self) -> None:
        """Write the unchanged checks still waiting (see newsdiff.checks)."""
        if self.checks is None:
            return
        self.checks.flush()
        if self.checks.unsaved:
            self.stats.set_value("newsdiff/checks/unsaved", self.checks.unsaved)

    def _update_index(self) -> None:
        """The search index is derived data: a failure is logged and counted, never fatal."""
        if not self.to_index:
            return
        root = search.index_root(self.crawler.settings)
        started = time.monotonic()
        try:
            n = search.index_versions(self.store, search.SearchIndex(root), self.to_index)
        except Exception as exc:
            logger.error(
                "Search index at %s not updated (%s); the %d new versions are stored "
                "and `scrapy index` will add them",
                root,
                exc,
                len(self.to_index),
            )
            self.stats.inc_value("newsdiff/index/failed", len(self.to_index))
            return
        seconds = time.monotonic() - started
        self.stats.inc_value("newsdiff/index/versions", n)
        self.stats.inc_value("newsdiff/index/seconds", round(seconds, 3))
        logger.info("Indexed %d new versions for search in %.2f s", n, seconds)
        self.to_index = []

    def _replay_spool(self) -> None:
        try:
            self.store.ping()
        except StoreError:
            logger.warning("%d spooled fetches wait for MongoDB", len(self.spool.pending()))
            return
        written = 0
        for path, item in self.spool.items():
            events = self._write(item, spool=False)
            if "store/errors" in events:
                self.spool.release(path)
                break
            path.unlink()
            written += 1
            for event in events:
                self.stats.inc_value(f"newsdiff/{event}")
        if written:
            self.stats.inc_value("newsdiff/spool/replayed", written)
            logger.info("Wrote %d fetches spooled while MongoDB was unreachable", written)

    async def process_item(self, item):
        # Database round trips and compression run in a worker thread, so downloads and
        # extraction go on meanwhile; concurrent writes stay correct (see Store.add_version).
        return self._count(item, await asyncio.to_thread(self._write, item))

    def store_item(self, item):
        """The same as process_item, for callers without a running event loop; a check is
        written before it returns, not batched."""
        events = self._write(item)
        self._flush_checks()
        return self._count(item, events)

    def _count(self, item, events: list[str]):
        for event in events:  # stats are updated here, on the crawl's own thread
            self.stats.inc_value(f"newsdiff/{event}")
        if "store/lost" in events and not self._stopping:
            self._stopping = True
            logger.error("%s; stopping the crawl", self.failed)
            deferred_from_coro(self.crawler.engine.close_spider_async(reason=self.failed))
        if "store/errors" in events or "store/lost" in events:
            a = ItemAdapter(item)
            for name in ("body", "byline", "corrections"):
                a[name] = []  # Scrapy logs the failed item: never a whole page with it
            raise StoreError(a.get("reason") or "store write failed")
        return item

    def _write(self, item, spool: bool = True) -> list[str]:
        a = ItemAdapter(item)
        events: list[str] = []
        try:
            if spool and time.monotonic() < self._down_until:
                raise ConnectionFailure("MongoDB was unreachable moments ago")
            self._store(a, events)
        except StoreError as exc:  # unreachable, or the server failed the write (disk full, …)
            if not spool:
                return ["store/errors"]
            # Keep the fetch on disk; a later write or crawl stores it once MongoDB takes writes.
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
            events = ["store/spooled"]
        except DocumentError as exc:  # a bound in _store missed it: still a reason, not a crash
            message = str(exc)[:300]  # never the document itself
            logger.error("Could not store %s: %s", a["url"], message)
            a["status"], a["reason"] = "failing", f"the version could not be stored: {message}"
            a["html"] = None
            events = []
            try:
                self._store(a, events)
            except (StoreError, DocumentError) as again:
                logger.error("Could not record %s as failing: %s", a["url"], str(again)[:300])
                events.append("store/errors")
        finally:
            a["html"] = None  # stored as a snapshot; keep it out of logs and feed exports
            a["known"] = None
        return events

    def _store(self, a: ItemAdapter, events: list[str]) -> None:
        now = datetime.fromisoformat(a["fetched_at"])
        state: ArticleState | None = a.get("known")
        if state is None and a["aliases"]:
            state = self.store.find_article([a["url"], *a["aliases"]])
        if state is None:  # one upsert finds or creates the article
            state = self.store.ensure_article(a["outlet"], a["url"], a["aliases"], now)
        elif a["aliases"] and not set(a["aliases"]) <= set(state.get("aliases", [])):
            self.store.ensure_article(a["outlet"], state["url"], a["aliases"], now)
        if self._stale(a, state, now):
            events.append("versions/stale")
            return
        status, reason = a["status"], a.get("reason")
        refused = versions.refusal(a, state, self.bounds) if status == "ok" else None
        if refused:
            status, reason = "failing", refused.reason
            html = a.get("html")
            if refused.keep_snapshot and html:
                reason += f"; the page is kept as snapshot {self.store.save_snapshot(html, now)}"
            events.append(refused.event)
        if status != "ok":
            events.append(self._check(a, state, status, reason, now))
            return
        repaired = None
        while True:
            label = versions.label(a, state)
            if label is None:
                events.append(self._check(a, state, "unchanged", None, now, repair=repaired))
                return
            try:
                number = self._add_version(a, state, label, now)
            except VersionConflict as conflict:
                events.append("versions/conflicts")
                state = repaired = conflict.latest
                if self._stale(a, state, now):  # a later fetch was stored meanwhile
                    events.append("versions/stale")
                    return
                continue
            events += ["versions/new", f"versions/{label}"]
            if a.get("announced"):  # how honest the outlet's announced modification times are
                events.append("recheck/signalled_changed")
            logger.info("Stored version %d (%s) of %s", number, label, a["url"])
            return

    @staticmethod
    def _stale(a: ItemAdapter, state: ArticleState, now: datetime) -> bool:
        if not versions.stale(now, state):
            return False
        logger.info(
            "%s: fetched at %s, before the newest stored version (%s): not stored",
            a["url"],
            now.isoformat(),
            state["last_changed"].isoformat(),
        )
        return True

    def _check(self, a, state, status, reason, now, repair=None) -> str:
        """Record a check that stores no version; returns the stat to count."""
        if status != "unchanged":
            logger.warning("%s: %s (%s)", a["url"], status, reason or "no detail")
        last_changed = state.get("last_changed") or state.get("first_seen") or now
        changed_before = state.get("version_count", 0) > 1
        check = {
            "now": now,
            "status": "live" if status == "unchanged" else status,
            "reason": reason,
            "next_check": schedule.next_check(
                self.policy, now, last_changed, changed_before=changed_before
            ),
            "validators": a.get("validators") or None,
            "repair": repair,
        }
        if status == "unchanged" and repair is None:  # the common case: batched, see checks.py
            self.checks.add(state, check_update(**check, raw_digest=a.get("raw_digest")))
        else:
            self.store.record_check(state["_id"], **check)
        return "checks/unchanged" if status == "unchanged" else f"status/{status}"

    def _agreement(self, a: ItemAdapter, label: str) -> float | None:
        """How much of the outlet rules' body the independent generic extractor also finds
        (shingle F1): a layout change the rules half-survive shows as a fall. None when the
        body came from the generic path itself, there is no page, or the crawl has cross-checked
        its NEWSDIFF_AGREEMENT_FIRST_VERSIONS first versions (every edit is checked)."""
        if not a.get("html") or a.get("extractor") in pages.FALLBACK_EXTRACTORS:
            return None
        if label == "first":
            if self.first_checks_left <= 0:
                return None
            self.first_checks_left -= 1
        found = workers.agreement(self.crawler, a["html"], a["url"], a["outlet"], a["body"])
        if found is not None:
            self.stats.inc_value("newsdiff/agreement/checked")
            if found < self.min_agreement:
                self.stats.inc_value("newsdiff/agreement/low")
        return found

    def _add_version(self, a: ItemAdapter, state: ArticleState, label: str, now) -> int:
        hashes = a["hashes"]
        html = a.get("html")
        version = {
            "outlet": a["outlet"],
            "url": state["url"],
            "fetched_at": now,
            "label": label,
            "changed": text.changed_fields(state.get("hashes"), hashes),
            "title": a["title"],
            "byline": a["byline"],
            "published": a.get("published"),
            "modified": a.get("modified"),
            "section": a.get("section"),
            "body": a["body"],
            "corrections": a["corrections"],
            "hashes": hashes,
            "loose_hashes": a["loose_hashes"],
            "hash": text.combined_hash(hashes),
            "extractor": a.get("extractor"),
            "extractor_version": a.get("extractor_version"),
            "normaliser_version": text.NORMALISER_VERSION,
            "snapshot": self.store.save_snapshot(html, now) if html else None,
            "agreement": self._agreement(a, label),
        }
        # The outbox entries travel inside the version's own insert (newsdiff.store.outbox).
        if targets := publish.matching(self.publish_to, version):
            version["outbox"] = targets
        article_fields = {
            "extractor": a.get("extractor"),
            "title": a["title"],
            "section": a.get("section"),
            "published": a.get("published"),
            "modified": a.get("modified"),
            "validators": a.get("validators") or {},
            "raw_digest": a.get("raw_digest"),
        }
        # A change the outlet announced happened when it says (clamped to (last check, now]):
        # the back-off counts from then, which pays for the signalled check (see benchmarks/).
        changed_at = now
        if a.get("announced"):
            changed_at = min(now, datetime.fromisoformat(a["announced"]))
        number = self.store.add_version(
            state,
            version,
            article_fields=article_fields,
            next_check=schedule.next_check(
                self.policy, now, changed_at, changed_before=label != "first"
            ),
            changed_at=changed_at,
        )
        if self.to_index is not None:  # kept for the search index, written as the crawl closes
            self.to_index.append(search.indexed_fields(version, state["_id"], number))
        return number


PREPARE = (ValidatePipeline, NormalisePipeline, HashPipeline)


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
