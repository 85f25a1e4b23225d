"""End to end: replay a real NYT feed and articles, crawl, edit the pages, crawl again."""

from __future__ import annotations

import gzip
import json
import logging
import re

from newsdiff.replay import NYT_FEED_URL, build_nytimes_site, site_path
from tests.conftest import coroutine_test, run_crawl
from tests.crawling import (
    BLACKOUTS,
    GREECE,
    MUELLER,
    RAHAMI,
    SANTA_FE,
    SUDAN,
    add_paragraph_after,
    edit,
    versions,
)


@coroutine_test
async def test_crawl_edit_recrawl(site, store, crawl_settings, caplog):
    root = site.root
    urls = build_nytimes_site(root)
    settings = crawl_settings()

    crawler = await run_crawl(settings)
    stats = crawler.stats.get_stats()
    articles = {a["url"]: a for a in store.articles.find()}
    article_urls = {u for u in urls if "/es/" not in u}
    assert set(articles) == article_urls
    for url in article_urls:
        assert versions(store, url) == [
            (0, "first", ["title", "summary", "byline", "body", "corrections"])
        ]
        assert articles[url]["status"] == "live"
        assert articles[url]["next_check"] > articles[url]["first_seen"]
    assert stats["newsdiff/versions/new"] == len(article_urls)
    assert stats["deltafetch/stored"] == len(article_urls)
    assert store.snapshots.count_documents({}) == len(article_urls)
    v0 = store.versions.find_one({"url": GREECE})
    assert v0["title"] == "Deal for Macedonia Name? High Treason, Some Greeks Say"
    assert v0["extractor"] == "nytimes"

    # A second discovery skips what is stored (deltafetch) and nothing is due yet.
    crawler = await run_crawl(settings)
    assert crawler.stats.get_value("deltafetch/skipped") == len(article_urls)
    assert crawler.stats.get_value("newsdiff/versions/new") is None

    edit(root, GREECE, b"High Treason, Some Greeks Say", b"Treason, Many Greeks Say")
    add_paragraph_after(
        root,
        RAHAMI,
        b"The man who the police said sowed terror",
        b"This paragraph was added after publication.",
    )
    edit(root, SANTA_FE, b"</p>", b" \n\t </p>")  # whitespace only
    add_paragraph_after(
        root,
        BLACKOUTS,
        b"ISO jumping the gun",
        b"Correction: An earlier version of this article misstated the date of the blackouts.",
    )
    mueller = edit(root, MUELLER, b"greatest clarity to date", b"clearest picture so far", count=1)
    # The description (in the page's metas only; the story says "the nation will be able to")
    edit(root, SUDAN, b"the country will be able to trade extensively", b"the country can trade")

    caplog.clear()
    caplog.set_level(logging.INFO, logger="newsdiff.extensions")
    crawler = await run_crawl(settings, force="1")
    assert versions(store, GREECE)[1:] == [(1, "change", ["title"])]
    summary = [r.message for r in caplog.records if r.message.startswith("newsdiff nytimes:")]
    assert summary == [
        f"newsdiff nytimes: discovered {len(article_urls)} (0 new), re-checked "
        f"{len(article_urls)}, new versions 5, unchanged {len(article_urls) - 5}, failures 0, "
        f"{crawler.stats.get_value('elapsed_time_seconds'):.0f}s, finished: finished"
    ]
    assert versions(store, RAHAMI)[1:] == [(1, "change", ["body"])]
    assert versions(store, SANTA_FE)[1:] == []
    assert versions(store, BLACKOUTS)[1:] == [(1, "change", ["corrections"])]
    assert versions(store, MUELLER)[1:] == [(1, "change", ["body"])]
    assert versions(store, SUDAN)[1:] == [(1, "change", ["summary"])]
    assert store.versions.find_one({"url": SUDAN, "number": 1})["summary"] == (
        "For the first time since the 1990s, the country can trade with the United States."
    )
    assert crawler.stats.get_value("newsdiff/versions/new") == 5

    site_path(root, MUELLER).write_bytes(mueller)  # the change reversed
    crawler = await run_crawl(settings, force="1")
    assert versions(store, MUELLER)[2] == (2, "flip-flop", ["body"])
    assert crawler.stats.get_value("newsdiff/versions/new") == 1

    crawler = await run_crawl(settings, force="1")
    assert crawler.stats.get_value("newsdiff/versions/new") is None
    assert crawler.stats.get_value("newsdiff/checks/unchanged") == len(article_urls)
    # Re-checks sent the validators the server gave, and it answered 304 Not Modified.
    assert crawler.stats.get_value("downloader/response_status_count/304") == len(article_urls)
    assert store.versions.count_documents({}) == len(article_urls) + 6


