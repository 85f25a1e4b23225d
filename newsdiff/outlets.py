r"""Declarative outlets: a spider for each entry of outlets.toml, so a site can be tracked
without writing Python.

    [outlets.npr]
    allowed_domains = ["npr.org"]
    feeds = ["https://feeds.npr.org/1001/rss.xml"]        # and/or sitemaps = [...]
    article_path = '^/\d{4}/\d{2}/\d{2}/\d+/[a-z0-9-]+$'   # regex searched in the URL's path

    [outlets.npr.selectors]                               # optional CSS selectors
    title = "h1"
    body = ["#storytext"]                                 # tried in order
    byline = ".byline__name"
    summary = ".storytitle p"                             # the dek, if the page shows one
    scope = "article.story"                               # the element holding the article

Optional keys: keep_query (keep URL queries; default false) and url_rewrites (a list of
[regex, replacement] pairs applied to every URL, e.g. to fold AMP variants). Without selectors,
or when none matches, the body comes from the page's JSON-LD, then from trafilatura. With a
scope (a tag, #id, .class or [attribute=value], or a tag with one), extraction reads only the
page's head and that element when the body selectors find the article there, so a re-check whose
changes all lie outside it is not extracted (newsdiff/pages/reading.py).

This module reads and checks the file; spiders/generic.py makes a spider class of each entry
(NprSpider, name "npr"), so `scrapy crawl npr`, `scrapy list`, Scrapyd and the stored data treat
it like a Python outlet. The file is $NEWSDIFF_OUTLETS_FILE,
else outlets.toml at the top of the checkout. An entry with an error is left out and logged;
`scrapy outlets` lists the outlets and the errors.
"""

from __future__ import annotations

import importlib.resources
import importlib.util
import os
import re
import tomllib
from dataclasses import dataclass, field
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

from newsdiff import pages

DEFAULT_FILE = Path(__file__).resolve().parent.parent / "outlets.toml"
_NAME = re.compile(r"^[a-z][a-z0-9_]{1,39}$")
_KEYS = {"allowed_domains", "feeds", "sitemaps", "article_path", "keep_query", "url_rewrites"}
_SELECTORS = {"title", "body", "byline", "summary", "scope"}


class OutletConfigError(ValueError):
    """An entry of the outlets file is invalid; the message names the entry and the key."""


@dataclass(frozen=True)
class Outlet:
    name: str
    allowed_domains: tuple[str, ...]
    feeds: tuple[str, ...]
    sitemaps: tuple[str, ...]
    article_path: str
    keep_query: bool = False
    url_rewrites: tuple[tuple[str, str], ...] = ()
    selectors: dict[str, Any] = field(default_factory=dict)


def outlets_file() -> Path | Traversable:
    configured = os.environ.get("NEWSDIFF_OUTLETS_FILE")
    if configured:
        return Path(configured).expanduser()
    if DEFAULT_FILE.is_file():
        return DEFAULT_FILE
    # Deployed as an egg (Scrapyd) there is no checkout: the file ships as package data.
    return importlib.resources.files("newsdiff") / "outlets.toml"


def load(path: Path | Traversable) -> tuple[list[Outlet], list[str]]:
    """The valid outlets of the file and a message for each error. A missing default file means
    no declarative outlets; a missing file named by NEWSDIFF_OUTLETS_FILE is an error."""
    if not path.is_file():
        missing = path != DEFAULT_FILE
        return [], [f"{path}: no such file (NEWSDIFF_OUTLETS_FILE)"] if missing else []
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        return [], [f"{path}: {exc}"]
    entries = data.get("outlets", {})
    errors = [
        f"{path}: unknown table [{k}]; outlets go in [outlets.NAME]" for k in data if k != "outlets"
    ]
    outlets = []
    for name, table in entries.items():
        try:
            outlets.append(parse(name, table))
        except OutletConfigError as exc:
            errors.append(f"{path}: [outlets.{name}] {exc}")
    return outlets, errors


def parse(name: str, table: Any) -> Outlet:
    if not _NAME.match(name):
        raise OutletConfigError("the name must be lower-case letters, digits or _ (2-40)")
    if importlib.util.find_spec(f"newsdiff.spiders.{name}") is not None:
        raise OutletConfigError(f"the name is taken by newsdiff/spiders/{name}.py")
    if not isinstance(table, dict):
        raise OutletConfigError("must be a table")
    unknown = set(table) - _KEYS - {"selectors"}
    if unknown:
        raise OutletConfigError(f"unknown keys: {', '.join(sorted(unknown))}")
    domains = _strings(table, "allowed_domains")
    feeds, sitemaps = _strings(table, "feeds"), _strings(table, "sitemaps")
    if not domains:
        raise OutletConfigError("allowed_domains is required")
    if not feeds and not sitemaps:
        raise OutletConfigError("give feeds, sitemaps or both")
    for url in feeds + sitemaps:
        if not re.match(r"^https?://[^/\s]+", url):
            raise OutletConfigError(f"not an http(s) URL: {url!r}")
    article_path = table.get("article_path")
    if not isinstance(article_path, str) or not article_path:
        raise OutletConfigError("article_path (a regex for article URL paths) is required")
    rewrites = table.get("url_rewrites", [])
    if not isinstance(rewrites, list) or not all(
        isinstance(r, list) and len(r) == 2 and all(isinstance(s, str) for s in r) for r in rewrites
    ):
        raise OutletConfigError("url_rewrites must be a list of [regex, replacement] pairs")
    for pattern in [article_path] + [r[0] for r in rewrites]:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise OutletConfigError(f"bad regex {pattern!r}: {exc}") from exc
    keep_query = table.get("keep_query", False)
    if not isinstance(keep_query, bool):
        raise OutletConfigError("keep_query must be true or false")
    selectors = table.get("selectors", {})
    if not isinstance(selectors, dict) or set(selectors) - _SELECTORS:
        raise OutletConfigError(f"selectors may set only {', '.join(sorted(_SELECTORS))}")
    outlet = Outlet(
        name=name,
        allowed_domains=domains,
        feeds=feeds,
        sitemaps=sitemaps,
        article_path=article_path,
        keep_query=keep_query,
        url_rewrites=tuple((p, r) for p, r in rewrites),
        selectors=selectors,
    )
    page_class(outlet)  # check the selectors now rather than at the first page
    return outlet


def _strings(table: dict, key: str) -> tuple[str, ...]:
    value = table.get(key, [])
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise OutletConfigError(f"{key} must be a list of strings")
    return tuple(v.strip() for v in value)


def page_class(outlet: Outlet) -> type[pages.ArticlePage]:
    selectors = outlet.selectors
    body = selectors.get("body", [])
    body = [body] if isinstance(body, str) else body
    single = [selectors.get(key, "") for key in ("title", "byline", "summary", "scope")]
    if not all(isinstance(s, str) for s in [*body, *single]):
        raise OutletConfigError("selectors are CSS selector strings (body: one or a list)")
    try:
        return pages.selector_page(
            outlet.name,
            outlet.allowed_domains,
            title=selectors.get("title"),
            body=body,
            byline=selectors.get("byline"),
            summary=selectors.get("summary"),
            scope=selectors.get("scope"),
        )
    except ValueError as exc:
        raise OutletConfigError(str(exc)) from exc
