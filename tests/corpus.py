"""The saved corpus pages every extraction test reads: ids, sources, URLs, the extraction and the
expected output stored in tests/fixtures/<outlet>/<id>/expected.json."""

from __future__ import annotations

import functools
import json
import os
from pathlib import Path

from newsdiff.pages import Extraction, NotArticle, extract
from newsdiff.replay import site_path, write_feed

REPO = Path(__file__).resolve().parent.parent
CORPUS = Path(os.environ.get("NEWSDIFF_CORPUS", REPO.parent / "shared" / "corpus"))
FIXTURES_ROOT = Path(__file__).resolve().parent / "fixtures"
NYT_CORPUS = CORPUS / "pages" / "nytimes"
FIXTURES = FIXTURES_ROOT / "nytimes"
KEYS = ["not_article", *Extraction.__dataclass_fields__]

OUTLET_NAMES = {"ap": "apnews"}  # corpus folder -> outlet, where the names differ
# Pages the corpus saved without their address, and the address they were served under (for the
# AP page, rebuilt from the story slug in its own comments: "Story: 47576851: AS Nightclub …").
URLS = {
    "newspaper4k-ap_meta_refresh": "https://hosted.ap.org/dynamic/stories/A/AS_NIGHTCLUB_SHOOTING_FATHER"
}

# The corpus is part of every checkout's surroundings (../shared); missing it is an error.
PAGE_DIRS = {
    page.name: page
    for folder in sorted((CORPUS / "pages").iterdir())
    for page in sorted(folder.iterdir())
    if (page / "source.html").is_file()
}
OUTLET_OF = {
    page_id: OUTLET_NAMES.get(path.parent.name, path.parent.name)
    for page_id, path in PAGE_DIRS.items()
}
PAGE_IDS = sorted(PAGE_DIRS, key=lambda p: (OUTLET_OF[p], p))
NYT_IDS = [p for p in PAGE_IDS if OUTLET_OF[p] == "nytimes"]


@functools.cache
def source(page_id: str) -> bytes:
    return (PAGE_DIRS[page_id] / "source.html").read_bytes()


@functools.cache
def meta(page_id: str) -> dict:
    return json.loads((PAGE_DIRS[page_id] / "meta.json").read_text(encoding="utf-8"))


def url_of(page_id: str) -> str:
    return meta(page_id)["url"] or URLS[page_id]


@functools.cache
def run(page_id: str) -> dict:
    """What the fixture stores: the extraction, or the reason the page is not an article."""
    try:
        return extract(source(page_id), url_of(page_id), OUTLET_OF[page_id]).to_dict()
    except NotArticle as exc:
        return {"not_article": exc.reason}


def fixture_path(page_id: str) -> Path:
    return FIXTURES_ROOT / OUTLET_OF[page_id] / page_id / "expected.json"


def expected(page_id: str) -> dict:
    return json.loads(fixture_path(page_id).read_text(encoding="utf-8"))


def upstream(page_id: str, name: str) -> str:
    return (PAGE_DIRS[page_id] / name).read_text(encoding="utf-8")


def text_of(result: dict) -> str:
    return "\n".join(result["body"])


# --- declarative outlets over corpus pages -------------------------------------------------

GUARDIAN_IDS = sorted(p for p in OUTLET_OF if OUTLET_OF[p] == "guardian")
BBC_IDS = sorted(p for p in OUTLET_OF if OUTLET_OF[p] == "bbc")
GUARDIAN_FEED = "https://www.theguardian.com/world/rss"
BBC_SITEMAP = "https://www.bbc.com/sitemaps/news.xml"

DECLARED = f"""
# A feed outlet with no selectors: JSON-LD, then trafilatura.
[outlets.guardianworld]
allowed_domains = ["theguardian.com"]
feeds = ["{GUARDIAN_FEED}"]
article_path = '^/[a-z0-9-]+(?:/[a-z0-9-]+)?/\\d{{4}}/[a-z]{{3}}/\\d{{2}}/[a-z0-9-]+$'
url_rewrites = [['^https://amp\\.theguardian\\.com/', 'https://www.theguardian.com/']]

# A sitemap outlet with CSS selectors for the 2015-2020 and the current BBC layouts.
[outlets.bbcnews]
allowed_domains = ["bbc.com"]
sitemaps = ["{BBC_SITEMAP}"]
article_path = '^/news/[a-z0-9-]+-\\d+$'

[outlets.bbcnews.selectors]
title = "h1"
body = ["article [data-component=text-block]", "div[property=articleBody]"]
"""


def build_declared_site(root) -> tuple[list[str], list[str]]:
    """The corpus's Guardian pages behind a real Guardian feed, and its BBC pages behind a news
    sitemap, laid out for the replay server; returns the two lists of article URLs."""
    guardian, bbc = [meta(p)["url"] for p in GUARDIAN_IDS], [meta(p)["url"] for p in BBC_IDS]
    for page_id in GUARDIAN_IDS + BBC_IDS:
        target = site_path(root, meta(page_id)["url"].replace("http://", "https://"))
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(source(page_id))
    template = sorted((CORPUS / "feeds" / "guardian").glob("*.xml"))[0].read_bytes()
    feed = site_path(root, GUARDIAN_FEED)
    feed.parent.mkdir(parents=True, exist_ok=True)
    feed.write_bytes(write_feed(template, guardian))
    entries = "".join(f"<url><loc>{u}</loc></url>" for u in bbc)
    sitemap = site_path(root, BBC_SITEMAP)
    sitemap.parent.mkdir(parents=True, exist_ok=True)
    sitemap.write_text(
        '<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        f"{entries}</urlset>"
    )
    return guardian, bbc
