"""scrapy crawl, exiting non-zero when the crawl did not end with finish reason `finished`.

Scrapy's own command exits 0 after, e.g., CloseSpider("mongodb_unreachable: …"); cron, systemd
and CI then see a success. Same options and arguments as Scrapy's `crawl`.
"""

from __future__ import annotations

import sys

from scrapy.commands.crawl import Command as ScrapyCrawlCommand

from newsdiff.nodes import ScheduleConfigError, json_setting


class Command(ScrapyCrawlCommand):
    def short_desc(self):
        return "Run a spider; exit 1 unless the crawl's finish reason is `finished`"

    def _create_crawler(self, spidercls):
        self.crawler = super()._create_crawler(spidercls)
        return self.crawler

    def process_options(self, args, opts):
        super().process_options(args, opts)
        try:  # -s or a Scrapyd job's setting=; the environment's is checked in settings.py
            json_setting(self.settings, "NEWSDIFF_HOST_MAP")
        except ScheduleConfigError as exc:
            print(f"newsdiff: {exc}", file=sys.stderr)
            raise SystemExit(2) from None

    def run(self, args, opts):
        super().run(args, opts)
        crawler = getattr(self, "crawler", None)
        if self.exitcode or crawler is None or crawler.stats is None:
            return
        reason = crawler.stats.get_value("finish_reason")
        if reason != "finished":
            print(f"crawl {args[0]} failed, finish reason: {reason}", file=sys.stderr)
            self.exitcode = 1
