"""The result type, the not-an-article signal and the page base class (text helpers are in
text.py, JSON-LD in jsonld.py, corrections in corrections.py).

A page class wraps one parsed document (the root of a single lxml tree) and answers one
small method per field. Everything here is pure: no network, no files.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterable
from dataclasses import asdict, dataclass
from functools import cached_property
from html import unescape
from typing import Any, ClassVar, NamedTuple
from urllib.parse import urlsplit

from lxml import etree

from newsdiff.pages.corrections import CORRECTION_BOXES, find_corrections, is_correction
from newsdiff.pages.credits import NO_STORY, Story, shown_byline, shown_date
from newsdiff.pages.jsonld import (
    ARTICLE_TYPES,
    LISTING_TYPES,
    ld_names,
    ld_types,
    parse_jsonld,
)
from newsdiff.pages.text import (
    BLOCK_TAGS,
    RUNNING_WORDS,
    clean,
    decode_html,
    html_encoding,
    is_junk,
    iso_date,
    joined,
    leaf_blocks,
    links_only,
    node_text,
    running_words,
    shares_word,
    split_names,
    xpath,
)

__all__ = [  # the names page classes and extract() import from here
    "ARTICLE_TYPES",
    "ArticlePage",
    "Extraction",
    "NotArticle",
    "clean",
    "decode_html",
    "html_encoding",
    "is_correction",
    "is_junk",
    "iso_date",
    "ld_types",
    "leaf_blocks",
    "links_only",
    "node_text",
    "split_names",
    "xpath",
]


@dataclass
class Extraction:
    title: str | None
    byline: list[str]
    published: str | None
    modified: str | None
    section: str | None
    body: list[str]
    corrections: list[str]
    extractor: str
    summary: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


_REASON_MESSAGES = {
    "section-front": "The page is a section front or index page, not an article.",
    "paywall": "The page is a paywall or login gate with too little article text.",
    "interstitial": "The page is an interstitial or redirect stub, not the article itself.",
    "empty": "No extractor found any article text in the page.",
    "not-html": "The input is not an HTML document.",
}


class NotArticle(Exception):
    """Raised when a page is not an article; .reason is a short machine word
    ("section-front", "paywall", "interstitial", "empty", "not-html") and str(exc) a clear
    sentence."""

    def __init__(self, reason: str, message: str | None = None) -> None:
        super().__init__(message or _REASON_MESSAGES.get(reason, f"Not an article ({reason})."))
        self.reason = reason

    def __reduce__(self):  # crosses from extraction worker processes intact
        return type(self), (self.reason, str(self))


# --- the page base class -------------------------------------------------------------------------


class ArticlePage:
    """One parsed page. Subclasses (one per outlet) override the field methods they know better.

    The defaults read only standard metadata (JSON-LD, Open Graph, <meta>, <h1>, <time>) and find no
    body, so an outlet without a page class falls through to the JSON-LD and trafilatura fallbacks.
    """

    name: ClassVar[str] = "generic"
    domains: ClassVar[tuple[str, ...]] = ()
    site_suffixes: ClassVar[tuple[str, ...]] = ()
    title_xpaths: ClassVar[tuple[str, ...]] = ("//article//h1", "//h1")
    published_keys: ClassVar[tuple[str, ...]] = (
        "article:published_time",
        "article:published",
        "datepublished",
        "og:published_time",
    )
    modified_keys: ClassVar[tuple[str, ...]] = (
        "article:modified_time",
        "article:modified",
        "datemodified",
        "og:updated_time",
    )
    # Candidates only: _is_correction_box() checks the class word and the surroundings.
    correction_xpath: ClassVar[str] = CORRECTION_BOXES

    # Outlet rules. The generic page has none: its body comes from the JSON-LD and trafilatura
    # fallbacks in extract().
    body_xpaths: ClassVar[tuple[str, ...]] = ()  # tried in order; the first giving paragraphs wins
    # The start tag of the element that holds the article, its group 1 the tag's name: the rules
    # then read the page's head and that element only, when they find the article there
    # (reading.py; a re-check whose reading is unchanged is not extracted again).
    scope: ClassVar[re.Pattern[bytes] | None] = None
    skip_tags: ClassVar[Collection[str]] = ()
    skip_markers: ClassVar[tuple[str, ...]] = ()  # class or data-testid substrings
    drop_link_only: ClassVar[bool] = False  # a paragraph that is one link is a related-story promo
    byline_xpaths: ClassVar[tuple[str, ...]] = ()  # visible bylines, read before the metadata
    summary_xpaths: ClassVar[tuple[str, ...]] = ()  # a visible dek, read before the metadata
    correction_patterns: ClassVar[tuple[str, ...]] = ()  # the outlet's wording of a correction
    organisations: ClassVar[frozenset[str]] = frozenset()  # author names that are not people

    def __init__(self, root: etree._Element, url: str | None) -> None:
        self.root = root
        self.url = url or ""  # a page read without its address: links resolve against nothing

    # --- shared lookups (computed once per page) ---

    @cached_property
    def meta(self) -> dict[str, str]:
        """<meta> values by lower-cased name/property/itemprop; first non-empty one wins."""
        found: dict[str, str] = {}
        for el in self.root.iter("meta"):
            value = el.get("content") or el.get("value")
            if not value or not value.strip():
                continue
            for attr in ("name", "property", "itemprop", "http-equiv"):
                key = el.get(attr)
                if key:
                    found.setdefault(key.strip().lower(), value.strip())
        return found

    def meta_value(self, *keys: str) -> str | None:
        for key in keys:
            if value := self.meta.get(key):
                return value
        return None

    @cached_property
    def jsonld(self) -> list[dict]:
        scripts = xpath('//script[@type="application/ld+json"]')(self.root)
        return parse_jsonld(s.text or "" for s in scripts)

    @cached_property
    def ld_article(self) -> dict | None:
        """The page's JSON-LD article (NewsArticle, BlogPosting, …): of several, the one that
        names this page (its url, @id or mainEntityOfPage), else one that names no page, else
        the first. Pages list related stories as articles too, sometimes before their own,
        whose headline, date and description are not this article's."""
        articles = [o for o in self.jsonld if ld_types(o) & ARTICLE_TYPES]
        if len(articles) <= 1:
            return articles[0] if articles else None
        own = {key for u in [self.url, *self.own_urls()] if (key := self._page_key(u))}
        named = [(o, {key for u in _ld_urls(o) if (key := self._page_key(u))}) for o in articles]
        this = next((o for o, pages in named if pages & own), None)
        return this or next((o for o, pages in named if not pages), None) or articles[0]

    def own_urls(self) -> list[str]:
        """The addresses the page gives itself: its rel=canonical link and og:url."""
        return [str(u) for u in _OWN_URLS(self.root)]

    def _page_key(self, url: str) -> tuple[str, str] | None:
        """A URL as the page it names, resolved against this one: host without "www." and
        path without a trailing slash (no query, no fragment: "#article" names the page too)."""
        parts = joined(self.url, url)
        if parts is None or not parts.netloc:
            return None
        return (parts.hostname or "").removeprefix("www."), parts.path.rstrip("/")

    def ld_value(self, key: str) -> Any:
        return self.ld_article.get(key) if self.ld_article else None

    def ld_text(self, key: str) -> str | None:
        """The JSON-LD article's property as text: a string, or the first string of a list
        (["Headline"] is common); None for a number, an object or nothing."""
        value = self.ld_value(key)
        if isinstance(value, list):
            value = next((v for v in value if isinstance(v, str)), None)
        return value if isinstance(value, str) else None

    def first_attr(self, expr: str) -> str | None:
        values = xpath(expr)(self.root)
        return str(values[0]) if values else None

    def first_text(self, exprs: Iterable[str], skip: Callable | None = None) -> str | None:
        for expr in exprs:
            for el in xpath(expr)(self.root):
                if text := node_text(el, skip):
                    return text
        return None

    def blocks(
        self,
        containers: Iterable[etree._Element],
        skip_tags: Collection[str] = (),
        skip_markers: Iterable[str] = (),
    ) -> list[str]:
        """Texts of the leaf paragraph-level elements in the containers, junk removed, in order.

        A block is skipped when it or an ancestor has a tag in skip_tags or a class or
        data-testid containing one of skip_markers.
        """
        return [text for _, text in self.block_elements(containers, skip_tags, skip_markers)]

    def block_elements(
        self,
        containers: Iterable[etree._Element],
        skip_tags: Collection[str] = (),
        skip_markers: Iterable[str] = (),
        whole: bool = False,
    ) -> list[tuple[etree._Element, str]]:
        """(element, text) of each block blocks() keeps; whole=True also keeps a container that
        holds no paragraph-level element as one block (e.g. CNN's <div> paragraphs)."""
        markers = tuple(skip_markers)
        seen: set[etree._Element] = set()
        memo: dict[etree._Element, bool] = {}
        found: list[tuple[etree._Element, str]] = []
        for container in containers:
            leaves = list(leaf_blocks(container))
            if not leaves and whole and next(container.iterancestors(*BLOCK_TAGS), None) is None:
                leaves = [container]
            for block in leaves:
                if block in seen or _inside(block, skip_tags, markers, memo):
                    continue
                seen.add(block)
                text = node_text(block)
                if not is_junk(text, block):
                    found.append((block, text))
        return found

    # --- the fields ---

    def title(self) -> str | None:
        """The article's headline: the first heading the page's own metadata confirms (JSON-LD
        headline, og:title, <title>; without a kicker or date the heading sets apart), else a
        heading in the article, else the metadata title an <h2> shows, else the page's only h1
        if it tells the metadata's story, else the metadata headline without the site's name and
        sections, else the <title>. Another unconfirmed page-wide h1 (a modal's, a banner's, the
        site's name) comes last; one that only links home never counts."""
        page_title = self._without_site(self.first_text(["//head/title", "//title"]))
        metadata = [
            clean(unescape(self.ld_text("headline") or "")),
            _untruncated(
                self._without_site(self.meta_value("og:title", "twitter:title")), page_title
            ),
        ]
        twitter = self._without_site(self.meta_value("twitter:title"))  # may differ from og:title
        named = [t for t in (*metadata, page_title, twitter) if t]
        headings = self._headings
        for heading in headings:
            if part := _headline_part(heading.parts, named):
                return part  # "<span>Kicker</span> Headline", a metadata "Kicker - Headline"
            if heading.banner:  # the site header's heading: a headline only if named as it is
                if any(_key(heading.text) == _key(name) for name in named):
                    return heading.text
                continue
            for name in named:
                if _same_headline(heading.text, name):
                    # "Kicker Headline" on the page, "Headline" in the metadata
                    if heading.text.endswith(name) and len(name.split()) >= 3:
                        return name
                    return heading.text
        in_article = [h.text for h in headings if h.placed and not self._heads_another(h, named)]
        page_wide = [h.text for h in headings if not h.banner]
        # the page's one <h1>, on the story the metadata names (which may be an SEO rewrite)
        only = [h for h in page_wide if len(page_wide) == 1 and _on_topic(h, named)]
        fallbacks = [
            *in_article[:1],
            self._shown(named),
            *only,
            *metadata,
            page_title,
            *page_wide[:1],
        ]
        return next((t for t in fallbacks if t), None)

    def _heads_another(self, heading: _Heading, named: list[str]) -> bool:
        """Whether a heading heads another story than the one the metadata names: in an
        <article> after running text in none (the next story of an endless scroll, below a
        story in no <article>), and sharing no word with the metadata's titles, site's name and
        all (a generic og:title, "News from The Associated Press", names no story)."""
        if not named or heading.article is None:
            return False
        titles = [*named, self.first_text(["//head/title"]), self.meta_value("og:title")]
        if any(shares_word(heading.text, t) for t in titles if t):
            return False
        return running_words(self.root, None, heading.article) >= RUNNING_WORDS

    @cached_property
    def _heading_keys(self) -> set[str]:
        return {_key(heading.text) for heading in self._headings}

    @cached_property
    def _headings(self) -> list[_Heading]:
        """The elements title_xpaths select, in order, outside navigation, footers, sidebars and
        modals; placed when an outlet rule or the <article> element put it there, banner when it
        is in a page-wide <header> (a headline only if the metadata confirms it)."""
        found: dict[str, _Heading] = {}
        for expr in self.title_xpaths:
            for el in xpath(expr)(self.root):
                if _in_chrome(el) or self._links_home(el):
                    continue
                text = node_text(el, skip=_is_hidden).replace("\xad", "")  # soft hyphens
                if text and text not in found:
                    parts = [p for p in map(clean, _top_level_texts(el)) if p]
                    article = next(el.iterancestors("article"), None)
                    found[text] = _Heading(text, expr != "//h1", article, _IN_BANNER(el), parts)
        return list(found.values())[:10]

    def _shown(self, named: list[str]) -> str | None:
        """The metadata title, or its longest segment, an <h2> shows (the page's visible headline
        when no <h1> names one): it tells apart a JSON-LD headline, an og:title and a <title>
        that differ, and the headline in "Blog's name | Headline"."""
        # a title's longest segment, not a shorter one: that may be a site's name it kept
        shown = {
            _key(max(_TITLE_SEPARATOR.split(n)[::2], key=lambda s: len(s.split()))) for n in named
        }
        shown |= {_key(n) for n in named}
        for el in _H2(self.root)[:20]:
            if _in_chrome(el) or _IN_BANNER(el):
                continue
            parts = [p for p in map(clean, _top_level_texts(el)) if p]
            if part := _headline_part(parts, named):
                return part
            text = node_text(el, skip=_is_hidden)
            if len(_key(text).split()) >= 2 and _key(text) in shown:
                return text
        return None

    def _links_home(self, heading: etree._Element) -> bool:
        """A heading that is nothing but a link to the site's front page: the site's name."""
        links = list(heading.iter("a"))
        if len(links) != 1 or clean(node_text(links[0])) != node_text(heading):
            return False
        return self._is_home(links[0].get("href"))

    def _is_home(self, href: str | None) -> bool:
        """Whether a link goes to this site's front page."""
        link = joined(self.url, href or "")
        # "/?lang=en" is the front page in a language, "/?p=3289" a post
        if link is None or link.netloc != urlsplit(self.url).netloc:
            return False
        if link.fragment or _DIGIT.search(link.query):
            return False
        return link.path.strip("/") in ("", "index.html", "index.php")

    @cached_property
    def _site_names(self) -> set[str]:
        """Keys of the names the site gives itself: og:site_name, application-name, the JSON-LD
        publisher, WebSite and Organization names."""
        names = [self.meta_value("og:site_name"), self.meta_value("application-name")]
        for obj in self.jsonld:
            if "WebSite" in ld_types(obj) or "Organization" in ld_types(obj):
                names.append(obj.get("name"))
        publisher = self.ld_value("publisher")
        if isinstance(publisher, dict):
            names.append(publisher.get("name"))
        return {_key(n) for n in names if isinstance(n, str) and _key(n)}

    @cached_property
    def _host_labels(self) -> set[str]:
        """The page's host name as a site would spell its name: "anarc.at" -> "anarcat",
        "anarc"; "foren.my-oos.de" -> "myoos", "forenmyoosde", ... (labels of 4 letters or more)."""
        host = urlsplit(self.url).hostname or ""
        if host == "web.archive.org":  # an archived page: the site is in the path
            host = urlsplit(urlsplit(self.url).path.split("/", 3)[-1]).hostname or host
        labels = host.removeprefix("www.").replace("-", "").split(".")
        found = {"".join(labels), "".join(labels[:-1]), *labels[:-1]}
        return {label for label in found if len(label) >= 4}

    def _is_site_segment(self, segment: str) -> bool:
        """A segment of a title that names the site, not the story (or is only a date)."""
        key = _key(segment)
        if not key or key in self._site_names or _ARCHIVE_SEGMENT.fullmatch(key):
            return True
        if _DATE_SEGMENT.fullmatch(segment):
            return True
        squeezed, first = key.replace(" ", ""), key.split()[0]
        if any(label in (squeezed, first) for label in self._host_labels):
            return True
        return len(key) >= 4 and any(key in home for home in self._home_names)

    def _names_host(self, segment: str, segments: list[str]) -> bool:
        """A segment of a few words, not the title's longest, with the host's name among them:
        "EFC Bayrische Bembel Regensburg" on bayrische-bembel.de."""
        words = _key(segment).split()
        if len(words) > 5 or len(words) >= max(len(_key(s).split()) for s in segments):
            return False
        runs = {
            "".join(words[i:j]) for i in range(len(words)) for j in range(i + 1, len(words) + 1)
        }
        return bool(runs & self._host_labels)

    def _is_label(self, segment: str, segments: list[str]) -> bool:
        """A segment of a title that is a section's name ("Headline | iPhone | Forum"): a few
        words that a link or the breadcrumb trail on the page gives, shorter than the headline."""
        words = len(_key(segment).split())
        longest = max(len(_key(s).split()) for s in segments)
        return 0 < words <= 3 and words < longest and _key(segment) in self._labels

    @cached_property
    def _labels(self) -> set[str]:
        """Keys of the short texts of the site's links (outside the article: not its tags) and of
        the breadcrumb trail's steps (not its last one: the page itself)."""
        here = urlsplit(self.url)._replace(fragment="")
        name = here.path.rstrip("/").rpartition("/")[2]  # in any link to the page itself
        found = set()
        for a in self.root.iter("a"):
            text = _key("".join(a.itertext()))
            if not text or text.count(" ") >= 3:
                continue
            if next(a.iterancestors("article", "main"), None) is not None:
                continue
            href = (a.get("href") or "").partition("#")[0]
            elsewhere = href and name not in href  # without the page's name: no need to resolve
            link = None if elsewhere else joined(self.url, href)
            if link is None or link._replace(fragment="") != here:
                found.add(text)
        for trail in _BREADCRUMB(self.root):
            steps = [
                _key("".join(el.itertext())) for el in trail.iter(etree.Element) if len(el) == 0
            ]
            found.update(step for step in [s for s in steps if s][:-1])
        return found

    @cached_property
    def _home_names(self) -> list[str]:
        """Keys of what the links to the front page say (text, title, logo's alt text)."""
        names = []
        for a in self.root.iter("a"):
            href = a.get("href")
            if href is None or not _HOME_HREF.match(href) or not self._is_home(href):
                continue  # the pattern first: a page may hold thousands of links
            if next(a.iterancestors("article", "main"), None) is None:
                alts = " ".join(img.get("alt") or "" for img in a.iter("img"))
                names.append(_key(f"{node_text(a)} {a.get('title') or ''} {alts}"))
        return names

    def _without_site(self, title: str | None) -> str | None:
        """A metadata title without the outlet's suffix, the site's name or a date at either end
        ("Site » Blog Archive » Headline", "Headline - example.com", "01.02.2022 | Headline")."""
        title = clean(title)
        for suffix in self.site_suffixes:
            if title.endswith(suffix):
                return title[: -len(suffix)].rstrip()
        pieces = _TITLE_SEPARATOR.split(title)  # segment, separator, segment, ...
        segments = pieces[::2]
        if len(segments) > 1:
            whole = (0, len(segments))
            span = _trim(segments, whole, lambda segment, _: self._is_site_segment(segment))
            span = _trim(segments, span, self._names_host)  # "Club of Site Town - Headline"
            # a title a heading shows whole is the headline, its segments not sections' names
            if _key("".join(pieces[2 * span[0] : 2 * span[1] - 1])) not in self._heading_keys:
                span = _trim(segments, span, self._is_label)
            if span != whole:
                return "".join(pieces[2 * span[0] : 2 * span[1] - 1])
        if len(segments) > 1 and " | " in title:  # "Headline | Site" is the common shape
            head, _, tail = title.rpartition(" | ")
            if len(tail.split()) <= 5:
                return head
        return title or None

    def summary(self) -> str | None:
        """The article's description as its publisher states it: the text of summary_xpaths
        (an outlet's dek), else the JSON-LD article's, Open Graph's, Twitter's or the <meta>
        description: the dek under the headline on most sites, and the text of every search
        result and shared link. Markup in it is dropped."""
        if shown := self.first_text(self.summary_xpaths):
            return shown
        described = self.ld_text("description")
        if not (described and described.strip()):
            described = self.meta_value("og:description", "twitter:description", "description")
        if not described:
            return None
        return clean(_TAG_RE.sub(" ", unescape(described))) or None

    def byline(self) -> list[str]:
        names = (
            self.visible_byline()
            or ld_names(self.ld_value("author"))
            or split_names(self.meta_value("author") or "")
        )
        return [n for n in names if not _NOT_A_NAME.search(n) and n not in self.organisations]

    def byline_or_shown(self, story: Story = NO_STORY) -> list[str]:
        """byline(), unless it names no one or only the site itself: then the byline the
        page's markup shows outside other stories, where it names someone else
        (credits.shown_byline)."""
        names = self.byline()
        if all(map(self._is_site_segment, names)):
            shown = shown_byline(self.root, self._is_site_segment, story)
            if not names or not all(map(self._is_site_segment, shown)):
                names = shown
        return names

    def visible_byline(self) -> list[str]:
        """Names in the elements byline_xpaths select, in order, without repeats."""
        elements = (el for expr in self.byline_xpaths for el in xpath(expr)(self.root))
        return list(dict.fromkeys(n for el in elements for n in split_names(node_text(el))))

    def published(self) -> str | None:
        return iso_date(self.ld_text("datePublished")) or iso_date(
            self.meta_value(*self.published_keys)
        )

    def published_or_shown(self, story: Story = NO_STORY) -> str | None:
        """published(), else the date the page shows elsewhere than in its comments and other
        stories (credits.shown_date)."""
        return self.published() or shown_date(self.root, self.url, story)

    def modified(self) -> str | None:
        return iso_date(self.ld_text("dateModified")) or iso_date(
            self.meta_value(*self.modified_keys)
        )

    def section(self) -> str | None:
        section = self.meta_value("article:section") or self.ld_value("articleSection")
        if isinstance(section, list):
            section = next((s for s in section if isinstance(s, str)), None)
        if not isinstance(section, str):
            return None
        return clean(section) or None

    def body(self) -> list[str]:
        """The article text by the outlet's rules: the first of body_xpaths whose matches hold
        paragraphs (an element without paragraph-level children counts as one)."""
        return list(self._rule_body)

    @cached_property
    def _rule_body(self) -> list[str]:
        for expr in self.body_xpaths:
            found = self.block_elements(
                xpath(expr)(self.root), self.skip_tags, self.skip_markers, whole=True
            )
            keep = [self.keep_paragraph(text, el) for el, text in found]
            if self.drop_link_only:
                # "Read more:" or "More features:" leading into a list of links goes with it
                for i in range(len(found) - 1):
                    if found[i][1].endswith(":") and links_only(*found[i + 1]):
                        keep[i] = False
            if paragraphs := [text for (_, text), k in zip(found, keep, strict=True) if k]:
                return paragraphs
        return []

    def keep_paragraph(self, text: str, el: etree._Element) -> bool:
        """Whether a block found by the body rules is article text (outlets add their own)."""
        if not _WORD_RE.search(text):  # separators such as "---" or "* * *"
            return False
        if _NEWSLETTER_RE.search(text) and next(el.iter("a"), None) is not None:
            return False
        # A link, or a link under a capitalised label ("VIDEO: The 20-second hand wash").
        return not (self.drop_link_only and links_only(el, _PROMO_LABEL.sub("", text)))

    def corrections(self) -> list[str]:
        """Correction and editor's-note paragraphs from marked-up boxes and labelled paragraphs."""
        return find_corrections(
            self.root, xpath(self.correction_xpath), self.correction_patterns, self.body
        )

    def listing(self) -> bool:
        """The page declares itself a section front or index page; extract() believes it only
        when no extractor finds an article's worth of text."""
        if self.ld_article is not None or self.declares_article():
            return False
        return any(ld_types(o) & LISTING_TYPES for o in self.jsonld)

    def declares_article(self) -> bool:
        """The page's own metadata calls it an article: Open Graph (og:type, an article:*
        time, author or section), Parse.ly's type, or one schema.org article item in microdata
        (or its articleBody). A CMS's listing type elsewhere on the page is then the template's."""
        og_type = (self.meta_value("og:type") or "").strip().lower()
        if og_type == "article" or self.meta_value(*_ARTICLE_METAS) is not None:
            return True
        if (self.meta_value("parsely-type") or "").lower() == "post":
            return True
        items = [
            el
            for el in _ITEMTYPES(self.root)
            if any(t.rsplit("/", 1)[-1] in ARTICLE_TYPES for t in el.get("itemtype").split())
        ]
        # One item is the page's; several are a listing's teasers (a body may still be marked).
        return len(items) == 1 or bool(_ARTICLE_BODY_ITEMPROP(self.root))


