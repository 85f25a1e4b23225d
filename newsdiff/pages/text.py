"""Text and tree helpers shared by every page class: decoding, visible text, paragraph blocks,
junk lines, names and dates. Pure: no network, no files."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, tzinfo
from functools import lru_cache
from html import unescape
from typing import Any
from urllib.parse import SplitResult, urljoin, urlsplit

from lxml import etree
from w3lib.encoding import (
    html_body_declared_encoding,
    html_to_unicode,
    read_bom,
    resolve_encoding,
)

from newsdiff.text import word_count

# trafilatura and htmldate each parse with one module-level lxml parser, and lxml parsers are
# safe in one thread at a time only (its FAQ: the default parser is per thread; make your own per
# thread). Crawls extract declared outlets' pages in threads: these calls take turns.
SHARED_PARSERS = threading.RLock()

RUNNING_WORDS = 40  # a paragraph this long is running text, not a headline, label or caption


def decode_html(data: bytes) -> str:
    """Decode bytes as Scrapy does: BOM, then meta charset, else utf-8 with replacement."""
    return html_to_unicode(None, data)[1]


def html_encoding(data: bytes) -> tuple[str, int]:
    """The page's encoding (BOM, then meta charset, else utf-8) and the length of any BOM."""
    bom, bom_bytes = read_bom(data)
    if bom:
        return bom, len(bom_bytes)
    declared = html_body_declared_encoding(data)
    return (resolve_encoding(declared) if declared else None) or "utf-8", 0


# --- text helpers ------------------------------------------------------------------------------

# rt, rp: ruby annotations (furigana), read above the text, not part of it
_SKIP_TAGS = frozenset({"script", "style", "noscript", "template", "svg", "button", "rt", "rp"})
BLOCK_TAGS = frozenset({"p", "h2", "h3", "h4", "h5", "h6", "li", "blockquote", "pre", "dd"})


@lru_cache(maxsize=256)
def xpath(expr: str) -> etree.XPath:
    """A compiled XPath, cached: page classes keep their rules as plain strings."""
    return etree.XPath(expr)


def clean(text: str | None) -> str:
    """Collapse runs of whitespace (including non-breaking spaces) and strip."""
    return " ".join(text.split()) if text else ""


def node_text(el: etree._Element, skip: Callable[[etree._Element], bool] | None = None) -> str:
    """Visible text of an element: no script/style, <br> as a space, whitespace collapsed."""
    parts: list[str] = []
    _collect(el, parts, skip)
    return clean("".join(parts))


def _collect(el: etree._Element, parts: list[str], skip: Callable | None) -> None:
    tag = el.tag
    if not isinstance(tag, str) or tag in _SKIP_TAGS or (skip is not None and skip(el)):
        return
    if tag == "br":
        parts.append(" ")
    if el.text:
        parts.append(el.text)
    for child in el:
        _collect(child, parts, skip)
        if child.tail:
            parts.append(child.tail)


def leaf_blocks(el: etree._Element) -> Iterator[etree._Element]:
    """Paragraph-level elements under el (or el itself) holding no further paragraph-level ones."""
    for block in el.iter(*BLOCK_TAGS):
        if next(block.iterdescendants(*BLOCK_TAGS), None) is None:
            yield block


_JUNK_TEXT = frozenset(
    {
        "advertisement",
        "skip advertisement",
        "supported by",
        "continue reading the main story",
        "transcript",
        "image",
        "photo",
        "video",
        "credit",
        "share",
        "read more",
    }
)
_JUNK_RE = re.compile(
    r"^(you have \d+ free articles? remaining|sign up for|get (the|our) .{0,60}newsletter"
    r"|credit\.\.\.|subscribe (now|today|to))",
    re.I,
)
_BYLINE_RE = re.compile(r"^(by|produced by|written by|reporting by)\s+\S[^.!?”\"]{0,80}$", re.I)
_PROMO_WORDS = re.compile(
    r"sign up|newsletter|inbox|listen|podcast|subscribe|download|read more|follow|watch", re.I
)


def is_junk(text: str, el: etree._Element | None = None) -> bool:
    """Ads, labels, meter messages, stray bylines and bracketed promos ("[Sign up … inbox.]")."""
    if not text or text.lower().rstrip(".:") in _JUNK_TEXT or _JUNK_RE.match(text):
        return True
    if _BYLINE_RE.match(text) and len(text.split()) <= 12:
        return True
    if text.startswith("[") and text.endswith("]"):
        has_link = el is not None and next(el.iter("a"), None) is not None
        return has_link or bool(_PROMO_WORDS.search(text))
    return False


# --- names and dates ---------------------------------------------------------------------------

_BY_RE = re.compile(r"^\s*(by|por|par|von|door|di)\s+", re.I)
_NAME_SPLIT_RE = re.compile(r"\s*(?:,\s*and\s+|,|\s+and\s+|\s*&\s*)\s*", re.I)


def split_names(value: str) -> list[str]:
    """'By A, B and C' -> ['A', 'B', 'C']; all-caps names are title-cased."""
    names = []
    for part in _NAME_SPLIT_RE.split(_BY_RE.sub("", clean(value))):
        name = part.strip(" .;")
        if name:
            names.append(name.title() if name.isupper() and len(name) > 3 else name)
    return names


