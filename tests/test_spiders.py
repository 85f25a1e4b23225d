"""Checks over every outlet spider, and the crawl's politeness."""

from __future__ import annotations

import inspect
import json
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from scrapy import Request
from scrapy.settings import Settings
from scrapy.spiderloader import SpiderLoader
from scrapy.utils.test import get_crawler

import newsdiff.settings as project
from newsdiff.replay import build_nytimes_site, site_path
from newsdiff.spiders.base import OutletSpider, SpiderArgumentError
from newsdiff.spiders.generic import DeclarativeSpider
from tests.conftest import coroutine_test, run_crawl
from tests.corpus import FIXTURES_ROOT, run
from tests.crawling import GREECE

LOADER = SpiderLoader.from_settings(Settings({"SPIDER_MODULES": project.SPIDER_MODULES}))
SPIDERS = LOADER.list()
# Outlets declared in outlets.toml: generic.py makes their classes; their pages go through the
# generic extractor (tested in tests/test_outlets.py), so they have no fixture pages of their own.
DECLARED = [n for n in SPIDERS if issubclass(LOADER.load(n), DeclarativeSpider)]
PYTHON_OUTLETS = [n for n in SPIDERS if n not in DECLARED]


def test_there_is_a_spider_per_outlet():
    expected = {"nytimes", "washingtonpost", "bbc", "cnn", "guardian", "reuters", "apnews"}
    assert expected <= set(PYTHON_OUTLETS)


@pytest.mark.parametrize("name", SPIDERS)
def test_name_file_and_class_agree(name):
    cls = LOADER.load(name)
    assert issubclass(cls, OutletSpider)
    assert Path(inspect.getfile(cls)).stem == ("generic" if name in DECLARED else name)
    assert cls.__name__ == name.capitalize() + "Spider"
    assert cls.allowed_domains and (cls.feeds or cls.sitemaps)


@pytest.mark.parametrize("name", SPIDERS)
@coroutine_test
async def test_start_yields_discovery_requests(name):
    crawler = get_crawler(LOADER.load(name), {"ROBOTSTXT_OBEY": True})
    spider = crawler._create_spider(mode="discover")
    requests = [r async for r in spider.start()]
    assert requests and all(isinstance(r, Request) for r in requests)
    hosts = {urlsplit(r.url).hostname for r in requests}
    assert all(any(h == d or h.endswith("." + d) for d in spider.allowed_domains) for h in hosts)


def stored(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


FIXTURE_FILES = sorted(FIXTURES_ROOT.glob("*/*/expected.json"))


@pytest.mark.parametrize("name", PYTHON_OUTLETS)
def test_every_outlet_has_fixture_pages(name):
    pages = [p for p in (FIXTURES_ROOT / name).glob("*/expected.json") if "title" in stored(p)]
    assert pages, (
        f"no article fixtures in tests/fixtures/{name}/ (python -m tests.test_pages --update)"
    )


@pytest.mark.parametrize("outlet", sorted({p.parent.parent.name for p in FIXTURE_FILES}))
def test_every_fixture_outlet_is_a_spider(outlet):
    assert outlet in PYTHON_OUTLETS


@pytest.mark.parametrize(
    "path",
    [p for p in FIXTURE_FILES if "not_article" not in stored(p)],
    ids=lambda p: f"{p.parent.parent.name}/{p.parent.name}",
)
def test_every_fixture_page_extracts_a_title_and_a_body(path):
    result = run(path.parent.name)  # extracted again from the corpus page, not read back
    assert result["extractor"] == path.parent.parent.name
    assert result["title"] and result["body"] and all(p.strip() for p in result["body"])


@pytest.mark.parametrize("args", [{"mode": "everything"}, {"force": "yes"}])
def test_bad_arguments_are_refused(args):
    with pytest.raises(SpiderArgumentError):
        LOADER.load("nytimes")(**args)


def test_settings_are_polite_and_safe():
    assert project.ROBOTSTXT_OBEY is True
    assert project.AUTOTHROTTLE_ENABLED is True
    assert "newsdiff" in project.USER_AGENT and "http" in project.USER_AGENT
    assert 0 < project.DOWNLOAD_MAXSIZE <= 64 * 1024 * 1024
    assert project.TELNETCONSOLE_ENABLED is False
    assert project.REMOTE_CONTROL_ENABLED is False
    assert project.HTTPCACHE_ENABLED is False


@coroutine_test
async def test_robots_txt_is_obeyed_and_user_agent_sent(site, store, crawl_settings):
    build_nytimes_site(site.root)
    robots = site_path(site.root, "https://www.nytimes.com/robots.txt")
    robots.write_text("User-agent: *\nDisallow: /2018/06/\n")
    # A slow robots.txt: every article request of the host waits for it (Scrapy 2.19 let all
    # but the first of those waiters through; newsdiff.middlewares.RobotsTxt fixes that).
    site.on_request = lambda host, path: (
        time.sleep(1) if (host, path) == ("www.nytimes.com", "/robots.txt") else None
    )
    crawler = await run_crawl(crawl_settings(USER_AGENT=project.USER_AGENT))
    paths = [p for _, p in site.requests]
    assert GREECE.removeprefix("https://www.nytimes.com") not in paths
    assert crawler.stats.get_value("robotstxt/forbidden") == 1
    assert store.versions.count_documents({}) == 7
    agents = {h.get("User-Agent") for h in site.headers}
    assert agents == {project.USER_AGENT}


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16"])
def test_meta_refresh_is_followed_and_other_pages_pass_untouched(encoding):
    from scrapy.http import HtmlResponse

    from newsdiff.middlewares import MetaRefresh

    middleware = MetaRefresh.from_crawler(get_crawler(settings_dict={"METAREFRESH_ENABLED": True}))
    request = Request("https://www.nytimes.com/2020/01/01/us/old.html")

    def page(head: str) -> HtmlResponse:
        html = f"<html><head>{head}</head><body>{'<p>text</p>' * 3000}</body></html>"
        return HtmlResponse(request.url, body=html.encode(encoding), encoding=encoding)

    moved = page('<META HTTP-EQUIV="Refresh" CONTENT="0; URL=/2020/01/01/us/new.html">')
    redirected = middleware.process_response(request, moved)
    assert isinstance(redirected, Request)
    # (Scrapy itself appends the UTF-16 byte-order mark to the URL as a query: not ours to fix.)
    assert redirected.url.startswith("https://www.nytimes.com/2020/01/01/us/new.html")
    plain = page("<title>An article</title>")
    assert middleware.process_response(request, plain) is plain
    assert project.DOWNLOADER_MIDDLEWARES["newsdiff.middlewares.MetaRefresh"]