@coroutine_test
async def test_sitemap_discovery_and_aliases(site, store, crawl_settings):
    root = site.root
    build_nytimes_site(root)
    site_path(root, NYT_FEED_URL).unlink()
    sitemap = site_path(root, "https://www.nytimes.com/sitemaps/new/news.xml.gz")
    sitemap.parent.mkdir(parents=True)
    amp = SUDAN.replace(".html", ".amp.html")
    entries = "".join(
        f"<url><loc>{u}</loc></url>"
        for u in (
            amp + "?smid=tw-share",
            BLACKOUTS + "#comments",
            "https://www.nytimes.com/section/world",
        )
    )
    sitemap.write_bytes(
        gzip.compress(
            f'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
            f"{entries}</urlset>".encode()
        )
    )
    crawler = await run_crawl(crawl_settings(), mode="discover")
    assert sorted(a["url"] for a in store.articles.find()) == sorted([SUDAN, BLACKOUTS])
    assert crawler.stats.get_value("newsdiff/discovery/urls") == 2


@coroutine_test
async def test_not_found_and_redirect_alias(site, store, crawl_settings):
    root = site.root
    build_nytimes_site(root)
    settings = crawl_settings()
    await run_crawl(settings)
    # The article is gone now, and an old URL redirects to another article.
    site_path(root, GREECE).unlink()
    old = "https://www.nytimes.com/2020/08/16/business/old-blackouts-slug.html"
    routes = {
        "/2020/08/16/business/old-blackouts-slug.html": {"status": 301, "location": BLACKOUTS}
    }
    (root / "www.nytimes.com" / "_routes.json").write_text(json.dumps(routes))
    feed = site_path(root, NYT_FEED_URL)
    feed.write_bytes(
        re.sub(
            rb"<link>https://www\.nytimes\.com/2016[^<]*</link>",
            f"<link>{old}</link>".encode(),
            feed.read_bytes(),
            count=1,
        )
    )
    crawler = await run_crawl(settings, force="1")
    gone = store.articles.find_one({"url": GREECE})
    assert gone["status"] == "gone"
    assert gone["version_count"] == 1  # the stored version is kept
    assert crawler.stats.get_value("newsdiff/status/gone") == 1
    blackouts = store.articles.find_one({"url": BLACKOUTS})
    assert old in blackouts["aliases"]
    assert store.articles.count_documents({"url": old}) == 0


PAYWALL = b"""<html><head><meta property="og:type" content="article"><title>Gate</title></head>
<body><article><h1>Deal for Macedonia Name?</h1><section name="articleBody"><p>ATHENS -</p>
</section><div class="gate"><h2>Subscribe to continue reading.</h2>
<p>Already a subscriber? Log in.</p></div></article></body></html>"""


@coroutine_test
async def test_paywall_and_broken_pages_keep_versions(site, store, crawl_settings):
    root = site.root
    build_nytimes_site(root)
    settings = crawl_settings()
    await run_crawl(settings)
    site_path(root, GREECE).write_bytes(PAYWALL)
    site_path(root, SUDAN).write_bytes(b"<html><body><p>Sorry, something went wrong")
    (root / "www.nytimes.com" / "_routes.json").write_text(
        '{"/2020/08/16/business/california-blackouts.html": {"status": 503}}'
    )
    crawler = await run_crawl(settings, force="1")
    stats = crawler.stats.get_stats()
    assert store.articles.find_one({"url": GREECE})["status"] == "paywalled"
    assert store.articles.find_one({"url": SUDAN})["status"] in ("failing", "not-article")
    blackouts = store.articles.find_one({"url": BLACKOUTS})
    assert blackouts["status"] == "failing"
    assert "503" in blackouts["reason"]
    assert stats["newsdiff/status/paywalled"] == 1
    assert stats["newsdiff/fetch/failed"] == 1
    assert stats.get("newsdiff/versions/new") is None
    for url in (GREECE, SUDAN, BLACKOUTS):
        assert versions(store, url) == [
            (0, "first", ["title", "summary", "byline", "body", "corrections"])
        ]
        assert store.articles.find_one({"url": url})["next_check"]  # still checked


@coroutine_test
async def test_discovery_retries_articles_whose_store_write_failed(site, store, crawl_settings):
    """deltafetch marks a URL seen only after its version is stored."""
    build_nytimes_site(site.root)
    settings = crawl_settings(
        ITEM_PIPELINES={
            **crawl_settings()["ITEM_PIPELINES"],
            "tests.test_crawl.FailOnGreece": 900,
        }
    )
    crawler = await run_crawl(settings)
    assert crawler.stats.get_value("deltafetch/stored") == 7
    assert store.articles.find_one({"url": GREECE}) is not None  # stored, but the crawl failed
    site.requests.clear()
    crawler = await run_crawl(crawl_settings())
    assert crawler.stats.get_value("deltafetch/skipped") == 7
    fetched = {path for _, path in site.requests if path.endswith(".html")}
    assert fetched == {GREECE.removeprefix("https://www.nytimes.com")}


