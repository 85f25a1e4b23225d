"""Outlet-independent pieces: the JSON-LD and trafilatura body fallbacks, and the page classifiers
that tell a gate, a redirect stub or an index page from an article."""

from __future__ import annotations

import re

import trafilatura
from lxml import etree

from newsdiff.pages.base import ARTICLE_TYPES, ArticlePage, clean, is_junk, ld_types

SHORT_BODY_WORDS = 150  # below this, look for a gate or a redirect before trusting the body
STUB_MAX_SIZE = 50_000  # redirect stubs are small; real pages carry scripts that set location
MIN_FALLBACK_WORDS = 25  # a fallback extraction shorter than this is noise, not an article

_PAYWALL_RE = re.compile(
    r"subscribe to (continue|read|keep reading)|(log|sign) ?in to (continue|read|keep reading)"
    r"|create a free account to|you(?:’|')?ve reached your (?:free article )?limit"
    r"|you have reached your (?:free article )?limit|for subscribers only|subscribers only"
    r"|this (article|story) is for subscribers|already a subscriber\?"
    r"|thank you for your patience while we verify access",
    re.I,
)
_BOTWALL_RE = re.compile(
    r"please enable js|enable javascript and cookies|are you a robot"
    r"|verify (that )?you are (a )?human|checking your browser|captcha-delivery|px-captcha",
    re.I,
)
_JS_REDIRECT_RE = re.compile(
    r"(?:window|document|top|self)\.location(?:\.href)?\s*=|location\.(?:replace|assign)\s*\(", re.I
)
_REFRESH_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)?\s*[;,]?\s*url\s*=", re.I)
_VISIBLE_TEXT = etree.XPath(
    "//body//text()[not(ancestor::script or ancestor::style or ancestor::noscript)]"
)


def word_count(paragraphs: list[str]) -> int:
    return sum(len(p.split()) for p in paragraphs)


def split_paragraphs(text: str) -> list[str]:
    return [p for line in text.splitlines() if not is_junk(p := clean(line))]


def jsonld_body(page: ArticlePage) -> list[str]:
    """Paragraphs of the JSON-LD article's articleBody (one per line; a single run stays one)."""
    for obj in page.jsonld:
        body = obj.get("articleBody")
        if isinstance(body, str) and ld_types(obj) & ARTICLE_TYPES:
            return split_paragraphs(body)
    return []


def trafilatura_body(html: str, url: str | None) -> list[str]:
    """trafilatura's precision-first main-text extraction of an already fetched page."""
    doc = trafilatura.bare_extraction(
        html,
        url=url,
        favor_precision=True,
        include_comments=False,
        include_tables=False,
        with_metadata=False,
    )
    text = getattr(doc, "text", None) if doc is not None else None
    return split_paragraphs(text or "")


def visible_text(page: ArticlePage) -> str:
    return clean(" ".join(_VISIBLE_TEXT(page.root)))


def stub_reason(page: ArticlePage, size: int) -> str | None:
    """'interstitial' or 'paywall' for a page whose article text is missing or short, else None."""
    refresh = page.meta.get("refresh", "")
    match = _REFRESH_RE.match(refresh)
    if match and float(match.group(1) or 0) <= 10:
        return "interstitial"
    text = visible_text(page)
    if _BOTWALL_RE.search(text):
        return "interstitial"
    if _PAYWALL_RE.search(text):
        return "paywall"
    if size < STUB_MAX_SIZE and len(text.split()) < SHORT_BODY_WORDS:
        scripts = " ".join(s.text or "" for s in page.root.iter("script"))
        if _JS_REDIRECT_RE.search(scripts):
            return "interstitial"
    return None


def looks_like_listing(page: ArticlePage) -> bool:
    """Heuristic for a section front when no rule found a body: typed as something other than an
    article, or many linked teaser headlines and hardly any paragraph of running text."""
    if page.ld_article is not None:
        return False
    og_type = (page.meta.get("og:type") or "").lower()
    if og_type and og_type != "article":
        return True
    teasers = _TEASER_HEADINGS(page.root)
    if len(teasers) < 20:
        return False
    running = [p for p in _FREE_PARAGRAPHS(page.root) if len(p.xpath("string()").split()) >= 40]
    return len(running) < 5


_TEASER_HEADINGS = etree.XPath(
    "//body//*[self::h2 or self::h3 or self::h4][.//a[@href] or ancestor::a[@href]]"
)
_FREE_PARAGRAPHS = etree.XPath("//body//p[not(ancestor::a)]")
