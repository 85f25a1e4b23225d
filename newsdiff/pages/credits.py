"""What a page shows of its credits where its metadata says nothing: the byline in its markup and
the publication date in its other markup and its URL. ArticlePage falls back on these.

The byline is read from the markup sites put it in, surest first: a schema.org `author` item,
a `rel="author"` link, a microformat name (`fn`) inside an author or byline element, then an
element whose class or id calls it a byline or an author. Comments, sidebars, related stories and
the like are not read (a commenter is not the author). A name is a few words without digits or
symbols; from the loosest markup, two or more capitalised words ("Clara Müller", not
"Redaktion"), unless the element is the author's own. A name that is the site's own counts only
when nothing else names anyone (a blog's author is often the blog).

The date is htmldate's: its conservative search first (metadata it knows beyond ours, `<time>`
elements, the URL), then its search of the text, as YYYY-MM-DD. The readers' comments and boxes
of other stories are left out of what it reads: their dates are not the article's.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from copy import deepcopy
from functools import cached_property

import htmldate
from lxml import etree

from newsdiff.pages.text import SHARED_PARSERS, node_text, split_names

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
_TEXTS_WITH = etree.XPath("//body//text()[contains(., $word)]")
_ITEM_NAME = etree.XPath(".//*[@itemprop='name']")
# Class or id words (their start) of the readers' comments and of boxes of other stories, and of
# the page's chrome: no byline is read in either, no date in the first.
_OTHERS_WORDS = r"comment|kommentar|respond|reply|related|teaser|recommend|more-from|popular"
_CHROME_WORDS = r"sidebar|widget|footer|share|sharing|social|avatar|newsletter"
_OTHERS = re.compile(rf"^(?:{_OTHERS_WORDS})", re.I)
_ELSEWHERE = re.compile(rf"^(?:{_OTHERS_WORDS}|{_CHROME_WORDS})", re.I)
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
_AFTER_NAMES = re.compile(  # a date, a separator or "on 3 May" after the names
    r"\s+(?:[|•·–—/]|(?:on|am|le|el)\b(?=.{0,20}\d)|updated\b|published\b"
    r"|\d{1,2}[./]\d{1,2}[./]\d{2,4}|\d{4}-\d{2}-\d{2}).*$",
    re.I | re.S,
)
_NAME_CHARS = re.compile(r"[^\W\d_][\w.'’\-]*")
_CAPITALISED = re.compile(
    r"[A-ZÀ-ÖØ-ÞĀ-Ž][\w.'’\-]*|von|van|der|den|de|da|di|del|la|le|du|bin|al|zu|y"
)
MAX_NAME_WORDS = 5
STORY_MARK_WORDS = 12  # the story's opening words that keep its container
MIN_MARK_WORDS = 5  # fewer opening words do not tell the story's first paragraph
OPENING_DEPTH = 4  # how far up from its first words the first paragraph's element may be
MAX_BYLINE_CHARS = 120


class Story:
    """Where a page's own story is: its headline, its first paragraph and the other stories
    the page shows in full (found only when asked: generic.other_stories); their bylines and
    dates are not its."""

    def __init__(
        self,
        title: str | None = None,
        opening: str = "",
        find_others: Callable[[], Sequence[etree._Element]] = tuple,
    ) -> None:
        self.title = title
        self.mark = " ".join(opening.split()[:STORY_MARK_WORDS])  # tells its own elements
        self._find_others = find_others

    @cached_property
    def others(self) -> Sequence[etree._Element]:
        return self._find_others()


NO_STORY = Story()  # nothing known of where the story is


def shown_byline(
    root: etree._Element, is_site: Callable[[str], bool], story: Story = NO_STORY
) -> list[str]:
    """The names of the first byline the page's markup shows outside its comments, chrome and
    other stories (story.others, other <article>s, what follows another <h1>; see _beyond), as
    the module's doc says; one naming the site only when no other names anyone. [] if there is
    none."""
    the_site: list[str] = []
    beyond: Callable[[etree._Element], bool] | None = None
    for find, strict in _BYLINE_MARKUP:
        for el in find(root):
            if _elsewhere(el) or any(o is el or _holds(o, el) for o in story.others):
                continue
            beyond = beyond or _beyond(root, story)
            if beyond(el):
                continue
            names = byline_names(_credited(el), strict=strict and not _names_author(el))
            if names and not all(map(is_site, names)):
                return [n for n in names if not is_site(n)]
            the_site = the_site or names
    return the_site


def _beyond(root: etree._Element, story: Story) -> Callable[[etree._Element], bool]:
    """Whether an element is another story's: after another <h1> than the headline that comes
    after the story's start (its first paragraph, else its headline), or in an <article> that
    does not hold the story's first paragraph (or its headline): a list of posts, each an
    <article>."""
    order = {el: i for i, el in enumerate(root.iter())}
    opening = _opening(root, story.mark)
    if opening is None:  # the headline, and the <article> it heads if it is in one
        opening = next((h for h in root.iter("h1") if _headline(h, story)), None)
        if opening is None:
            return lambda el: False
        own = set(opening.iterancestors("article")) or None
    else:
        own = {*opening.iterancestors("article"), opening}
    start = order[opening]
    cut = min(
        (order[h] for h in root.iter("h1") if order[h] > start and not _headline(h, story)),
        default=len(order),
    )

    def beyond(el: etree._Element) -> bool:
        if order.get(el, 0) > cut:
            return True
        return own is not None and any(a not in own for a in el.iterancestors("article"))

    return beyond


def _headline(h1: etree._Element, story: Story) -> bool:
    """Whether an <h1> is the story's headline (with a kicker or soft hyphens, maybe)."""
    text = _text(h1).replace("\xad", "")
    return bool(story.title and text) and (story.title in text or text in story.title)


