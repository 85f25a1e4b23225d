"""Shared fixtures: a real MongoDB-protocol server, a replay server for outlet pages, crawls."""

from __future__ import annotations

import functools
import json
import os
import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from scrapy import Spider
from scrapy.settings import Settings
from scrapy.utils.defer import deferred_from_coro
from scrapy.utils.test import get_crawler

from newsdiff.items import Article
from newsdiff.pipelines import Chain
from newsdiff.replay import ReplayServer, default_corpus
from newsdiff.store import Store
from newsdiff.store.embedded import start_server, terminate_server
from tests.scrapyd_env import Scrapyd, build_egg, ensure_venv

ROOT = Path(__file__).resolve().parent.parent


def scrapy_command(
    *args: str, env: dict | None = None, timeout: float = 120, text: bool = True
) -> subprocess.CompletedProcess:
    """`scrapy ARGS` run in the project directory as its own process, output captured."""
    return subprocess.run(
        [sys.executable, "-m", "scrapy", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=text,
        timeout=timeout,
    )


CORPUS = default_corpus()


@pytest.fixture(scope="session")
def mongo_uri(tmp_path_factory):
    """NEWSDIFF_TEST_MONGO_URI (e.g. a real mongod), else a SecantusDB server for the session."""
    if os.environ.get("NEWSDIFF_TEST_MONGO_URI"):
        yield os.environ["NEWSDIFF_TEST_MONGO_URI"]
        return
    proc, port = start_server(tmp_path_factory.mktemp("secantus"))
    yield f"mongodb://127.0.0.1:{port}/?retryWrites=false&directConnection=true"
    terminate_server(proc, port)


@pytest.fixture
def db_name():
    return f"test_{uuid.uuid4().hex[:12]}"


@pytest.fixture
def store(mongo_uri, db_name):
    s = Store(mongo_uri, db_name)
    s.ensure_indexes()
    yield s
    s.client.drop_database(db_name)
    s.close()


@pytest.fixture
def site(tmp_path):
    """An empty replay root (tmp/site/<host>/<path>) served on 127.0.0.1."""
    root = tmp_path / "site"
    root.mkdir()
    server = ReplayServer(root).start(poll_interval=0.05)  # stopped in 0.05 s, not 0.5
    yield server
    server.stop()


@pytest.fixture
def crawl_settings(mongo_uri, db_name, tmp_path, site, store):
    """Project settings pointed at the test database and the replay server (no throttling)."""

    def make(**overrides):
        import newsdiff.settings as project

        return {
            **{k: getattr(project, k) for k in dir(project) if k.isupper()},
            "NEWSDIFF_MONGO_URI": mongo_uri,
            "NEWSDIFF_MONGO_DB": db_name,
            "NEWSDIFF_DATA_DIR": str(tmp_path / "data"),
            "NEWSDIFF_HOST_MAP": site.host_map(),
            "NEWSDIFF_REDIS_URL": "",  # not a developer's shared-queue Redis
            "AUTOTHROTTLE_ENABLED": False,
            "DOWNLOAD_DELAY": 0,
            "RETRY_TIMES": 0,
            **overrides,
        }

    return make


def crawl_env(site, mongo_uri, db_name, data_dir) -> dict[str, str]:
    """The environment of a `scrapy` subprocess aimed at the test database and replay server."""
    return {
        **os.environ,
        "NEWSDIFF_MONGO_URI": mongo_uri,
        "NEWSDIFF_MONGO_DB": db_name,
        "NEWSDIFF_DATA_DIR": str(data_dir),
        "NEWSDIFF_HOST_MAP": json.dumps(site.host_map()),
        "NEWSDIFF_REDIS_URL": "",
    }


def coroutine_test(f):
    """Run an async test on the Twisted asyncio reactor that pytest-twisted installs."""

    @functools.wraps(f)
    def wrapper(*args, **kwargs):
        return deferred_from_coro(f(*args, **kwargs))

    return wrapper


async def run_crawl(settings: dict, spider: str = "nytimes", **args):
    """One in-process crawl with Scrapy's real downloader; returns the finished crawler."""
    from scrapy.spiderloader import SpiderLoader

    spidercls = SpiderLoader.from_settings(Settings(settings)).load(spider)
    crawler = get_crawler(spidercls, settings)
    await crawler.crawl_async(**args)
    return crawler


@pytest.fixture(scope="session")
def scrapyd_venv():
    return ensure_venv()


@pytest.fixture(scope="session")
def project_egg(scrapyd_venv, tmp_path_factory):
    """The checkout's egg, built once for every node the tests deploy to."""
    return build_egg(scrapyd_venv, tmp_path_factory.mktemp("egg") / "checkout")


@pytest.fixture
def start_node(scrapyd_venv, project_egg, tmp_path):
    started = []

    def start(name: str, **env: str) -> Scrapyd:
        node = Scrapyd(scrapyd_venv, tmp_path / name, env)
        started.append(node)
        node.deploy(egg=project_egg)
        return node

    yield start
    for node in started:
        node.stop()


@pytest.fixture
def declare(tmp_path, monkeypatch):
    """Point NEWSDIFF_OUTLETS_FILE at a temporary file; the checkout's outlets come back after."""
    from newsdiff.spiders import generic

    original = generic.outlets_file()

    def write(text: str) -> tuple[list, list[str]]:
        path = tmp_path / "outlets.toml"
        path.write_text(text, encoding="utf-8")
        monkeypatch.setenv("NEWSDIFF_OUTLETS_FILE", str(path))
        return generic.declare()

    yield write
    generic.declare(original)


# --- the pipeline chain on one example article (tests of the version decision) -----------------

URL = "https://www.nytimes.com/2020/01/02/us/example.html"
BODY = [
    "The city council voted on Tuesday to approve the new budget after months of debate.",
    "“We finally have a plan,” the mayor said, adding that the vote was close.",
    "Critics said the plan would raise taxes on small businesses across the region. " * 12,
]
T0 = datetime(2026, 1, 1, 12, tzinfo=UTC)


@pytest.fixture
def pipeline(pipeline_with):
    return pipeline_with()


@pytest.fixture
def pipeline_with(crawl_settings):
    """Builds the pipeline chain with setting overrides; each run() stores one fetch."""
    opened = []

    def build(**overrides):
        chain = Chain(get_crawler(Spider, crawl_settings(**overrides)))
        opened.append(chain)

        def run(minutes: float = 0, **fields):
            return chain(article(minutes=minutes, **fields))

        run.crawler, run.stage = chain.crawler, chain.stage
        return run

    yield build
    for chain in opened:
        chain.close()


def article(minutes: float = 0, **fields) -> Article:
    """One fetch of the example article (URL, BODY) at T0 + minutes; fields override."""
    return Article(
        outlet=fields.pop("outlet", "nytimes"),
        url=fields.pop("url", URL),
        fetched_at=(T0 + timedelta(minutes=minutes)).isoformat(),
        title=fields.pop("title", "Council Approves Budget"),
        byline=fields.pop("byline", ["Jane Doe"]),
        body=list(fields.pop("body", BODY)),
        corrections=fields.pop("corrections", []),
        html=fields.pop("html", b"<html>raw</html>"),
        extractor=fields.pop("extractor", "nytimes"),
        **fields,
    )
