"""Store-side faults: MongoDB going away or failing writes mid-crawl, a crawl killed in the middle
of writing, crawls sharing a spool, fetches stored out of order, pages too large for a version."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import timedelta

import pymongo
import pytest

from newsdiff.replay import build_nytimes_site
from newsdiff.spool import CLAIMS, Spool
from newsdiff.store import Store
from newsdiff.store.embedded import start_server
from tests.conftest import ROOT, T0, URL, coroutine_test, crawl_env, run_crawl, scrapy_command
from tests.crawling import BLACKOUTS, GREECE, MUELLER, add_paragraph_after, assert_consistent, edit


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
    # Each store operation gives up on the killed server after 1 s instead of 5.
    away = {"NEWSDIFF_STORE_RETRY_SECONDS": 600, "NEWSDIFF_MONGO_TIMEOUT_MS": 1000}
    crawler = await run_crawl({**settings, **away}, force="1")
    site.on_request = None
    # Each changed page waits in the spool. An unchanged check waits there too, or, batched
    # before MongoDB was seen to be away, is lost and done again later: never a version.
    spooled = crawler.stats.get_value("newsdiff/store/spooled")
    unsaved = crawler.stats.get_value("newsdiff/checks/unsaved", 0)
    assert spooled >= 3 and spooled + unsaved <= 8, crawler.stats.get_stats()
    # Versions wait on local disk: the crawl says so instead of "finished".
    reason = crawler.stats.get_value("finish_reason")
    assert reason.startswith(f"versions_spooled: {spooled} fetches wait on local disk"), reason
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
        for url in changed:  # written by the replay, after the restart
            assert store.articles.find_one({"url": url})["version_count"] == 2
        # A kill -9 within about a second of a write can drop the unjournaled article updates
        # just before it (versions are journaled): the first crawl's last article document may
        # lag behind its version until its next check repairs it.
        assert_consistent(store, articles_current=False)
        crawler = await run_crawl(settings, force="1")
        assert crawler.stats.get_value("newsdiff/versions/new") is None
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


# --- spool shared by concurrent crawls ----------------------------------------------------------


def _spool_some(spool: Spool, count: int) -> None:
    for i in range(count):
        spool.add(
            {"outlet": "nytimes", "url": f"https://www.nytimes.com/{i}.html", "html": b"<p>x</p>",
             "fetched_at": (T0 + timedelta(seconds=i)).isoformat()}
        )  # fmt: skip


def test_two_replays_never_take_the_same_spooled_fetch(tmp_path):
    """Two crawls sharing a data directory replay one spool at once: each file goes to one of
    them, and a file the other one took is skipped, not an error."""
    _spool_some(Spool(tmp_path / "spool"), 6)
    first, second = Spool(tmp_path / "spool").items(), Spool(tmp_path / "spool").items()
    taken = []
    for (path_a, item_a), (path_b, item_b) in zip(first, second, strict=False):
        taken += [item_a.url, item_b.url]
        path_a.unlink()  # each "crawl" stored its fetch and deletes its file
        path_b.unlink()
    assert sorted(taken) == sorted(f"https://www.nytimes.com/{i}.html" for i in range(6))
    assert Spool(tmp_path / "spool").waiting() == 0


def test_a_replay_that_died_gives_its_claimed_fetches_back(tmp_path):
    spool = Spool(tmp_path / "spool")
    _spool_some(spool, 3)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    held = tmp_path / "spool" / CLAIMS / dead.stdout.strip()
    held.mkdir(parents=True)
    for path in spool.pending()[:2]:
        path.rename(held / path.name)  # as a replay killed with SIGKILL leaves them
    assert len(spool.pending()) == 1 and spool.waiting() == 3
    assert len([url for _, url in spool.items()]) == 3
    assert not held.exists()


# --- fetch order and oversized pages -------------------------------------------------------------


def test_an_older_fetch_never_becomes_the_latest_version(pipeline, store):
    """Two crawls check one article: the later fetch is stored first; the earlier fetch,
    stored after it, must not show a revert that never happened."""
    pipeline()
    before = store.find_article([URL])
    pipeline(minutes=20, title="Newest Title")
    pipeline(minutes=10, title="Middle Title", known=before)  # version-number conflict
    pipeline(minutes=11, title="Middle Title")  # read the article after the later fetch
    titles = [v["title"] for v in store.versions.find({}, sort=[("number", 1)])]
    assert titles == ["Council Approves Budget", "Newest Title"]
    article = store.articles.find_one({"url": URL})
    assert article["title"] == "Newest Title" and article["version_count"] == 2
    assert pipeline.crawler.stats.get_value("newsdiff/versions/stale") == 2


def _no_long_log_lines(caplog) -> None:
    longest = max((len(r.getMessage()) for r in caplog.records), default=0)
    assert longest < 2000, f"a {longest}-character log line"


@pytest.mark.parametrize(
    "body",
    [
        ["A paragraph of an endless page."] * 60_000,  # many paragraphs, 1.9 MB
        ["x" * 900_000] * 20,  # 18 MB of text: over MongoDB's 16 MB document limit
    ],
    ids=["paragraphs", "bytes"],
)
def test_an_oversized_page_is_failing_with_a_reason_and_its_snapshot(pipeline, store, body, caplog):
    pipeline(body=body)
    assert store.versions.count_documents({}) == 0
    article = store.articles.find_one({"url": URL})
    assert article["status"] == "failing"
    assert "too large to store as a version" in article["reason"]
    digest = article["reason"].rsplit(" ", 1)[-1]
    assert store.snapshot(digest) == b"<html>raw</html>"
    assert "next_check" in article  # checked again later, not fetched again as new
    assert pipeline.crawler.stats.get_value("newsdiff/extract/oversized") == 1
    assert pipeline.crawler.stats.get_value("newsdiff/status/failing") == 1
    _no_long_log_lines(caplog)


def test_a_document_too_large_past_the_bounds_is_still_a_reason(pipeline_with, store, caplog):
    """Bounds set above MongoDB's limit: the write itself fails, and is still handled."""
    run = pipeline_with(NEWSDIFF_MAX_BODY_BYTES=10**9)
    run(body=["x" * 900_000] * 20)
    article = store.articles.find_one({"url": URL})
    assert store.versions.count_documents({}) == 0
    assert article["status"] == "failing"
    assert article["reason"].startswith("the version could not be stored")
    _no_long_log_lines(caplog)


