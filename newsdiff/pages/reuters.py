"""Reuters: the ≤2018 `span#articleText` layout, the 2019–2020 `div.ArticleBodyWrapper` one and
the current `data-testid=paragraph-N` one."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

from newsdiff.pages.base import ArticlePage
from newsdiff.pages.text import clean, iso_date

# "Tue Dec 30, 2014 4:33pm IST" (article pages) and "Tue Dec 30 11:03:00 UTC 2014" (metadata)
_SHOWN = re.compile(r"(\w{3} \w{3} \d{1,2}, \d{4} \d{1,2}:\d{2}[ap]m) ([A-Z]{2,4})")
_REVISION = re.compile(r"(\w{3} \w{3} \d{1,2} \d{2}:\d{2}:\d{2}) ([A-Z]{2,4}) (\d{4})")
_ZONES = {"UTC": 0, "GMT": 0, "BST": 60, "EST": -300, "EDT": -240, "IST": 330, "CET": 60}


def _zoned(value: str, fmt: str, zone: str) -> str | None:
    if zone not in _ZONES:
        return None
    try:
        local = datetime.strptime(value, fmt)
    except ValueError:
        return None
    return iso_date(local.replace(tzinfo=timezone(timedelta(minutes=_ZONES[zone]))).isoformat())


class ReutersPage(ArticlePage):
    name = "reuters"
    domains = ("reuters.com",)
    site_suffixes = (" | Reuters",)
    title_xpaths = (
        '//h1[@data-testid="Heading"]',
        '//h1[contains(@class, "article-headline")]',
        "//article//h1",
        "//h1",
    )
    # No scope: only the ≤2018 layouts have an element that holds the article (<div id="content">);
    # today's app has none short of its root, and a scope every page misses is only a warning.
    body_xpaths = (
        '//*[starts-with(@data-testid, "paragraph-")]',
        '//div[contains(@class, "ArticleBodyWrapper")]',
        '//span[@id="articleText"]',
    )
    skip_tags = frozenset({"figure", "figcaption", "aside", "nav", "header", "button", "form"})
    skip_markers = ("byline-container", "RelatedCoverage", "TrustBadge", "Slideshow", "related")
    byline_xpaths = (
        '//*[@rel="author"]',
        '//div[contains(@class, "byline-container")]//p[contains(@class, "Byline")]',
        '//div[contains(@class, "article-info")]//span[@class="byline"]',
    )
    organisations = frozenset({"Reuters", "Reuters Staff", "Thomson Reuters"})
    published_keys = (*ArticlePage.published_keys, "og:article:published_time")
    modified_keys = (*ArticlePage.modified_keys, "og:article:modified_time")
    # "(Corrects paragraph 3 to show …)", "This story corrects the spelling of …"
    correction_patterns = (
        r"^\((corrects|fixes)\b",
        r"^this (story|version of the story|article) (has been )?correct(s|ed)\b",
    )

    def published(self) -> str | None:
        shown = _SHOWN.search(self.first_text(['//span[@class="timestamp"]']) or "")
        return super().published() or (
            _zoned(shown[1], "%a %b %d, %Y %I:%M%p", shown[2]) if shown else None
        )

    def modified(self) -> str | None:
        revision = _REVISION.search(self.meta_value("revision_date") or "")
        if revision:
            return _zoned(f"{revision[1]} {revision[3]}", "%a %b %d %H:%M:%S %Y", revision[2])
        return super().modified() or iso_date(self.meta_value("revision_date"))

    def section(self) -> str | None:
        return super().section() or clean(self.meta_value("og:article:section")) or None
