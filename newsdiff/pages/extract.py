"""The extraction entry point: parse a page once, run its page class, choose the body by
evidence and decide, on strong evidence only, that a page is not an article.

extract_page() tries the outlet's own rules, then the better of the page's JSON-LD articleBody
and the generic extractor (trafilatura), and raises NotArticle only for a page that declares
itself a section front (with no article body by rules or JSON-LD), a section front's run of
teasers, a paywall or redirect stub with no article's worth of text, or a page with no text.
"""

from __future__ import annotations

import functools
import re

from lxml import etree
from parsel.selector import create_root_node

from newsdiff.pages.base import ArticlePage, Extraction, NotArticle
from newsdiff.pages.corrections import is_correction
from newsdiff.pages.credits import Story
from newsdiff.pages.generic import (
    SHORT_BODY_WORDS,
    article_evidence,
    beside_teasers,
    beyond_chrome,
    choose_body,
    generic_body,
    jsonld_body,
    looks_like_listing,
    other_stories,
    overlap,
    refreshes_away,
    short,
    stub_reason,
    with_header_text,
    with_item_headings,
    with_standfirst,
    without_author_boxes,
    without_dialogs,
    without_gate_prompts,
    without_lead_in,
    without_other_stories,
    without_teaser_run,
    without_teasers,
    word_count,
)
from newsdiff.pages.text import decode_html, html_encoding

_HTML_RE = re.compile(
    r"<\s*(!doctype|html|head|body|meta|title|div|p|article|section|main)\b", re.I
)


def page_url(html: str | bytes) -> str | None:
    """The URL a page gives for itself: rel=canonical, else og:url."""
    try:
        root = parse(html)
    except NotArticle:
        return None
    links = root.xpath('//link[@rel="canonical"]/@href | //meta[@property="og:url"]/@content')
    return str(links[0]).strip() if links else None


class _HTMLParser(etree.HTMLParser):
    """lxml's HTML parser without the id table (no page class looks elements up by id) or the
    per-element classes of lxml.html: a NYT page parses in 2.1 ms instead of 2.9."""

    def __init__(self, **kwargs) -> None:
        super().__init__(collect_ids=False, **kwargs)


def parse(html: str | bytes) -> etree._Element:
    """Parse once (bytes go to lxml undecoded; parsel's repair of NUL bytes and undecodable
    input); NotArticle for empty or non-HTML input."""
    if isinstance(html, bytes):
        encoding, bom = html_encoding(html)
        head = html[bom : bom + 65536].decode(encoding, "replace")
    else:
        head = html[:65536]
    if not head.strip():
        raise NotArticle("empty", "The page is empty.")
    if not _HTML_RE.search(head):
        raise NotArticle("not-html")
    try:
        if isinstance(html, bytes):
            root = create_root_node("", _HTMLParser, body=html[bom:], encoding=encoding)
        else:
            root = create_root_node(html, _HTMLParser)
    except (ValueError, LookupError, etree.LxmlError) as exc:
        raise NotArticle("not-html", f"The page could not be parsed as HTML: {exc}.") from exc
    if root is None or not isinstance(root.tag, str):
        raise NotArticle("empty", "The page has no HTML elements.")
    return root


_NON_ASCII = re.compile("[^\x00-\x7f\ufffd]")


def source_of(body: bytes, charset: str | None = None) -> bytes | str:
    """The fetched body to extract from: the bytes as they are, unless they claim (or default to)
    UTF-8 and mostly are not, e.g. a Latin-1 page declared UTF-8; then the HTTP `charset` or
    cp1252. A mis-declared charset must not turn into a mojibake "edit"."""
    if body.isascii() or html_encoding(body)[0] != "utf-8":
        return body
    try:
        body.decode("utf-8")  # the common case, checked at C speed
        return body
    except UnicodeDecodeError:
        pass
    text = body.decode("utf-8", "replace")
    invalid = text.count("\ufffd") - body.count("\ufffd".encode())
    if invalid == 0 or invalid <= len(_NON_ASCII.findall(text)):  # stray bad bytes in UTF-8
        return body
    return body.decode(charset if charset and charset != "utf-8" else "cp1252", "replace")


