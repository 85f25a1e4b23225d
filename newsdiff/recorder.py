"""Recorder: stores one prepared fetch as what newsdiff.versions decides it is.

It reads the article's stored state, asks the pure decisions (refusal, staleness, label) and
writes the outcome: a new version (with its snapshot, cross-check, outbox and search-index entry),
or a check that stores no version (unchanged checks batched, see newsdiff.checks). Every version
write is one atomic insert; a conflict with a concurrent writer is re-decided against the newer
state. It appends the stats events it caused and never touches the stats itself: it runs in
worker threads.
"""

from __future__ import annotations

import logging
from datetime import datetime

from itemadapter import ItemAdapter

from newsdiff import pages, publish, schedule, search, text, versions, workers
from newsdiff.checks import CheckBatch
from newsdiff.store import (
    ArticleState,
    DocumentError,
    Store,
    StoreError,
    VersionConflict,
    check_update,
)

logger = logging.getLogger(__name__)


class Recorder:
    def __init__(self, crawler, store: Store):
        settings = crawler.settings
        self.crawler = crawler
        self.store = store
        self.policy = schedule.Policy.from_settings(settings)
        self.bounds = versions.Bounds.from_settings(settings)
        self.min_agreement = settings.getfloat("NEWSDIFF_HEALTH_MIN_AGREEMENT")
        # A discovery crawl stores mostly first versions: a sample of them is enough.
        self.first_checks_left = settings.getint("NEWSDIFF_AGREEMENT_FIRST_VERSIONS")
        self.checks = CheckBatch(store, settings.getint("NEWSDIFF_CHECK_BATCH"))
        try:
            self.publish_to = publish.targets_from_settings(settings)
        except publish.PublishConfigError as exc:  # versions matter more than posts about them
            logger.error("Publishing is off for this crawl: %s", exc)
            self.publish_to = []
        # Versions stored by this crawl, indexed for search in batches as it goes.
        self.index: search.CrawlIndexer | None = None
        if settings.getbool("NEWSDIFF_INDEX_ENABLED"):
            root = search.index_root(settings)
            self.index = search.CrawlIndexer(store, root, settings.getint("NEWSDIFF_INDEX_BATCH"))

    def __call__(self, a: ItemAdapter, events: list[str]) -> None:
        """Store one fetch. A document the database refuses (a bound missed it) is recorded
        as a failing check instead: a reason, not a crash. StoreError propagates."""
        try:
            self._record(a, events)
        except DocumentError as exc:
            message = str(exc)[:300]  # never the document itself
            logger.error("Could not store %s: %s", a["url"], message)
            a["status"], a["reason"] = "failing", f"the version could not be stored: {message}"
            a["html"] = None
            try:
                self._record(a, events)
            except (StoreError, DocumentError) as again:
                logger.error("Could not record %s as failing: %s", a["url"], str(again)[:300])
                events.append("store/errors")

    def _record(self, a: ItemAdapter, events: list[str]) -> None:
        now = datetime.fromisoformat(a["fetched_at"])
        state = self._state(a, now)
        if self._stale(a, state, now):
            events.append("versions/stale")
            return
        status, reason = a["status"], a.get("reason")
        if status == "ok" and self._upgraded(a, state):
            state = self._reread(a, state, events)
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
        repaired = state if state.get("reread") else None  # the article takes today's reading
        while True:
            label = versions.label(a, state)
            if label is None:
                events.append(self._check(a, state, "unchanged", None, now, repair=repaired))
                return
            try:
                number = self._add_version(a, state, label, now, events)
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

    def _state(self, a: ItemAdapter, now: datetime) -> ArticleState:
        """The article as stored (the spider's copy for a re-check), made if it is new."""
        state: ArticleState | None = a.get("known")
        if state is None and a["aliases"]:
            state = self.store.find_article([a["url"], *a["aliases"]])
        if state is None:  # one upsert finds or creates the article
            return self.store.ensure_article(a["outlet"], a["url"], a["aliases"], now)
        if a["aliases"] and not set(a["aliases"]) <= set(state.get("aliases", [])):
            self.store.ensure_article(a["outlet"], state["url"], a["aliases"], now)
        return state

    def _upgraded(self, a: ItemAdapter, state: ArticleState) -> bool:
        """A fetch that differs from (or is refused against) a version an older extractor read:
        the difference may be the extractor's, not the page's."""
        ours = a.get("extractor_version")
        if not ours or not state.get("version_count") or state.get("extractor_version") == ours:
            return False
        return bool(versions.refusal(a, state, self.bounds) or versions.label(a, state))

    def _reread(self, a: ItemAdapter, state: ArticleState, events: list[str]) -> ArticleState:
        """The state with the newest version's page read by today's extractor, so that an
        extractor upgrade is never stored as an edit of every article it reads differently.
        The state as it was when there is no page to read again, or it is no article now."""
        found = self.store.latest_page(state["_id"])
        if found is None or found[0].get("extractor_version") == a["extractor_version"]:
            return state
        fields = workers.reread(self.crawler, found[1], state["url"], a["outlet"])
        if fields is None:
            return state
        events.append("extract/reread")
        return state | {
            "hashes": fields["hashes"],
            "loose_hashes": fields["loose_hashes"],
            "body_chars": sum(map(len, fields["body"])),
            "extractor": fields["extractor"],
            "extractor_version": a["extractor_version"],
            "reread": True,
        }

    @staticmethod
    def _stale(a: ItemAdapter, state: ArticleState, now: datetime) -> bool:
        if not versions.stale(now, state):
            return False
        logger.info(
            "%s: fetched at %s, before the newest stored version (%s): not stored",
            a["url"],
            now.isoformat(),
            (state.get("latest_fetch") or state["last_changed"]).isoformat(),
        )
        return True

    def unchanged(self, a: ItemAdapter) -> list[str] | None:
        """The common case, decided on the crawl's own thread with no round trip: a re-check
        of a tracked article that found it as stored (a 304, the same bytes, or the same
        fields) is queued in the check batch; the caller writes the batch when it is due.
        None when the fetch needs the full decision (the spider knew no state, a new alias,
        a refusal, a change, a stale fetch)."""
        state = a.get("known")
        if state is None or not set(a["aliases"]) <= set(state.get("aliases", [])):
            return None
        now = datetime.fromisoformat(a["fetched_at"])
        if versions.stale(now, state):
            return None
        if a["status"] == "ok":
            if versions.refusal(a, state, self.bounds) or versions.label(a, state) is not None:
                return None
        elif a["status"] != "unchanged":
            return None
        check = self._check_fields(a, state, "unchanged", None, now)
        self.checks.queue(state, check_update(**check, raw_digest=a.get("raw_digest")))
        return ["checks/unchanged"]

    def _check(self, a, state, status, reason, now, repair=None) -> str:
        """Record a check that stores no version; returns the stat to count."""
        if status != "unchanged":
            logger.warning("%s: %s (%s)", a["url"], status, reason or "no detail")
        check = self._check_fields(a, state, status, reason, now, repair)
        if status == "unchanged" and repair is None:  # the common case: batched, see checks.py
            self.checks.add(state, check_update(**check, raw_digest=a.get("raw_digest")))
        else:
            self.store.record_check(state["_id"], **check)
        return "checks/unchanged" if status == "unchanged" else f"status/{status}"

    def _check_fields(self, a, state, status, reason, now, repair=None) -> dict:
        last_changed = state.get("last_changed") or state.get("first_seen") or now
        changed_before = state.get("version_count", 0) > 1
        return {
            "now": now,
            "status": "live" if status == "unchanged" else status,
            "reason": reason,
            "next_check": schedule.next_check(
                self.policy, now, last_changed, changed_before=changed_before
            ),
            "validators": a.get("validators") or None,
            "repair": repair,
        }

    def _agreement(self, a: ItemAdapter, label: str, events: list[str]) -> float | None:
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
            events.append("agreement/checked")
            if found < self.min_agreement:
                events.append("agreement/low")
        return found

    def _add_version(self, a: ItemAdapter, state: ArticleState, label, now, events) -> int:
        hashes = a["hashes"]
        html = a.get("html")
        version = {
            "outlet": a["outlet"],
            "url": state["url"],
            "fetched_at": now,
            "label": label,
            "changed": text.changed_fields(state.get("hashes"), hashes),
            **{name: a.get(name) for name in VERSION_FIELDS},
            "hash": text.combined_hash(hashes),
            "normaliser_version": text.NORMALISER_VERSION,
            "snapshot": self.store.save_snapshot(html, now) if html else None,
            "agreement": self._agreement(a, label, events),
        }
        # The outbox entries travel inside the version's own insert (newsdiff.store.outbox).
        if targets := publish.matching(self.publish_to, version):
            version["outbox"] = targets
        article_fields = {name: a.get(name) for name in ARTICLE_FIELDS}
        article_fields["validators"] = a.get("validators") or {}
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
        if self.index is not None:
            self.index.add(search.indexed_fields(version, state["_id"], number))
        return number

    def index_new_versions(self, stats) -> None:
        """Wait for this crawl's new versions to be in the search index (the last batch is
        written now). The index is derived data: a failure is logged and counted, never fatal."""
        if self.index is None:
            return
        index, self.index = self.index, None
        index.close()
        if index.indexed:
            stats.inc_value("newsdiff/index/versions", index.indexed)
            stats.inc_value("newsdiff/index/seconds", round(index.seconds, 3))
            seconds = index.seconds
            logger.info("Indexed %d new versions for search in %.2f s", index.indexed, seconds)
        if index.failed:
            logger.error(
                "Search index at %s not updated (%s); the %d new versions are stored "
                "and `scrapy index` will add them",
                index.root,
                index.error,
                index.failed,
            )
            stats.inc_value("newsdiff/index/failed", index.failed)


# What a version keeps of the fetch as it is, and what the article document keeps of it.
VERSION_FIELDS = (
    *("title", "summary", "byline", "published", "modified", "section", "body", "corrections"),
    *("hashes", "loose_hashes", "extractor", "extractor_version"),
)
ARTICLE_FIELDS = (
    *("extractor", "extractor_version", "title", "summary", "section", "published", "modified"),
    "raw_digest",
)
