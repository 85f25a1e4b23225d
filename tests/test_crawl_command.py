"""`scrapy crawl` (newsdiff/commands/crawl.py): a crawl that did not finish exits non-zero."""

from __future__ import annotations

import socket

import pytest

from newsdiff.replay import build_nytimes_site
from tests.conftest import crawl_env, scrapy_command


def crawl(tmp_path, mongo_uri, db_name, site, *args):
    env = crawl_env(site, mongo_uri, db_name, str(tmp_path / "data"))
    return scrapy_command(
        "crawl", "nytimes", "-s", "AUTOTHROTTLE_ENABLED=0", *args, env=env, timeout=300
    )


@pytest.mark.slow
def test_unreachable_database_exits_non_zero(tmp_path, site):
    build_nytimes_site(site.root)
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        dead = f"mongodb://127.0.0.1:{s.getsockname()[1]}/?directConnection=true"
    result = crawl(tmp_path, dead, "nowhere", site, "-s", "NEWSDIFF_MONGO_TIMEOUT_MS=300")
    assert result.returncode == 1, result.stderr[-3000:]
    assert "finished: mongodb_unreachable" in result.stderr
    assert "crawl nytimes failed, finish reason: mongodb_unreachable" in result.stderr


@pytest.mark.slow
def test_finished_crawl_exits_zero(tmp_path, site, store, mongo_uri, db_name):
    urls = [u for u in build_nytimes_site(site.root) if "/es/" not in u]
    result = crawl(tmp_path, mongo_uri, db_name, site, "-a", "mode=discover")
    assert result.returncode == 0, result.stderr[-3000:]
    assert store.versions.count_documents({}) == len(urls)


def test_bad_spider_argument_exits_non_zero(tmp_path, site):
    result = crawl(tmp_path, "mongodb://127.0.0.1:1/", "nowhere", site, "-a", "mode=everything")
    assert result.returncode == 1
    assert "mode must be one of" in result.stderr