def _inside(
    el: etree._Element,
    tags: Collection[str],
    markers: tuple[str, ...],
    memo: dict[etree._Element, bool],
) -> bool:
    """Whether el or an ancestor is skipped; memo shares the answer among siblings' ancestors."""
    path: list[etree._Element] = []
    node, result = el, False
    while node is not None:
        if node in memo:
            result = memo[node]
            break
        marker = f"{node.get('class', '')} {node.get('data-testid', '')}"
        if node.tag in tags or any(m in marker for m in markers):
            result = True
            break
        path.append(node)
        node = node.getparent()
    for visited in path:
        memo[visited] = result
    return result


# Open Graph article properties (not article:publisher: sites put it on every page)
_ARTICLE_METAS = (
    "article:published_time",
    "article:modified_time",
    "article:author",
    "article:section",
)
_ITEMTYPES = etree.XPath("//*[@itemtype]")
_ARTICLE_BODY_ITEMPROP = etree.XPath("//*[@itemprop='articleBody'][1]")
_WORD_RE = re.compile(r"\w")
_TAG_RE = re.compile(r"<[^<>]*>")
_PROMO_LABEL = re.compile(r"^[A-Z][A-Z0-9 &'’-]{1,30}:\s+")
_NEWSLETTER_RE = re.compile(r"newsletter.*\bsign up\b|\bsign up\b.*newsletter", re.I)
_NOT_A_NAME = re.compile(r"://|^www\.|\.com\b|^@")  # profile URLs and handles given as authors


