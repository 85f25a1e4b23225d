"""Discovery's seen-set on one node (middlewares.SeenFile): an SQLite file shared by crawls."""

from __future__ import annotations

import dbm.dumb
import logging
import time

from newsdiff.middlewares import SeenFile
from newsdiff.replay import build_nytimes_site
from tests.conftest import coroutine_test, run_crawl

A, B = b"https://www.nytimes.com/2024/01/01/world/a.html", b"https://www.nytimes.com/b.html"


def test_marks_outlive_the_crawl_and_reset_forgets_them(tmp_path):
    path = tmp_path / "nytimes.sqlite3"
    seen = SeenFile(path)
    assert A not in seen
    seen[A] = str(time.time())
    assert A in seen and B not in seen
    seen.close()

    again = SeenFile(path)
    assert A in again and B not in again
    again.close()

    reset = SeenFile(path, reset=True)
    assert A not in reset
    reset.close()


def test_two_crawls_of_one_outlet_keep_both_their_marks(tmp_path):
    """dbm.dumb rewrote its whole index at each close: the crawl that closed last dropped the
    other's URLs."""
    path = tmp_path / "nytimes.sqlite3"
    first, second = SeenFile(path), SeenFile(path)
    first[A] = str(time.time())
    second[B] = str(time.time())
    first.close()
    second.close()
    seen = SeenFile(path)
    assert A in seen and B in seen
    seen.close()


def test_a_mark_is_seen_by_another_crawl_at_once(tmp_path):
    path = tmp_path / "nytimes.sqlite3"
    crawl, other = SeenFile(path), SeenFile(path)
    crawl[A] = str(time.time())
    assert A in other
    other[B] = str(time.time())  # no wait on the first crawl's lock
    assert B in crawl
    crawl.close()
    other.close()


def test_an_old_dbm_seen_set_is_moved_in_once(tmp_path, caplog):
    legacy = tmp_path / "nytimes.db"
    with dbm.dumb.open(str(legacy), "c") as old:
        old[A] = "1700000000.5"
        old[B] = "1700000001.0"
    with caplog.at_level(logging.INFO, logger="newsdiff.middlewares"):
        seen = SeenFile(tmp_path / "nytimes.sqlite3")
    assert A in seen and B in seen
    assert "Moved 2 URLs" in caplog.text
    assert not list(tmp_path.glob("nytimes.db*"))  # the dbm files are gone
    seen.close()
    again = SeenFile(tmp_path / "nytimes.sqlite3")  # committed, not only seen by its connection
    assert A in again and B in again
    again.close()


def test_an_unreadable_file_is_started_afresh(tmp_path, caplog):
    path = tmp_path / "nytimes.sqlite3"
    path.write_bytes(b"not a database at all, " * 100)
    with caplog.at_level(logging.WARNING, logger="newsdiff.middlewares"):
        seen = SeenFile(path)
    assert "unreadable" in caplog.text
    seen[A] = "0"
    assert A in seen
    seen.close()


def test_a_file_that_cannot_be_opened_leaves_the_crawl_a_seen_set_in_memory(tmp_path, caplog):
    path = tmp_path / "nytimes.sqlite3"
    path.mkdir()  # not a file: SQLite cannot open it
    with caplog.at_level(logging.ERROR, logger="newsdiff.middlewares"):
        seen = SeenFile(path)
    assert "cannot be opened" in caplog.text
    seen[A] = "0"
    assert A in seen and B not in seen
    seen.close()


def test_a_failing_write_is_logged_once_and_the_crawl_goes_on(tmp_path, caplog):
    seen = SeenFile(tmp_path / "nytimes.sqlite3")
    seen.db.execute("PRAGMA query_only = ON")  # every write now fails, as on a full disk
    with caplog.at_level(logging.ERROR, logger="newsdiff.middlewares"):
        seen[A] = "0"
        seen[B] = "0"
    assert A not in seen  # fetched again by the next discovery
    assert caplog.text.count("failed") == 1
    seen.close()


@coroutine_test
async def test_a_crawl_whose_seen_set_cannot_be_opened_still_stores_everything(
    site, store, crawl_settings, tmp_path, caplog
):
    urls = [u for u in build_nytimes_site(site.root) if "/es/" not in u]
    blocked = tmp_path / "a-file"
    blocked.write_text("DELTAFETCH_DIR must be a directory")
    settings = crawl_settings(DELTAFETCH_DIR=str(blocked))
    with caplog.at_level(logging.ERROR, logger="newsdiff.middlewares"):
        crawler = await run_crawl(settings)
    assert "cannot be opened" in caplog.text
    assert crawler.stats.get_value("newsdiff/versions/new") == len(urls)
    assert crawler.stats.get_value("deltafetch/stored") == len(urls)
    # Nothing was kept: the next discovery fetches them again and finds them known.
    crawler = await run_crawl(settings)
    assert crawler.stats.get_value("deltafetch/skipped") is None
    assert crawler.stats.get_value("newsdiff/versions/new") is None
    assert store.versions.count_documents({}) == len(urls)
