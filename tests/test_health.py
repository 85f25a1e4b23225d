"""Parser health: crawls that check themselves, the crawls record, `scrapy health` and
`scrapy reparse`, on replayed real NYT pages whose layout "breaks"."""

from __future__ import annotations

import json
import logging
import os
import re
import subprocess
from datetime import UTC, datetime, timedelta

import lxml.html
from scrapy.utils.test import get_crawler

from newsdiff import pages
from newsdiff.items import Article
from newsdiff.pipelines import Chain
from newsdiff.replay import NYT_FEED_URL, build_nytimes_site, site_path
from tests.conftest import coroutine_test, run_crawl, scrapy_command

GREECE = "https://www.nytimes.com/2018/06/05/world/europe/greece-macedonia.html"
# The body is now rendered in the browser: the server sends a headline and an empty shell.
SHELL = b"""<!DOCTYPE html><html><head><title>Story - The New York Times</title>
<meta property="og:type" content="article"></head><body><main><article>
<h1 data-testid="headline">Story</h1><div id="story-root" data-render="client"></div>
</article></main><script>window.__preloadedData = {}</script></body></html>"""
# A redesign renames the body containers: the outlet's rules find nothing, the fallback does.
RENAMES = (
    (b"StoryBodyCompanionColumn", b"StoryBodyColumnV2"),
    (b"story-body-text", b"story-text"),
    (b'name="articleBody"', b'name="storyBody"'),
    (b'itemprop="articleBody"', b'itemprop="text"'),
)


def health_warnings(caplog) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == "newsdiff.health" and r.levelno == logging.WARNING
    ]


def health_stats(crawler) -> dict:
    return {k: v for k, v in crawler.stats.get_stats().items() if k.startswith("newsdiff/health/")}


def scrapy(*args: str, settings) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "NEWSDIFF_MONGO_URI": settings["NEWSDIFF_MONGO_URI"],
        "NEWSDIFF_MONGO_DB": settings["NEWSDIFF_MONGO_DB"],
        "NEWSDIFF_DATA_DIR": settings["NEWSDIFF_DATA_DIR"],
    }
    return scrapy_command(*args, env=env)


@coroutine_test
async def test_layout_breaks_are_warned_counted_and_recorded(site, store, crawl_settings, caplog):
    root = site.root
    build_nytimes_site(root)
    settings = crawl_settings()
    caplog.set_level(logging.INFO)

    crawler = await run_crawl(settings)
    assert health_stats(crawler) == {}
    assert health_warnings(caplog) == []
    [healthy] = store.recent_crawls("nytimes", 10)
    assert healthy["finish_reason"] == "finished"
    assert healthy["problems"] == []
    assert healthy["pages"] == 8
    assert healthy["extract_failures"] == 0
    assert healthy["stats"]["newsdiff/versions/new"] == 8
    assert healthy["stats"]["downloader/response_status_count/200"] > 8
    assert healthy["start"] <= healthy["finish"]

    # A redesign: the outlet's body rules match nothing; trafilatura still finds text.
    for path in (root / "www.nytimes.com").rglob("*.html"):
        html = path.read_bytes()
        for old, new in RENAMES:
            html = html.replace(old, new)
        path.write_bytes(html)
    caplog.clear()
    crawler = await run_crawl(settings, force="1")
    stats = health_stats(crawler)
    assert stats["newsdiff/health/fallback_body"] >= 5
    # trafilatura's text of one article is under half of the stored body: not a version; and
    # with no body rule matching, no page is read from the NYT's element any more
    assert stats["newsdiff/health/scope_missed"] >= 5
    assert set(stats) <= {
        "newsdiff/health/fallback_body",
        "newsdiff/health/shrunk",
        "newsdiff/health/scope_missed",
    }
    [warning] = [w for w in health_warnings(caplog) if "fallback" in w]
    assert warning.startswith("newsdiff health nytimes: ")
    assert "generic fallback, not the outlet's body rules" in warning
    assert "scrapy extract URL --outlet nytimes" in warning

    # Then the body moves into client-side rendering: no article text at all.
    for path in (root / "www.nytimes.com").rglob("*.html"):
        if "/es/" not in str(path):
            path.write_bytes(SHELL)
    caplog.clear()
    crawler = await run_crawl(settings, force="1")
    stats = health_stats(crawler)
    assert stats == {"newsdiff/health/empty_body": 8}
    [warning] = health_warnings(caplog)
    assert "8 of 8 article pages (100%) had no body (threshold 50%)" in warning
    assert crawler.stats.get_value("newsdiff/versions/new") is None  # nothing stored
    newest, *_ = store.recent_crawls("nytimes", 10)
    assert newest["extract_failures"] == 8
    assert [p["problem"] for p in newest["problems"]] == ["empty_body"]
    assert newest["stats"]["newsdiff/health/empty_body"] == 8
    assert newest["problems"][0]["message"] in warning
    assert store.crawls.count_documents({"outlet": "nytimes"}) == 3