def iso_date(value: Any, local_tz: tzinfo | None = None) -> str | None:
    """ISO 8601: aware datetimes in UTC to the second, date-only values as YYYY-MM-DD.

    Naive datetimes get local_tz when given (e.g. NYT ptime is New York time), else stay naive.
    """
    if not isinstance(value, str):
        return None
    value = value.strip()
    try:
        if re.fullmatch(r"\d{8}", value):
            return datetime.strptime(value, "%Y%m%d").date().isoformat()
        if re.fullmatch(r"\d{14}", value):
            dt = datetime.strptime(value, "%Y%m%d%H%M%S")
        elif re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            return datetime.fromisoformat(value).date().isoformat()
        else:
            dt = datetime.fromisoformat(value)
    except ValueError:
        return None
    if dt.tzinfo is None:
        if local_tz is None:
            return dt.replace(microsecond=0).isoformat()
        dt = dt.replace(tzinfo=local_tz)
    return dt.astimezone(UTC).replace(microsecond=0).isoformat()


# Markup in what should be plain text: an end tag or a <br> (HTML, not "a < b and c > d"), or
# an entity (&amp;, &#233;, &eacute;).
_TAG_RE = re.compile(r"</[a-z][a-z0-9]*\s*>|<br\s*/?>", re.I)
_MARKUP_RE = re.compile(rf"{_TAG_RE.pattern}|&(#\d+|#x[0-9a-f]+|[a-z]+\d*);", re.I)
# Elements that end a line where HTML text is laid out (a paragraph, a heading, a line break)
_LINE_TAGS = BLOCK_TAGS | {"br", "div", "h1", "ul", "ol", "table", "tr", "section", "figure"}


def plain_text(text: str) -> str:
    """A text field as plain text, one paragraph a line: a CMS that pours its HTML into a
    plain-text field (JSON-LD articleBody) leaves tags, entities and its embeds' scripts there.
    Text with tags is read as HTML (a paragraph or <br> ends a line, a raw newline is a space);
    text with entities only keeps its lines."""
    if not _MARKUP_RE.search(text):
        return text
    if not _TAG_RE.search(text):
        text = unescape(text)
        if not _TAG_RE.search(text):  # else HTML escaped once more: "&lt;p&gt;"
            return text
    root = etree.HTML(f"<html><body><div>{text}</div></body></html>")
    if root is None:
        return unescape(re.sub(r"<[^<>]*>", " ", text))
    parts: list[str] = []
    _lines(root, parts)
    return "".join(parts)


def _lines(el: etree._Element, parts: list[str]) -> None:
    tag = el.tag if isinstance(el.tag, str) else ""
    line = tag in _LINE_TAGS
    # hidden markup, and a block that is nothing but links: an embedded "read also" teaser
    if tag and tag not in _SKIP_TAGS and not _hidden(el) and not (line and _teaser(el)):
        if line:
            parts.append("\n")
        parts.append((el.text or "").replace("\n", " "))
        for child in el:
            _lines(child, parts)
        if line:
            parts.append("\n")
    parts.append((el.tail or "").replace("\n", " "))


def _hidden(el: etree._Element) -> bool:
    style = (el.get("style") or "").replace(" ", "").lower()
    return el.get("hidden") is not None or "display:none" in style or "visibility:hidden" in style


def _teaser(el: etree._Element) -> bool:
    return next(el.iter("a"), None) is not None and links_only(el, node_text(el, skip=_hidden))


def links_only(el: etree._Element, text: str) -> bool:
    """Whether all of a block's text is link text (a related-story or newsletter promo)."""
    links = " ".join(node_text(a) for a in el.iter("a"))
    return bool(links) and re.sub(r"\W", "", links) == re.sub(r"\W", "", text)


def joined(base: str | None, href: str | None) -> SplitResult | None:
    """A page's link resolved against its URL, split; None for an address no browser could open
    (a bracketed host that is no IP address, "http://[consent]/"): a page's markup is not
    trusted to hold valid URLs."""
    try:
        return urlsplit(urljoin(base or "", (href or "").strip()))
    except ValueError:
        return None


_WORD = re.compile(r"\w+")


def shares_word(heading: str, title: str) -> bool:
    """Whether a heading and a title share a word of four letters or more (any case, soft
    hyphens and all)."""
    words = {w for w in _WORD.findall(heading.replace("\xad", "").casefold()) if len(w) >= 4}
    return not words.isdisjoint(_WORD.findall(title.replace("\xad", "").casefold()))


# where no running text of a story is: links, buttons, captions, scripts, another <article>
# (not <form>, <header> or <noscript>: some sites put their whole page in one)
_NOT_RUNNING = {
    "a", "aside", "button", "figure", "footer", "head", "nav", "script", "select", "style",
    "template",
}  # fmt: skip


def running_words(root: etree._Element, start: etree._Element | None, end: etree._Element) -> int:
    """Words of the page's text outside links, captions, forms, scripts and <article>s that
    comes after start (None: the page's start) and before end: the running text of a story in
    no <article>, whatever its markup (<p>, <div>s, <br>s)."""
    words, after, skipping = 0, start is None, 0
    for event, el in etree.iterwalk(root, events=("start", "end")):
        if el is end:
            return words
        apart = el is start or el.tag in _NOT_RUNNING
        if event == "start":
            skipping += apart
            if after and not skipping and isinstance(el.tag, str) and el.text:
                words += word_count(el.text)
        else:
            skipping -= apart
            after = after or el is start
            if after and not skipping and el.tail:
                words += word_count(el.tail)
    return words
