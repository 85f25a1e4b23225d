"""`scrapy serve` and `scrapy export`, run as a person would run them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.web.conftest import free_port

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def env(viewer_db, mongo_uri, tmp_path):
    store = viewer_db[0]
    return {
        **os.environ,
        "NEWSDIFF_MONGO_URI": mongo_uri,
        "NEWSDIFF_MONGO_DB": store.db.name,
        "NEWSDIFF_DATA_DIR": str(tmp_path / "data"),
    }


def scrapy(*args: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "scrapy", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_export_writes_one_article_per_line(env, seeded, tmp_path):
    out = tmp_path / "archive.jsonl"
    done = scrapy("export", str(out), env=env)
    assert done.returncode == 0, done.stderr
    assert "exported 4 articles with 10 versions" in done.stderr
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert [a["title"] for a in lines] == [
        "Storm Warning Issued",
        "Council Narrowly Approves Budget",
        "A Quiet Story",
        "An Old Review",
    ]
    budget = lines[1]
    assert budget["id"] == seeded.budget
    assert [v["number"] for v in budget["versions"]] == [0, 1, 2, 3, 4, 5]
    assert budget["versions"][3]["body"][-1] == "The budget takes effect in July."
    assert budget["versions"][0]["fetched_at"] == "2026-01-01T12:00:00Z"
    assert not list(tmp_path.glob(".*.partial"))


def test_export_filters(env, seeded, tmp_path):
    out = tmp_path / "guardian.jsonl"
    done = scrapy("export", "--outlet", "guardian", str(out), env=env)
    assert done.returncode == 0, done.stderr
    assert [json.loads(x)["id"] for x in out.read_text().splitlines()] == [seeded.guardian]
    done = scrapy("export", "--since", "2026-01-01T14:00:00Z", "-", env=env)
    assert done.returncode == 0, done.stderr
    ids = [json.loads(x)["id"] for x in done.stdout.splitlines()]
    assert ids == [seeded.guardian, seeded.budget]  # changed at 15:20 and 14:30


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--since", "last tuesday", "x.jsonl"], "--since must be a date"),
        (["--outlet", "{$ne: 1}", "x.jsonl"], "--outlet must be an outlet name"),
        ([], "give exactly one output file"),
    ],
)
def test_export_usage_errors(env, args, message):
    done = scrapy("export", *args, env=env)
    assert done.returncode == 2
    assert message in done.stderr


def test_serve_starts_the_viewer_on_the_configured_store(env, seeded):
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "scrapy", "serve", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/articles") as r:
                    data = json.loads(r.read())
                    csp = r.headers["Content-Security-Policy"]
                break
            except (urllib.error.URLError, ConnectionError):
                assert proc.poll() is None, proc.stdout.read().decode()
                assert time.monotonic() < deadline, "scrapy serve did not start"
                time.sleep(0.2)
        assert seeded.budget in [a["id"] for a in data["articles"]]
        assert csp.startswith("default-src 'none'")
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/outlets") as r:
            assert "nytimes" in r.read().decode()  # outlets come from the project's spiders
    finally:
        proc.terminate()
        proc.wait(30)


def test_serve_rejects_a_bad_port(env):
    done = scrapy("serve", "--port", "http", env=env)
    assert done.returncode == 2
    assert "--port must be a number" in done.stderr


def test_stats_prints_the_numbers_the_api_serves(env, seeded, client):
    done = scrapy(
        "stats", "--json", "--days", "30", "--until", "2026-01-01T15:25:00+00:00", env=env
    )
    assert done.returncode == 0, done.stderr
    printed = json.loads(done.stdout)
    assert printed == client.get("/api/stats", params={"days": 30}).json()["stats"]
    assert printed["articles_first_seen"] == 3 and printed["articles_changed"] == 2
    assert [a["id"] for a in printed["most_changed"]] == [seeded.budget, seeded.guardian]
    assert printed["most_changed"][0]["changes"] == 3
    done = scrapy("stats", "nytimes", "--days", "30", "--until", "2026-01-01T15:25:00Z", env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0] == "nytimes, the last 30 days: 7 versions"
    assert "  articles first seen: 2, changed since: 1 (50.0%)" in done.stdout
    assert "     3 changes  nytimes  Council Narrowly Approves Budget" in done.stdout
    bad = scrapy("stats", "NYTimes", env=env)
    assert bad.returncode == 2 and "not an outlet name" in bad.stderr


def test_index_rebuild_and_catch_up(env, seeded, tmp_path):
    from newsdiff.search import SearchIndex

    done = scrapy("index", "--rebuild", env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("indexed 10 versions in ")
    root = tmp_path / "data" / "index" / env["NEWSDIFF_MONGO_DB"]
    found = SearchIndex(root).search("title:storm")
    assert [h.article_id for h in found.hits] == [seeded.guardian]
    done = scrapy("index", env=env)  # catch-up: the last day before the newest version again
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("indexed 9 versions in ")  # all but the 60-day-old one
    assert SearchIndex(root).search("title:storm").total == 2  # replaced, not duplicated
