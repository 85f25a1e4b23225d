"""Per-page log lines: not built below DEBUG, one line per item at DEBUG."""

import logging

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
