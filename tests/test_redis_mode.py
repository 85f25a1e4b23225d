"""Shared-queue mode (NEWSDIFF_REDIS_URL): scrapy-redis over a real redis-server on 127.0.0.1."""

from __future__ import annotations

import collections
import logging
import re
import shutil
import subprocess
import sys
import threading
import time
import types

import pytest
import redis
from scrapy.settings import Settings
from scrapy.utils.test import get_crawler

from newsdiff.redis_mode import SharedRound
from newsdiff.replay import build_nytimes_site
from newsdiff.spiders.nytimes import NytimesSpider
from tests.conftest import ROOT, coroutine_test, crawl_env, run_crawl
from tests.crawling import BLACKOUTS, GREECE, add_paragraph_after, assert_consistent, edit
from tests.scrapyd_env import free_port, jobs_of, node_env, scrapy_schedule

REDIS_SERVER = "/usr/bin/redis-server"


@pytest.fixture
def redis_server(tmp_path):
    """A redis-server of its own on a free 127.0.0.1 port, nothing saved to disk: .url, .proc."""
    binary = shutil.which("redis-server") or REDIS_SERVER
    if not shutil.which(binary):
        pytest.fail(f"{REDIS_SERVER} not found: install Debian's redis-server (.ci/run does)")
    port = free_port()
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    url = f"redis://127.0.0.1:{port}/0"
    client = redis.Redis.from_url(url)
    deadline = time.monotonic() + 10
    while True:
        try:
            client.ping()
            break
        except redis.ConnectionError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail(f"redis-server did not start on port {port}")
            time.sleep(0.05)
    client.close()
    yield types.SimpleNamespace(url=url, proc=proc)
    proc.terminate()
    proc.wait(10)


@pytest.fixture
def redis_url(redis_server):
    return redis_server.url


@pytest.fixture
def client(redis_url):
    with redis.Redis.from_url(redis_url, decode_responses=True) as c:
        yield c


# --- settings -----------------------------------------------------------------------------------


def crawler_for(**settings):
    import newsdiff.settings as project

    values = {k: getattr(project, k) for k in dir(project) if k.isupper()}
    crawler = get_crawler(NytimesSpider, {**values, **settings})
    crawler._apply_settings()
    return crawler.settings


def test_without_a_redis_url_nothing_changes():
    settings = crawler_for(NEWSDIFF_REDIS_URL="")
    assert settings["SCHEDULER"] == "scrapy.core.scheduler.Scheduler"
    middlewares = settings.getdict("SPIDER_MIDDLEWARES")
    assert middlewares["newsdiff.middlewares.DeltaFetch"] == 100
    assert not any("redis" in name for name in middlewares)


def test_a_redis_url_switches_to_the_shared_queue():
    settings = crawler_for(NEWSDIFF_REDIS_URL="redis://127.0.0.1:1/0", NEWSDIFF_MONGO_DB="nd")
    assert settings["SCHEDULER"] == "newsdiff.redis_mode.Scheduler"
    assert settings["DUPEFILTER_CLASS"] == "scrapy_redis.dupefilter.RFPDupeFilter"
    assert settings["REDIS_URL"] == "redis://127.0.0.1:1/0"
    assert settings["SCHEDULER_QUEUE_KEY"] % {"spider": "nytimes"} == "nd:nytimes:requests"
    assert settings["SCHEDULER_DUPEFILTER_KEY"] % {"spider": "x"} == "nd:x:dupefilter"
    assert settings.getbool("SCHEDULER_PERSIST")
    middlewares = settings.getdict("SPIDER_MIDDLEWARES")
    assert middlewares["newsdiff.middlewares.DeltaFetch"] is None
    assert middlewares["newsdiff.redis_mode.RedisDeltaFetch"] == 100
    assert middlewares["newsdiff.redis_mode.LeaderStart"] == 50


# --- the round, step by step ------------------------------------------------------------------


