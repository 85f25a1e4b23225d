"""Per-page, per-item and per-command log lines, made only when someone reads them.

Scrapy builds a DEBUG record for every response ("Crawled (200) ...") and every item ("Scraped
from ...", with the whole item) and lets the handler drop it at LOG_LEVEL INFO. A re-check crawl
is mostly such lines: building them cost about 4% of the crawl's CPU. Below DEBUG they are not
made at all; at DEBUG an item is one line (its URL and status), not an article's text.

pymongo does the same for every command and connection event (a record whose JSON is built
only if it is printed): about 0.1 ms of the crawl's CPU per database round trip, a third of a
small write's. Below DEBUG its logger is set to INFO (not higher: pymongo turns some INFO
messages into Python warnings when INFO is off), unless it was configured otherwise.
"""

from __future__ import annotations

import logging
from typing import Any

from itemadapter import ItemAdapter
from scrapy import logformatter

PYMONGO = logging.getLogger("pymongo")
_pymongo_level: int | None = None  # the level this module gave PYMONGO, if any


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
        level = _level(settings.get("LOG_LEVEL")) if enabled else logging.CRITICAL
        quiet_pymongo(level)
        return cls(debug=level <= logging.DEBUG)

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


def quiet_pymongo(level: int) -> None:
    """Let pymongo make DEBUG records only for a crawl at DEBUG (see the module docstring); a
    level set on its logger by someone else stays."""
    global _pymongo_level
    if PYMONGO.level in (logging.NOTSET, _pymongo_level):
        _pymongo_level = min(level, logging.INFO)
        PYMONGO.setLevel(_pymongo_level)
