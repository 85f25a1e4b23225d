"""Per-page and per-command log lines: not built below DEBUG, one line per item at DEBUG."""

import logging

import pytest
from scrapy import Request, Spider
from scrapy.http import HtmlResponse
from scrapy.utils.misc import load_object
from scrapy.utils.test import get_crawler

import newsdiff.settings as project
from newsdiff.items import Article
from newsdiff.logformat import LogFormatter

URL = "https://www.nytimes.com/2024/01/01/world/a.html"


def formatter(**settings) -> LogFormatter:
    cls = load_object(project.LOG_FORMATTER)  # what a crawl of this project uses
    return cls.from_crawler(get_crawler(Spider, settings))


def page_and_item():
    response = HtmlResponse(URL, body=b"<html></html>", request=Request(URL))
    item = Article(outlet="nytimes", url=URL, fetched_at="2024-01-01T00:00:00+00:00")
    item.body = ["A paragraph of the article that must not be written to the log."]
    return response, item


def test_no_page_or_item_records_below_debug():
    response, item = page_and_item()
    spider = Spider("nytimes")
    for level in ("INFO", logging.WARNING):
        f = formatter(LOG_LEVEL=level)
        assert f.crawled(response.request, response, spider) is None
        assert f.scraped(item, response, spider) is None
    assert formatter(LOG_ENABLED=False, LOG_LEVEL="DEBUG").scraped(item, response, spider) is None


def test_an_item_is_one_line_at_debug():
    response, item = page_and_item()
    spider = Spider("nytimes")
    f = formatter(LOG_LEVEL="DEBUG")
    assert f.crawled(response.request, response, spider)["level"] == logging.DEBUG
    line = f.scraped(item, response, spider)
    assert line["level"] == logging.DEBUG
    text = line["msg"] % line["args"]
    assert text == f"Scraped {URL}: ok"


class Records(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record):
        self.records.append(record)


@pytest.fixture
def pymongo_records():
    """The records pymongo makes, whatever a crawl's handler would print; its logger's level is
    restored afterwards."""
    logger = logging.getLogger("pymongo")
    level, handler = logger.level, Records()
    logger.setLevel(logging.NOTSET)
    logger.addHandler(handler)
    yield handler.records
    logger.removeHandler(handler)
    logger.setLevel(level)


def test_pymongo_makes_no_command_records_below_debug(pymongo_records, store):
    formatter(LOG_LEVEL="INFO")
    store.ping()
    store.articles.find_one({})
    assert not [r for r in pymongo_records if r.levelno < logging.INFO]
    assert logging.getLogger("pymongo").isEnabledFor(logging.INFO)  # not turned into warnings

    formatter(LOG_LEVEL="DEBUG")  # a crawl at DEBUG gets pymongo's command log, as before
    store.articles.find_one({})
    assert [r for r in pymongo_records if r.name == "pymongo.command"]


def test_a_pymongo_level_set_by_the_user_stays(pymongo_records):
    logging.getLogger("pymongo").setLevel(logging.ERROR)
    formatter(LOG_LEVEL="DEBUG")
    assert logging.getLogger("pymongo").level == logging.ERROR