def rounds(redis_url, *nodes, ttl=60):
    settings = Settings({"NEWSDIFF_MONGO_DB": "nd", "NEWSDIFF_REDIS_TTL_SECONDS": ttl})
    server = redis.Redis.from_url(redis_url)
    return [SharedRound(server, settings, "nytimes", node=n) for n in nodes]


def test_first_node_leads_the_others_join(redis_url, client):
    a, b = rounds(redis_url, "a", "b")
    assert a.leading and not b.leading
    assert b.join() == "a"
    assert client.get("nd:nytimes:round") == "a"
    assert set(client.zrange("nd:nytimes:busy", 0, -1)) == {"a", "b"}


def test_round_ends_when_nothing_is_queued_and_no_node_is_busy(redis_url, client):
    a, b = rounds(redis_url, "a", "b")
    a.join(), b.join()
    client.sadd("nd:nytimes:dupefilter", "fingerprint")
    assert not b.rest()  # a (the leader) may still enqueue
    client.zadd("nd:nytimes:requests", {"request": 0})
    assert not a.rest()  # a request is waiting for whoever takes it
    client.delete("nd:nytimes:requests")
    b.working()  # b took it
    assert not a.rest()
    assert b.rest()
    assert client.keys("nd:*") == []
    (c,) = rounds(redis_url, "c")
    assert c.leading  # the next round


def test_a_silent_node_stops_counting_and_its_dead_round_is_cleared(redis_url, client):
    a, b = rounds(redis_url, "a", "b", ttl=1)
    a.join(), b.join()
    b.rest()
    for _ in range(3):  # a's heartbeat keeps its round and itself alive beyond the ttl
        time.sleep(0.5)
        a.beat()
    assert client.get("nd:nytimes:round") == "a"
    client.zadd("nd:nytimes:requests", {"request": 0})
    client.sadd("nd:nytimes:dupefilter", "fingerprint")
    time.sleep(1.2)  # a dies
    assert client.get("nd:nytimes:round") is None
    (c,) = rounds(redis_url, "c")
    assert c.leading
    # The dead round's queue and dupefilter are gone.
    assert sorted(client.keys("nd:*")) == ["nd:nytimes:busy", "nd:nytimes:round"]
    assert c.rest()


# --- one crawl in process -----------------------------------------------------------------------


@coroutine_test
async def test_one_node_crawls_and_keeps_the_seen_set_in_redis(
    site, store, crawl_settings, redis_url, client
):
    urls = {u for u in build_nytimes_site(site.root) if "/es/" not in u}
    settings = crawl_settings(NEWSDIFF_REDIS_URL=redis_url)
    db = settings["NEWSDIFF_MONGO_DB"]

    crawler = await run_crawl(settings)
    stats = crawler.stats.get_stats()
    assert stats["finish_reason"] == "finished"
    assert stats["newsdiff/redis/leader"] == 1
    assert stats["scheduler/enqueued/redis"] == stats["scheduler/dequeued/redis"] > len(urls)
    assert stats["newsdiff/versions/new"] == len(urls)
    assert client.smembers(f"{db}:nytimes:seen") == urls
    assert client.keys("*") == [f"{db}:nytimes:seen"]  # the round ended and left nothing else

    site.requests.clear()
    crawler = await run_crawl(settings)
    assert crawler.stats.get_value("deltafetch/skipped") == len(urls)
    assert [path for _, path in site.requests if path.endswith(".html")] == []


@coroutine_test
async def test_a_url_whose_store_write_failed_is_not_marked_seen(
    site, store, crawl_settings, redis_url, client
):
    urls = {u for u in build_nytimes_site(site.root) if "/es/" not in u}
    settings = crawl_settings(NEWSDIFF_REDIS_URL=redis_url)
    failing = {**settings["ITEM_PIPELINES"], "tests.test_crawl.FailOnGreece": 900}
    await run_crawl({**settings, "ITEM_PIPELINES": failing})
    seen = f"{settings['NEWSDIFF_MONGO_DB']}:nytimes:seen"
    assert client.smembers(seen) == urls - {GREECE}

    site.requests.clear()
    await run_crawl(settings)
    assert [path for _, path in site.requests if path.endswith(".html")] == [
        GREECE.removeprefix("https://www.nytimes.com")
    ]
    assert client.smembers(seen) == urls

    site.requests.clear()  # DELTAFETCH_RESET empties the shared seen-set: all fetched again
    crawler = await run_crawl({**settings, "DELTAFETCH_RESET": True})
    assert crawler.stats.get_value("deltafetch/stored") == len(urls)
    assert len([p for _, p in site.requests if p.endswith(".html")]) == len(urls)


