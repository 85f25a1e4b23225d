"""AP News: the current apnews.com layout (`div.RichTextStoryBody`), the 2018–2022 one
(`div[data-key=article]`) and the hosted.ap.org story pages that AP served to partner sites until
2017 (`span.entry-content > p.ap-story-p`, hNews microformats)."""

from __future__ import annotations

from datetime import UTC, datetime

from newsdiff.pages.base import ArticlePage
from newsdiff.pages.text import iso_date


class ApnewsPage(ArticlePage):
    name = "apnews"
    domains = ("apnews.com", "ap.org")
    site_suffixes = (" | AP News", " - AP News")
    title_xpaths = (
        '//h1[contains(@class, "Page-headline")]',
        '//*[@data-key="card-headline"]//h1',
        '//*[contains(@class, "entry-title")]',  # hNews headline of hosted.ap.org pages
        "//article//h1",
        "//h1",
    )
    # No scope: the corpus has no apnews.com page to check one against (reading.py).
    body_xpaths = (
        '//div[contains(@class, "RichTextStoryBody")]',
        '//div[@data-key="article"]',
        '//*[contains(@class, "entry-content")]',
    )
    skip_tags = frozenset({"figure", "figcaption", "aside", "nav", "header", "button", "form"})
    skip_markers = ("Infobox", "Enhancement", "Advertisement", "ad-placeholder", "Page-actions")
    byline_xpaths = (
        '//div[contains(@class, "Page-authors")]',
        '//*[starts-with(@class, "Component-bylines")]',
        '//*[contains(@class, "byline")]//*[contains(@class, "fn")]',  # hNews author
    )
    organisations = frozenset({"AP", "Associated Press", "The Associated Press"})
    correction_patterns = (r"^this (story|article|version) (has been )?correct(s|ed)\b",)

    def published(self) -> str | None:
        return (
            super().published()
            or _epoch_ms(self.first_attr("//bsp-timestamp/@data-timestamp"))
            or _compact(self.first_attr('//*[contains(@class, "timestamp")]/@title'))
        )


def _epoch_ms(value: str | None) -> str | None:
    if not value or not value.isdigit():
        return None
    return datetime.fromtimestamp(int(value) / 1000, UTC).replace(microsecond=0).isoformat()


def _compact(value: str | None) -> str | None:
    """hNews timestamps such as "2016-06-13T1603Z"."""
    try:
        stamp = datetime.strptime((value or "").strip(), "%Y-%m-%dT%H%MZ")
    except ValueError:
        return None
    return iso_date(stamp.replace(tzinfo=UTC).isoformat())