def empty_feed(root) -> None:
    feed = site_path(root, NYT_FEED_URL)
    feed.write_bytes(re.sub(rb"<item>.*?</item>", b"", feed.read_bytes(), flags=re.S))


@coroutine_test
async def test_empty_feed_and_scrapy_health(site, store, crawl_settings, caplog):
    root = site.root
    build_nytimes_site(root)
    settings = crawl_settings()
    await run_crawl(settings)
    healthy = scrapy("health", "nytimes", "--json", settings=settings)
    assert healthy.returncode == 0, healthy.stderr
    [report] = json.loads(healthy.stdout)
    assert report["outlet"] == "nytimes"
    assert report["status"] == "ok"
    assert report["broken"] == []
    assert report["last_crawl"]["finish_reason"] == "finished"
    assert report["last_finished_ago_hours"] < 1
    assert report["failure_rate"] == 0
    assert report["articles_tracked"] == 8
    assert report["new_articles_last_day"] == 8
    assert report["checked_last_day"] == 8
    table = scrapy("health", settings=settings)
    assert table.returncode == 0
    assert table.stdout.splitlines()[0].split()[:2] == ["outlet", "status"]
    assert table.stdout.splitlines()[1].split()[:2] == ["nytimes", "ok"]

    empty_feed(root)
    caplog.set_level(logging.INFO)
    crawler = await run_crawl(settings, mode="discover")
    assert health_stats(crawler) == {"newsdiff/health/no_urls": 0}
    [warning] = health_warnings(caplog)
    assert warning.startswith("newsdiff health nytimes: discovery found no article URLs in")
    assert "feeds and sitemaps still list articles" in warning

    broken = scrapy("health", "--json", settings=settings)
    assert broken.returncode == 1
    [report] = json.loads(broken.stdout)
    assert report["status"] == "broken"
    assert report["broken"] == ["last crawl had health problems: no_urls"]
    assert report["recent_problems"][0]["problem"] == "no_urls"
    table = scrapy("health", "nytimes", settings=settings)
    assert table.returncode == 1
    assert "BROKEN" in table.stdout
    assert "nytimes: last crawl had health problems: no_urls" in table.stdout

    # A cron job with a tighter limit on crawl age; an outlet never crawled is broken too.
    old = scrapy(
        "health",
        "nytimes",
        "-s",
        "NEWSDIFF_HEALTH_MAX_CRAWL_AGE_HOURS=0",
        "--json",
        settings=settings,
    )
    assert "last finished crawl" in json.loads(old.stdout)[0]["broken"][0]
    never = scrapy("health", "bbc", "--json", settings=settings)
    assert never.returncode == 1
    assert json.loads(never.stdout)[0]["broken"] == ["no finished crawl recorded"]


@coroutine_test
async def test_shrunk_body_and_stale_outlet(site, store, crawl_settings, caplog):
    root = site.root
    build_nytimes_site(root)
    settings = crawl_settings()
    await run_crawl(settings)
    # Nothing stored for ten days (the versions are made older), then a body loses most text.
    ten_days = datetime.now(UTC) - timedelta(days=10)
    for i, v in enumerate(store.versions.find({}, {"_id": 1})):
        store.versions.update_one(
            {"_id": v["_id"]}, {"$set": {"fetched_at": ten_days - timedelta(hours=i)}}
        )
    page = site_path(root, GREECE)
    doc = lxml.html.fromstring(page.read_bytes())
    for p in doc.xpath("//div[contains(@class, 'StoryBodyCompanionColumn')]//p")[4:]:
        p.getparent().remove(p)
    page.write_bytes(lxml.html.tostring(doc))

    caplog.set_level(logging.INFO)
    crawler = await run_crawl(settings, force="1")
    assert crawler.stats.get_value("newsdiff/extract/shrunk") == 1
    assert crawler.stats.get_value("newsdiff/status/failing") == 1
    stats = health_stats(crawler)
    assert stats["newsdiff/health/shrunk"] == 1
    assert 239 < stats["newsdiff/health/stale"] < 241
    warnings = health_warnings(caplog)
    assert any("1 article body shrank sharply" in w and "scrapy history URL" in w for w in warnings)
    assert any("no new version stored for 10 days (usual at most 2 days)" in w for w in warnings)
    [newest, _] = store.recent_crawls("nytimes", 10)
    assert {p["problem"] for p in newest["problems"]} == {"shrunk", "stale"}
    assert store.articles.find_one({"url": GREECE})["version_count"] == 1


