"""CNN: the 2016–2021 layout of `zn-body__paragraph` elements (many of them <div>s) and the
current `div.article__content` of `p.paragraph` and `h2.subheader`."""

from __future__ import annotations

import re

from newsdiff.pages.base import ArticlePage
from newsdiff.pages.text import clean


class CnnPage(ArticlePage):
    name = "cnn"
    domains = ("cnn.com",)
    site_suffixes = (" | CNN Politics", " | CNN Business", " | CNN", " - CNN")
    title_xpaths = (
        '//h1[@data-editable="headlineText"]',
        '//h1[contains(@class, "pg-headline")]',
        '//h1[contains(@class, "headline")]',
        "//article//h1",
        "//h1",
    )
    # The current layout's wrapper of the headline, byline and article (not of the site's header);
    # the 2016–2021 layout's <article itemtype=NewsArticle>.
    scope = re.compile(
        rb'<(div(?=[^>]*\bclass="[^"]*\blayout__content-wrapper[\s"])'
        rb'|article(?=[^>]*\bitemtype="https?://schema\.org/NewsArticle"))\b'
    )
    body_xpaths = (
        '//div[contains(@class, "article__content")]',
        '//*[@id="body-text"]//*[contains(concat(" ", @class, " "), " zn-body__paragraph ")]',
        '//*[@itemprop="articleBody"]',
    )
    skip_tags = frozenset({"figure", "figcaption", "aside", "nav", "header", "button", "form"})
    skip_markers = (
        "related-content",
        "editor-note",
        "editorial-note",
        "el__embedded",
        "el__video",
        "el__gallery",
        "ad-feedback",
        "zn-body__footer",
    )
    drop_link_only = True  # in-body links to related stories ("Who could be in Trump's Cabinet?")
    byline_xpaths = ('//span[contains(@class, "byline__name")]',)
    organisations = frozenset({"CNN", "CNN Business", "CNN Politics", "CNN Wire"})
    published_keys = (*ArticlePage.published_keys, "pubdate", "og:pubdate")
    correction_patterns = (r"^this (story|article) has been (updated|corrected) to\b",)

    def section(self) -> str | None:
        section = super().section() or self.meta_value("meta-section", "section", "articlesection")
        return clean(section) or None