@coroutine_test
async def test_unreachable_redis_stops_the_crawl_clearly(site, crawl_settings):
    build_nytimes_site(site.root)
    settings = crawl_settings(NEWSDIFF_REDIS_URL=f"redis://127.0.0.1:{free_port()}/0")
    crawler = await run_crawl(settings)
    assert crawler.stats.get_value("finish_reason").startswith("redis_unreachable: ")
    assert site.requests == []


@coroutine_test
async def test_redis_lost_mid_crawl_stops_the_crawl_clearly(
    site, store, crawl_settings, redis_server
):
    build_nytimes_site(site.root)

    def on_request(host, path):  # Redis goes away as the first article is fetched
        if path.endswith(".html") and redis_server.proc.poll() is None:
            redis_server.proc.terminate()
            redis_server.proc.wait(10)

    site.on_request = on_request
    started = time.monotonic()
    settings = crawl_settings(NEWSDIFF_REDIS_URL=redis_server.url, CLOSESPIDER_TIMEOUT=20)
    crawler = await run_crawl(settings)
    assert crawler.stats.get_value("finish_reason").startswith("redis_unreachable: ")
    assert time.monotonic() - started < 15  # not retried until CLOSESPIDER_TIMEOUT
    assert_consistent(store)


def ghost(client, db, expires_in: float) -> None:
    """A round led by another node, busy for expires_in seconds more (Redis time)."""
    seconds, micros = client.time()
    client.set(f"{db}:nytimes:round", "ghost", ex=600)
    client.zadd(f"{db}:nytimes:busy", {"ghost": seconds + micros / 1e6 + expires_in})


@pytest.mark.slow
@coroutine_test
async def test_a_joining_node_waits_for_the_busy_leader_then_stops(
    site, crawl_settings, redis_url, client, caplog
):
    caplog.set_level(logging.INFO, logger="newsdiff.redis_mode")
    build_nytimes_site(site.root)
    settings = crawl_settings(NEWSDIFF_REDIS_URL=redis_url, NEWSDIFF_REDIS_MAX_IDLE_SECONDS=600)
    db = settings["NEWSDIFF_MONGO_DB"]
    ghost(client, db, expires_in=3)
    started = time.monotonic()
    crawler = await run_crawl(settings)
    assert time.monotonic() - started > 3  # waited until the leader's heartbeat lapsed
    assert crawler.stats.get_value("finish_reason") == "finished"
    assert crawler.stats.get_value("newsdiff/redis/leader") == 0
    assert site.requests == []  # discovery and re-checks are the leader's
    assert "joined the round led by ghost" in caplog.text
    assert "round over" in caplog.text
    assert client.keys("*") == []

    ghost(client, db, expires_in=600)  # alive and busy, but we stop waiting after a while
    started = time.monotonic()
    crawler = await run_crawl({**settings, "NEWSDIFF_REDIS_MAX_IDLE_SECONDS": 1})
    assert 1 < time.monotonic() - started < 30
    assert crawler.stats.get_value("finish_reason") == "finished"
    assert "while other nodes are busy; stopping" in caplog.text
    assert client.get(f"{db}:nytimes:round") == "ghost"  # its round goes on


# --- several nodes at once ----------------------------------------------------------------------