def extract_page(page_class: type[ArticlePage], html: str | bytes, url: str) -> Extraction:
    """The article in a page, read by page_class; NotArticle when it is not one."""
    page = page_class(parse(html), url)
    title = page.title()
    body, extractor = _body(page, html, url, title)
    corrections = page.corrections()
    body = [p for p in body if p != title and not _is_correction_of(p, corrections)]
    if not body:
        raise NotArticle("empty")
    story = Story(title, body[0], lambda: other_stories(page.root, title))
    return Extraction(
        title=title,
        byline=page.byline_or_shown(story),
        published=page.published_or_shown(story),
        modified=page.modified(),
        section=page.section(),
        body=body,
        corrections=corrections,
        extractor=extractor,
        summary=summary if (summary := page.summary()) != title else None,
    )


def _body(
    page: ArticlePage, html: str | bytes, url: str, title: str | None
) -> tuple[list[str], str]:
    """The article text and who found it: the outlet's rules, else the better of the JSON-LD
    articleBody and the generic extractor, which is always tried before a page is given up.
    "Not an article" needs strong evidence: a page that declares itself a listing and has no
    article body by rules or JSON-LD, or a gate or redirect stub with a short body whoever
    found it."""

    @functools.cache
    def text() -> str:  # decoded only for the generic extractor: the rules read the tree
        return decode_html(html) if isinstance(html, bytes) else html

    @functools.cache
    def generic_text() -> list[str]:
        return [p for p in generic_body(text(), url) if p != title]

    body, extractor = page.body(), page.name
    if not body:
        ld_body = jsonld_body(page)
        # a story the parser nested in a sidebar's markup is read from the page without it
        seen, generic = beyond_chrome(page, generic_text(), title)
        body, extractor = choose_body(ld_body, generic)
        declared = not ld_body and page.listing()
        if (
            declared
            and not article_evidence(page, body)
            or (extractor == "trafilatura" and looks_like_listing(page, body))
        ):
            # teasers: an article, if any, is beside them (a sidebar, a "most read" footer)
            body, extractor = generic_body(without_teasers(page), url), "trafilatura"
            if not article_evidence(page, body, teasers_removed=True):
                raise NotArticle("section-front")
        elif extractor == "trafilatura":
            # read on, past another story shown in full, on the page without it
            seen, body = without_other_stories(seen, body, title)
            body = with_standfirst(seen, with_header_text(seen, beside_teasers(seen, body), title))
            body = with_item_headings(seen, body)
            body = without_lead_in(seen, without_teaser_run(seen, body), title)
            body = without_author_boxes(seen, without_dialogs(seen, body))
        else:  # the publisher's articleBody: the story, mostly without its standfirst
            body = with_standfirst(page, body)
    elif short(body) and word_count(generic_text()) >= max(SHORT_BODY_WORDS, 2 * word_count(body)):
        body, extractor = generic_text(), "trafilatura"  # the rules caught a fragment only
    if short(body) and (reason := stub_reason(page, len(html), word_count(body))):
        raise NotArticle(reason)
    if refreshes_away(page):
        raise NotArticle("interstitial")
    if extractor != page.name:  # a generic body: the site's chrome may end it
        body = without_gate_prompts(body)
    return body, extractor


def agreement(html: bytes, url: str, body: list[str]) -> float:
    """Shingle F1 of a body against the generic extractor's text of the same page (0 to 1)."""
    text = source_of(html)
    text = decode_html(text) if isinstance(text, bytes) else text
    return round(overlap(body, generic_body(text, url)), 3)


def _is_correction_of(paragraph: str, corrections: list[str]) -> bool:
    """A body paragraph that is (or ends) a correction, e.g. one led by a "Correction:" label."""
    return is_correction(paragraph) or any(
        c == paragraph or (len(paragraph) > 40 and c.endswith(" " + paragraph)) for c in corrections
    )
