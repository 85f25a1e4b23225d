"""Viewer fixtures: articles stored through the real pipelines, the app, a live server."""

from __future__ import annotations

import socket
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from scrapy import Spider
from scrapy.settings import Settings
from scrapy.utils.test import get_crawler

from newsdiff.items import Article
from newsdiff.pipelines import Chain
from newsdiff.store import Store
from tests.conftest import article

T0 = datetime(2026, 1, 1, 12, tzinfo=UTC)
NOW = T0 + timedelta(minutes=205)  # the viewer's clock in these tests
OUTLETS = ("guardian", "nytimes")
BUDGET_URL = "https://www.nytimes.com/2026/01/01/nyregion/council-budget.html"
BODY = [
    "The city council voted on Tuesday to approve the new budget after months of debate.",
    "“We finally have a plan,” the mayor said, adding that the vote was close.",
    "Critics said the plan would raise taxes on small businesses across the region. " * 3,
]


def make_ingest(settings: dict):
    """ingest(url, minutes, **fields): one fetch through validate -> normalise -> hash -> store;
    returns (ingest, close)."""
    chain = Chain(get_crawler(Spider, settings))

    def run(url: str, minutes: float, **fields) -> Article:
        fields.setdefault("body", BODY)
        fields.setdefault("extractor", "test")
        return chain(article(minutes, url=url, **fields))

    return run, chain.close


@pytest.fixture
def ingest(crawl_settings):
    """Stores into the test's own fresh database (the `store` fixture)."""
    run, close = make_ingest(crawl_settings())
    yield run
    close()


@dataclass
class Seeded:
    budget: str  # nytimes, versions 0-5: first, change, trivial, change, flip-flop, change
    quiet: str  # nytimes, one version
    guardian: str  # guardian, two versions; the most recent change of all
    stopped: str  # nytimes, past the re-check horizon: won't be checked again
    failing_url: str  # nytimes, extraction failed, no version


def article_id(store, url: str) -> str:
    return str(store.articles.find_one({"url": url})["_id"])


def seed(ingest, store) -> Seeded:
    """The archive most viewer tests read."""
    v1_title = "Council Narrowly Approves Budget"
    ingest(BUDGET_URL, 0)
    ingest(BUDGET_URL, 35, title=v1_title)
    ingest(
        BUDGET_URL,
        60,
        title=v1_title,
        body=[BODY[0], BODY[1].replace("“", '"').replace("”", '"'), BODY[2]],
    )
    ingest(
        BUDGET_URL,
        90,
        title=v1_title,
        body=[
            BODY[0],
            BODY[1].replace("was close", "was very close"),
            BODY[2],
            "The budget takes effect in July.",
        ],
        corrections=["Correction: An earlier version misstated the day of the vote."],
    )
    ingest(BUDGET_URL, 120, title=v1_title)  # back to version 1 exactly: a flip-flop
    ingest(
        BUDGET_URL,
        150,
        title=v1_title,
        byline=["Jane Doe", "John Roe"],
        body=[BODY[0], "The mayor declined to comment on Wednesday.", BODY[2]],
    )

    quiet_url = "https://www.nytimes.com/2026/01/01/world/quiet-story.html"
    ingest(quiet_url, 10, title="A Quiet Story", body=["Nothing ever changes here. " * 5])
    ingest(quiet_url, 100, title="A Quiet Story", body=["Nothing ever changes here. " * 5])

    guardian_url = "https://www.theguardian.com/world/2026/jan/01/storm-warning"
    storm = ["A storm is expected to reach the coast tonight.", "Residents were told to stay in."]
    ingest(guardian_url, 20, outlet="guardian", title="Storm Warning Issued", body=storm)
    ingest(guardian_url, 200, outlet="guardian", title="Storm Warning Issued", body=storm[:1])

    stopped_url = "https://www.nytimes.com/2025/11/01/arts/old-review.html"
    ingest(stopped_url, -60 * 24 * 60, title="An Old Review", body=["A review. " * 8])
    ingest(stopped_url, 30, title="An Old Review", body=["A review. " * 8])

    failing_url = "https://www.nytimes.com/2026/01/01/us/broken-page.html"
    ingest(failing_url, 40, title="Broken Page", body=[])
    return Seeded(
        budget=article_id(store, BUDGET_URL),
        quiet=article_id(store, quiet_url),
        guardian=article_id(store, guardian_url),
        stopped=article_id(store, stopped_url),
        failing_url=failing_url,
    )