# Between a metadata title's segments (headline, section, site), kept by split(): a dash, bar,
# colon, dot, guillemet, tilde or "::" with spaces around it ("Headline › Site"); a bar with or
# without; in Chinese and Japanese a bare "-" or "_" between characters: "标题-新华网", and a
# full-width bar: "見出し｜サイト名". A segment goes only when it names the site, a date or a
# section (see _without_site), so a headline's own dash stays.
_TITLE_SEPARATOR = re.compile(
    r"(\s+(?:[|\-–—:·•»«›‹~∙◦⋅‧]|::)\s+|\s*[|｜]\s*"
    r"|(?<=[\u3000-\u30ff\u4e00-\u9fff\uff00-\uffef])[-_](?=[\u3000-\u30ff\u4e00-\u9fff\uff00-\uffef]))"
)
_ARCHIVE_SEGMENT = re.compile(r"blog ?archiv(e)?")  # WordPress: "Site » Blog Archive » Headline"
_DATE_SEGMENT = re.compile(r"\d{1,4}[./-]\d{1,2}[./-]\d{1,4}|\d{1,2}\. \w+ \d{4}")


_DIGIT = re.compile(r"\d")
_H2 = etree.XPath("//h2")
_BREADCRUMB = etree.XPath(
    "//*[contains(translate(@class, 'BREADCRUM', 'breadcrum'), 'breadcrumb')"
    " or contains(translate(@id, 'BREADCRUM', 'breadcrum'), 'breadcrumb')]"
    "[not(ancestor::*[contains(translate(@class, 'BREADCRUM', 'breadcrum'), 'breadcrumb')])]"
)
# An address that may be a front page: no path beyond "/" or an index page.
_HOME_HREF = re.compile(
    r"\s*(https?:)?(//[^/?#]*)?\.?/?(index\.(html?|php))?(\?[^\d#]*)?\s*(#.*)?$", re.I
)


