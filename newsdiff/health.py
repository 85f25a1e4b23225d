"""CrawlHealth: each crawl checks itself at close, says so in stats and warnings, and is recorded.

Checks (each problem sets newsdiff/health/<problem> and logs one WARNING naming the outlet, the
figure and what to look at):

- no_urls: discovery ran but its feeds and sitemaps gave no article URL (not judged in
  shared-queue mode, where one node may read none of them);
- empty_body / empty_title / empty_byline: more than NEWSDIFF_HEALTH_MAX_EMPTY_SHARE of the
  article pages fetched extracted no such field (with at least NEWSDIFF_HEALTH_MIN_PAGES pages);
- fallback_body: more than that share of the pages extracted went past the outlet's own body rules
  to JSON-LD or trafilatura (a renamed body container looks like this: text is still found);
- scope_missed: more than that share of the pages of an outlet that names its article's element
  (ArticlePage.scope) were not read from it (newsdiff/reading/*): a new layout, whose re-checks
  are all extracted in full;
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
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from scrapy import signals
from scrapy.exceptions import NotConfigured

from newsdiff import pages
from newsdiff.durations import duration
from newsdiff.storage import CrawlStore
from newsdiff.store import EmbeddedServerError, StoreError

logger = logging.getLogger(__name__)

FIELDS = ("body", "title", "byline")
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


Problem = dict[str, Any]


@dataclass(frozen=True)
class Crawl:
    """What the checks read of one finished crawl."""

    outlet: str
    stats: Mapping[str, Any]
    pages: int  # article pages extraction was tried on
    no_body: int  # of which extraction found no article text at all
    fallback: int  # of which the outlet's own body rules found nothing
    not_article: int  # article URLs whose page extraction called "not an article"
    listings: int | None  # feeds and sitemaps discovery read; None when not judged
    body_rules: bool  # the outlet has body rules a fallback can stand in for
    version_times: Sequence[datetime]  # the outlet's newest versions, newest first (stale)
    now: datetime
    scoped: bool = False  # the outlet names the element that holds its article

    def get(self, key: str) -> Any:
        return self.stats.get(key, 0)


@dataclass(frozen=True)
class Limits:
    """The thresholds, from the NEWSDIFF_HEALTH_* settings."""

    max_empty_share: float
    min_pages: int
    max_shrunk: int
    max_rejected_share: float
    min_agreement: float
    max_low_agreement: float
    stale_hours: float
    stale_factor: float

    @classmethod
    def from_settings(cls, settings) -> Limits:
        return cls(
            max_empty_share=settings.getfloat("NEWSDIFF_HEALTH_MAX_EMPTY_SHARE"),
            min_pages=settings.getint("NEWSDIFF_HEALTH_MIN_PAGES"),
            max_shrunk=settings.getint("NEWSDIFF_HEALTH_MAX_SHRUNK"),
            max_rejected_share=settings.getfloat("NEWSDIFF_HEALTH_MAX_REJECTED_SHARE"),
            min_agreement=settings.getfloat("NEWSDIFF_HEALTH_MIN_AGREEMENT"),
            max_low_agreement=settings.getfloat("NEWSDIFF_HEALTH_MAX_LOW_AGREEMENT_SHARE"),
            stale_hours=settings.getfloat("NEWSDIFF_HEALTH_STALE_HOURS"),
            stale_factor=settings.getfloat("NEWSDIFF_HEALTH_STALE_FACTOR"),
        )


def _problem(name: str, figure: float, message: str, **extra: Any) -> Problem:
    return {"problem": name, "figure": figure, "message": message, **extra}


# --- the checks: each a pure function of the crawl and the limits, its message beside it -----


def no_urls(c: Crawl, lim: Limits) -> list[Problem]:
    """Discovery ran but its feeds and sitemaps gave no article URL."""
    if c.listings is None or c.get("newsdiff/discovery/urls"):
        return []
    failed = c.get("newsdiff/discovery/failed_listings")
    return [
        _problem(
            "no_urls",
            0,
            f"discovery found no article URLs in {c.listings} feed(s) and sitemap(s) "
            f"({failed} failed to download); {ADVICE['no_urls']}",
        )
    ]


def empty_fields(c: Crawl, lim: Limits) -> list[Problem]:
    """Too many article pages without a body, a title or a byline."""
    if c.pages < lim.min_pages:
        return []
    found = []
    for field in FIELDS:
        empty = (c.no_body if field == "body" else 0) + c.get(f"newsdiff/extract/empty/{field}")
        share = empty / c.pages
        if share > lim.max_empty_share:
            found.append(
                _problem(
                    f"empty_{field}",
                    empty,
                    f"{empty} of {c.pages} article pages ({share:.0%}) had no {field} "
                    f"(threshold {lim.max_empty_share:.0%}); "
                    + ADVICE["empty"].format(outlet=c.outlet, field=field),
                    share=round(share, 4),
                    pages=c.pages,
                )
            )
    return found


def fallback_body(c: Crawl, lim: Limits) -> list[Problem]:
    """Too many pages went past the outlet's body rules to a generic extractor."""
    share = c.fallback / c.pages if c.pages else 0.0
    if c.pages < lim.min_pages or not c.body_rules or share <= lim.max_empty_share:
        return []
    return [
        _problem(
            "fallback_body",
            c.fallback,
            f"{c.fallback} of {c.pages} article pages ({share:.0%}) were extracted by the generic "
            f"fallback, not the outlet's body rules (threshold {lim.max_empty_share:.0%}); "
            + ADVICE["empty"].format(outlet=c.outlet, field="body"),
            share=round(share, 4),
            pages=c.pages,
        )
    ]