# --- a server that stays up but fails writes (a full disk) ---------------------------------------

WRITES = ["insert", "update", "findAndModify", "delete"]


def fail_commands(uri: str, commands: list[str] | None) -> None:
    """Make the server answer these commands with InternalError, as SecantusDB does on a full
    disk ("internal server error"); None: answer normally again. mongod's own failCommand."""
    client = pymongo.MongoClient(uri)
    try:
        if commands is None:
            client.admin.command("configureFailPoint", "failCommand", mode="off")
        else:
            data = {"failCommands": commands, "errorCode": 1, "errmsg": "internal server error"}
            client.admin.command("configureFailPoint", "failCommand", mode="alwaysOn", data=data)
    finally:
        client.close()


@pytest.fixture
def failing_server(tmp_path):
    """A server of the test's own on which the test may make commands fail."""
    directory = tmp_path / "failing-db"
    directory.mkdir()
    (directory / "secantusd.toml").write_text("[server]\nenable_test_commands = true\n")
    proc, port = start_server(directory)
    yield f"mongodb://127.0.0.1:{port}/?retryWrites=false&directConnection=true"
    proc.kill()
    proc.wait(30)


@pytest.mark.slow
def test_writes_the_server_fails_are_spooled_and_the_crawl_says_so(site, tmp_path, failing_server):
    build_nytimes_site(site.root)
    env = crawl_env(site, failing_server, "wedged", str(tmp_path / "data"))
    crawl = ("crawl", "nytimes", "-s", "AUTOTHROTTLE_ENABLED=0")
    first = scrapy_command(*crawl, env=env, timeout=300)
    assert first.returncode == 0, first.stderr[-3000:]
    edit(site.root, GREECE, b"High Treason, Some Greeks Say", b"Treason, Many Greeks Say")

    fail_commands(failing_server, WRITES)
    wedged = scrapy_command(*crawl, "-a", "force=1", env=env, timeout=300)
    assert wedged.returncode == 1, wedged.stderr[-3000:]
    # The edit waits in the spool; unchanged checks wait there too, or were batched and are
    # done again by a later crawl (never a version).
    spooled = [json.loads(f.read_text()) for f in (tmp_path / "data" / "spool").glob("*.json")]
    assert GREECE in {item["url"] for item in spooled}
    waiting = len(spooled)
    assert f"waiting on local disk {waiting}, " in wedged.stderr  # the summary line
    assert f"finish reason: versions_spooled: {waiting} fetches" in wedged.stderr

    health = scrapy_command("health", env=env)
    assert health.returncode == 1
    assert f"{waiting} fetches wait on local disk" in health.stderr
    fail_commands(failing_server, ["find", "aggregate", "distinct", "count"])
    health = scrapy_command("health", env=env)
    assert health.returncode == 1
    assert "newsdiff: the database cannot be read (error: " in health.stderr
    assert "Traceback" not in health.stderr

    from starlette.testclient import TestClient

    from newsdiff.web import create_app

    store = Store(failing_server, "wedged")
    try:
        with TestClient(create_app(store), raise_server_exceptions=False) as viewer:
            page = viewer.get("/")
        assert page.status_code == 503
        assert "the database is not answering right now" in page.text

        fail_commands(failing_server, None)
        again = scrapy_command(*crawl, "-a", "mode=discover", env=env, timeout=300)
        assert again.returncode == 0, again.stderr[-3000:]
        assert list((tmp_path / "data" / "spool").glob("*.json")) == []
        assert store.versions.count_documents({}) == 8 + 1
        assert {v["url"] for v in store.versions.find({"number": 1})} == {GREECE}
        assert_consistent(store)
    finally:
        store.close()


