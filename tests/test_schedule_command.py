"""`scrapy schedule` and newsdiff.nodes: the decision, then real Scrapyd nodes on 127.0.0.1."""

from __future__ import annotations

import json
import socket
from datetime import datetime, timedelta

import pytest

from newsdiff.nodes import (
    Job,
    Node,
    ScheduleConfigError,
    decide,
    jobs_from_listing,
    parse_interval,
    plans,
)
from newsdiff.replay import build_nytimes_site
from tests.crawling import BLACKOUTS, GREECE, add_paragraph_after, assert_consistent, edit
from tests.scrapyd_env import jobs_of, node_env, scrapy_schedule

FAST = {"AUTOTHROTTLE_ENABLED": "0"}  # our own replay server
NOW = datetime(2026, 3, 1, 12, 0, 0)
EVERY = timedelta(minutes=20)


# --- the pure decision ------------------------------------------------------------------------


def test_intervals():
    assert parse_interval("20m") == timedelta(minutes=20)
    assert parse_interval("1.5h") == timedelta(minutes=90)
    assert parse_interval(" 2d ") == timedelta(days=2)
    assert parse_interval("45s") == timedelta(seconds=45)
    for bad in ("20", "m", "0m", "-5m", "20 minutes", ""):
        with pytest.raises(ScheduleConfigError):
            parse_interval(bad)


def test_never_ran_is_due():
    assert decide("nytimes", EVERY, [], NOW).schedule
    # Another outlet's jobs do not count.
    other = [Job("bbc", "running", "j1", NOW), Job("bbc", "finished", "j0", NOW)]
    assert decide("nytimes", EVERY, other, NOW).schedule


@pytest.mark.parametrize("state", ["pending", "running"])
def test_never_a_second_job(state):
    long_ago = NOW - timedelta(days=3)
    jobs = [Job("nytimes", "finished", "j0", long_ago), Job("nytimes", state, "j1", None)]
    decision = decide("nytimes", EVERY, jobs, NOW)
    assert not decision.schedule
    assert decision.reason == f"already {state} (job j1)"


def test_interval_counts_from_the_last_start():
    jobs = [
        Job("nytimes", "finished", "j0", NOW - timedelta(hours=5)),
        Job("nytimes", "finished", "j1", NOW - timedelta(minutes=19)),
    ]
    decision = decide("nytimes", EVERY, jobs, NOW)
    assert not decision.schedule and decision.reason == "not due for 1 minute"
    assert decide("nytimes", EVERY, jobs, NOW + timedelta(minutes=1)).schedule
    assert decide("nytimes", EVERY, jobs, NOW + timedelta(hours=2)).reason == (
        "last started 2 hours ago"
    )


def test_listjobs_answer_becomes_jobs():
    listing = {
        "pending": [{"id": "p", "spider": "cnn", "project": "newsdiff"}],
        "running": [{"id": "r", "spider": "bbc", "start_time": "2026-03-01 11:59:00.123456"}],
        "finished": [
            {
                "id": "f",
                "spider": "nytimes",
                "start_time": "2026-03-01 11:00:00.5",
                "end_time": "2026-03-01 11:01:00.5",
            }
        ],
    }
    jobs = jobs_from_listing(listing)
    assert [(j.id, j.state) for j in jobs] == [
        ("p", "pending"),
        ("r", "running"),
        ("f", "finished"),
    ]
    assert jobs[2].start_time == datetime(2026, 3, 1, 11, 0, 0, 500000)


def test_plans_check_the_configuration():
    nodes = {"default": "http://127.0.0.1:6800/", "b": "http://10.0.0.2:6800/"}
    got = plans({"nytimes": "20m", "bbc": {"every": "1h", "node": "b", "args": {"mode": 1}}}, nodes)
    assert [(p.outlet, p.every, p.node, p.args) for p in got] == [
        ("nytimes", EVERY, "default", {}),
        ("bbc", timedelta(hours=1), "b", {"mode": "1"}),
    ]
    for bad in (
        {"x": {"node": "b"}},
        {"x": {"every": "1h", "node": "c"}},
        {"x": {"every": "1h", "y": 1}},
    ):
        with pytest.raises(ScheduleConfigError):
            plans(bad, nodes)


def test_an_outlet_on_several_nodes_is_planned_on_each():
    nodes = {"default": "http://127.0.0.1:6800/", "b": "http://10.0.0.2:6800/"}
    got = plans({"nytimes": {"every": "20m", "node": ["default", "b", "b"]}}, nodes)
    assert [(p.outlet, p.node) for p in got] == [("nytimes", "default"), ("nytimes", "b")]
    for bad in ([], ["default", "c"], {"b": 1}):
        with pytest.raises(ScheduleConfigError):
            plans({"nytimes": {"every": "20m", "node": bad}}, nodes)


def test_node_credentials_from_the_environment():
    env = {"SCRAPYD_USERNAME": "all", "SCRAPYD_PASSWORD": "x", "NEWSDIFF_NODE_EU_1_USERNAME": "eu"}
    assert Node("default", "http://h:6800", env)._auth == "Basic YWxsOng="  # all:x
    assert Node("eu-1", "http://h:6800", env)._auth == "Basic ZXU6"  # eu: (no password of its own)
    assert Node("default", "http://h:6800", {})._auth is None


# --- real Scrapyd nodes -------------------------------------------------------------------------


