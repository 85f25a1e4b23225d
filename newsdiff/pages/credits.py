"""What a page shows of its credits where its metadata says nothing: the byline in its markup and
the publication date in its other markup and its URL. ArticlePage falls back on these.

The byline is read from the markup sites put it in, surest first: a schema.org `author` item,
a `rel="author"` link, a microformat name (`fn`) inside an author or byline element, then an
element whose class or id calls it a byline or an author. Comments, sidebars, related stories and
the like are not read (a commenter is not the author). A name is a few words without digits or
symbols; from the loosest markup, two or more capitalised words ("Clara Müller", not
"Redaktion"). A name that is the site's own goes: it is no byline.

The date is htmldate's conservative search (metadata htmldate knows beyond ours, `<time>`
elements, the URL; no guess from free text), as YYYY-MM-DD.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import htmldate
from lxml import etree

from newsdiff.pages.text import node_text, split_names

_RE_NS = {"re": "http://exslt.org/regular-expressions"}
_CLASSED = "concat(' ', normalize-space(@class), ' ')"
# (where, whether its names must be two capitalised words or more)
_BYLINE_MARKUP = (
    (etree.XPath("//*[@itemprop='author']"), False),
    (etree.XPath("//a[contains(concat(' ', normalize-space(@rel), ' '), ' author ')]"), False),
    (
        etree.XPath(
            f"//*[contains({_CLASSED}, ' author ') or contains({_CLASSED}, ' byline ')]"
            f"//*[contains({_CLASSED}, ' fn ')]"
        ),
        False,
    ),
    (
        etree.XPath(
            "//*[re:test(concat(@class, ' ', @id), 'byline|author|autor|auteur|writer|verfasser',"
            " 'i')]",
            namespaces=_RE_NS,
        ),
        True,
    ),
)
_AUTHOR_WORD = re.compile(r"(?:author|autor|byline)(?:-?name)?$", re.I)
_ITEM_NAME = etree.XPath(".//*[@itemprop='name']")
# Regions whose names are not the article's author: a class or id word starting so.
_ELSEWHERE = re.compile(
    r"^(?:comment|kommentar|respond|reply|sidebar|widget|related|teaser|footer|share|sharing"
    r"|social|avatar|more-from|recommend|popular|newsletter)",
    re.I,
)
_ELSEWHERE_TAGS = frozenset({"aside", "nav", "footer", "form", "noscript", "template"})

_CREDIT = re.compile(  # "Written by", "Von", "Autorin:", "Text:" before the names
    r"^\s*(?:(?:written|posted|reported|text|story|words|photos?)\s+by|by|von|par|por|di|door"
    r"|av|af|autor(?:in)?|author|auteur|texto?|verfasst von|ein beitrag von|geschrieben von)"
    r"\s*[:\-–]?\s+",
    re.I,
)
# "Posted on 3 May by", "erstellt von", "publié par"; not the "von" of "Clara von Müller"
_CREDIT_INSIDE = re.compile(
    r"^.{0,60}?(?:(?i:\bby)|(?:^|\s)[^\sA-ZÀ-Þ]\S*\s+(?i:von|par|por))\s+(?=\w)", re.S
)
_CREDIT_WORD = re.compile(  # no name by itself
    r"by|von|par|por|di|door|de|av|af|posted|name|author|autor|auteur|redaktion\w+", re.I
)
_LABEL = re.compile(r"^[^:]{1,25}:\s*")  # "Interview: ", "Redaktion: "
_ASIDE = re.compile(r"\s*\([^()]*\)")  # "(Pressesprecher des EJW)"
_AFTER_NAMES = re.compile(  # a date, a separator or "on …" after the names
    r"\s+(?:[|•·–—/]|(?:on|am|le|el)\b(?=.{0,20}\d)|updated\b|published\b|\d{1,2}[./]\d{1,2}[./]\d{2,4}"
    r"|\d{4}-\d{2}-\d{2}).*$",
    re.I | re.S,
)
_NAME_CHARS = re.compile(r"[^\W\d_][\w.'’\-]*")
_CAPITALISED = re.compile(
    r"[A-ZÀ-ÖØ-ÞĀ-Ž][\w.'’\-]*|von|van|der|den|de|da|di|del|la|le|du|bin|al|zu|y"
)
MAX_NAME_WORDS = 5
MAX_BYLINE_CHARS = 120


def shown_byline(root: etree._Element, is_site: Callable[[str], bool]) -> list[str]:
    """The names of the first byline the page's markup shows outside its comments and sidebars
    (see the module's doc); one naming the site only when no other names anyone (a blog's
    author is often the blog). [] if there is none."""
    the_site: list[str] = []
    for find, strict in _BYLINE_MARKUP:
        for el in find(root):
            if _elsewhere(el):
                continue
            names = byline_names(_credited(el), strict=strict and not _names_author(el))
            if names and not all(map(is_site, names)):
                return [n for n in names if not is_site(n)]
            the_site = the_site or names
    return the_site


def byline_names(text: str, *, strict: bool = False) -> list[str]:
    """The names in a byline's text ("Posted on 3 May by Ann Lee | 5 min" -> ["Ann Lee"]), or
    [] when any part of it is no name (strict: fewer than two capitalised words)."""
    if not text or len(text) > MAX_BYLINE_CHARS:
        return []
    text = _ASIDE.sub("", text)
    text = _LABEL.sub("", _CREDIT_INSIDE.sub("", _CREDIT.sub("", text)))
    text = _AFTER_NAMES.sub("", text).strip()
    half = len(text) // 2
    if text[:half].strip() == text[-half:].strip():  # a name shown twice (an avatar's alt text)
        text = text[:half]
    names = []
    for name in split_names(text):
        name = _CREDIT.sub("", name).strip(" .:;,")
        parts = name.split()
        if not 0 < len(parts) <= MAX_NAME_WORDS or not all(map(_NAME_CHARS.fullmatch, parts)):
            return []
        if _CREDIT_WORD.fullmatch(name):
            return []
        if strict and (len(parts) < 2 or not all(map(_CAPITALISED.fullmatch, parts))):
            return []
        names.append(name)
    return names


def _credited(el: etree._Element) -> str:
    """The text naming the author: a schema.org author item's name, else the element's text."""
    if el.get("itemprop") == "author":
        named = _ITEM_NAME(el)
        if named:
            el = named[0]
        if content := el.get("content"):
            return content
    return node_text(el)


def _names_author(el: etree._Element) -> bool:
    """Whether el's class or id calls it the author's name ("author", "Post__author",
    "author-name"), not a box or list about authors: one word is then a name too."""
    words = f"{el.get('class', '')} {el.get('id', '')}".split()
    return any(_AUTHOR_WORD.search(word) for word in words)


def _elsewhere(el: etree._Element) -> bool:
    """Whether el is in the page's comments, a sidebar, a related-stories box, the footer …"""
    node = el
    while node is not None and node.tag != "body":
        if node.tag in _ELSEWHERE_TAGS:
            return True
        words = f"{node.get('class', '')} {node.get('id', '')}".split()
        if node.tag == "article":  # a story's classes name its view ("teaser--only-body")
            words = [word for word in words if word.lower().startswith("comment")]
        if any(_ELSEWHERE.match(word) for word in words):
            return True
        node = node.getparent()
    return False


def shown_date(root: etree._Element, url: str | None) -> str | None:
    """The publication date (YYYY-MM-DD) htmldate finds without guessing from free text, or
    None."""
    page = etree.tostring(root, encoding="unicode", method="html")
    for extensive in (False, True):
        try:
            found = htmldate.find_date(
                page, url=url or None, original_date=True, extensive_search=extensive
            )
        except (ValueError, TypeError):  # a page htmldate cannot read
            return None
        if found:
            return found
    return None
