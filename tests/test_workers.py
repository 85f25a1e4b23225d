"""Extraction in worker processes (newsdiff/workers.py) gives what extraction in-process gives,
normalised and hashed as the pipeline would (text.prepare)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from scrapy.utils.test import get_crawler

from newsdiff import pages, text, workers
from newsdiff.processes import alive
from newsdiff.replay import build_nytimes_site, corpus_pages
from tests.conftest import ROOT, coroutine_test, crawl_env, run_crawl


def crawler(count: int):
    return get_crawler(settings_dict={"NEWSDIFF_EXTRACT_WORKERS": count})


async def in_worker(count: int, body: bytes, url: str, outlet: str = "nytimes", charset=None):
    return await workers.extract(crawler(count), body, charset, url, outlet)


@pytest.mark.parametrize("count", [0, 1])
@coroutine_test
async def test_every_nytimes_page_extracts_as_in_process(count):
    seen = {"article": 0, "not-article": 0}
    for url, path in corpus_pages("nytimes"):
        body = path.read_bytes()
        reading = pages.reading_of(body, "nytimes")
        try:
            expected, read = pages.read_fetched(body, None, url, "nytimes", reading)
        except pages.NotArticle as exc:
            with pytest.raises(pages.NotArticle) as raised:
                await in_worker(count, body, url)
            # The reason survives the trip between processes: it decides the article's status.
            assert (raised.value.reason, str(raised.value)) == (exc.reason, str(exc))
            seen["not-article"] += 1
            continue
        kind = workers.read_kind(reading, read)
        prepared = text.prepare(expected.to_dict()) | {"raw_digest": pages.digest(read)}
        assert await in_worker(count, body, url) == prepared | {"read": kind}
        seen["article"] += 1
        seen[kind] = seen.get(kind, 0) + 1
    assert seen["article"] >= 5 and seen["not-article"] >= 1
    assert seen["element"] >= 5


@coroutine_test
async def test_a_mis_declared_charset_is_repaired_in_the_worker():
    html = "<html><head><meta charset='utf-8'><title>Café</title></head><body>"
    html += "<article><p>" + "Un café à Paris, déjà célèbre. " * 20 + "</p></article></body></html>"
    body = html.encode("latin-1")  # declared UTF-8, really Latin-1
    url = "https://www.nytimes.com/2020/01/01/world/europe/cafe.html"
    extraction = await in_worker(1, body, url, charset="iso-8859-1")
    assert extraction["title"] == "Café"
    assert "déjà" in extraction["body"][0]


@coroutine_test
async def test_a_dead_worker_fails_its_page_and_the_next_page_gets_a_new_pool():
    url, path = next((u, p) for u, p in corpus_pages("nytimes") if "/2020/" in u)
    body = path.read_bytes()
    test_crawler = crawler(1)
    await workers.extract(test_crawler, body, None, url, "nytimes")  # the pool is running
    for process in list(workers.pool(1)._processes.values()):
        os.kill(process.pid, signal.SIGKILL)
    await asyncio.sleep(0.5)  # the pool notices its dead worker
    with pytest.raises(workers.WorkerDied, match="worker died"):
        await workers.extract(test_crawler, body, None, url, "nytimes")
    assert (await workers.extract(test_crawler, body, None, url, "nytimes"))["body"]
    assert test_crawler.stats.get_value("newsdiff/extract/worker_died") == 1


@coroutine_test
async def test_a_crawl_records_pages_whose_worker_died_as_failing(
    site, store, crawl_settings, monkeypatch
):
    """The spider's side: a page whose worker died becomes a `failing` check, not a crash."""
    urls = build_nytimes_site(site.root)

    async def died(crawler, body, charset, url, outlet, part=...):
        raise workers.WorkerDied(f"the extraction worker died while parsing {url}")

    monkeypatch.setattr(workers, "extract", died)
    crawler = await run_crawl(crawl_settings())
    assert store.versions.count_documents({}) == 0
    articles = list(store.articles.find())
    assert articles and len(articles) <= len(urls)
    assert {a["status"] for a in articles} == {"failing"}
    assert all("worker died" in a["reason"] for a in articles)
    assert crawler.stats.get_value("newsdiff/status/failing") == len(articles)


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


@pytest.mark.slow
def test_a_killed_crawl_leaves_no_extraction_worker_behind(site, mongo_uri, db_name, tmp_path):
    """Workers hold both ends of their task pipe: without a watch on the crawl process they, and
    their fork server, would wait for ever after a SIGKILL (the OOM killer, a hard cancel)."""
    build_nytimes_site(site.root)
    slow = {"count": 0}

    def on_request(host, path):  # the crawl stays busy: every article after the second hangs
        if path.endswith(".html"):
            slow["count"] += 1
            if slow["count"] > 2:
                time.sleep(30)

    site.on_request = on_request
    env = crawl_env(site, mongo_uri, db_name, tmp_path / "data")
    crawl = subprocess.Popen(
        [sys.executable, "-m", "scrapy", "crawl", "nytimes"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    workers_seen: list[int] = []
    deadline = time.monotonic() + 60
    while not workers_seen and time.monotonic() < deadline and crawl.poll() is None:
        time.sleep(0.2)
        # crawl -> fork server -> worker (the resource tracker has no children)
        workers_seen = [w for child in _children(crawl.pid) for w in _children(child)]
    assert workers_seen, "the crawl started no extraction worker"
    crawl.kill()
    crawl.wait()
    deadline = time.monotonic() + 10
    while any(map(alive, workers_seen)) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not any(map(alive, workers_seen))
