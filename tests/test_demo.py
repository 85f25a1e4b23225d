"""`scrapy demo`: a short account for a newcomer, the full log only when asked for."""

from __future__ import annotations

import os

import pytest

from tests.conftest import scrapy_command

pytestmark = pytest.mark.slow


def test_demo_prints_a_short_account_and_no_warnings(tmp_path, mongo_uri, db_name, store):
    env = {
        **os.environ,
        "NEWSDIFF_MONGO_URI": mongo_uri,
        "NEWSDIFF_MONGO_DB": db_name,
        "NEWSDIFF_DATA_DIR": str(tmp_path / "data"),
        "NEWSDIFF_REDIS_URL": "",
    }
    site = tmp_path / "demo-site"
    first = scrapy_command("demo", "--site", str(site), env=env, timeout=300)
    assert first.returncode == 0, first.stderr[-3000:]
    assert first.stderr == ""  # no log, and no warnings for feeds the demo site does not have
    lines = first.stdout.splitlines()
    assert len(lines) < 25, first.stdout
    assert "Stored 8 new version(s), 0 check(s) found no change" in first.stdout
    assert "8 NYT articles tracked:" in lines
    assert "  - the full log: `scrapy demo -L INFO` (or `--logfile demo.log`)" in lines
    assert store.versions.count_documents({}) == 8

    again = scrapy_command("demo", "--site", str(site), "-L", "INFO", env=env, timeout=300)
    assert again.returncode == 0, again.stderr[-3000:]
    assert "Stored 0 new version(s), 8 check(s) found no change" in again.stdout
    assert "Spider closed (finished)" in again.stderr  # the full log, on request
    assert " WARNING: " not in again.stderr and " ERROR: " not in again.stderr, again.stderr
