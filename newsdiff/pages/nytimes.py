"""The New York Times: 2014–2017 `p.story-body-text`, 2018 `StoryBodyCompanionColumn`, and the
current `section[name=articleBody]` + JSON-LD NewsArticle layout."""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from newsdiff.pages.base import ArticlePage
from newsdiff.pages.text import iso_date, node_text, split_names, xpath

try:
    NEW_YORK = ZoneInfo("America/New_York")  # ptime/utime metas are New York wall-clock times
except ZoneInfoNotFoundError:  # pragma: no cover - no tz database: keep the times naive
    NEW_YORK = None

_COLUMN = "div[contains(@class, 'StoryBodyCompanionColumn')]"
_PUBLISHED_SUFFIX = re.compile(r" \(Published \d{4}\)$")  # og:title of archived articles


class NytimesPage(ArticlePage):
    name = "nytimes"
    domains = ("nytimes.com",)
    site_suffixes = (" - The New York Times",)
    title_xpaths = (
        '//h1[@data-testid="headline"]',
        '//h1[@itemprop="headline"]',
        '//h1[@id="headline"]',
        "//article//h1",
    )
    # Newest layout first; the first that yields paragraphs wins.
    body_xpaths = (
        f"//{_COLUMN}[ancestor::section[@name='articleBody']]",
        f"//{_COLUMN}",
        "//p[contains(@class, 'story-body-text')] | //p[@itemprop='articleBody']"
        " | //div[contains(@class, 'story-notes')][ancestor::footer]",
        "//section[@name='articleBody'] | //*[@itemprop='articleBody']",
    )
    scope = re.compile(rb'<(article)\b[^>]*\bid="story"')  # 8 of the corpus's 9 NYT pages
    skip_tags = frozenset({"figure", "figcaption", "aside", "nav", "header", "a", "button"})
    skip_markers = (
        "InlineMessage",
        "ResponsiveAd",
        "bottom-of-article",
        "story-print-citation",
        "photoviewer",
        "inline-message",
    )
    correction_xpath = (
        ArticlePage.correction_xpath + " | //nyt_correction_top | //nyt_correction_bottom"
    )

    def body(self) -> list[str]:
        for expr in self.body_xpaths:
            containers = xpath(expr)(self.root)
            if paragraphs := self.blocks(containers, self.skip_tags, self.skip_markers):
                return paragraphs
        return []

    def title(self) -> str | None:
        title = super().title()
        return _PUBLISHED_SUFFIX.sub("", title) if title else None

    def byline(self) -> list[str]:
        # meta[name=author] keeps the names' case; byl and the 2017 spans are in capitals.
        return (
            super().byline()
            or split_names(self.meta_value("byl") or "")
            or [n for el in xpath(_BYLINE_XPATH)(self.root) for n in split_names(node_text(el))]
        )

    def published(self) -> str | None:
        return (
            super().published()
            or iso_date(self.meta_value("ptime"), NEW_YORK)
            or iso_date(self.first_attr("//article//time/@datetime"))
            or iso_date(self.meta_value("pdate"))
        )

    def modified(self) -> str | None:
        return super().modified() or iso_date(self.meta_value("utime"), NEW_YORK)

    def listing(self) -> bool:
        # Not nyt-collection:*: those metas name the column or series an article belongs to.
        return self.meta_value("ct") == "sectionfront" or super().listing()


_BYLINE_XPATH = (
    '//span[contains(@class, "byline-author")]'
    ' | //*[@itemprop="author"]//*[@itemprop="name"][not(self::meta)]'
)
