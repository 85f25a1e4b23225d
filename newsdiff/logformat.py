"""Scrapy's per-page and per-item log lines, made only when someone reads them.

Scrapy builds a DEBUG record for every response ("Crawled (200) ...") and every item ("Scraped
from ...", with the whole item) and lets the handler drop it at LOG_LEVEL INFO. A re-check crawl
is mostly such lines: building them cost about 4% of the crawl's CPU. Below DEBUG they are not
made at all; at DEBUG an item is one line (its URL and status), not an article's text.
"""

from __future__ import annotations

import logging
from typing import Any

from itemadapter import ItemAdapter
from scrapy import logformatter


def _level(value: Any) -> int:
    if isinstance(value, int):
        return value
    level = logging.getLevelName(str(value).upper())
    return level if isinstance(level, int) else logging.DEBUG  # unknown: leave Scrapy's lines


class LogFormatter(logformatter.LogFormatter):
    def __init__(self, debug: bool = True):
        self.debug = debug

    @classmethod
    def from_crawler(cls, crawler):
        settings = crawler.settings
        enabled = settings.getbool("LOG_ENABLED")
        return cls(debug=enabled and _level(settings.get("LOG_LEVEL")) <= logging.DEBUG)

    def crawled(self, request, response, spider):
        return super().crawled(request, response, spider) if self.debug else None

    def scraped(self, item, response, spider):
        if not self.debug:
            return None
        a = ItemAdapter(item)
        return {
            "level": logging.DEBUG,
            "msg": "Scraped %(url)s: %(status)s",
            "args": {"url": a.get("url"), "status": a.get("status")},
        }
