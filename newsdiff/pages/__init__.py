"""Article extraction: pure (html, url) -> Extraction, one page class per outlet.

This module keeps the registry of page classes (built-in outlets and declarative ones) and
re-exports the entry points; extract.py decides what the article is (see its docstring), base.py
holds the page class, text.py, jsonld.py and corrections.py its helpers, generic.py the
outlet-independent extractors and classifiers, reading.py what of a fetched page an extraction
reads (read_fetched, and the digest a re-check compares).
"""

from __future__ import annotations

from collections.abc import Sequence
from types import EllipsisType
from urllib.parse import urlsplit

import xxhash
from parsel.csstranslator import css2xpath

from newsdiff.pages.apnews import ApnewsPage
from newsdiff.pages.base import ArticlePage, Extraction, NotArticle
from newsdiff.pages.bbc import BbcPage
from newsdiff.pages.cnn import CnnPage
from newsdiff.pages.extract import agreement, extract_page, page_url, source_of
from newsdiff.pages.generic import short
from newsdiff.pages.guardian import GuardianPage
from newsdiff.pages.nytimes import NytimesPage
from newsdiff.pages.reading import Reading, reading, start_tag
from newsdiff.pages.reuters import ReutersPage
from newsdiff.pages.washingtonpost import WashingtonpostPage
from newsdiff.text import NORMALISER_VERSION

__all__ = [
    "EXTRACTOR_VERSION",
    "FALLBACK_EXTRACTORS",
    "PAGES",
    "agreement",
    "digest",
    "Extraction",
    "NotArticle",
    "extract",
    "extract_fetched",
    "outlet_for_url",
    "page_url",
    "reading_of",
    "Reading",
    "read_fetched",
    "register",
    "selector_page",
    "unregister",
]

FALLBACK_EXTRACTORS = ("jsonld", "trafilatura")  # extract()'s generic paths, not outlet rules
# 2: bodies and titles chosen by evidence; 3: titles without kickers; 4: section names out of
# titles, generic bodies without dialogs, teaser runs and lines shown before the headline;
# 5: extraction reads the page without scripts, styles and comments, and only the element that
# holds the article for an outlet that names it (reading.py); 6: generic bodies keep the
# standfirst trafilatura leaves out (generic.with_standfirst); 7: the publisher's description is
# the summary field (ArticlePage.summary), unless it is the headline again; a short post dated
# by its own metadata is found beside a "most read" footer (generic.article_evidence); a generic
# body leaves out a meter's or paywall's prompt lines (generic.without_gate_prompts); 8: words
# of scripts without spaces (Thai, Lao, Myanmar, Khmer) are counted as words, not as the phrases
# between spaces (newsdiff.text.word_count): short articles in them are no longer "not an article";
# a full-width bar (｜), a guillemet, "::", "~" or a dot separate a site's name from the headline
# in a metadata title, as "|" and " - " do; of several
# JSON-LD articles, the page's own (ArticlePage.ld_article), not a related story listed first; a
# generic body leaves out a dateline the page rewrites ("Updated 12 minutes ago"), and one that
# is all teaser cards is read again without them (generic.beside_teasers); a story set in a
# one-column layout table keeps its paragraphs (generic.trafilatura_body); 9: a generic body
# leaves out another story the page shows in full beside its own (generic.other_stories: the
# next one of an endless scroll) and an ad slot's label or "continues below" line; every
# schema.org type under Article is an article (TechArticle, ScholarlyArticle, a forum posting);
# 10: where the metadata names no author, or only the site, the byline the page's markup shows
# (credits.shown_byline); where it gives no publication time, the date the page shows elsewhere
# (credits.shown_date); a generic body leaves out related posts that are each an <article>
# (generic.without_teaser_run); 11: the next story shown in full below a story in no <article>
# (no heading showing the title, or the story's text in <div>s) is another story too, and is
# neither its title nor its body (ArticlePage.title, generic.other_stories); a generic body
# leaves out the author's box, bio and all (generic.without_author_boxes); a heading linking to a
# view of the page itself (a live blog's update, "?post=3") is no teaser card (generic._is_own).
# A listicle's items, linked headings among the story's paragraphs, stay in the body, headings
# and all (generic._in_story_flow, generic.with_item_headings).
# A story the parser nests in a sidebar's markup (an unclosed <aside>) is read from the page
# with that element made a plain one (generic.beyond_chrome); running text a story puts in a
# <header> inside its <main> or <article> opens its body (generic.with_header_text).
EXTRACTOR_VERSION = "11"

PAGES: dict[str, type[ArticlePage]] = {
    "nytimes": NytimesPage,
    "washingtonpost": WashingtonpostPage,
    "bbc": BbcPage,
    "cnn": CnnPage,
    "guardian": GuardianPage,
    "reuters": ReutersPage,
    "apnews": ApnewsPage,
}
BUILT_IN = frozenset(PAGES)