def store_through_pipelines(settings, item) -> None:
    """Write an item as a crawl would: validate -> normalise -> hash -> store."""
    chain = Chain(get_crawler(settings_dict=settings))
    try:
        chain(item)
    finally:
        chain.close()


@coroutine_test
async def test_reparse_reports_then_applies(site, store, crawl_settings):
    root = site.root
    build_nytimes_site(root)
    settings = crawl_settings()
    await run_crawl(settings)
    # A version stored by an older extractor: a different headline, the last paragraph missed,
    # no summary (stored before summaries were recorded).
    html = site_path(root, GREECE).read_bytes()
    current = pages.extract(html, GREECE, "nytimes")
    old = current.to_dict() | {
        "title": "Greece Deal: Old Headline",
        "body": current.body[:-1],
        "summary": None,
    }
    item = Article(
        outlet="nytimes",
        url=GREECE,
        fetched_at=datetime.now(UTC).isoformat(),
        html=html,
        extractor_version="0",
        **old,
    )
    store_through_pipelines(settings, item)
    article = store.articles.find_one({"url": GREECE})
    assert article["version_count"] == 2
    before = list(store.versions.find({}).sort("_id", 1))

    dry = scrapy("reparse", "nytimes", "--json", settings=settings)
    assert dry.returncode == 0, dry.stderr
    report = json.loads(dry.stdout)
    assert report["versions"] == 9
    assert report["unchanged"] == 8
    [d] = report["differ"]
    assert (d["url"], d["number"], d["stored_extractor_version"]) == (GREECE, 1, "0")
    assert d["same_as_previous_version"] is True
    assert d["changes"]["title"] == {"old": "Greece Deal: Old Headline", "new": current.title}
    assert d["changes"]["body"]["removed"] == []
    assert d["changes"]["body"]["added"] == [current.body[-1]]
    assert d["changes"]["summary"] == {"old": None, "new": current.summary}
    assert set(d["changes"]) == {"title", "summary", "body"}
    assert list(store.versions.find({}).sort("_id", 1)) == before  # nothing written
    text_out = scrapy("reparse", "nytimes", settings=settings).stdout
    assert f"{GREECE} v1 (now identical to the version before)" in text_out
    assert "title: 'Greece Deal: Old Headline' -> " in text_out
    assert "1 of 9 stored versions (8 articles) would differ" in text_out
    assert "--apply" in text_out

    applied = scrapy("reparse", "nytimes", "--apply", settings=settings)
    assert applied.returncode == 0, applied.stderr
    assert "1 of 9 stored versions (8 articles) were updated" in applied.stdout
    v0, v1 = store.versions_of(article["_id"])
    assert v1["number"] == 1 and v1["label"] == "change"  # kept, not renumbered or relabelled
    assert v1["title"] == current.title == v0["title"]
    assert v1["hashes"] == v0["hashes"] and v1["hash"] == v0["hash"]
    assert v1["extractor_version"] == pages.EXTRACTOR_VERSION
    [record] = v1["reparses"]
    assert record["previous"]["title"] == "Greece Deal: Old Headline"
    assert record["previous"]["extractor_version"] == "0"
    assert record["previous"]["body"] == current.body[:-1]
    assert store.versions.count_documents({}) == 9
    cached = store.articles.find_one({"url": GREECE})
    assert cached["hashes"] == v1["hashes"]
    assert cached["summary"] == current.summary == v1["summary"]
    assert cached["extractor_version"] == pages.EXTRACTOR_VERSION  # as its newest version's

    again = json.loads(scrapy("reparse", "nytimes", "--json", settings=settings).stdout)
    assert again["differ"] == [] and again["unchanged"] == 9
    # The article's cached hashes followed: a re-check of the same page stores nothing new.
    crawler = await run_crawl(settings, force="1")
    assert crawler.stats.get_value("newsdiff/versions/new") is None
    assert store.articles.find_one({"url": GREECE})["version_count"] == 2


def break_all_but_the_first_body_column(root) -> None:
    """A layout the rules half-survive: only the first body column keeps its class."""
    for path in (root / "www.nytimes.com").rglob("*.html"):
        html = path.read_bytes().replace(b"StoryBodyCompanionColumn", b"StoryBodyColumnX")
        path.write_bytes(html.replace(b"StoryBodyColumnX", b"StoryBodyCompanionColumn", 1))