class _Heading(NamedTuple):
    text: str
    placed: bool  # put there by an outlet rule or the <article> element
    article: etree._Element | None  # the <article> it is in
    banner: bool  # in the page-wide <header>
    parts: list[str]  # the texts of its top-level pieces ("<span>Kicker</span> Headline")


def _key(text: str | None) -> str:
    """A title compared without case, punctuation or soft hyphens."""
    return " ".join(_HEADLINE_WORD.findall((text or "").replace("\xad", "").casefold()))


def _ld_urls(obj: dict) -> list[str]:
    """The addresses a JSON-LD object gives for itself: url, @id, mainEntityOfPage (a string,
    an object with an @id or url, or a list of those)."""
    found: list[str] = []
    for value in (obj.get("url"), obj.get("@id"), obj.get("mainEntityOfPage")):
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, dict):
                item = item.get("@id") or item.get("url")
            if isinstance(item, str):
                found.append(item)
    return found


_OWN_URLS = etree.XPath('//link[@rel="canonical"]/@href | //meta[@property="og:url"]/@content')


def _top_level_texts(el: etree._Element) -> list[str]:
    """el's own text and the text of each child element with its tail, in order."""
    texts = [el.text or ""]
    for child in el:
        if isinstance(child.tag, str) and not _is_hidden(child):
            texts.append(node_text(child))
        texts.append(child.tail or "")
    return [text.replace("\xad", "") for text in texts]


