"""The search index in a real crawl: indexed in batches as the crawl goes, never at the cost of a
version."""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime

import pytest
from bson import ObjectId

from newsdiff import search
from newsdiff.replay import build_nytimes_site
from newsdiff.search import SearchIndex
from tests.conftest import coroutine_test, run_crawl

GREECE = "https://www.nytimes.com/2018/06/05/world/europe/greece-macedonia.html"


@coroutine_test
async def test_a_crawl_indexes_what_it_stored(site, store, crawl_settings):
    build_nytimes_site(site.root)
    settings = crawl_settings()
    crawler = await run_crawl(settings)
    stored = store.versions.count_documents({})
    assert stored > 0
    assert crawler.stats.get_value("newsdiff/index/versions") == stored
    index = SearchIndex(search.index_root(settings))
    found = index.search('title:"high treason"')
    assert [h.url for h in found.hits] == [GREECE]


def _version(n: int) -> dict:
    return {
        "article_id": ObjectId(),
        "number": 0,
        "outlet": "nytimes",
        "label": "first",
        "url": f"https://www.nytimes.com/2026/11/30/world/story-{n}.html",
        "fetched_at": datetime.now(UTC),
        "title": f"Story {n} about the harbour",
        "byline": "By A. Reporter",
        "body": [f"Paragraph of story {n}."],
        "corrections": [],
    }


def test_a_full_batch_is_searchable_before_the_crawl_closes(store, tmp_path):
    indexer = search.CrawlIndexer(store, tmp_path / "index", batch=2)
    for n in range(3):
        indexer.add(_version(n))
    index = SearchIndex(tmp_path / "index")
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if index.available() and len(index.search("harbour").hits) == 2:
            break
        time.sleep(0.05)
    assert {h.url[-12:] for h in index.search("harbour").hits} == {"story-0.html", "story-1.html"}
    indexer.close()  # the third, less than a batch, waits for the close
    assert len(index.search("harbour").hits) == 3
    assert (indexer.indexed, indexer.failed) == (3, 0)


@coroutine_test
@pytest.mark.parametrize("batch", [200, 1])
async def test_an_unwritable_index_loses_no_version(site, store, crawl_settings, caplog, batch):
    build_nytimes_site(site.root)
    settings = crawl_settings(NEWSDIFF_INDEX_BATCH=batch)
    root = search.index_root(settings)
    root.parent.mkdir(parents=True)
    root.write_text("not a directory")  # nothing can be written under it, even by root
    caplog.set_level(logging.ERROR, logger="newsdiff.pipelines")
    crawler = await run_crawl(settings)
    stored = store.versions.count_documents({})
    urls = {a["url"] for a in store.articles.find({"status": "live"})}
    assert stored == len(urls) > 0  # every article's first version
    assert crawler.stats.get_value("newsdiff/versions/new") == stored
    assert crawler.stats.get_value("newsdiff/index/failed") == stored
    assert crawler.stats.get_value("newsdiff/index/versions") is None
    assert crawler.stats.get_value("finish_reason") == "finished"
    errors = [r.getMessage() for r in caplog.records if "Search index" in r.getMessage()]
    assert len(errors) == 1
    assert f"the {stored} new versions are stored" in errors[0]
    # Once the directory can be written, `scrapy index` catches up from the store.
    root.unlink()
    index = SearchIndex(root)
    assert search.catch_up(store, index) == stored
    assert [h.url for h in index.search('title:"high treason"').hits] == [GREECE]
