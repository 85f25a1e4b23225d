"""Outlet-side faults, injected by a misbehaving server on 127.0.0.1 through Scrapy's real
downloader: each is logged, counted, recorded as the article's status, retried where that makes
sense, never stored as a version, and the crawl goes on with the other articles."""

from __future__ import annotations

import logging
import re

import pytest

from newsdiff.replay import NYT_FEED_URL, build_nytimes_site, site_path, write_feed
from tests import faultserver as fs
from tests.conftest import CORPUS, coroutine_test, run_crawl

GREECE = "https://www.nytimes.com/2018/06/05/world/europe/greece-macedonia.html"
GREECE_PATH = "/2018/06/05/world/europe/greece-macedonia.html"
FIRST = [(0, "first")]
NO_META = re.compile(r"<meta[^>]*charset[^>]*>", re.I)
MALFORMED_FEED = "feeds/nyt/HomePage_2023-12-16_GoldLion1011_browser-view_NOT-WELL-FORMED.xml"


@pytest.fixture
def outlet(site, store, crawl_settings):
    """The replayed NYT site behind a fault server; returns (server, settings, article URLs)."""
    urls = [u for u in build_nytimes_site(site.root) if "/es/" not in u]
    server = fs.FaultServer(site.root).start()
    settings = crawl_settings(
        NEWSDIFF_HOST_MAP=server.host_map(), RETRY_TIMES=2, DOWNLOAD_TIMEOUT=2
    )
    yield server, settings, urls
    server.stop()


def versions(store, url):
    article = store.articles.find_one({"url": url})
    return [(v["number"], v["label"]) for v in store.versions_of(article["_id"])]


async def recheck_with_fault(outlet, store, caplog, fault, path=GREECE_PATH, **overrides):
    """Crawl once cleanly, then re-check everything with `fault` on `path` (GREECE's page)."""
    server, settings, urls = outlet
    await run_crawl(settings)
    assert store.versions.count_documents({}) == len(urls)
    server.faults[path] = fault
    server.hits.clear()
    caplog.clear()
    caplog.set_level(logging.INFO)
    crawler = await run_crawl({**settings, **overrides}, force="1")
    return crawler.stats.get_stats(), store.articles.find_one({"url": GREECE})


def assert_kept_and_went_on(store, stats, urls, article):
    """The earlier version is kept, nothing new is stored, every other article was checked."""
    assert versions(store, GREECE) == FIRST
    assert article["version_count"] == 1
    assert stats.get("newsdiff/versions/new") is None
    assert stats["newsdiff/checks/unchanged"] == len(urls) - 1
    assert store.versions.count_documents({}) == len(urls)


def warnings_about(caplog, url):
    return [
        r.getMessage()
        for r in caplog.records
        if r.levelno >= logging.WARNING and url in r.getMessage()
    ]


@pytest.mark.parametrize("code", [500, 503])
@coroutine_test
async def test_server_errors_are_retried_then_recorded(outlet, store, caplog, code):
    stats, article = await recheck_with_fault(outlet, store, caplog, fs.status(code))
    assert outlet[0].hits[GREECE_PATH] == 3  # the first try and RETRY_TIMES=2 retries
    assert stats["retry/count"] == 2
    assert stats["retry/max_reached"] == 1
    assert stats["newsdiff/fetch/failed"] == 1
    assert article["status"] == "failing"
    assert article["reason"] == f"HTTP {code} after retries"
    assert article["next_check"]  # still checked
    assert f"Fetching {GREECE} failed: HTTP {code} after retries" in warnings_about(caplog, GREECE)
    assert_kept_and_went_on(store, stats, outlet[2], article)