def _headline_part(parts: list[str], names: list[str]) -> str | None:
    """The piece of a heading that a metadata title gives as one of its segments: the headline
    beside a kicker or a date."""
    if len(parts) < 2:
        return None
    segments = {_key(s) for name in names for s in _TITLE_SEPARATOR.split(name)[::2]}
    segments |= {_key(name) for name in names}
    found = [p for p in parts if _key(p) in segments and len(_key(p).split()) >= 2]
    # a kicker comes first: the last piece named, if it is not a mere label
    return found[-1] if found and 3 * len(found[-1]) >= len(" ".join(parts)) else None


_CHROME = etree.XPath(
    "boolean(ancestor-or-self::*[self::nav or self::footer or self::aside"
    " or self::dialog or @role='dialog' or @aria-modal='true'"
    " or contains(@class, 'modal') or contains(@id, 'modal')][not(self::body or self::html)]"
    "[not(ancestor-or-self::article)])"
)
# The site's header: a <header> not inside the main content or an article (which have their own).
_IN_BANNER = etree.XPath(
    "boolean(ancestor-or-self::*[self::header or @role='banner']"
    "[not(ancestor-or-self::article or ancestor-or-self::main or ancestor::section)])"
)


def _trim(
    segments: list[str], span: tuple[int, int], test: Callable[[str, list[str]], bool]
) -> tuple[int, int]:
    """span (first, last) of segments without those at its ends that test(segment, segments in
    span) finds are not the headline, from the end first; one segment always stays."""
    first, last = span
    while last - first > 1 and test(segments[last - 1], segments[first:last]):
        last -= 1
    while last - first > 1 and test(segments[first], segments[first:last]):
        first += 1
    return first, last


