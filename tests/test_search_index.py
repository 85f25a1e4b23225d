"""The search index in a real crawl: indexed as the crawl closes, never at the cost of a version."""

from __future__ import annotations

import logging

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


@coroutine_test
async def test_an_unwritable_index_loses_no_version(site, store, crawl_settings, caplog):
    build_nytimes_site(site.root)
    settings = crawl_settings()
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