@pytest.mark.slow
def test_a_fetch_is_timed_at_its_response_not_after_its_extraction(
    site, store, mongo_uri, db_name, tmp_path
):
    """A new crawl process starts its extraction workers (about a second) while the first pages
    arrive: their fetched_at must be when they arrived, not when extraction ended."""
    build_nytimes_site(site.root)
    requested = {}
    site.on_request = lambda host, path: requested.setdefault(path, time.time())
    env = crawl_env(site, mongo_uri, db_name, str(tmp_path / "data"))
    env["NEWSDIFF_EXTRACT_WORKERS"] = "1"
    done = scrapy_command("crawl", "nytimes", "-s", "AUTOTHROTTLE_ENABLED=0", env=env, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    delays = [
        v["fetched_at"].timestamp() - requested[v["url"].removeprefix("https://www.nytimes.com")]
        for v in store.versions.find()
    ]
    assert len(delays) == 8
    # Measured here: 0.004-0.025 s stamped at arrival, 0.76-0.92 s stamped after extraction.
    assert min(delays) < 0.4, delays


@pytest.mark.slow
def test_a_fetch_neither_stored_nor_spooled_stops_the_crawl_naming_why(
    site, tmp_path, failing_server
):
    """The database's disk is full, and the spool is on it: the crawl stops, exit status 1,
    with both causes in its finish reason, and no page in its log."""
    build_nytimes_site(site.root)
    env = crawl_env(site, failing_server, "full", str(tmp_path / "data"))
    crawl = ("crawl", "nytimes", "-s", "AUTOTHROTTLE_ENABLED=0")
    fail_commands(failing_server, WRITES)
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "spool").write_text("a file where the spool directory should be")
    full = scrapy_command(*crawl, env=env, timeout=300)
    assert full.returncode == 1, full.stderr[-3000:]
    reason = "crawl nytimes failed, finish reason: store_failed: https://www.nytimes.com/"
    assert reason in full.stderr
    assert "could not be stored (error: " in full.stderr and "nor spooled to " in full.stderr
    longest = max(map(len, full.stderr.splitlines()))
    assert longest < 3000, f"a {longest}-character log line"


def test_an_older_fetch_is_stale_after_an_announced_change(pipeline, store):
    """A signalled change dates the article's last change from the outlet's announced time,
    earlier than its fetch; a fetch between the two is still older than the newest version."""
    pipeline()
    announced = (T0 + timedelta(minutes=5)).isoformat()
    pipeline(minutes=20, title="Newest Title", announced=announced)
    assert store.articles.find_one({"url": URL})["last_changed"] == T0 + timedelta(minutes=5)
    pipeline(minutes=11, title="Middle Title")
    titles = [v["title"] for v in store.versions.find({}, sort=[("number", 1)])]
    assert titles == ["Council Approves Budget", "Newest Title"]
    assert pipeline.crawler.stats.get_value("newsdiff/versions/stale") == 1