def _untruncated(title: str | None, page_title: str | None) -> str | None:
    """A metadata title cut at a quotation mark its attribute did not escape
    (content="Biden called "unfit"" reads "Biden called"): the <title> that goes on."""
    cut = title and page_title and page_title.startswith(title)
    return page_title if cut and page_title[len(title) :].lstrip()[:1] in "\"'" else title


def _in_chrome(el: etree._Element) -> bool:
    """In the site's navigation, footer, a sidebar or a modal (not in the article)."""
    return bool(_CHROME(el))


def _headline_words(text: str) -> set[str]:
    return set(_HEADLINE_WORD.findall(text.casefold()))


_HEADLINE_WORD = re.compile(r"\w+")


def _on_topic(heading: str, names: list[str]) -> bool:
    """Whether a heading of four words or more shares two words (of four letters or more) with
    one of the metadata titles: the same story told another way, not a site's or a box's name."""
    words = {w for w in _headline_words(heading) if len(w) >= 4}
    return len(heading.split()) >= 4 and any(
        len(words & _headline_words(name)) >= 2 for name in names
    )


def _same_headline(heading: str, name: str) -> bool:
    """Whether a heading and a metadata title name the same story: most words shared, and half
    the title's words or the title's first segment (not a site's name, one segment of a title)."""
    a, b = _headline_words(heading), _headline_words(name)
    if not a or not b:
        return False
    shared = len(a & b)
    if shared < 0.6 * min(len(a), len(b)) or shared < min(len(a), len(b), 2):
        return False
    first = _TITLE_SEPARATOR.split(name)[0]  # "Headline - a long subtitle", not a one-word label
    return 2 * shared >= len(b) or (len(a) >= 2 and _key(heading) == _key(first))


def _is_hidden(el: etree._Element) -> bool:
    return el.get("aria-hidden") == "true" or "ghost" in (el.get("class") or "").split()
