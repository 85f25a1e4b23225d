"""Store-side faults: MongoDB going away mid-crawl, a crawl killed in the middle of writing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from newsdiff.replay import build_nytimes_site
from newsdiff.store import Store
from newsdiff.store.embedded import start_server
from tests.conftest import ROOT, coroutine_test, crawl_env, run_crawl
from tests.test_concurrency import assert_consistent
from tests.test_crawl import BLACKOUTS, GREECE, MUELLER, add_paragraph_after, edit


@pytest.fixture
def own_server(tmp_path):
    """A MongoDB-protocol server of the test's own, which the test may kill and restart."""
    directory = tmp_path / "own-db"
    proc, port = start_server(directory)
    state = {"proc": proc, "port": port}

    def restart():
        state["proc"], _ = start_server(directory, port=port)

    state["restart"] = restart
    yield state
    state["proc"].kill()
    state["proc"].wait(30)


@pytest.mark.slow
@coroutine_test
async def test_versions_found_while_mongodb_is_away_are_spooled_and_written_later(
    site, tmp_path, own_server, crawl_settings, caplog
):
    uri = f"mongodb://127.0.0.1:{own_server['port']}/?retryWrites=false&directConnection=true"
    build_nytimes_site(site.root)
    settings = crawl_settings(NEWSDIFF_MONGO_URI=uri, NEWSDIFF_MONGO_DB="outage")
    await run_crawl(settings)
    edit(site.root, GREECE, b"High Treason, Some Greeks Say", b"Treason, Many Greeks Say")
    add_paragraph_after(site.root, BLACKOUTS, b"ISO jumping the gun", b"A paragraph added.")
    edit(site.root, MUELLER, b"greatest clarity to date", b"clearest picture so far", count=1)

    def kill_mongodb_on_first_article(host, path):
        if path.endswith(".html") and own_server["proc"].poll() is None:
            own_server["proc"].kill()
            own_server["proc"].wait(30)

    site.on_request = kill_mongodb_on_first_article
    crawler = await run_crawl({**settings, "NEWSDIFF_STORE_RETRY_SECONDS": 600}, force="1")
    site.on_request = None
    # Each changed page waits in the spool. An unchanged check waits there too, or, batched
    # before MongoDB was seen to be away, is lost and done again later: never a version.
    spooled = crawler.stats.get_value("newsdiff/store/spooled")
    unsaved = crawler.stats.get_value("newsdiff/checks/unsaved", 0)
    assert spooled >= 3 and spooled + unsaved == 8
    assert crawler.stats.get_value("finish_reason") == "finished"
    assert "spooled" in caplog.text
    spool = sorted((tmp_path / "data" / "spool").glob("*.json"))
    assert len(spool) == spooled

    own_server["restart"]()
    crawler = await run_crawl(settings, mode="discover")
    assert crawler.stats.get_value("newsdiff/spool/replayed") == spooled
    assert list((tmp_path / "data" / "spool").glob("*.json")) == []
    store = Store(uri, "outage")
    try:
        changed = {v["url"] for v in store.versions.find({"number": 1})}
        assert changed == {GREECE, BLACKOUTS, MUELLER}
        assert store.versions.count_documents({}) == 8 + 3
        assert_consistent(store)
    finally:
        store.close()


@pytest.mark.slow
def test_crawl_killed_while_writing_leaves_no_duplicate_or_gap(
    site, store, mongo_uri, db_name, tmp_path
):
    from benchmarks.crawl import build_site

    build_site(site.root, copies=15)
    env = crawl_env(site, mongo_uri, db_name, str(tmp_path / "data"))
    cmd = [
        sys.executable,
        "-m",
        "scrapy",
        "crawl",
        "nytimes",
        "-a",
        "mode=discover",
        "-s",
        "AUTOTHROTTLE_ENABLED=0",
        "-s",
        "LOG_LEVEL=WARNING",
    ]
    proc = subprocess.Popen(
        cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 120
    while store.versions.count_documents({}) < 20 and time.monotonic() < deadline:
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    killed_at = store.versions.count_documents({})
    assert 20 <= killed_at < 8 * 15, "the crawl was not killed in the middle of writing"
    assert_consistent(store, articles_current=False)

    done = subprocess.run(
        [*cmd, "-a", "force=1"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert store.versions.count_documents({}) == 8 * 15
    assert store.articles.count_documents({}) == 8 * 15
    assert_consistent(store)