@coroutine_test
async def test_new_versions_are_cross_checked_with_the_generic_extractor(
    site, store, crawl_settings, caplog
):
    build_nytimes_site(site.root)
    settings = crawl_settings()
    crawler = await run_crawl(settings)
    agreements = [v.get("agreement") for v in store.versions.find({}, {"agreement": 1})]
    assert len(agreements) == 8 and all(isinstance(a, float) for a in agreements)
    assert sorted(agreements)[1] >= 0.9  # one podcast page's rules keep only its notes
    assert crawler.stats.get_value("newsdiff/agreement/checked") == 8
    assert "newsdiff/health/low_agreement" not in health_stats(crawler)

    # The same pages for another database: the rules now find only the first column.
    store.client.drop_database(settings["NEWSDIFF_MONGO_DB"])
    break_all_but_the_first_body_column(site.root)
    caplog.set_level(logging.INFO)
    crawler = await run_crawl({**settings, "DELTAFETCH_RESET": True})
    assert crawler.stats.get_value("newsdiff/agreement/low") >= 5
    assert health_stats(crawler)["newsdiff/health/low_agreement"] >= 5
    [warning] = [w for w in health_warnings(caplog) if "generic extractor" in w]
    assert "new versions" in warning and "agreed less than 50%" in warning
    [crawl] = store.recent_crawls("nytimes", 10)
    assert "low_agreement" in [p["problem"] for p in crawl["problems"]]


@coroutine_test
async def test_article_urls_judged_not_articles_are_kept_counted_and_recovered(
    site, store, crawl_settings, caplog
):
    """Discovery accepted these URLs: a page called "not an article" is stored with its status
    and reason, checked again, and becomes an article once its page is one."""
    from tests.corpus import source

    build_nytimes_site(site.root)
    front = source("readability-nytimes-5")  # a real NYT section front
    paths = sorted(p for p in (site.root / "www.nytimes.com").rglob("*.html") if "/20" in str(p))[
        :3
    ]
    originals = {path: path.read_bytes() for path in paths}
    for path in paths:
        path.write_bytes(front)
    settings = crawl_settings()
    caplog.set_level(logging.INFO)
    crawler = await run_crawl(settings)
    assert crawler.stats.get_value("newsdiff/status/not-article/section-front") == 3
    rejected = list(store.articles.find({"status": "not-article"}))
    assert len(rejected) == 3
    for article in rejected:
        assert article["reason"] == "The page is a section front or index page, not an article."
        assert article["next_check"] > article["last_checked"]  # checked again, on schedule
    assert health_stats(crawler)["newsdiff/health/rejected"] == 3
    [warning] = [w for w in health_warnings(caplog) if "not to be articles" in w]
    assert "3 of 8 article URLs (38%)" in warning and "section-front: 3" in warning

    for path, html in originals.items():
        path.write_bytes(html)
    await run_crawl(settings, force="1")
    assert store.articles.count_documents({"status": "not-article"}) == 0
    assert store.articles.count_documents({"version_count": 1}) == 8


def test_each_health_check_is_a_pure_function_of_the_crawl_and_its_limits():
    from scrapy.settings import Settings

    import newsdiff.settings as project
    from newsdiff import health

    limits = health.Limits.from_settings(Settings({k: getattr(project, k) for k in dir(project)}))
    now = datetime(2026, 11, 29, tzinfo=UTC)
    quiet = health.Crawl("x", {}, 10, 0, 0, 0, None, True, [now - timedelta(hours=1)], now)
    assert [p for check in health.CHECKS for p in check(quiet, limits)] == []

    def one(check, **changes) -> dict:
        [problem] = check(health.Crawl(**{**quiet.__dict__, **changes}), limits)
        return problem

    assert one(health.no_urls, listings=3)["message"].startswith("discovery found no article URLs")
    assert one(health.empty_fields, no_body=6)["problem"] == "empty_body"
    assert one(health.fallback_body, fallback=6)["share"] == 0.6
    assert (
        health.fallback_body(
            health.Crawl(**{**quiet.__dict__, "fallback": 6, "body_rules": False}), limits
        )
        == []
    )
    reads = {
        "newsdiff/reading/element": 4,
        "newsdiff/reading/fetched": 5,
        "newsdiff/reading/page": 1,
    }
    assert one(health.scope_missed, scoped=True, stats=reads)["share"] == 0.6
    assert health.scope_missed(health.Crawl(**{**quiet.__dict__, "stats": reads}), limits) == []
    fine = reads | {"newsdiff/reading/element": 6}  # half of them: not past the threshold
    assert (
        health.scope_missed(
            health.Crawl(**{**quiet.__dict__, "scoped": True, "stats": fine}), limits
        )
        == []
    )
    stats = {"newsdiff/status/not-article/section-front": 4}
    assert "section-front: 4" in one(health.rejected, not_article=4, stats=stats)["message"]
    low = {"newsdiff/agreement/checked": 5, "newsdiff/agreement/low": 2}
    assert one(health.low_agreement, stats=low)["figure"] == 2
    assert one(health.shrunk, stats={"newsdiff/extract/shrunk": 1})["message"].startswith(
        "1 article body"
    )
    assert one(health.stale, version_times=[now - timedelta(hours=49)])["threshold_hours"] == 48
