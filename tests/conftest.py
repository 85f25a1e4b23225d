"""Shared fixtures: a real MongoDB-protocol server, a replay server for outlet pages, crawls."""

from __future__ import annotations

import functools
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from scrapy.settings import Settings
from scrapy.utils.defer import deferred_from_coro
from scrapy.utils.test import get_crawler

from newsdiff.replay import ReplayServer, default_corpus
from newsdiff.store import Store
from newsdiff.store.embedded import start_server

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
    proc.terminate()
    proc.wait(30)


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
    server = ReplayServer(root).start()
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
