"""BBC News: the 2015–2020 `div.story-body__inner[property=articleBody]` layout and the current
one of `data-component` blocks inside <article>."""

from __future__ import annotations

import re

from newsdiff.pages.base import ArticlePage
from newsdiff.pages.text import clean


class BbcPage(ArticlePage):
    name = "bbc"
    domains = ("bbc.co.uk", "bbc.com")
    site_suffixes = (" - BBC News", " - BBC Sport")
    title_xpaths = (
        '//h1[@id="main-heading"]',
        '//h1[contains(@class, "story-body__h1")]',
        "//article//h1",
        "//h1",
    )
    # the current layout's <main id="main-content">, the 2015–2020 one's <div role="main">
    scope = re.compile(rb'<(main(?=[^>]*\bid="main-content")|div(?=[^>]*\brole="main"))\b')
    body_xpaths = (
        '//article//*[@data-component="text-block" or @data-component="subheadline-block"]',
        '//div[@property="articleBody"]',
    )
    skip_tags = frozenset({"figure", "figcaption", "aside", "nav", "header", "button", "form"})
    # Infographics, share tools and embedded explainers inside the story body.
    skip_markers = ("idt2", "bbc-news-vj", "sharetools", "media-", "social-embed")
    drop_link_only = True  # "Five things we learned…": links to related stories
    # No byline_xpaths: the visible byline runs name and role together ("By Will SmaleBusiness
    # reporter"); JSON-LD names the people, and the BBC itself when no one is credited.
    organisations = frozenset({"BBC", "BBC News", "BBC Sport", "BBC World Service"})
    correction_patterns = (
        r"^correction\s+\d{1,2}\s+\w+(\s+\d{4})?\s*:",  # "Correction 23 June 2020: …"
        r"^this (article|story) (has been|was) (amended|corrected|updated) to\b",
    )

    def section(self) -> str | None:
        return super().section() or clean(self.meta_value("og:article:section")) or None
