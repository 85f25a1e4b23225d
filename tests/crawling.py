"""Helpers of the end-to-end crawl tests: the replayed NYT articles, editing their pages, and
checking a database's version histories."""

from __future__ import annotations

from newsdiff.replay import site_path

RAHAMI = "https://www.nytimes.com/2016/09/20/nyregion/nyc-nj-explosions-ahmad-khan-rahami.html"
GREECE = "https://www.nytimes.com/2018/06/05/world/europe/greece-macedonia.html"
MUELLER = "https://www.nytimes.com/2018/05/16/us/politics/mueller-trump-indictment.html"
SANTA_FE = "https://www.nytimes.com/2018/05/18/us/school-shooting-santa-fe-texas.html"
BLACKOUTS = "https://www.nytimes.com/2020/08/16/business/california-blackouts.html"
SUDAN = "https://www.nytimes.com/2017/01/13/world/africa/sudan-sanctions.html"


def edit(root, url, old: bytes, new: bytes, count: int = -1) -> bytes:
    """Replace text in a replayed page; returns the original bytes."""
    path = site_path(root, url)
    original = path.read_bytes()
    assert old in original, f"{old!r} not in {url}"
    path.write_bytes(original.replace(old, new, count))
    return original


def add_paragraph_after(root, url, snippet: bytes, text: bytes) -> None:
    """Insert a paragraph with the same tag and class as the one containing snippet."""
    path = site_path(root, url)
    html = path.read_bytes()
    at = html.index(snippet)
    start = html.rindex(b"<p", 0, at)
    opening = html[start : html.index(b">", start) + 1]
    end = html.index(b"</p>", at) + 4
    path.write_bytes(html[:end] + opening + text + b"</p>" + html[end:])


def versions(store, url):
    article = store.articles.find_one({"url": url})
    return [(v["number"], v["label"], v["changed"]) for v in store.versions_of(article["_id"])]


def assert_consistent(store, articles_current=True):
    """No gap or duplicate in any article's versions; with articles_current, every article
    document also agrees with its versions (a crash may leave it behind until the next check)."""
    for article in store.articles.find():
        vs = store.versions_of(article["_id"])
        assert [v["number"] for v in vs] == list(range(len(vs))), article["url"]
        if articles_current:
            assert article["version_count"] == len(vs), article["url"]
        for older, newer in zip(vs, vs[1:], strict=False):
            assert older["hash"] != newer["hash"], f"duplicate version of {article['url']}"