def crawl_node(site, mongo_uri, db_name, tmp_path, redis_url, name, *args):
    """`scrapy crawl nytimes` as a node of its own: own data directory, own User-Agent."""
    env = {
        **crawl_env(site, mongo_uri, db_name, tmp_path / name),
        "NEWSDIFF_REDIS_URL": redis_url,
    }
    options = {
        "AUTOTHROTTLE_ENABLED": "0",
        "LOG_LEVEL": "INFO",
        "USER_AGENT": f"newsdiff-test {name}",
        "CONCURRENT_REQUESTS": "1",  # leaves requests in the queue for the other node
        "NEWSDIFF_REDIS_MAX_IDLE_SECONDS": "60",
    }
    cmd = [sys.executable, "-m", "scrapy", "crawl", "nytimes", *args]
    for key, value in options.items():
        cmd += ["-s", f"{key}={value}"]
    return subprocess.Popen(
        cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )


def run_nodes(site, mongo_uri, db_name, tmp_path, redis_url, *args, nodes=("a", "b")):
    """Start the nodes at once; returns their logs and the pages each fetched (robots.txt aside).

    The site answers only once every node has joined the round, so that they take part in one
    round however slowly their processes start (a node that starts after the round ended would
    rightly lead the next one)."""
    site.requests.clear()
    site.headers.clear()
    joined = {n: threading.Event() for n in nodes}
    answer = site.on_request

    def gated(host, path):
        for event in joined.values():
            event.wait(60)
        if answer:
            answer(host, path)

    site.on_request = gated
    procs = {n: crawl_node(site, mongo_uri, db_name, tmp_path, redis_url, n, *args) for n in nodes}
    lines: dict[str, list[str]] = {n: [] for n in nodes}

    def read(name):
        for line in procs[name].stdout:
            lines[name].append(line)
            if "leading the round" in line or "joined the round" in line:
                joined[name].set()

    readers = [threading.Thread(target=read, args=(n,), daemon=True) for n in nodes]
    for reader in readers:
        reader.start()
    try:
        for proc in procs.values():
            proc.wait(300)
        for reader in readers:
            reader.join(10)
    finally:
        site.on_request = answer
    logs = {n: "".join(lines[n]) for n in nodes}
    for proc, (name, log) in zip(procs.values(), logs.items(), strict=True):
        assert proc.returncode == 0, f"node {name}:\n{log[-4000:]}"
        assert "Disabled" not in log, log
        errors = [line for line in log.splitlines() if " ERROR: " in line]
        assert not errors, "\n".join(errors)
        assert "py.warnings" not in log, log  # scrapy-redis's known deprecations are filtered
        assert "discovery found no article URLs" not in log  # not judged per node here
    fetched: dict[str, collections.Counter] = {n: collections.Counter() for n in nodes}
    for (host, path), headers in zip(site.requests, site.headers, strict=True):
        if path != "/robots.txt":  # each node reads robots.txt for itself
            fetched[headers["User-Agent"].removeprefix("newsdiff-test ")][host + path] += 1
    return logs, fetched


def stat(log: str, key: str) -> int:
    match = re.search(rf"'{re.escape(key)}': (\d+)", log)
    return int(match[1]) if match else 0


def page(url: str) -> str:
    return url.removeprefix("https://")


LISTINGS = [page(u) for u in (*NytimesSpider.feeds, *NytimesSpider.sitemaps)]


def once_each(pages) -> collections.Counter:
    return collections.Counter(page(p) for p in pages)


