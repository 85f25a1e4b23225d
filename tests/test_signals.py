"""Change signals: a feed's `updated` or a sitemap's `lastmod` makes a tracked article due now."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import feedparser
from scrapy.settings import Settings
from starlette.testclient import TestClient

from newsdiff.commands.health import Command as HealthCommand
from newsdiff.commands.health import _signals, outlet_report
from newsdiff.replay import NYT_FEED_URL, NYT_SITEMAP_URL, build_nytimes_site, site_path
from newsdiff.spiders.listings import feed_modified
from newsdiff.web.app import create_app
from tests.conftest import coroutine_test, run_crawl
from tests.crawling import GREECE, SUDAN, edit, versions

# Tests crawl again seconds after the first crawl: no tolerance for clock differences.
NO_TOLERANCE = {"NEWSDIFF_SIGNAL_TOLERANCE_MINUTES": 0}
GREECE_TITLE = (b"High Treason, Some Greeks Say", b"Treason, Many Greeks Say")


def fetched_pages(site) -> set[str]:
    return {path for _, path in site.requests if path.endswith(".html")}


def sitemap_route(root, **route) -> None:
    routes = {urlsplit(NYT_SITEMAP_URL).path: {"sitemap": True, **route}}
    (root / "www.nytimes.com" / "_routes.json").write_text(json.dumps(routes))


RSS = b"""<?xml version="1.0"?><rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom"
xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/">
<channel><title>t</title>
<item><link>https://a.org/1</link><pubDate>Mon, 01 Jan 2024 10:00:00 GMT</pubDate></item>
<item><link>https://a.org/2</link><pubDate>Mon, 01 Jan 2024 10:00:00 GMT</pubDate>
<atom:updated>2024-01-02T10:00:00Z</atom:updated></item>
<item><link>https://a.org/3</link><dc:modified>2024-01-03T10:00:00+01:00</dc:modified></item>
<item><link>https://a.org/4</link><dcterms:modified>2024-01-04T10:00:00Z</dcterms:modified></item>
</channel></rss>"""
ATOM = b"""<feed xmlns="http://www.w3.org/2005/Atom"><title>t</title>
<entry><link href="https://a.org/5"/><published>2024-01-01T10:00:00Z</published>
<updated>2024-01-05T12:00:00+02:00</updated></entry></feed>"""


def test_feed_entries_give_their_modification_time_never_their_publication_date():
    entries = feedparser.parse(RSS).entries + feedparser.parse(ATOM).entries
    assert [feed_modified(e) for e in entries] == [
        None,  # pubDate is publication (feedparser's .get("updated_parsed") would return it)
        datetime(2024, 1, 2, 10, tzinfo=UTC),
        datetime(2024, 1, 3, 9, tzinfo=UTC),
        datetime(2024, 1, 4, 10, tzinfo=UTC),
        datetime(2024, 1, 5, 10, tzinfo=UTC),
    ]


@coroutine_test
async def test_sitemap_lastmod_makes_an_edited_article_due_before_its_schedule(
    site, store, crawl_settings, capsys
):
    root = site.root
    build_nytimes_site(root, sitemap=True)
    settings = crawl_settings(**NO_TOLERANCE)
    crawler = await run_crawl(settings)
    assert crawler.stats.get_value("newsdiff/recheck/signalled") is None  # all new
    scheduled = store.articles.find_one({"url": GREECE})["next_check"]

    # The edit changes the page's file time, which the replayed sitemap gives as its lastmod.
    edit(root, GREECE, *GREECE_TITLE)
    site.requests.clear()
    crawler = await run_crawl(settings)  # a plain crawl: no force
    stats = crawler.stats.get_stats()
    assert stats["newsdiff/recheck/due"] == 0
    assert stats["newsdiff/recheck/signalled"] == 1
    assert stats["newsdiff/recheck/signalled_changed"] == 1
    assert versions(store, GREECE)[1:] == [(1, "change", ["title"])]
    stored = store.versions.find_one({"url": GREECE, "number": 1})["fetched_at"]
    assert stored < scheduled
    # The change dates from when the sitemap says it happened; the back-off counts from then.
    article = store.articles.find_one({"url": GREECE})
    announced = datetime.fromtimestamp(site_path(root, GREECE).stat().st_mtime, UTC)
    assert abs(article["last_changed"] - announced) < timedelta(milliseconds=2)
    assert article["last_changed"] < stored
    assert article["next_check"] == stored + timedelta(minutes=15)
    assert fetched_pages(site) == {urlsplit(GREECE).path}

    # Re-checked since: the same lastmod is no signal any more.
    site.requests.clear()
    crawler = await run_crawl(settings)
    assert crawler.stats.get_value("newsdiff/recheck/signalled") is None
    assert fetched_pages(site) == set()

    # `scrapy health` and the outlet page show how many signalled checks found a change.
    now = datetime.now(UTC)
    report = outlet_report(store, "nytimes", now, Settings(settings))
    assert report["signals"] == {"signalled": 1, "changed": 1, "untrusted": 0, "days": 7}
    HealthCommand().print_table([report], now)
    assert "signalled checks/7 d (changed)" in capsys.readouterr().out
    assert _signals(report["signals"]) == "1 (1 changed, 100%)"
    page = TestClient(create_app(store, outlets=["nytimes"])).get("/outlets/nytimes").text
    assert "1 re-check asked for by its feeds and sitemaps, 1 found a change (100%)" in page


@coroutine_test
async def test_a_signal_that_finds_no_change_is_counted_as_such(site, store, crawl_settings):
    root = site.root
    build_nytimes_site(root, sitemap=True)
    settings = crawl_settings(**NO_TOLERANCE)
    await run_crawl(settings)
    path = site_path(root, SUDAN)
    path.write_bytes(path.read_bytes())  # re-saved unchanged: the lastmod moves, the page not
    crawler = await run_crawl(settings)
    assert crawler.stats.get_value("newsdiff/recheck/signalled") == 1
    assert crawler.stats.get_value("newsdiff/recheck/signalled_changed") is None
    assert crawler.stats.get_value("newsdiff/checks/unchanged") == 1
    assert len(versions(store, SUDAN)) == 1


@coroutine_test
async def test_a_sitemap_that_restamps_everything_is_not_trusted(
    site, store, crawl_settings, caplog
):
    root = site.root
    build_nytimes_site(root, sitemap=True)
    settings = crawl_settings(**NO_TOLERANCE)
    await run_crawl(settings)

    sitemap_route(root, restamp=True)  # every entry stamped "now" on every fetch
    site.requests.clear()
    caplog.set_level(logging.WARNING, logger="newsdiff.spiders.signals")
    crawler = await run_crawl(settings)
    assert crawler.stats.get_value("newsdiff/signals/untrusted_listings") == 1
    assert crawler.stats.get_value("newsdiff/recheck/signalled") is None
    assert fetched_pages(site) == set()
    assert (
        "re-stamps its entries (8 of 8 entries re-stamped since the previous fetch)" in caplog.text
    )

    # Honest again, with a real edit: the listing stays untrusted for a while.
    sitemap_route(root)
    edit(root, GREECE, *GREECE_TITLE)
    crawler = await run_crawl(settings)
    assert crawler.stats.get_value("newsdiff/signals/untrusted_listings") == 1
    assert crawler.stats.get_value("newsdiff/recheck/signalled") is None
    assert len(versions(store, GREECE)) == 1

    # Once the distrust has run out its stamps count again.
    store.listings.update_one(
        {"_id": NYT_SITEMAP_URL},
        {"$set": {"untrusted_until": datetime.now(UTC) - timedelta(minutes=1)}},
    )
    crawler = await run_crawl(settings)
    assert crawler.stats.get_value("newsdiff/signals/untrusted_listings") is None
    assert crawler.stats.get_value("newsdiff/recheck/signalled") == 1
    assert versions(store, GREECE)[1:] == [(1, "change", ["title"])]


ATOM_URL = "https://www.nytimes.com/services/atom.xml"


def write_atom(root, stamps: dict[str, str]) -> None:
    entries = "".join(
        f'<entry><title>t</title><id>{url}</id><link href="{url}"/><updated>{when}</updated>'
        "</entry>"
        for url, when in stamps.items()
    )
    path = site_path(root, ATOM_URL)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        f'<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>f</title>'
        f"{entries}</feed>"
    )


@coroutine_test
async def test_a_declared_outlet_follows_its_atom_feed_updated(
    declare,  # noqa: F811
    site,
    store,
    crawl_settings,
):
    declare(
        "[outlets.nytatom]\n"
        'allowed_domains = ["nytimes.com"]\n'
        f'feeds = ["{ATOM_URL}"]\n'
        "article_path = '^/\\d{4}/\\d{2}/\\d{2}/[a-z0-9/-]+\\.html$'\n"
    )
    root = site.root
    urls = [u for u in build_nytimes_site(root) if "/es/" not in u]
    published = "2024-01-01T10:00:00Z"
    write_atom(root, dict.fromkeys(urls, published))
    settings = crawl_settings(**NO_TOLERANCE)
    crawler = await run_crawl(settings, "nytatom")
    assert crawler.stats.get_value("newsdiff/versions/new") == len(urls)

    edit(root, GREECE, *GREECE_TITLE)
    now = datetime.now(UTC).isoformat()
    write_atom(root, {**dict.fromkeys(urls, published), GREECE: now})
    site.requests.clear()
    crawler = await run_crawl(settings, "nytatom")
    assert crawler.stats.get_value("newsdiff/recheck/signalled") == 1
    assert crawler.stats.get_value("newsdiff/recheck/signalled_changed") == 1
    assert [v[1] for v in versions(store, GREECE)] == ["first", "change"]
    assert fetched_pages(site) == {urlsplit(GREECE).path}


@coroutine_test
async def test_signals_are_bounded_per_crawl_and_never_fetch_a_due_article_twice(
    site, store, crawl_settings
):
    root = site.root
    build_nytimes_site(root, sitemap=True)
    await run_crawl(crawl_settings(**NO_TOLERANCE))
    edit(root, GREECE, *GREECE_TITLE)
    path = site_path(root, SUDAN)
    path.write_bytes(path.read_bytes())
    site.requests.clear()
    crawler = await run_crawl(crawl_settings(NEWSDIFF_SIGNAL_BUDGET=1, **NO_TOLERANCE))
    assert crawler.stats.get_value("newsdiff/recheck/signalled") == 1
    assert crawler.stats.get_value("newsdiff/signals/over_budget") == 1
    assert len([p for _, p in site.requests if p.endswith(".html")]) == 1

    # Due by its schedule and signalled too: fetched once.
    edit(root, GREECE, GREECE_TITLE[1], b"Treason, Most Greeks Say")
    store.articles.update_many({}, {"$set": {"next_check": datetime.now(UTC)}})
    site.requests.clear()
    crawler = await run_crawl(crawl_settings(**NO_TOLERANCE))
    pages = [p for _, p in site.requests if p.endswith(".html")]
    assert sorted(pages) == sorted(set(pages))
    assert crawler.stats.get_value("newsdiff/recheck/due") == len(set(pages))
    assert [v[1] for v in versions(store, GREECE)][-1] == "change"


@coroutine_test
async def test_a_stamp_in_the_future_asks_for_one_check_each_time_it_moves(
    site, store, crawl_settings
):
    root = site.root
    build_nytimes_site(root)
    site_path(root, NYT_FEED_URL).unlink()
    sitemap = site_path(root, NYT_SITEMAP_URL)
    sitemap.parent.mkdir(parents=True)

    def stamps(**lastmods: str) -> None:
        entries = "".join(
            f"<url><loc>{url}</loc><lastmod>{when}</lastmod></url>"
            for url, when in ((GREECE, lastmods["greece"]), (SUDAN, lastmods["sudan"]))
        )
        sitemap.write_text(
            '<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
            f"{entries}</urlset>"
        )

    settings = crawl_settings(**NO_TOLERANCE)
    stamps(greece="2100-01-01T00:00:00Z", sudan="2001-01-01")
    await run_crawl(settings)  # discovery fetched both after seeing the stamps
    assert len(versions(store, GREECE)) == len(versions(store, SUDAN)) == 1
    crawler = await run_crawl(settings)  # the same stamps again: nothing new
    assert crawler.stats.get_value("newsdiff/recheck/signalled") is None
    for day in ("02", "03"):
        stamps(greece=f"2100-01-{day}T00:00:00.123456Z", sudan="2001-01-01")
        crawler = await run_crawl(settings)  # it moved: a new announcement, one check
        assert crawler.stats.get_value("newsdiff/recheck/signalled") == 1
        assert crawler.stats.get_value("newsdiff/checks/unchanged") == 1
        crawler = await run_crawl(settings)  # not every crawl, though it stays ahead of us
        assert crawler.stats.get_value("newsdiff/recheck/signalled") is None