def selector_page(
    name: str,
    domains: Sequence[str],
    *,
    title: str | None = None,
    body: Sequence[str] = (),
    byline: str | None = None,
    summary: str | None = None,
    scope: str | None = None,
) -> type[ArticlePage]:
    """The page class of a declarative outlet: its CSS selectors go before the standard metadata
    (title, byline, summary); when no body selector matches, extract() falls back to JSON-LD, then
    trafilatura; scope is reading.start_tag's simple selector. Raises ValueError for a selector
    that is not valid CSS, or a scope that is not simple."""
    try:
        attrs = {
            "name": name,
            "domains": tuple(domains),
            "title_xpaths": ((css2xpath(title),) if title else ()) + ArticlePage.title_xpaths,
            "body_xpaths": tuple(css2xpath(b) for b in body),
            "byline_xpaths": (css2xpath(byline),) if byline else (),
            "summary_xpaths": (css2xpath(summary),) if summary else (),
            "scope": start_tag(scope) if scope else None,
        }
    except Exception as exc:  # cssselect raises several types for a bad selector
        raise ValueError(f"invalid CSS selector: {exc}") from exc
    attrs["skip_tags"] = frozenset({"figure", "figcaption", "aside", "nav", "header", "button"})
    attrs["drop_link_only"] = True
    return type(f"{name.capitalize()}Page", (ArticlePage,), attrs)


def register(page_class: type[ArticlePage]) -> None:
    """Use page_class for its outlet (declarative outlets' classes, replaced when reloaded)."""
    if page_class.name in BUILT_IN:
        raise ValueError(f"{page_class.name!r} is a built-in outlet")
    PAGES[page_class.name] = page_class


def unregister(name: str) -> None:
    if name not in BUILT_IN:
        PAGES.pop(name, None)


def outlet_for_url(url: str) -> str | None:
    """The registered outlet whose domains include the URL's host (www.nytimes.com -> nytimes)."""
    host = (urlsplit(url).hostname or "").lower()
    for name, page_class in PAGES.items():
        if any(host == d or host.endswith("." + d) for d in page_class.domains):
            return name
    return None


def extract(html: str | bytes, url: str, outlet: str | None = None) -> Extraction:
    """The article in a page, by its outlet's page class (the generic one when none)."""
    return extract_page(PAGES.get(outlet or "", ArticlePage), html, url)


def reading_of(body: bytes, outlet: str | None) -> Reading:
    """What an extraction of a fetched page reads first (reading.reading): the outlet's element
    of it, when it names one and the page has it, else the whole page; either without scripts
    but JSON-LD, styles, comments and nonces."""
    return reading(body, PAGES.get(outlet or "", ArticlePage).scope)


def digest(read: bytes, charset: str | None = None) -> str:
    """The digest of the bytes an extraction read (read_fetched), for this extractor and
    normaliser (a new one may read the same bytes differently) and the HTTP charset."""
    # XXH3-128: a page of 1.4 MB in 0.06 ms against SHA-256's 0.9 ms, on the crawl's own thread.
    # Not cryptographic, and need not be: it tells a re-fetch of the same bytes, not forgeries.
    seed = f"{EXTRACTOR_VERSION} {NORMALISER_VERSION} {charset or ''} "
    found = xxhash.xxh3_128(seed.encode())
    found.update(read)
    return found.hexdigest()


def extract_fetched(body: bytes, charset: str | None, url: str, outlet: str | None) -> Extraction:
    """extract() of a fetched body with the charset its HTTP headers gave (see read_fetched)."""
    return read_fetched(body, charset, url, outlet)[0]


def read_fetched(
    body: bytes,
    charset: str | None,
    url: str,
    outlet: str | None,
    read: Reading | EllipsisType = ...,
) -> tuple[Extraction, bytes]:
    """The article of a fetched body, and the bytes it was read from: its reading (reading_of,
    given or found) when an article is found there, by the outlet's own rules for an element of
    the page; else the page as fetched. A short body is always read from the page as fetched:
    whether it is a paywall or redirect stub depends on the page around it (its scripts, its
    size). NotArticle when it is not one."""
    if read is ...:  # not looked for by the caller
        read = reading_of(body, outlet)
    try:
        found = _extract_bytes(read.data, charset, url, outlet)
        rules = found.extractor == PAGES.get(outlet or "", ArticlePage).name
        if (rules or not read.element) and not short(found.body):
            return found, read.data
    except NotArticle:
        pass
    return _extract_bytes(body, charset, url, outlet), body


def _extract_bytes(body: bytes, charset: str | None, url: str, outlet: str | None) -> Extraction:
    """extract() of bytes with the charset their HTTP headers gave (see source_of).

    The bytes are read as they are first: source_of's check of a UTF-8 page (a decode of the
    whole page, 0.7 ms for a NYT page) is made only when that reading has replacement
    characters in its text, or finds no article."""
    if body.isascii():
        return extract(body, url, outlet)
    try:
        first: Extraction | NotArticle = extract(body, url, outlet)
    except NotArticle as exc:
        first = exc
    if isinstance(first, Extraction) and not _replaced(first):
        return first
    source = source_of(body, charset)
    if source is not body:
        return extract(source, url, outlet)
    if isinstance(first, NotArticle):
        raise first
    return first


def _replaced(extraction: Extraction) -> bool:
    """Text with U+FFFD: undecodable bytes were read (or the page spells it out)."""
    fields = [extraction.title or "", *extraction.byline, *extraction.body]
    return any("\ufffd" in f for f in fields + extraction.corrections)
