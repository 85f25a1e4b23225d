"""The Washington Post: the 2015 PageBuilder layout (`div#article-body > article`), the 2016–2019
one (`article[itemprop=articleBody]`) and the current `div[data-qa=article-body]` one."""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from newsdiff.pages.base import ArticlePage
from newsdiff.pages.text import clean, iso_date, node_text, xpath

try:
    WASHINGTON = ZoneInfo("America/New_York")
except ZoneInfoNotFoundError:  # pragma: no cover - no tz database: keep the times naive
    WASHINGTON = None

_URL_DATE = re.compile(r"/(\d{4})/(\d{2})/(\d{2})/")
_SHORT_OFFSET = re.compile(r"([+-])(\d{1,2})(\d{2})$")  # "2018-10-29T10:15-500"
_TIMESTAMP = re.compile(r"(\w+ \d{1,2}) at (\d{1,2}:\d{2} [AP]M)", re.I)  # "March 18 at 3:57 PM"


class WashingtonpostPage(ArticlePage):
    name = "washingtonpost"
    domains = ("washingtonpost.com",)
    site_suffixes = (" - The Washington Post",)
    title_xpaths = (
        '//h1[@data-qa="headline"]',
        '//h1[@itemprop="headline"]',
        '//*[@id="article-topper"]//h1',
        "//article//h1",
        "//h1",
    )
    # No scope: the 2015 layout's headline and body meet only in the page's root (#pb-root); the
    # 2016–2019 one's <div id="article-standard-content"> alone is 1 of the 2 corpus pages.
    body_xpaths = (
        '//div[@data-qa="article-body"]',
        '//article[@itemprop="articleBody"]',
        '//div[@id="article-body"]/article',
    )
    skip_tags = frozenset({"figure", "figcaption", "aside", "nav", "header", "button", "form"})
    skip_markers = ("inline-content", "pb-caption", "interstitial", "trailer", "hide-for-print")
    drop_link_only = True  # "Read more:" lists of related stories
    byline_xpaths = (
        '//*[@data-qa="author-name"]',
        '//*[contains(concat(" ", @class, " "), " author-byline ")]/a[@class="author-name"]',
        '//span[contains(@class, "pb-byline")]',
    )
    organisations = frozenset({"The Washington Post", "Washington Post"})

    def published(self) -> str | None:
        stamp = self.first_attr('//*[@itemprop="datePublished"]/@content')
        if stamp:
            stamp = _SHORT_OFFSET.sub(lambda m: f"{m[1]}{int(m[2]):02d}:{m[3]}", stamp.strip())
        return super().published() or iso_date(stamp) or self._signature_time()

    def _signature_time(self) -> str | None:
        """2015 pages show only "March 18 at 3:57 PM" (Washington time); the year is in the URL."""
        url_date = _URL_DATE.search(self.url)
        shown = _TIMESTAMP.search(self.first_text(['//span[@class="pb-timestamp"]']) or "")
        if not url_date:
            return None
        if shown:
            text = f"{shown[1]} {url_date[1]} {shown[2].upper()}"
            try:
                local = datetime.strptime(text, "%B %d %Y %I:%M %p")
            except ValueError:
                local = None
            if local is not None:
                return iso_date(local.isoformat(), WASHINGTON)
        return "-".join(url_date.groups())

    def section(self) -> str | None:
        kicker = xpath('//div[contains(@class, "headline-kicker")]')(self.root)
        return super().section() or (clean(node_text(kicker[0])) if kicker else None) or None