@pytest.mark.slow
def test_overlap_guard_and_interval(start_node, site, mongo_uri, db_name, tmp_path):
    # A host that accepts connections and never answers keeps the first job running.
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(16)
    host_map = {"www.nytimes.com": f"127.0.0.1:{silent.getsockname()[1]}"}
    node = start_node(
        "a",
        **node_env(
            site, mongo_uri, db_name, tmp_path / "data", NEWSDIFF_HOST_MAP=json.dumps(host_map)
        ),
    )
    try:
        schedule = {"nytimes": {"every": "1h", "args": {"mode": "discover"}}}
        first = scrapy_schedule({"default": node}, schedule)
        assert first.returncode == 0, first.stdout + first.stderr
        assert "nytimes on default: scheduled job" in first.stdout, first.stdout
        second = scrapy_schedule({"default": node}, schedule)
        assert second.returncode == 0, second.stdout + second.stderr
        assert "nytimes on default: skipped, already " in second.stdout, second.stdout
        listing = jobs_of(node)
        assert len(listing["pending"] + listing["running"]) == 1
        (job,) = listing["pending"] + listing["running"]
        assert job["spider"] == "nytimes"

        # KILL: stopped gracefully (SIGINT), a job that got that far first waits out its
        # requests to the silent host (3 x DOWNLOAD_TIMEOUT), and "now" below is minutes later.
        node.post("cancel.json", [("project", "newsdiff"), ("job", job["id"]), ("signal", "KILL")])
        node.wait_finished(job["id"])
        # Finished an instant ago: not due within the hour, due with a shorter interval.
        third = scrapy_schedule({"default": node}, schedule)
        assert "nytimes on default: skipped, not due for 59 minutes" in third.stdout, third.stdout
        schedule["nytimes"]["every"] = "1s"
        dry = scrapy_schedule({"default": node}, schedule, "--dry-run")
        assert "nytimes on default: due, last started" in dry.stdout, dry.stdout
        assert not jobs_of(node)["pending"] + jobs_of(node)["running"]
    finally:
        silent.close()


@pytest.mark.slow
def test_unreachable_node_exits_non_zero_and_others_still_run(
    start_node, site, store, mongo_uri, db_name, tmp_path
):
    urls = [u for u in build_nytimes_site(site.root) if "/es/" not in u]
    node = start_node("a", **node_env(site, mongo_uri, db_name, tmp_path / "data"))
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        dead_port = s.getsockname()[1]
    dead = type("Dead", (), {"url": f"http://127.0.0.1:{dead_port}/"})()
    schedule = {
        "nytimes": {"every": "20m", "settings": FAST},
        "bbc": {"every": "20m", "node": "gone"},
    }
    result = scrapy_schedule({"default": node, "gone": dead}, schedule)
    assert result.returncode == 1
    assert "gone: cannot list jobs" in result.stdout
    listing = jobs_of(node)
    (job,) = listing["pending"] + listing["running"] + listing["finished"]
    node.wait_finished(job["id"])
    assert store.versions.count_documents({}) == len(urls)


@pytest.mark.slow
def test_two_nodes_different_outlets_one_database(
    start_node, site, store, mongo_uri, db_name, tmp_path
):
    from tests.corpus import DECLARED, build_declared_site

    nyt = [u for u in build_nytimes_site(site.root) if "/es/" not in u]
    _, bbc = build_declared_site(site.root)
    outlets_file = tmp_path / "outlets.toml"
    outlets_file.write_text(DECLARED, encoding="utf-8")
    a = start_node("a", **node_env(site, mongo_uri, db_name, tmp_path / "data-a"))
    b = start_node(
        "b",
        **node_env(site, mongo_uri, db_name, tmp_path / "data-b"),
        NEWSDIFF_OUTLETS_FILE=str(outlets_file),
    )
    schedule = {
        "nytimes": {"every": "20m", "node": "a", "settings": FAST},
        "bbcnews": {"every": "20m", "node": "b", "settings": FAST},
    }
    result = scrapy_schedule({"a": a, "b": b}, schedule)
    assert result.returncode == 0, result.stdout + result.stderr
    for node, outlet in ((a, "nytimes"), (b, "bbcnews")):
        listing = jobs_of(node)
        jobs = listing["pending"] + listing["running"] + listing["finished"]
        assert [j["spider"] for j in jobs] == [outlet]
        node.wait_finished(jobs[0]["id"])
        log = node.job_log(outlet, jobs[0]["id"])
        assert "Disabled" not in log and " ERROR: " not in log, log[-3000:]
    assert store.versions.count_documents({"outlet": "nytimes"}) == len(nyt)
    assert store.versions.count_documents({"outlet": "bbcnews"}) == len(bbc)
    # Both ran just now: a second pass starts nothing.
    again = scrapy_schedule({"a": a, "b": b}, schedule)
    assert again.stdout.count("skipped, not due") == 2, again.stdout


@pytest.mark.slow
def test_same_outlet_on_two_nodes_at_once(start_node, site, store, mongo_uri, db_name, tmp_path):
    urls = [u for u in build_nytimes_site(site.root) if "/es/" not in u]
    nodes = [
        start_node(name, **node_env(site, mongo_uri, db_name, tmp_path / f"data-{name}"))
        for name in ("a", "b")
    ]

    def both(**args):
        jobs = [node.schedule("nytimes", settings=FAST, **args) for node in nodes]
        for node, job in zip(nodes, jobs, strict=True):
            node.wait_finished(job)
            log = node.job_log("nytimes", job)
            assert " ERROR: " not in log and "Disabled" not in log, log[-3000:]

    both()  # both discover the same new articles
    assert sorted(a["url"] for a in store.articles.find()) == sorted(urls)
    assert store.versions.count_documents({}) == len(urls)
    assert_consistent(store)

    edit(site.root, GREECE, b"High Treason, Some Greeks Say", b"Treason, Many Greeks Say")
    add_paragraph_after(site.root, BLACKOUTS, b"ISO jumping the gun", b"A new last paragraph.")
    both(force="1")
    assert store.versions.count_documents({}) == len(urls) + 2
    assert_consistent(store)
