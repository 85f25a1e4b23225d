"""CrawlSummary: one log line at the end of every crawl, with the figures a person checks first."""

from __future__ import annotations

import logging

from scrapy import signals

logger = logging.getLogger(__name__)


class CrawlSummary:
    def __init__(self, crawler):
        self.stats = crawler.stats
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def spider_closed(self, spider, reason):
        get = self.stats.get_value
        failures = sum(
            value
            for key, value in self.stats.get_stats().items()
            if key.startswith(("newsdiff/status/", "newsdiff/store/errors", "newsdiff/store/lost"))
        )
        elapsed = get("elapsed_time_seconds") or 0
        discovered = get("newsdiff/discovery/urls", 0)
        new = discovered - get("deltafetch/skipped", 0)
        waiting = get("newsdiff/spool/waiting", 0)  # fetches the database did not take
        line = (
            f"newsdiff {spider.name}: discovered {discovered} ({new} new), "
            f"re-checked {get('newsdiff/recheck/due', 0)}, "
            f"new versions {get('newsdiff/versions/new', 0)}, "
            f"unchanged {get('newsdiff/checks/unchanged', 0)}, failures {failures}, "
            + (f"waiting on local disk {waiting}, " if waiting else "")
            + f"{elapsed:.0f}s, finished: {reason}"
        )
        (logger.info if reason == "finished" else logger.error)(line)
