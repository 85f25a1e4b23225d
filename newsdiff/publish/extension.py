"""PublishAfterCrawl: deliver the outbox when a crawl ends (NEWSDIFF_PUBLISH_AFTER_CRAWL)."""

from __future__ import annotations

import logging
from collections import Counter

from scrapy import signals
from scrapy.exceptions import NotConfigured
from twisted.internet.threads import deferToThread

from newsdiff.storage import CrawlStore

logger = logging.getLogger(__name__)


class PublishAfterCrawl:
    def __init__(self, crawler):
        self.crawler = crawler
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler):
        settings = crawler.settings
        if not settings.getbool("NEWSDIFF_PUBLISH_AFTER_CRAWL") or not settings.get(
            "NEWSDIFF_PUBLISH"
        ):
            raise NotConfigured
        return cls(crawler)

    def spider_closed(self, spider, reason):
        # In a thread: posting waits on the network, the reactor must not.
        return deferToThread(self.publish)

    def publish(self) -> Counter:
        """One delivery pass; a failure here never fails the crawl (the next pass retries)."""
        from newsdiff.commands.publish import make_publisher
        from newsdiff.store.outbox import Outbox

        try:
            store = CrawlStore.of(self.crawler).store  # the crawl's own connection
            Outbox(store).ensure_indexes()
            counts = make_publisher(self.crawler.settings, store).run()
        except Exception as exc:  # the store, the settings or a bug: the crawl's data is safe
            logger.error("Publishing after the crawl failed: %s", exc)
            return Counter()
        for outcome, n in counts.items():
            self.crawler.stats.inc_value(f"newsdiff/publish/{outcome}", n)
        logger.info("Published after the crawl: %s", dict(counts) or "nothing due")
        return counts