@pytest.mark.parametrize(
    "fault, exception",
    [
        (fs.hang, "DownloadTimeoutError: Getting"),
        (fs.reset_mid_body(b"<html><body>" + b"<p>text</p>" * 5000), "ResponseDataLossError"),
        (fs.truncated(b"<html><body>" + b"<p>text</p>" * 500), "ResponseDataLossError"),
    ],
    ids=["timeout", "reset-mid-body", "truncated"],
)
@coroutine_test
async def test_broken_connections_are_retried_then_recorded(
    outlet, store, caplog, fault, exception
):
    stats, article = await recheck_with_fault(outlet, store, caplog, fault)
    assert outlet[0].hits[GREECE_PATH] == 3
    assert stats["retry/count"] == 2
    assert stats["retry/max_reached"] == 1
    assert stats["newsdiff/fetch/failed"] == 1
    assert article["status"] == "failing"
    assert article["reason"].startswith(exception)
    assert article["next_check"]
    assert f"Fetching {GREECE} failed: {exception}" in "\n".join(warnings_about(caplog, GREECE))
    assert_kept_and_went_on(store, stats, outlet[2], article)


@coroutine_test
async def test_redirect_loop_is_cut_and_recorded(outlet, store, caplog):
    stats, article = await recheck_with_fault(outlet, store, caplog, fs.redirect(GREECE))
    assert outlet[0].hits[GREECE_PATH] == 21  # REDIRECT_MAX_TIMES (20) redirects, no retries
    assert stats["newsdiff/fetch/failed"] == 1
    assert article["status"] == "failing"
    assert article["reason"] == "IgnoreRequest: max redirections reached"
    assert f"Fetching {GREECE} failed: IgnoreRequest: max redirections reached" in (
        warnings_about(caplog, GREECE)
    )
    assert_kept_and_went_on(store, stats, outlet[2], article)


@coroutine_test
async def test_redirect_to_another_domain_is_dropped_as_offsite(outlet, store, caplog):
    elsewhere = "https://elsewhere.example/2018/06/05/world/europe/greece-macedonia.html"
    stats, article = await recheck_with_fault(outlet, store, caplog, fs.redirect(elsewhere))
    # Re-checks bypass the dupefilter (dont_filter); their redirects must still stay on site.
    assert stats["offsite/filtered"] == 1
    assert "downloader/exception_type_count/scrapy.exceptions.CannotResolveHostError" not in stats
    assert stats["robotstxt/request_count"] == 2  # only the outlet's two hosts were asked
    assert stats["newsdiff/fetch/failed"] == 1
    assert article["status"] == "failing"
    assert article["reason"] == "IgnoreRequest: Filtered offsite request to 'elsewhere.example'"
    assert f"Fetching {elsewhere} failed: {article['reason']}" in caplog.text
    assert_kept_and_went_on(store, stats, outlet[2], article)


@pytest.mark.parametrize("declared", [True, False], ids=["content-length", "streamed"])
@coroutine_test
async def test_page_over_download_maxsize_is_cancelled(outlet, store, caplog, declared):
    stats, article = await recheck_with_fault(
        outlet, store, caplog, fs.huge(20 * 1024 * 1024, declared)
    )
    assert stats["downloader/exception_type_count/scrapy.exceptions.DownloadCancelledError"] == 1
    assert stats.get("retry/count") is None  # the same page would be as big again
    assert stats["newsdiff/fetch/failed"] == 1
    assert article["status"] == "failing"
    assert article["reason"].startswith("DownloadCancelledError")
    if declared:
        assert "larger than download max size (16777216)" in article["reason"]
    assert warnings_about(caplog, GREECE)
    assert_kept_and_went_on(store, stats, outlet[2], article)