def scope_missed(c: Crawl, lim: Limits) -> list[Problem]:
    """Too many pages of an outlet with a scope were not read from its article's element."""
    missed = c.get("newsdiff/reading/page") + c.get("newsdiff/reading/fetched")
    read = missed + c.get("newsdiff/reading/element")
    share = missed / read if read else 0.0
    if not c.scoped or read < lim.min_pages or share <= lim.max_empty_share:
        return []
    return [
        _problem(
            "scope_missed",
            missed,
            f"{missed} of {read} pages extracted ({share:.0%}) were not read from the element "
            f"that holds the outlet's articles (threshold {lim.max_empty_share:.0%}), so their "
            "re-checks are extracted in full; "
            + ADVICE["empty"].format(outlet=c.outlet, field="scope"),
            share=round(share, 4),
            pages=read,
        )
    ]


def rejected(c: Crawl, lim: Limits) -> list[Problem]:
    """Article URLs that extraction called "not an article", when unusually many."""
    seen = c.pages + c.not_article
    share = c.not_article / seen if seen else 0.0
    if seen < lim.min_pages or share <= lim.max_rejected_share:
        return []
    prefix = "newsdiff/status/not-article/"
    reasons = ", ".join(
        f"{k[len(prefix) :]}: {v}" for k, v in c.stats.items() if k.startswith(prefix)
    )
    return [
        _problem(
            "rejected",
            c.not_article,
            f"{c.not_article} of {seen} article URLs ({share:.0%}) were judged not to be "
            f"articles ({reasons}; threshold {lim.max_rejected_share:.0%}); "
            + ADVICE["rejected"].format(outlet=c.outlet),
            share=round(share, 4),
            pages=seen,
        )
    ]


def low_agreement(c: Crawl, lim: Limits) -> list[Problem]:
    """New versions whose body the independent generic extractor hardly agrees with."""
    checked, low = c.get("newsdiff/agreement/checked"), c.get("newsdiff/agreement/low")
    share = low / checked if checked else 0.0
    if checked < lim.min_pages or share <= lim.max_low_agreement:
        return []
    return [
        _problem(
            "low_agreement",
            low,
            f"{low} of {checked} new versions ({share:.0%}) agreed less than "
            f"{lim.min_agreement:.0%} with the generic extractor "
            f"(threshold {lim.max_low_agreement:.0%}); " + ADVICE["shrunk"],
            share=round(share, 4),
            pages=checked,
        )
    ]