def _opening(root: etree._Element, mark: str) -> etree._Element | None:
    """The innermost element outside the page's chrome whose text starts with mark (the story's
    first paragraph); None for a mark too short to tell it (a subheading's few words)."""
    if len(mark.split()) < MIN_MARK_WORDS:
        return None
    for found in _TEXTS_WITH(root, word=mark.split()[0]):
        el = found.getparent()
        if found.is_tail and el is not None:
            el = el.getparent()
        if el is None or _elsewhere(el):
            continue
        for _ in range(OPENING_DEPTH):
            if el is None:
                break
            if _text(el).startswith(mark):
                return el
            el = el.getparent()
    return None


def _text(el: etree._Element) -> str:
    return node_text(el)


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
    return _apart(el) or any(map(_apart, el.iterancestors()))


def _apart(node: etree._Element) -> bool:
    """Whether node holds what is not the article's (see _elsewhere); a <footer> is the page's
    only outside an <article> (in one, it is the story's: "Posted on … by …")."""
    if node.tag == "body" or not isinstance(node.tag, str):
        return False
    if node.tag in _ELSEWHERE_TAGS:
        return node.tag != "footer" or next(node.iterancestors("article"), None) is None
    words = f"{node.get('class', '')} {node.get('id', '')}".split()
    if node.tag == "article":  # a story's classes name its view ("teaser--only-body")
        words = [word for word in words if word.lower().startswith("comment")]
    return any(_ELSEWHERE.match(word) for word in words)


def shown_date(root: etree._Element, url: str | None, story: Story = NO_STORY) -> str | None:
    """The publication date (YYYY-MM-DD) htmldate finds in the page without its readers'
    comments, boxes of other stories and the other stories it shows in full, conservatively,
    else in its text; None when it finds none. An element that holds the story's first
    paragraph stays, whatever its class says."""
    page = etree.tostring(_without_others(root, story), encoding="unicode", method="html")
    for extensive in (False, True):
        try:
            with SHARED_PARSERS:
                found = htmldate.find_date(
                    page, url=url or None, original_date=True, extensive_search=extensive
                )
        except (ValueError, TypeError):  # a page htmldate cannot read
            return None
        if found:
            return found
    return None


def _without_others(root: etree._Element, story: Story) -> etree._Element:
    """A copy of the page without the readers' comments, boxes of other stories, the other
    stories it shows in full and, where the story's first paragraph is found, the <article>s
    that do not hold it; an element that holds it stays."""
    tree = root.getroottree()
    paths = {tree.getpath(el) for el in story.others}
    copy = deepcopy(root)
    tree = copy.getroottree()
    gone = [el for el in copy.iter() if _others(el) or (paths and tree.getpath(el) in paths)]
    if story.mark and story.mark in _text(copy):  # the story found: other <article>s are not it
        gone += copy.iter("article")
    for el in gone:
        parent = el.getparent()
        if parent is not None and not (story.mark and story.mark in _text(el)):
            parent.remove(el)
    return copy


def _others(node: etree._Element) -> bool:
    words = f"{node.get('class', '')} {node.get('id', '')}".split()
    return any(map(_OTHERS.match, words))


def _holds(outer: etree._Element, inner: etree._Element) -> bool:
    return any(a is outer for a in inner.iterancestors())
