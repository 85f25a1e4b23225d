"""Change signals: a feed entry's `updated` (Atom, RSS atom:updated / dcterms:modified /
dc:modified) or a sitemap entry's `<lastmod>` later than our last check of a tracked article
makes it due now, in this crawl (stat newsdiff/recheck/signalled), within NEWSDIFF_SIGNAL_BUDGET.
Each listing's stamps are kept in the store; a listing that re-stamps most entries between
fetches is not trusted for NEWSDIFF_SIGNAL_DISTRUST_HOURS (newsdiff/signals/untrusted_listings).
The rules themselves are pure, in newsdiff/schedule.py."""

from __future__ import annotations

import asyncio
import hashlib
import logging
from datetime import UTC, datetime, timedelta

from scrapy.crawler import Crawler

from newsdiff import schedule
from newsdiff.storage import CrawlStore
from newsdiff.store import StoreError

logger = logging.getLogger(__name__)

Due = dict[str, tuple[dict, datetime]]  # url -> (the tracked article's state, announced time)


def _key(url: str) -> str:
    # Stored stamps are keyed by a digest: URLs hold dots, which MongoDB keys may not.
    return hashlib.blake2b(url.encode(), digest_size=8).hexdigest()


class ChangeSignals:
    """One crawl's change signals for one outlet: what its listings say changed, and the budget."""

    def __init__(self, crawler: Crawler, outlet: str):
        self.crawler = crawler
        self.outlet = outlet
        self.enabled = crawler.settings.getbool("NEWSDIFF_SIGNALS_ENABLED")
        self.left = crawler.settings.getint("NEWSDIFF_SIGNAL_BUDGET")

    async def due(self, listing: str, stamps: dict[str, datetime]) -> Due:
        """The tracked articles of `stamps` to re-check now; none when signals are off, the
        store fails (the schedule still re-checks) or the listing is not trusted."""
        if not stamps or not self.enabled:
            return {}
        stats = self.crawler.stats
        try:
            due = await asyncio.to_thread(self.signalled, listing, stamps)
        except StoreError as exc:  # discovery goes on; the schedule still re-checks
            stats.inc_value("newsdiff/signals/store_errors")
            logger.warning("Change signals of %s not read: %s", listing, exc)
            return {}
        if due is None:
            stats.inc_value("newsdiff/signals/untrusted_listings")
            return {}
        return due

    def spend(self) -> bool:
        """Take one signalled re-check from the crawl's budget; False (counted) once it is spent."""
        if self.left <= 0:
            self.crawler.stats.inc_value("newsdiff/signals/over_budget")
            return False
        self.left -= 1
        self.crawler.stats.inc_value("newsdiff/recheck/signalled")
        return True

    def signalled(self, listing: str, stamps: dict[str, datetime]) -> Due | None:
        """The tracked articles of `stamps` that their listing says changed since we last
        checked them; None if the listing's stamps are not trusted. Runs in a thread (it reads
        and writes the store): no stats here."""
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
        state = {"outlet": self.outlet, "fetched": now, "stamps": newest}
        store.save_listing(listing, {**state, "untrusted_until": untrusted_until})
        if untrusted_until is not None and untrusted_until > now:
            return None
        tolerance = timedelta(minutes=settings.getfloat("NEWSDIFF_SIGNAL_TOLERANCE_MINUTES"))
        due = {}
        for state in store.signal_candidates(self.outlet, sorted(stamps)):
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
