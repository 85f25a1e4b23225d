"""CrawlHealth: each crawl checks itself at close, says so in stats and warnings, and is recorded.

Checks (each problem sets newsdiff/health/<problem> and logs one WARNING naming the outlet, the
figure and what to look at):

- no_urls: discovery ran but its feeds and sitemaps gave no article URL (not judged in
  shared-queue mode, where one node may read none of them);
- empty_body / empty_title / empty_byline: more than NEWSDIFF_HEALTH_MAX_EMPTY_SHARE of the
  article pages fetched extracted no such field (with at least NEWSDIFF_HEALTH_MIN_PAGES pages);
- fallback_body: more than that share of the pages extracted went past the outlet's own body rules
  to JSON-LD or trafilatura (a renamed body container looks like this: text is still found);
- shrunk: more than NEWSDIFF_HEALTH_MAX_SHRUNK bodies shrank sharply against the stored version;
- rejected: more than NEWSDIFF_HEALTH_MAX_REJECTED_SHARE of the article URLs fetched were judged
  not to be articles (newsdiff/status/not-article/<reason>);
- low_agreement: more than NEWSDIFF_HEALTH_MAX_LOW_AGREEMENT_SHARE of the new versions agreed less
  than NEWSDIFF_HEALTH_MIN_AGREEMENT with the generic extractor (a layout the rules half-survive);
- stale: the outlet stored no version for longer than NEWSDIFF_HEALTH_STALE_HOURS, or
  NEWSDIFF_HEALTH_STALE_FACTOR times its typical gap between versions if that is longer.

The crawl (outlet, start, finish, finish reason, figures, stats, problems) is written to the
store's `crawls` collection, which `scrapy health` reads.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from scrapy import signals
from scrapy.exceptions import NotConfigured

from newsdiff import pages
from newsdiff.store import EmbeddedServerError, StoreError, open_store

logger = logging.getLogger(__name__)

FIELDS = ("body", "title", "byline")
FALLBACK_EXTRACTORS = ("jsonld", "trafilatura")  # pages.extract's generic paths
# Scrapy's own stats worth keeping with each crawl, beside every newsdiff/* one.
SCRAPY_STATS = (
    "item_scraped_count",
    "item_dropped_count",
    "downloader/request_count",
    "downloader/response_count",
    "downloader/exception_count",
    "elapsed_time_seconds",
    "log_count/ERROR",
    "log_count/WARNING",
    "deltafetch/skipped",
    "deltafetch/stored",
)
SCRAPY_PREFIXES = ("downloader/response_status_count/",)
# What to look at, per problem, in the warning.
ADVICE = {
    "no_urls": "check that the outlet's feeds and sitemaps still list articles "
    "(`scrapy outlets`) and that its article URL rule still matches their links",
    "empty": "the page layout may have changed: run `scrapy extract URL --outlet {outlet}` "
    "on a recent article and update the outlet's {field} rule",
    "shrunk": "compare a recent page with its stored version (`scrapy history URL`): "
    "the body rule may now match only part of the article",
    "rejected": "run `scrapy extract URL --outlet {outlet}` on one of them: a real article "
    "called a section front or not HTML is an extraction bug; they are re-checked as usual",
    "stale": "check the crawl schedule and the outlet's discovery; "
    "`scrapy health {outlet}` shows its recent crawls",
}


def stats_to_store(stats: dict[str, Any]) -> dict[str, Any]:
    """The newsdiff/* and key Scrapy stats, with keys MongoDB accepts (no dots)."""
    kept = {}
    for key, value in stats.items():
        if not isinstance(value, int | float) or isinstance(value, bool):
            continue
        if key.startswith("newsdiff/") or key in SCRAPY_STATS or key.startswith(SCRAPY_PREFIXES):
            kept[key.replace(".", "_").lstrip("$")] = value
    return kept


class CrawlHealth:
    def __init__(self, crawler):
        settings = crawler.settings
        if not settings.getbool("NEWSDIFF_HEALTH_ENABLED", True):
            raise NotConfigured("NEWSDIFF_HEALTH_ENABLED is off")
        self.crawler = crawler
        self.stats = crawler.stats
        self.max_empty_share = settings.getfloat("NEWSDIFF_HEALTH_MAX_EMPTY_SHARE", 0.5)
        self.min_pages = settings.getint("NEWSDIFF_HEALTH_MIN_PAGES", 3)
        self.max_shrunk = settings.getint("NEWSDIFF_HEALTH_MAX_SHRUNK", 0)
        self.max_rejected_share = settings.getfloat("NEWSDIFF_HEALTH_MAX_REJECTED_SHARE")
        self.min_agreement = settings.getfloat("NEWSDIFF_HEALTH_MIN_AGREEMENT")
        self.max_low_agreement = settings.getfloat("NEWSDIFF_HEALTH_MAX_LOW_AGREEMENT_SHARE")
        self.stale_hours = settings.getfloat("NEWSDIFF_HEALTH_STALE_HOURS", 48)
        self.stale_factor = settings.getfloat("NEWSDIFF_HEALTH_STALE_FACTOR", 10)
        self.started = datetime.now(UTC)
        self.pages = 0  # article pages fetched that extraction was tried on
        self.no_body = 0  # of which extraction found no article text at all
        self.fallback = 0  # of which the outlet's own body rules found nothing
        self.not_article = 0  # article URLs whose page extraction called "not an article"
        for handler, signal in (
            (self.spider_opened, signals.spider_opened),
            (self.item_seen, signals.item_scraped),
            (self.item_seen, signals.item_dropped),
            (self.item_seen, signals.item_error),
            (self.spider_closed, signals.spider_closed),
        ):
            crawler.signals.connect(handler, signal=signal)

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def spider_opened(self, spider):
        self.started = datetime.now(UTC)

    def item_seen(self, item, **kwargs):
        """Count article pages: extracted ones carry an extractor version; a page with no
        article text at all arrives as a failing item from a successful response."""
        get = item.get if isinstance(item, dict) else lambda k: getattr(item, k, None)
        if get("extractor_version"):
            self.pages += 1
            self.fallback += get("extractor") in FALLBACK_EXTRACTORS
        elif get("status") == "failing" and 200 <= (get("http_status") or 0) < 300:
            self.pages += 1
            self.no_body += 1
        elif get("status") == "not-article" and get("http_status"):
            self.not_article += 1

    # --- checks ---------------------------------------------------------------------------

    def check(self, spider, store) -> list[dict[str, Any]]:
        """The problems of this crawl; store (may be None) answers the stale check."""
        get = self.stats.get_value
        outlet = spider.name
        problems: list[dict[str, Any]] = []

        def problem(name: str, figure: float, message: str, **extra: Any) -> None:
            problems.append({"problem": name, "figure": figure, "message": message, **extra})

        # With a shared queue (NEWSDIFF_REDIS_URL) other nodes may read some or all listings.
        discovery_ran = (
            getattr(spider, "mode", "all") in ("all", "discover")
            and bool(getattr(spider, "feeds", ()) or getattr(spider, "sitemaps", ()))
            and not self.crawler.settings.get("NEWSDIFF_REDIS_URL")
        )
        if discovery_ran and not get("newsdiff/discovery/urls", 0):
            failed = get("newsdiff/discovery/failed_listings", 0)
            listings = len(spider.feeds) + len(spider.sitemaps)
            problem(
                "no_urls",
                0,
                f"discovery found no article URLs in {listings} feed(s) and sitemap(s) "
                f"({failed} failed to download); {ADVICE['no_urls']}",
            )

        if self.pages >= self.min_pages:
            for field in FIELDS:
                empty = self.no_body if field == "body" else 0
                empty += get(f"newsdiff/extract/empty/{field}", 0)
                share = empty / self.pages
                if share > self.max_empty_share:
                    problem(
                        f"empty_{field}",
                        empty,
                        f"{empty} of {self.pages} article pages ({share:.0%}) had no {field} "
                        f"(threshold {self.max_empty_share:.0%}); "
                        + ADVICE["empty"].format(outlet=outlet, field=field),
                        share=round(share, 4),
                        pages=self.pages,
                    )

            page_class = pages.PAGES.get(outlet)
            share = self.fallback / self.pages
            if page_class is not None and page_class.body_xpaths and share > self.max_empty_share:
                problem(
                    "fallback_body",
                    self.fallback,
                    f"{self.fallback} of {self.pages} article pages ({share:.0%}) were extracted "
                    f"by the generic fallback, not the outlet's body rules "
                    f"(threshold {self.max_empty_share:.0%}); "
                    + ADVICE["empty"].format(outlet=outlet, field="body"),
                    share=round(share, 4),
                    pages=self.pages,
                )

        problems += self.rejected(outlet) + self.low_agreement(outlet)

        shrunk = get("newsdiff/extract/shrunk", 0)
        if shrunk > self.max_shrunk:
            problem(
                "shrunk",
                shrunk,
                f"{shrunk} article bod{'y' if shrunk == 1 else 'ies'} shrank sharply against the "
                f"stored version and {'was' if shrunk == 1 else 'were'} not stored "
                f"(threshold {self.max_shrunk}); {ADVICE['shrunk']}",
            )

        if store is not None:
            stale = self.stale(store, outlet)
            if stale:
                hours, limit = stale
                problem(
                    "stale",
                    round(hours, 1),
                    f"no new version stored for {_duration(hours)} (usual at most "
                    f"{_duration(limit)}); " + ADVICE["stale"].format(outlet=outlet),
                    threshold_hours=round(limit, 1),
                )
        return problems

    def rejected(self, outlet: str) -> list[dict[str, Any]]:
        """Article URLs that extraction called "not an article", when unusually many."""
        pages_seen = self.pages + self.not_article
        share = self.not_article / pages_seen if pages_seen else 0.0
        if pages_seen < self.min_pages or share <= self.max_rejected_share:
            return []
        prefix = "newsdiff/status/not-article/"
        reasons = {
            k[len(prefix) :]: v for k, v in self.stats.get_stats().items() if k.startswith(prefix)
        }
        return [
            {
                "problem": "rejected",
                "figure": self.not_article,
                "message": f"{self.not_article} of {pages_seen} article URLs ({share:.0%}) were "
                f"judged not to be articles ({', '.join(f'{k}: {v}' for k, v in reasons.items())}"
                f"; threshold {self.max_rejected_share:.0%}); "
                + ADVICE["rejected"].format(outlet=outlet),
                "share": round(share, 4),
                "pages": pages_seen,
            }
        ]

    def low_agreement(self, outlet: str) -> list[dict[str, Any]]:
        """New versions whose body the independent generic extractor hardly agrees with."""
        checked = self.stats.get_value("newsdiff/agreement/checked", 0)
        low = self.stats.get_value("newsdiff/agreement/low", 0)
        share = low / checked if checked else 0.0
        if checked < self.min_pages or share <= self.max_low_agreement:
            return []
        return [
            {
                "problem": "low_agreement",
                "figure": low,
                "message": f"{low} of {checked} new versions ({share:.0%}) agreed less than "
                f"{self.min_agreement:.0%} with the generic extractor "
                f"(threshold {self.max_low_agreement:.0%}); "
                + ADVICE["shrunk"].format(outlet=outlet),
                "share": round(share, 4),
                "pages": checked,
            }
        ]

    def stale(self, store, outlet: str) -> tuple[float, float] | None:
        """(hours since the outlet's last version, the limit) when that is unusually long."""
        times = store.last_version_times(outlet, 50)
        if not times:
            return None  # nothing stored yet: the other checks speak for a new outlet
        now = datetime.now(UTC)
        hours = (now - times[0]) / timedelta(hours=1)
        limit = self.stale_hours
        if len(times) > 1:
            typical = (times[0] - times[-1]) / timedelta(hours=1) / (len(times) - 1)
            limit = max(limit, self.stale_factor * typical)
        return (hours, limit) if hours > limit else None

    # --- close ----------------------------------------------------------------------------

    async def spider_closed(self, spider, reason):
        if str(reason).startswith("mongodb_unreachable"):
            return  # nothing was crawled: health warnings would point away from the database
        problems = await asyncio.to_thread(self._close, spider, reason, True)
        for p in problems:
            self.stats.set_value(f"newsdiff/health/{p['problem']}", p["figure"])
            logger.warning("newsdiff health %s: %s", spider.name, p["message"])

    def _close(self, spider, reason: str, use_store: bool) -> list[dict[str, Any]]:
        store = None
        try:
            if use_store:
                store = open_store(self.crawler.settings, timeout_ms=3000)
            problems = self.check(spider, store)
        except (StoreError, EmbeddedServerError) as exc:
            logger.warning("newsdiff health %s: could not read the store: %s", spider.name, exc)
            problems, use_store = self.check(spider, None), False
        try:
            if use_store:
                self._record(store, spider, reason, problems)
        finally:
            if store is not None:
                store.close()
        return problems

    def _record(self, store, spider, reason: str, problems: list[dict[str, Any]]) -> None:
        stats = dict(self.stats.get_stats())
        for p in problems:
            stats[f"newsdiff/health/{p['problem']}"] = p["figure"]
        failed = self.no_body + self.stats.get_value("newsdiff/extract/empty/title", 0)
        doc = {
            "outlet": spider.name,
            "start": self.started,
            "finish": datetime.now(UTC),
            "finish_reason": str(reason),
            "mode": getattr(spider, "mode", None),
            "force": getattr(spider, "force", None),
            # Extraction failures: pages with no article text, or text but no title.
            "pages": self.pages,
            "extract_failures": min(failed, self.pages),
            "stats": stats_to_store(stats),
            "problems": problems,
        }
        try:
            store.record_crawl(doc)
        except StoreError as exc:
            logger.warning("newsdiff health %s: could not record the crawl: %s", spider.name, exc)


def _duration(hours: float) -> str:
    return f"{hours / 24:.1f} days" if hours >= 48 else f"{hours:.1f} hours"