class FailOnGreece:
    def process_item(self, item):
        if item.url == GREECE:
            raise RuntimeError("simulated store failure after the version decision")
        return item


@coroutine_test
async def test_unreachable_database_stops_the_crawl_clearly(site, crawl_settings, caplog):
    build_nytimes_site(site.root)
    settings = crawl_settings(
        NEWSDIFF_MONGO_URI="mongodb://127.0.0.1:9/", NEWSDIFF_MONGO_TIMEOUT_MS=300
    )
    crawler = await run_crawl(settings)
    assert crawler.stats.get_value("finish_reason").startswith("mongodb_unreachable")
    assert crawler.stats.get_value("downloader/request_count") is None
    assert "MongoDB is unreachable" in caplog.text
    assert "no article URLs" not in caplog.text  # not a discovery problem


@coroutine_test
async def test_recheck_extracts_only_what_its_extraction_would_read_differently(
    site, store, crawl_settings, monkeypatch
):
    from benchmarks.crawl import noisy
    from newsdiff import pages

    root = site.root
    build_nytimes_site(root)
    # A page whose element the NYT's rules read is not found: its whole page is read.
    edit(root, SUDAN, b'<article id="story"', b'<article id="archived-story"')
    settings = crawl_settings(NEWSDIFF_EXTRACT_WORKERS=0, NEWSDIFF_CHECK_BATCH=3)
    stats = (await run_crawl(settings)).stats
    tracked = {a["url"]: a for a in store.articles.find()}
    # what each first extraction read: the NYT's element, but SUDAN's page (it has none)
    assert stats.get_value("newsdiff/reading/element") == len(tracked) - 1
    assert stats.get_value("newsdiff/reading/page") == 1
    stored = store.versions.count_documents({})
    extracted = []
    real_read = pages.read_fetched

    def counting_read(body, charset, url, outlet, read=...):
        extracted.append(url)
        return real_read(body, charset, url, outlet, read)

    monkeypatch.setattr(pages, "read_fetched", counting_read)

    async def recheck_answered_200():
        store.articles.update_many({}, {"$set": {"validators": {}}})  # no 304 from the server
        extracted.clear()
        return (await run_crawl(settings, mode="recheck", force="1")).stats

    # The bytes each version was found in: nothing to extract.
    stats = await recheck_answered_200()
    assert extracted == []
    assert stats.get_value("newsdiff/checks/same_reading") == len(tracked)
    assert stats.get_value("newsdiff/checks/unchanged") == len(tracked)

    # A nonce on every script, a timestamp line and an ad at the top, changed on every fetch:
    # outside the NYT's <article id="story">, so only pages without one are extracted again.
    for url in tracked:
        path = site_path(root, url)
        path.write_bytes(noisy(path.read_bytes(), 1)[0])
    whole = {
        u
        for u in tracked
        if not pages.reading_of(site_path(root, u).read_bytes(), "nytimes").element
    }
    assert whole == {SUDAN}
    stats = await recheck_answered_200()
    assert sorted(extracted) == sorted(whole)
    assert stats.get_value("newsdiff/checks/same_reading") == len(tracked) - len(whole)
    assert stats.get_value("newsdiff/checks/unchanged") == len(tracked)
    assert stats.get_value("newsdiff/versions/new") is None

    # Scripts, comments and nonces only, on a page read whole: not read again either.
    path = site_path(root, SUDAN)
    page = path.read_bytes().replace(b'nonce="', b'nonce="x')
    path.write_bytes(page.replace(b"</body>", b"<script>t=1</script><!-- 12 ms --></body>"))
    stats = await recheck_answered_200()
    assert extracted == []
    assert stats.get_value("newsdiff/checks/same_reading") == len(tracked)

    # The same inside the article's element: read again, and still no version.
    path = site_path(root, GREECE)
    page = path.read_bytes()
    at = page.index(b">", page.index(b'<article id="story"')) + 1
    path.write_bytes(page[:at] + b'<div class="ad">Updated 3 minutes ago</div>' + page[at:])
    stats = await recheck_answered_200()
    assert extracted == [GREECE]  # SUDAN: the same noise as the last read
    assert stats.get_value("newsdiff/versions/new") is None

    # An edit is still a version.
    edit(root, GREECE, b"High Treason, Some Greeks Say", b"Treason, Many Greeks Say")
    stats = await recheck_answered_200()
    assert extracted[0] == GREECE
    assert versions(store, GREECE)[1:] == [(1, "change", ["title"])]
    assert store.versions.count_documents({}) == stored + 1
    for article in store.articles.find():  # every check was written, batches and the rest
        assert article["checks"] == tracked[article["url"]]["checks"] + 5
        assert article["last_checked"] > tracked[article["url"]]["last_checked"]