def shrunk(c: Crawl, lim: Limits) -> list[Problem]:
    """Bodies that shrank sharply against the stored version (not stored)."""
    count = c.get("newsdiff/extract/shrunk")
    if count <= lim.max_shrunk:
        return []
    one = count == 1
    return [
        _problem(
            "shrunk",
            count,
            f"{count} article bod{'y' if one else 'ies'} shrank sharply against the stored "
            f"version and {'was' if one else 'were'} not stored (threshold {lim.max_shrunk}); "
            + ADVICE["shrunk"],
        )
    ]


def stale(c: Crawl, lim: Limits) -> list[Problem]:
    """No version stored for unusually long (nothing stored yet: the other checks speak)."""
    if not c.version_times:
        return []
    hours = (c.now - c.version_times[0]) / timedelta(hours=1)
    limit = lim.stale_hours
    if len(c.version_times) > 1:
        span = (c.version_times[0] - c.version_times[-1]) / timedelta(hours=1)
        limit = max(limit, lim.stale_factor * span / (len(c.version_times) - 1))
    if hours <= limit:
        return []
    return [
        _problem(
            "stale",
            round(hours, 1),
            f"no new version stored for {duration(timedelta(hours=hours))} "
            f"(usual at most {duration(timedelta(hours=limit))}); "
            + ADVICE["stale"].format(outlet=c.outlet),
            threshold_hours=round(limit, 1),
        )
    ]


CHECKS: tuple[Callable[[Crawl, Limits], list[Problem]], ...] = (
    no_urls,
    empty_fields,
    fallback_body,
    scope_missed,
    rejected,
    low_agreement,
    shrunk,
    stale,
)


class CrawlHealth:
    def __init__(self, crawler):
        settings = crawler.settings
        if not settings.getbool("NEWSDIFF_HEALTH_ENABLED"):
            raise NotConfigured("NEWSDIFF_HEALTH_ENABLED is off")
        self.crawler = crawler
        self.stats = crawler.stats
        self.limits = Limits.from_settings(settings)
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
            self.fallback += get("extractor") in pages.FALLBACK_EXTRACTORS
        elif get("status") == "failing" and 200 <= (get("http_status") or 0) < 300:
            self.pages += 1
            self.no_body += 1
        elif get("status") == "not-article" and get("http_status"):
            self.not_article += 1

    def check(self, spider, store) -> list[Problem]:
        """The problems of this crawl; store (may be None) answers the stale check."""
        # With a shared queue (NEWSDIFF_REDIS_URL) other nodes may read some or all listings.
        listings = len(getattr(spider, "feeds", ())) + len(getattr(spider, "sitemaps", ()))
        discovery_ran = (
            getattr(spider, "mode", "all") in ("all", "discover")
            and listings
            and not self.crawler.settings.get("NEWSDIFF_REDIS_URL")
        )
        page_class = pages.PAGES.get(spider.name)
        crawl = Crawl(
            outlet=spider.name,
            stats=dict(self.stats.get_stats()),
            pages=self.pages,
            no_body=self.no_body,
            fallback=self.fallback,
            not_article=self.not_article,
            listings=listings if discovery_ran else None,
            body_rules=page_class is not None and bool(page_class.body_xpaths),
            version_times=store.last_version_times(spider.name, 50) if store else (),
            now=datetime.now(UTC),
            scoped=page_class is not None and page_class.scope is not None,
        )
        return [problem for check in CHECKS for problem in check(crawl, self.limits)]

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
                store = CrawlStore.of(self.crawler).store  # the crawl's own connection
            problems = self.check(spider, store)
        except (StoreError, EmbeddedServerError) as exc:
            logger.warning("newsdiff health %s: could not read the store: %s", spider.name, exc)
            problems, use_store = self.check(spider, None), False
        if use_store:
            self._record(store, spider, reason, problems)
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
