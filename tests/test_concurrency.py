"""Two crawl processes of one outlet against one database at the same time."""

from __future__ import annotations

import subprocess
import sys

import pytest

from newsdiff.replay import build_nytimes_site
from tests.conftest import ROOT, crawl_env
from tests.crawling import BLACKOUTS, GREECE, add_paragraph_after, assert_consistent, edit


def start_crawl(site, mongo_uri, db_name, data_dir, *args, cwd=ROOT):
    env = crawl_env(site, mongo_uri, db_name, str(data_dir))
    cmd = [
        sys.executable,
        "-m",
        "scrapy",
        "crawl",
        "nytimes",
        "-s",
        "AUTOTHROTTLE_ENABLED=0",
        "-s",
        "LOG_LEVEL=INFO",
        *args,
    ]
    return subprocess.Popen(
        cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )


def run_pair(site, mongo_uri, db_name, tmp_path, *args):
    procs = [start_crawl(site, mongo_uri, db_name, tmp_path / f"node{i}", *args) for i in (1, 2)]
    logs = [p.communicate(timeout=300)[0] for p in procs]
    for proc, log in zip(procs, logs, strict=True):
        assert proc.returncode == 0, log[-3000:]
    return logs


@pytest.mark.slow
def test_two_crawls_at_once_never_duplicate(site, store, mongo_uri, db_name, tmp_path):
    urls = [u for u in build_nytimes_site(site.root) if "/es/" not in u]

    run_pair(site, mongo_uri, db_name, tmp_path)  # both discover the same new articles
    assert sorted(a["url"] for a in store.articles.find()) == sorted(urls)
    assert store.versions.count_documents({}) == len(urls)
    assert_consistent(store)

    edit(site.root, GREECE, b"High Treason, Some Greeks Say", b"Treason, Many Greeks Say")
    add_paragraph_after(site.root, BLACKOUTS, b"ISO jumping the gun", b"A new last paragraph.")
    run_pair(site, mongo_uri, db_name, tmp_path, "-a", "force=1")
    assert store.versions.count_documents({}) == len(urls) + 2
    assert_consistent(store)


@pytest.mark.slow
def test_crawl_without_scrapy_cfg_keeps_its_state(site, store, mongo_uri, db_name, tmp_path):
    """Scrapyd runs jobs with no scrapy.cfg in the working directory: nothing may be disabled."""
    build_nytimes_site(site.root)
    workdir = tmp_path / "job"
    workdir.mkdir()
    for _ in range(2):
        proc = start_crawl(site, mongo_uri, db_name, tmp_path / "data", cwd=workdir)
        log = proc.communicate(timeout=300)[0]
        assert proc.returncode == 0, log[-3000:]
        assert "Disabled" not in log
    assert "'deltafetch/skipped': 8" in log
    assert (tmp_path / "data" / "deltafetch").is_dir()
    assert not (workdir / ".scrapy").exists()
