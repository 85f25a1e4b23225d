"""Markup no publisher should send, which real pages do: addresses no browser could open
("http://[consent]/": a bracketed host that is no IP address; Python's URL functions raise on
them) in a page or a listing, and JSON-LD whose values are lists, numbers or nulls where strings
belong. Neither may cost an article, a listing or a crawl. And a fault of the page rules on one
page: recorded as that article's failing check, never a lost article."""

from __future__ import annotations

import gzip
import json
import re

import pytest

from newsdiff import pages, workers
from newsdiff.replay import NYT_FEED_URL, build_nytimes_site, site_path
from tests.conftest import coroutine_test, run_crawl
from tests.crawling import GREECE, SUDAN

BAD = "http://[consent-preferences]/"
STORY = [
    "The storm hit the coast overnight and flooded several districts of the city, officials "
    "said on Tuesday morning, as crews worked to pump the water from the streets.",
    "Schools stayed closed and buses ran on shorter routes, the transport authority said, "
    "while the weather service warned of more heavy rain through the weekend.",
]


def story_page(head: str = "", header: str = "") -> bytes:
    paragraphs = "".join(f"<p>{p}</p>" for p in STORY)
    return f"""<!doctype html><html><head><meta charset="utf-8">
<title>Storm floods the city | Local | Example News</title>
<meta property="og:type" content="article">{head}</head><body><header>{header}
<nav><a href="/">Home</a> <a href="/news">News</a></nav></header>
<main><article><h1>Storm floods the city</h1>{paragraphs}</article></main></body></html>""".encode()


@pytest.mark.parametrize(
    ("head", "header"),
    [
        ("", f'<h2><a href="{BAD}">Example News</a></h2>'),  # is it a link home? (title rules)
        ("", f'<a href="{BAD}">Privacy choices</a>'),  # a site link's text (section names)
        (f'<meta http-equiv="refresh" content="0; url={BAD}">', ""),  # a redirect stub?
        (f'<link rel="canonical" href="{BAD}"><meta http-equiv="refresh" content="0; url=">', ""),
    ],
)
def test_a_malformed_link_in_a_page_costs_nothing(head, header):
    extraction = pages.extract(story_page(head, header), "https://example.com/news/storm", None)
    assert extraction.title == "Storm floods the city"
    assert extraction.body == STORY


@coroutine_test
async def test_malformed_links_in_pages_and_feeds_cost_no_article(site, store, crawl_settings):
    root = site.root
    urls = build_nytimes_site(root)
    page = site_path(root, SUDAN)
    page.write_bytes(
        re.sub(rb'(<link rel="canonical" href=")[^"]*', rb"\g<1>" + BAD.encode(), page.read_bytes())
    )
    assert BAD.encode() in page.read_bytes()
    feed = site_path(root, NYT_FEED_URL)
    first = feed.read_bytes().index(b"<item>")
    bad_item = f"<item><title>Broken</title><link>{BAD}</link></item>".encode()
    feed.write_bytes(feed.read_bytes()[:first] + bad_item + feed.read_bytes()[first:])
    crawler = await run_crawl(crawl_settings())
    stats = crawler.stats.get_stats()
    assert {a["url"] for a in store.articles.find()} == {u for u in urls if "/es/" not in u}
    assert store.articles.find_one({"url": SUDAN})["version_count"] == 1  # under its own URL
    assert not any(k.startswith("spider_exceptions") for k in stats), stats


@coroutine_test
async def test_a_sitemap_index_entry_no_browser_could_open_costs_only_itself(
    site, store, crawl_settings
):
    root = site.root
    build_nytimes_site(root)
    site_path(root, NYT_FEED_URL).unlink()
    index = site_path(root, "https://www.nytimes.com/sitemaps/new/news.xml.gz")
    index.parent.mkdir(parents=True, exist_ok=True)
    real = "https://www.nytimes.com/sitemaps/new/news-1.xml"
    locs = "".join(f"<sitemap><loc>{u}</loc></sitemap>" for u in (BAD, "/relative.xml", real))
    index.write_bytes(
        gzip.compress(
            b'<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/'
            b'sitemap/0.9">' + locs.encode() + b"</sitemapindex>"
        )
    )
    site_path(root, real).write_bytes(
        b'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        + f"<url><loc>{SUDAN}</loc></url></urlset>".encode()
    )
    crawler = await run_crawl(crawl_settings(), mode="discover")
    assert [a["url"] for a in store.articles.find()] == [SUDAN]
    assert crawler.stats.get_value("newsdiff/discovery/bad_urls") == 2


@coroutine_test
async def test_a_fault_of_the_rules_on_one_page_is_a_failing_check(
    site, store, crawl_settings, monkeypatch, caplog
):
    urls = build_nytimes_site(site.root)
    extract = workers.extract

    async def faulty(crawler, body, charset, url, outlet, read=...):
        if url == GREECE:
            raise IndexError("list index out of range")  # as a rule's bug on an odd page
        return await extract(crawler, body, charset, url, outlet, read)

    monkeypatch.setattr(workers, "extract", faulty)
    crawler = await run_crawl(crawl_settings())
    greece = store.articles.find_one({"url": GREECE})
    assert greece["status"] == "failing"
    assert greece["reason"] == "the extraction failed: IndexError: list index out of range"
    assert greece["next_check"]  # checked again, as any failing article
    assert store.articles.count_documents({"status": "live"}) == len(
        [u for u in urls if "/es/" not in u and u != GREECE]
    )
    assert crawler.stats.get_value("newsdiff/extract/error") == 1
    assert f"{GREECE}: the extraction failed" in caplog.text
    assert "IndexError" in caplog.text  # with its traceback, for the developer


@pytest.mark.parametrize(
    ("ld", "published"),
    [
        ({"headline": ["Storm floods the city", "Alt"]}, None),
        ({"headline": 2024, "datePublished": 20240301}, None),
        ({"headline": None, "author": [None, 3, {"name": ["Ann Lee"]}]}, None),
        ({"headline": {"@value": "x"}, "description": ["A storm.", 2]}, None),
        ({"@type": ["NewsArticle", {"x": None}, 3], "datePublished": ["2024-03-01"]}, "2024-03-01"),
    ],
)
def test_json_ld_values_of_any_type_cost_nothing(ld, published):
    obj = {"@context": "https://schema.org", "@type": "NewsArticle", **ld}
    script = f'<script type="application/ld+json">{json.dumps(obj)}</script>'
    extraction = pages.extract(story_page(script), "https://example.com/news/storm", None)
    assert extraction.title == "Storm floods the city"  # from the list, else the page's <h1>
    assert extraction.body == STORY
    if published:
        assert extraction.published.startswith(published)


def test_a_page_read_without_its_address_is_read_as_any_other():
    # The Python API takes url=None (`scrapy extract FILE` passes the file's URI): a title with
    # separators and a refresh still need the links resolved against something.
    assert pages.extract(story_page('<meta http-equiv="refresh" content="600">'), None).body
    away = '<meta http-equiv="refresh" content="0; url=https://elsewhere.example/">'
    with pytest.raises(pages.NotArticle, match="redirect"):
        pages.extract(story_page(away), None)
