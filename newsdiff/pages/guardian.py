"""The Guardian: the 2014–2020 `div[itemprop=articleBody]` layout and the current
dotcom-rendering one (`div.article-body-commercial-selector`)."""

from __future__ import annotations

import re

from newsdiff.pages.base import ArticlePage


class GuardianPage(ArticlePage):
    name = "guardian"
    domains = ("theguardian.com", "guardian.co.uk")
    site_suffixes = (" | The Guardian",)
    title_xpaths = (
        '//*[@data-gu-name="headline"]//h1',
        '//h1[@itemprop="headline"]',
        "//article//h1",
        "//h1",
    )
    # frontend's <article id="article"> (2014–2020), dotcom-rendering's <main data-layout=…>
    scope = re.compile(rb'<(article(?=[^>]*\bid="article")|main(?=[^>]*\bdata-layout="))\b')
    body_xpaths = (
        '//div[contains(@class, "article-body-commercial-selector")]',
        '//div[@itemprop="articleBody"]',
        '//*[@data-gu-name="body"]',
    )
    skip_tags = frozenset({"figure", "figcaption", "aside", "nav", "header", "footer", "button"})
    skip_markers = ("submeta", "rich-link", "ad-slot", "element-embed", "contributions")
    byline_xpaths = (
        '//address[@data-component="meta-byline"]//a[@rel="author"]',
        '//*[contains(@class, "byline")]//a[@rel="author"]',
    )
    organisations = frozenset({"Guardian staff", "Guardian staff reporter", "Guardian reporters"})
    # "This article was amended on 21 January 2020 to correct …", set in italics at the end.
    correction_patterns = (
        r"^[•*]?\s*this (article|story|piece|report) (was|has been) (amended|corrected)\b",
    )