@pytest.fixture(scope="session")
def viewer_db(mongo_uri, tmp_path_factory):
    """One seeded database shared by the read-only tests (the viewer never writes)."""
    settings = Settings()
    settings.setmodule("newsdiff.settings", priority="project")
    name = f"test_viewer_{uuid.uuid4().hex[:12]}"
    data = tmp_path_factory.mktemp("viewer-data")
    settings.setdict(
        {
            "NEWSDIFF_MONGO_URI": mongo_uri,
            "NEWSDIFF_MONGO_DB": name,
            "NEWSDIFF_DATA_DIR": str(data),
            # No late checks, so the article past the horizon is one that won't be checked again.
            "NEWSDIFF_RECHECK_LATE_DAYS": "",
        },
        priority="cmdline",
    )
    store = Store(mongo_uri, name)
    store.ensure_indexes()
    run, close = make_ingest(settings.copy_to_dict())
    try:
        seeded = seed(run, store)
    finally:
        close()  # the store stage indexes what it stored for search as it closes
    yield store, seeded, data / "index" / name
    store.client.drop_database(name)
    store.close()


@pytest.fixture
def seeded(viewer_db) -> Seeded:
    return viewer_db[1]


@pytest.fixture
def app(viewer_db):
    """The app over the shared seeded archive."""
    from newsdiff.web import create_app

    return create_app(viewer_db[0], outlets=OUTLETS, clock=lambda: NOW, index_dir=viewer_db[2])


@pytest.fixture
def client(app):
    from starlette.testclient import TestClient

    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


@pytest.fixture
def fresh_app(store, crawl_settings):
    """The app over this test's own empty database (fill it with `ingest`)."""
    from newsdiff.search import index_root
    from newsdiff.web import create_app

    return create_app(
        store, outlets=OUTLETS, clock=lambda: NOW, index_dir=index_root(crawl_settings())
    )


@pytest.fixture
def fresh_client(fresh_app):
    from starlette.testclient import TestClient

    with TestClient(fresh_app, raise_server_exceptions=False) as c:
        yield c


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def serve(app):
    """The app served by uvicorn on 127.0.0.1:<free port>, in a thread; yields its base URL."""
    import uvicorn

    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


@pytest.fixture
def live_server(app):
    yield from serve(app)


@pytest.fixture
def fresh_live_server(fresh_app):
    yield from serve(fresh_app)


XSS_URL = "https://www.nytimes.com/2026/01/01/us/hostile.html"
XSS_TITLE = '<script>window.__pwned="title"</script>Hostile <img src=x onerror="window.__pwned=1">'
XSS_SUMMARY = '<script>window.__pwned="summary"</script><b onclick=alert(5)>Dek</b>'
XSS_BYLINE = ['<svg onload="window.__pwned=2">Eve</svg>', '"><script>alert("byline")</script>']
XSS_BODY = [
    '<script>window.__pwned = "body"; alert(document.cookie)</script>',
    'Click <a href="javascript:window.__pwned=3">here</a> or <img src=x onerror=alert(1)>.',
    "<iframe src=\"javascript:alert('frame')\"></iframe> & <b onmouseover=alert(2)>bold</b>",
]


@pytest.fixture
def hostile(ingest, store) -> str:
    """An article whose headline, summary, byline and body are full of markup, in two versions."""
    ingest(XSS_URL, 0, title=XSS_TITLE, summary=XSS_SUMMARY, byline=XSS_BYLINE, body=XSS_BODY)
    ingest(
        XSS_URL,
        30,
        title=XSS_TITLE + " <style>body{display:none}</style>",
        summary=XSS_SUMMARY + "<img src=x onerror=alert(6)>",
        byline=XSS_BYLINE[:1],
        body=[*XSS_BODY, '<img src=x onerror="window.__pwned=4">'],
        corrections=['<script>window.__pwned="correction"</script>'],
    )
    return article_id(store, XSS_URL)