@pytest.mark.parametrize(
    "body, kind",
    [
        (b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\n" * 50, "application/pdf"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 20, "image/png"),
    ],
    ids=["pdf", "png"],
)
@coroutine_test
async def test_not_html_is_not_an_article(outlet, store, caplog, body, kind):
    stats, article = await recheck_with_fault(outlet, store, caplog, fs.content(body, kind))
    assert stats["newsdiff/status/not-article"] == 1
    assert article["status"] == "not-article"
    assert article["reason"] == "The input is not an HTML document."
    assert f"{GREECE}: not-article (The input is not an HTML document.)" in (
        warnings_about(caplog, GREECE)
    )
    assert_kept_and_went_on(store, stats, outlet[2], article)


@coroutine_test
async def test_robots_txt_disallowing_is_obeyed_and_recorded(outlet, store, caplog):
    server = outlet[0]
    robots = fs.content(b"User-agent: *\nDisallow: /2018/06/\n", "text/plain")
    stats, article = await recheck_with_fault(outlet, store, caplog, robots, path="/robots.txt")
    assert server.hits[GREECE_PATH] == 0
    assert stats["robotstxt/forbidden"] == 1
    assert stats["newsdiff/fetch/failed"] == 1
    assert article["status"] == "failing"
    assert article["reason"] == "IgnoreRequest: Forbidden by robots.txt"
    assert f"Fetching {GREECE} failed: IgnoreRequest: Forbidden by robots.txt" in (
        warnings_about(caplog, GREECE)
    )
    assert_kept_and_went_on(store, stats, outlet[2], article)


def outlet_page(server, url) -> bytes:
    return site_path(server.root, url).read_bytes()


@pytest.mark.parametrize(
    "encode, content_type",
    [
        # A Windows-1252 page whose <meta> and HTTP header both claim UTF-8.
        (lambda html: html.encode("cp1252", "xmlcharrefreplace"), "text/html; charset=utf-8"),
        # A Windows-1252 page declared only by the HTTP header.
        (
            lambda html: NO_META.sub("", html).encode("cp1252", "xmlcharrefreplace"),
            "text/html; charset=iso-8859-1",
        ),
        # A UTF-8 page with no declaration at all.
        (lambda html: NO_META.sub("", html).encode(), "text/html"),
    ],
    ids=["latin1-declared-utf8", "latin1-header-only", "utf8-undeclared"],
)
@coroutine_test
async def test_wrong_or_missing_charset_still_reads_the_same_text(
    outlet, store, caplog, encode, content_type
):
    html = (outlet_page(outlet[0], GREECE)).decode()
    assert "Greece\u2019s second city" in html and "\u2014" in html
    stats, article = await recheck_with_fault(
        outlet, store, caplog, fs.content(encode(html), content_type)
    )
    # The text came out exactly as before: a check with no change, not a mojibake "edit".
    assert stats["newsdiff/checks/unchanged"] == len(outlet[2])
    assert stats.get("newsdiff/versions/new") is None
    assert article["status"] == "live"
    assert versions(store, GREECE) == FIRST


@coroutine_test
async def test_malformed_feed_is_read_and_failures_of_new_articles_store_nothing(
    outlet, store, caplog
):
    server, settings, urls = outlet
    template = (CORPUS / MALFORMED_FEED).read_bytes()
    site_path(server.root, NYT_FEED_URL).write_bytes(write_feed(template, urls))
    server.faults[GREECE_PATH] = fs.status(500)
    caplog.set_level(logging.INFO)
    crawler = await run_crawl(settings)
    stats = crawler.stats.get_stats()
    assert stats["newsdiff/discovery/malformed_feeds"] == 1
    assert f"Feed {NYT_FEED_URL} is not well-formed" in caplog.text
    assert f"using the {len(urls)} entries that could be read" in caplog.text
    assert stats["newsdiff/discovery/urls"] == len(urls)
    # A new article that fails gets a status and no version; the others are stored.
    article = store.articles.find_one({"url": GREECE})
    assert article["status"] == "failing"
    assert article["reason"] == "HTTP 500 after retries"
    assert article["version_count"] == 0
    assert store.versions.count_documents({"url": GREECE}) == 0
    assert stats["newsdiff/versions/new"] == len(urls) - 1
    assert store.versions.count_documents({}) == len(urls) - 1
