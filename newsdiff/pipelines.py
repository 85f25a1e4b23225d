"""Item pipelines, in order: validate -> normalise -> hash -> store (decide + write).

Stats (all under newsdiff/): extract/empty/<field>, extract/shrunk, extract/fell_back,
status/<status>, agreement/checked, agreement/low, versions/new, versions/<label>,
checks/unchanged, versions/conflicts, store/errors, store/spooled, spool/replayed,
index/versions, index/seconds, index/failed.
"""

from __future__ import annotations

import asyncio
import logging
import time
import weakref
from datetime import datetime

from itemadapter import ItemAdapter
from scrapy.exceptions import CloseSpider

from newsdiff import publish, schedule, search, text, workers
from newsdiff.spool import Spool
from newsdiff.store import (
    ArticleState,
    ConnectionFailure,
    Store,
    StoreError,
    VersionConflict,
    data_dir,
    open_store,
)

logger = logging.getLogger(__name__)

FALLBACK_EXTRACTORS = ("jsonld", "trafilatura")

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
    NEWSDIFF_SHRINK_RATIO and NEWSDIFF_SHRINK_MIN_CHARS.
    """

    def __init__(self, crawler):
        super().__init__(crawler)
        settings = crawler.settings
        self.policy = schedule.Policy.from_settings(settings)
        self.shrink_ratio = settings.getfloat("NEWSDIFF_SHRINK_RATIO", 0.5)
        self.shrink_min = settings.getint("NEWSDIFF_SHRINK_MIN_CHARS", 800)
        self.min_agreement = settings.getfloat("NEWSDIFF_HEALTH_MIN_AGREEMENT")
        # A discovery crawl stores mostly first versions: a sample of them is enough.
        self.first_checks_left = settings.getint("NEWSDIFF_AGREEMENT_FIRST_VERSIONS")
        self.store: Store | None = None
        self.spool = Spool(data_dir(settings) / "spool")
        self.retry_after = settings.getfloat("NEWSDIFF_STORE_RETRY_SECONDS", 30.0)
        self._down_until = 0.0
        try:
            self.publish_to = publish.targets_from_settings(settings)
        except publish.PublishConfigError as exc:  # versions matter more than posts about them
            logger.error("Publishing is off for this crawl: %s", exc)
            self.publish_to = []
        # Versions stored by this crawl, indexed for search when it closes (off the hot path).
        self.to_index: list | None = [] if settings.getbool("NEWSDIFF_INDEX_ENABLED") else None

    def open_spider(self):
        try:
            self.store = store_for(self.crawler)
            self.store.ping()
            self.store.ensure_indexes()
            self._replay_spool()
        except Exception as exc:
            where = (
                "the embedded store"
                if not self.crawler.settings.get("NEWSDIFF_MONGO_URI")
                else self.crawler.settings.get("NEWSDIFF_MONGO_URI").split("@")[-1]
            )
            logger.error("MongoDB is unreachable (%s): %s", where, exc)
            raise CloseSpider(f"mongodb_unreachable: {exc}") from exc

    def close_spider(self):
        if self.store is not None:
            if self.spool.pending():
                self._replay_spool()  # the database may be back: write what waited
            self._update_index()
            self.store.close()
            _stores.pop(self.crawler, None)

    def _update_index(self) -> None:
        """The search index is derived data: a failure is logged and counted, never fatal."""
        if not self.to_index:
            return
        root = search.index_root(self.crawler.settings)
        started = time.monotonic()
        try:
            n = search.index_versions(self.store, search.SearchIndex(root), self.to_index)
        except Exception as exc:
            logger.error("Search index at %s not updated (%s); the %d new versions are stored "
                         "and `scrapy index` will add them", root, exc, len(self.to_index))
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
        """The same as process_item, for callers without a running event loop."""
        return self._count(item, self._write(item))

    def _count(self, item, events: list[str]):
        for event in events:  # stats are updated here, on the crawl's own thread
            self.stats.inc_value(f"newsdiff/{event}")
        if "store/errors" in events:
            raise StoreError(ItemAdapter(item).get("reason") or "store write failed")
        return item

    def _write(self, item, spool: bool = True) -> list[str]:
        a = ItemAdapter(item)
        events: list[str] = []
        try:
            if spool and time.monotonic() < self._down_until:
                raise ConnectionFailure("MongoDB was unreachable moments ago")
            self._store(a, events)
        except ConnectionFailure as exc:
            if not spool:
                return ["store/errors"]
            # Keep the fetch on disk; open_spider/close_spider write it once MongoDB is back.
            self._down_until = time.monotonic() + self.retry_after
            path = self.spool.add(a.asdict())
            logger.warning("MongoDB unreachable (%s): spooled %s to %s", exc, a["url"], path)
            events = ["store/spooled"]
        except StoreError as exc:
            logger.error("Could not store %s: %s", a["url"], exc)
            a["reason"] = str(exc)
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
        status, reason = a["status"], a.get("reason")
        if status == "ok" and self._shrunk(state, a["body"]):
            status = "failing"
            before, after = state["body_chars"], sum(map(len, a["body"]))
            reason = f"body shrank from {before} to {after} characters; not stored as a version"
            events.append("extract/shrunk")
        elif status == "ok" and self._fell_back(state, a["extractor"]):
            status = "failing"
            reason = (
                f"the {state['extractor']} rules found no body, only the {a['extractor']} "
                "fallback did: not compared with versions the outlet rules extracted"
            )
            events.append("extract/fell_back")
        if status != "ok":
            events.append(self._check(a, state, status, reason, now))
            return
        repaired = None
        while True:
            label = text.label(
                previous=state.get("hashes"),
                previous_loose=state.get("loose_hashes"),
                new=a["hashes"],
                new_loose=a["loose_hashes"],
                earlier_combined=state.get("seen_hashes") or (),
            )
            if label is None:
                events.append(self._check(a, state, "unchanged", None, now, repair=repaired))
                return
            try:
                number = self._add_version(a, state, label, now)
            except VersionConflict as conflict:
                events.append("versions/conflicts")
                state = repaired = conflict.latest
                continue
            events += ["versions/new", f"versions/{label}"]
            logger.info("Stored version %d (%s) of %s", number, label, a["url"])
            return

    @staticmethod
    def _fell_back(state: ArticleState, extractor: str | None) -> bool:
        """A broken layout must not look like an edit: fallback text differs from rule text."""
        before = state.get("extractor")
        return before not in (None, *FALLBACK_EXTRACTORS) and extractor in FALLBACK_EXTRACTORS

    def _shrunk(self, state: ArticleState, body: list[str]) -> bool:
        before = state.get("body_chars") or 0
        return before >= self.shrink_min and sum(map(len, body)) < self.shrink_ratio * before

    def _check(self, a, state, status, reason, now, repair=None) -> str:
        """Record a check that stores no version; returns the stat to count."""
        if status != "unchanged":
            logger.warning("%s: %s (%s)", a["url"], status, reason or "no detail")
        last_changed = state.get("last_changed") or state.get("first_seen") or now
        changed_before = state.get("version_count", 0) > 1
        self.store.record_check(
            state["_id"],
            now=now,
            status="live" if status == "unchanged" else status,
            reason=reason,
            next_check=schedule.next_check(
                self.policy, now, last_changed, changed_before=changed_before
            ),
            validators=a.get("validators") or None,
            repair=repair,
        )
        return "checks/unchanged" if status == "unchanged" else f"status/{status}"

    def _agreement(self, a: ItemAdapter, label: str) -> float | None:
        """How much of the outlet rules' body the independent generic extractor also finds
        (shingle F1): a layout change the rules half-survive shows as a fall. None when the
        body came from the generic path itself, there is no page, or the crawl has cross-checked
        its NEWSDIFF_AGREEMENT_FIRST_VERSIONS first versions (every edit is checked)."""
        if not a.get("html") or a.get("extractor") in FALLBACK_EXTRACTORS:
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
        }
        number = self.store.add_version(
            state,
            version,
            article_fields=article_fields,
            next_check=schedule.next_check(self.policy, now, now, changed_before=label != "first"),
        )
        if self.to_index is not None:  # kept for the search index, written as the crawl closes
            self.to_index.append(search.indexed_fields(version, state["_id"], number))
        return number
