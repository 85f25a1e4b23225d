"""Parser health: crawls that check themselves, the crawls record, `scrapy health` and
`scrapy reparse`, on replayed real NYT pages whose layout "breaks"."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

from newsdiff.replay import build_nytimes_site
from tests.conftest import coroutine_test, run_crawl

REPO = Path(__file__).resolve().parent.parent
GREECE = "https://www.nytimes.com/2018/06/05/world/europe/greece-macedonia.html"
MUELLER = "https://www.nytimes.com/2018/05/16/us/politics/mueller-trump-indictment.html"
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


def article_urls(root) -> list[str]:
    return sorted(
        str(p.relative_to(root / "www.nytimes.com"))
        for p in (root / "www.nytimes.com").rglob("*.html")
        if "/es/" not in str(p)
    )


def scrapy(*args: str, settings) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "NEWSDIFF_MONGO_URI": settings["NEWSDIFF_MONGO_URI"],
        "NEWSDIFF_MONGO_DB": settings["NEWSDIFF_MONGO_DB"],
        "NEWSDIFF_DATA_DIR": settings["NEWSDIFF_DATA_DIR"],
    }
    return subprocess.run(
        [sys.executable, "-m", "scrapy", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


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
    # trafilatura's text of one article is under half of the stored body: not a version
    assert set(stats) <= {"newsdiff/health/fallback_body", "newsdiff/health/shrunk"}
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