@pytest.mark.slow
def test_nodes_share_one_queue_and_fetch_each_page_once(
    site, store, mongo_uri, db_name, tmp_path, redis_url, client
):
    urls = {u for u in build_nytimes_site(site.root) if "/es/" not in u}
    slow = threading.Event()
    slow.set()

    def on_request(host, path):
        if slow.is_set() and path.endswith(".html"):
            time.sleep(0.75)  # alone, the leader needs longer than one engine heartbeat (5 s)

    site.on_request = on_request

    # Round 1: one node leads (discovery), both fetch articles, none twice.
    logs, fetched = run_nodes(site, mongo_uri, db_name, tmp_path, redis_url)
    leaders = [n for n, log in logs.items() if "leading the round" in log]
    assert len(leaders) == 1, logs
    (follower,) = set(logs) - set(leaders)
    assert "joined the round led by" in logs[follower]
    total = sum(fetched.values(), collections.Counter())
    assert total == once_each([*LISTINGS, *urls])
    assert all(any(p.endswith(".html") for p in pages) for pages in fetched.values()), fetched
    assert store.versions.count_documents({}) == len(urls)
    assert_consistent(store)
    assert client.smembers(f"{db_name}:nytimes:seen") == urls
    assert client.keys("*") == [f"{db_name}:nytimes:seen"]
    for log in logs.values():
        assert stat(log, "scheduler/dequeued/redis") > 0

    # Round 2: nothing new to discover, nothing due: the feed is read once, no article fetched.
    slow.clear()
    logs, fetched = run_nodes(site, mongo_uri, db_name, tmp_path, redis_url)
    assert sum(fetched.values(), collections.Counter()) == once_each(LISTINGS)
    assert sum(stat(log, "deltafetch/skipped") for log in logs.values()) == len(urls)
    assert store.versions.count_documents({}) == len(urls)

    # Round 3: every article re-checked (force=1), each by one node only; the edits are stored.
    edit(site.root, GREECE, b"High Treason, Some Greeks Say", b"Treason, Many Greeks Say")
    add_paragraph_after(site.root, BLACKOUTS, b"ISO jumping the gun", b"A new last paragraph.")
    logs, fetched = run_nodes(site, mongo_uri, db_name, tmp_path, redis_url, "-a", "force=1")
    assert sum(fetched.values(), collections.Counter()) == once_each([*LISTINGS, *urls])
    assert store.versions.count_documents({}) == len(urls) + 2
    assert_consistent(store)
    assert client.keys("*") == [f"{db_name}:nytimes:seen"]


@pytest.mark.slow
def test_scrapy_schedule_starts_an_outlet_on_two_scrapyd_nodes_sharing_the_work(
    start_node,  # noqa: F811 - the fixture imported above
    site,
    store,
    mongo_uri,
    db_name,
    tmp_path,
    redis_url,
    client,
):
    """As on servers: two Scrapyd nodes, one outlet listed on both in NEWSDIFF_SCHEDULE."""
    urls = {u for u in build_nytimes_site(site.root) if "/es/" not in u}
    nodes = {
        name: start_node(
            name,
            **node_env(site, mongo_uri, db_name, tmp_path / name, NEWSDIFF_REDIS_URL=redis_url),
        )
        for name in ("a", "b")
    }
    site.requests.clear()
    site.on_request = lambda host, path: time.sleep(0.5 if path.endswith(".html") else 0)
    settings = {"AUTOTHROTTLE_ENABLED": "0", "CONCURRENT_REQUESTS": "1"}
    schedule = {"nytimes": {"every": "20m", "node": ["a", "b"], "settings": settings}}
    result = scrapy_schedule(nodes, schedule)
    assert result.returncode == 0, result.stdout + result.stderr
    logs = []
    for name, node in nodes.items():
        assert f"nytimes on {name}: scheduled job" in result.stdout, result.stdout
        listing = jobs_of(node)
        (job,) = listing["pending"] + listing["running"] + listing["finished"]
        node.wait_finished(job["id"])
        logs.append(node.job_log("nytimes", job["id"]))
    for log in logs:
        assert "Disabled" not in log and " ERROR: " not in log, log[-3000:]
        assert "'scheduler/dequeued/redis'" in log  # scrapy-redis's scheduler ran
    # Normally one round; a node whose job started after the round ended leads a second one,
    # which reads the listings again and finds every article seen.
    leaders = sum("leading the round" in log for log in logs)
    assert leaders in (1, 2)
    fetched = collections.Counter(host + path for host, path in site.requests)
    del fetched["rss.nytimes.com/robots.txt"], fetched["www.nytimes.com/robots.txt"]
    assert fetched == once_each([*LISTINGS * leaders, *urls])
    assert store.versions.count_documents({}) == len(urls)
    assert_consistent(store)
    assert client.smembers(f"{db_name}:nytimes:seen") == urls
