"""Outlet-independent pieces: the JSON-LD and trafilatura body fallbacks, and the page classifiers
that tell a gate, a redirect stub or an index page from an article."""

from __future__ import annotations

import copy
import re
from collections import Counter
from collections.abc import Callable
from urllib.parse import SplitResult, urljoin, urlsplit

import trafilatura
from lxml import etree

from newsdiff.pages.base import ArticlePage
from newsdiff.pages.jsonld import ARTICLE_TYPES, ld_types
from newsdiff.pages.text import (
    RUNNING_WORDS,
    SHARED_PARSERS,
    clean,
    is_junk,
    joined,
    node_text,
    plain_text,
    running_words,
    shares_word,
)
from newsdiff.text import UNSPACED, UNSPACED_CHAR, timestamp_line
from newsdiff.text import word_count as words_in

SHORT_BODY_WORDS = 150  # below this, look for a gate or a redirect before trusting the body
STUB_WORDS = 50  # a paywall stub's text: a lead, with no word from the publisher either way
STUB_MAX_SIZE = 50_000  # redirect stubs are small; real pages carry scripts that set location
MIN_FALLBACK_WORDS = 10  # a fallback extraction shorter than this is noise, not an article
MIN_TEASERS = 10  # a section front's generic "body" is a run of at least this many teasers
MIN_POSTS = 2  # ... or of this many teasers that are each an <article> ("related posts")
GENERIC_SURE_WORDS = 250  # a precision-first extraction this long is not a cut-down article
SENTENCE_WORDS = 12  # a paragraph this long says something: not a label, a name or a menu item
STANDFIRST_WORDS = 12  # a description shorter than this is a label, not the article's summary
CARD_MAX_WORDS = 100  # a teaser card (headline and blurb) is shorter; a post with its title is not
OTHER_HEADLINE_WORDS = 4  # an <h1> this long is a headline, not a site's, section's or box's name

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
# A script that sends the reader elsewhere: an assignment to location, not a comparison
# (location.href == …), nor a frame buster that puts the page itself on top (top.location =
# self.location).
_SELF = r"(?!\s*(?:self|window|document|top)?\.?location\b)"
_JS_REDIRECT_RE = re.compile(
    rf"(?:window|document|top|self)\.location(?:\.href)?\s*=(?!=){_SELF}"
    rf"|location\.(?:replace|assign)\s*\({_SELF}",
    re.I,
)
_REFRESH_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)?\s*[;,]?\s*url\s*=", re.I)
_TOKEN = re.compile(rf"{UNSPACED_CHAR}|[^\W{UNSPACED}]+")  # words; a character of Chinese, Thai...
_VISIBLE_TEXT = etree.XPath(
    "//body//text()[not(ancestor::script or ancestor::style or ancestor::noscript)]"
)
# Where a gate's words mean a gate: not the site's navigation, header or footer ("Already a
# subscriber? Log in" sits there on every page of many sites), nor markup hidden until needed
# (a metered paywall's box, sent with every article).
_GATE_TEXT = etree.XPath(
    "//body//text()[not(ancestor::script or ancestor::style or ancestor::noscript"
    " or ancestor::nav or ancestor::header or ancestor::footer"
    " or ancestor::*[@hidden or @aria-hidden='true'])]"
)


def word_count(paragraphs: list[str]) -> int:
    """Words, also in scripts without spaces between them (newsdiff.text.word_count)."""
    return sum(map(words_in, paragraphs))


def short(paragraphs: list[str], words: int = 0) -> bool:
    """Fewer than `words` (SHORT_BODY_WORDS) words: counts no further than it must."""
    words = words or SHORT_BODY_WORDS
    for p in paragraphs:
        words -= words_in(p)
        if words <= 0:
            return False
    return True


def overlap(a: list[str], b: list[str], n: int = 4) -> float:
    """How far two texts agree: F1 of their shared word n-grams (as multisets)."""
    first, second = _shingles(a, n), _shingles(b, n)
    shared = sum((first & second).values())
    if not shared:
        return 0.0
    precision, recall = shared / sum(second.values()), shared / sum(first.values())
    return 2 * precision * recall / (precision + recall)


def _shingles(paragraphs: list[str], n: int) -> Counter:
    tokens = _TOKEN.findall(" ".join(paragraphs).lower())
    return Counter(tuple(tokens[i : i + n]) for i in range(max(len(tokens) - n + 1, 1)))


def split_paragraphs(text: str) -> list[str]:
    """A text's lines without junk and boilerplate; a sign-up prompt takes the title of its box
    with it (a short line that is no sentence, right before it)."""
    kept: list[str] = []
    for line in text.splitlines():
        if is_junk(p := clean(line)):
            continue
        if not boilerplate(p):
            kept.append(p)
        elif kept and _prompt_title(kept[-1]) and _prompt(p):
            kept.pop()
    return kept


# A generic extractor keeps what sits among the paragraphs; these short lines are not the story:
# a photo credit or a caption ending in one, a "read more" lead-in or a label left without its
# list, an advertising label, a newsletter or sign-up prompt.
_CREDIT_START = re.compile(
    r"^(©|\(c\)\s|copyright\b|(fotos?|photos?|bild|bilder|titelbild|credits?|crédit|crédito"
    r"|image|imagen)\s?:)",
    re.I,
)
_CREDIT_END = re.compile(
    r"(©[^©]{1,60}|\((fotos?|photo|bild|credit|crédit|crédito|image|imagen)\s?:[^()]{1,80}\)\.?)$",
    re.I,
)
_READ_MORE = re.compile(
    r"^(weitere (informationen|infos|themen|artikel|beiträge|nachrichten)|mehr (zum thema|themen"
    r"|dazu|zu diesem thema)|lesen sie (auch|mehr|hier)|auch interessant|das könnte sie auch"
    r"|zum weiterlesen|schon gelesen|top-themen|related( articles| stories| posts)?\b"
    r"|read (more|also)\b|more (on this|from|stories)\b|see also|further reading"
    r"|you (may|might) also like|(à )?lire aussi|le puede interesar|lee también|más sobre"
    r"|leia também|leggi anche)",
    re.I,
)
_LABEL = re.compile(r"(quellen(angaben)?|sources?|kontakt|contact|zusatzinformationen)\s*:?", re.I)
_AD_LABEL = re.compile(
    r"^(anzeige|werbung|advertisement|sponsored|publicidad|publicité)\s*[,:|*–-]", re.I
)
# Where an ad slot interrupts the story: a lone advertising label, or the line that tells the
# reader the text goes on after it ("Story continues below advertisement", "Weiterlesen nach der
# Anzeige", "La suite après cette publicité").
_AD = r"(the |this |an |la |cette |l'|l’|el |del |da |a |do |o |der |die )?"  # "the ad"
_AD_WORD = (
    r"(anzeige|werbung|advertisement|advertising|advert|ads?|sponsored( message)?|publicidad"
    r"|anuncio|publicité|pub|annonce|pubblicità|annuncio|publicidade|anúncio|advertentie|reklame)"
)
_AD_BREAK = re.compile(
    rf"{_AD_WORD}"
    rf"|(the )?(story|article|(article )?content|text|post|report|news) continues"
    rf" (below|after)( {_AD}{_AD_WORD})?"
    rf"|{_AD_WORD}\W+(scroll|continue)\b.*|scroll (down )?to continue( reading)?"
    rf"|continue reading (below|after) {_AD}{_AD_WORD}"
    rf"|(weiterlesen|weiter|lesen sie|fortsetzung) (nach|unter) der (anzeige|werbung)( weiter)?"
    rf"|(der )?(artikel|text|beitrag) (wird |geht )?(nach|unter) der (anzeige|werbung)\b.*"
    rf"|(la )?suite (de l'article |de l’article |du texte )?(ci-dessous|après {_AD}{_AD_WORD})"
    rf"|(l'|l’)?article continue (après|sous) {_AD}{_AD_WORD}"
    rf"|(el |la )?(artículo|texto|contenido|nota|noticia) (continúa|sigue) (después|debajo|tras)"
    rf"( de)? {_AD}{_AD_WORD}"
    rf"|(l'|l’)?articolo continua (dopo|sotto) {_AD}{_AD_WORD}"
    rf"|continua (depois|após|apos) {_AD}{_AD_WORD}|lees verder (na|onder) de advertentie",
    re.I,
)
AD_BREAK_WORDS = 10  # a line that long or shorter; a sentence about an advertisement is longer
_SIGN_UP = re.compile(
    r"sign(ing)? ?up|anmelden|\babonnier|\bsubscri|inscri|suscri|registrier", re.I
)
# A box's title: not a sentence nor a link's address (and at most PROMPT_TITLE_WORDS words)
PROMPT_TITLE_WORDS = 8
_PROMPT_TITLE = re.compile(r"(?!.*(://|www\.)).*[^.!?:;,…)\"'”»。！？]")
_SIGN_UP_FOR = re.compile(r"newsletter|e-?mail|inbox|\bfree\b|kostenlos|gratis|sign up here", re.I)


def _prompt_title(line: str) -> bool:
    return words_in(line) <= PROMPT_TITLE_WORDS and bool(_PROMPT_TITLE.fullmatch(line))


def boilerplate(paragraph: str) -> bool:
    """A photo credit, a "read more" lead-in (not a sentence), a lone label, an advertising label
    or an ad slot's "continues below" line, or a newsletter or e-mail sign-up prompt."""
    words = words_in(paragraph)
    if words > 30:
        return False
    if _CREDIT_START.match(paragraph) or _CREDIT_END.search(paragraph):
        return True
    if words <= 12 and _READ_MORE.match(paragraph) and not paragraph.endswith((".", "!")):
        return True
    if _LABEL.fullmatch(paragraph) or (words <= 15 and _AD_LABEL.match(paragraph)):
        return True
    if words <= AD_BREAK_WORDS and _AD_BREAK.fullmatch(paragraph.strip(" .:…-–—|*()[]")):
        return True
    return _prompt(paragraph)


def _prompt(paragraph: str) -> bool:
    """A newsletter or e-mail sign-up prompt (a paywall's stays: it tells a stub from a story)."""
    return bool(_SIGN_UP.search(paragraph) and _SIGN_UP_FOR.search(paragraph))


GATE_PROMPT_WORDS = 30  # a paywall's or meter's prompt line is short
# What only a prompt says: a story quoting "for subscribers only" is left alone.
_GATE_PROMPT = re.compile(
    r"subscribe to (continue|keep) reading|(log|sign) ?in to (continue|keep) reading"
    r"|already a subscriber\?|you(?:’|')?ve reached your (?:free article )?limit"
    r"|you have reached your (?:free article )?limit",
    re.I,
)


def without_gate_prompts(body: list[str]) -> list[str]:
    """A generic body without the lines of a paywall or meter prompt ("Subscribe to continue
    reading", "Already a subscriber? Log in", "You've reached your limit"). The stub decision
    reads them first (stub_reason); beside an article they are the site's chrome, and a meter's
    wording changes from fetch to fetch."""
    kept = [
        p
        for p in body
        if not (word_count([p]) <= GATE_PROMPT_WORDS and _GATE_PROMPT.search(p))
        and not timestamp_line(p)
    ]
    return kept or body


def jsonld_body(page: ArticlePage) -> list[str]:
    """Paragraphs of the JSON-LD article's articleBody (one per line; a single run stays one;
    one holding HTML read as HTML)."""
    for obj in page.jsonld:
        body = obj.get("articleBody")
        if isinstance(body, str) and ld_types(obj) & ARTICLE_TYPES:
            return split_paragraphs(plain_text(body))
    return []


def trafilatura_body(html: str, url: str | None, *, precise: bool = True) -> list[str]:
    """trafilatura's main-text extraction of an already fetched page (precision-first unless
    precise=False). Tables are kept (results, figures), unless the page is laid out in one: a
    cell holding a whole story's worth of words, or running text in tables of one column only,
    is layout, and would flatten its paragraphs into one row."""
    found = _trafilatura(html, url, precise, tables=True)
    rows = [p for p in found if p.startswith("| ")]  # as trafilatura writes them: "| a | b |"
    one_cell = [row for row in rows if " | " not in row.strip("| ")]
    if any(word_count([row]) >= SHORT_BODY_WORDS for row in rows) or (
        rows == one_cell and any(word_count([row]) >= RUNNING_WORDS for row in rows)
    ):
        return _trafilatura(html, url, precise, tables=False)
    return found


def _trafilatura(html: str, url: str | None, precise: bool, tables: bool) -> list[str]:
    with SHARED_PARSERS:
        doc = trafilatura.bare_extraction(
            html,
            url=url,
            favor_precision=precise,
            include_comments=False,
            include_tables=tables,
            with_metadata=False,
        )
    text = getattr(doc, "text", None) if doc is not None else None
    return split_paragraphs(text or "")


def generic_body(html: str, url: str | None) -> list[str]:
    """The generic extractor as an article needs it: trafilatura's precision-first text, or its
    default one when that finds at least twice as much of a short article (precision mode
    sometimes cuts a short page to its lead, or to nothing) and holds the running text the
    precise one found (else the default mode took another part of the page)."""
    precise = trafilatura_body(html, url)
    words = word_count(precise)
    if words >= GENERIC_SURE_WORDS:
        return precise
    full = trafilatura_body(html, url, precise=False)
    if word_count(full) < 2 * words:
        return precise
    return precise if words >= RUNNING_WORDS and _held(precise, full) < 0.5 else full


def _held(part: list[str], whole: list[str], n: int = 4) -> float:
    """The share of part's word n-grams that whole holds too."""
    first = _shingles(part, n)
    return sum((first & _shingles(whole, n)).values()) / max(sum(first.values()), 1)


def choose_body(ld_body: list[str], generic: list[str]) -> tuple[list[str], str]:
    """Between the page's JSON-LD articleBody and the generic extractor's text, by evidence: the
    publisher's own paragraphs unless they are a summary, a truncation or one unbroken run (bad
    for paragraph diffs) and the generic text holds as much."""
    ld_words, generic_words = word_count(ld_body), word_count(generic)
    if len(ld_body) > 1 and ld_words >= 0.8 * generic_words:
        return ld_body, "jsonld"
    if generic_words >= MIN_FALLBACK_WORDS and generic_words >= 0.8 * ld_words:
        return generic, "trafilatura"
    return ld_body, "jsonld"


def visible_text(page: ArticlePage) -> str:
    return clean(" ".join(_VISIBLE_TEXT(page.root)))


def refreshes_away(page: ArticlePage) -> bool:
    """A meta refresh that sends the reader to another URL within seconds: a redirect stub,
    however much text it carries (a refresh to the page itself reloads a live page)."""
    refresh = page.meta.get("refresh", "")
    match = _REFRESH_RE.match(refresh)
    if not match or float(match.group(1) or 0) > 10:
        return False
    target = joined(page.url, refresh[match.end() :].strip("'\" \t\n"))
    if target is None:  # an address no browser could follow: it goes nowhere
        return False
    own = [joined(page.url, u) for u in [page.url, *page.own_urls()]]
    return _same_page(target) not in {_same_page(parts) for parts in own if parts is not None}


def _same_page(parts: SplitResult) -> tuple[str, str, str]:
    """A URL as the page it names: host without "www.", path without a trailing slash, query."""
    host = (parts.hostname or "").removeprefix("www.")
    return host, parts.path.rstrip("/"), parts.query


def stub_reason(page: ArticlePage, size: int, words: int) -> str | None:
    """'interstitial' or 'paywall' for a page whose article text (of `words` words) is missing or
    short, else None. Gate words beside the text make a paywall if the publisher says the
    article is paywalled, or if it says nothing and the text is a stub's (STUB_WORDS): a metered
    site's prompt sits beside short articles too, and paywalled sites mark their articles."""
    if refreshes_away(page):
        return "interstitial"
    gate = clean(" ".join(_GATE_TEXT(page.root)))
    if _BOTWALL_RE.search(gate):
        return "interstitial"
    if _PAYWALL_RE.search(gate):
        access = declared_access(page)
        if access is False or (access is None and words < STUB_WORDS):
            return "paywall"
    text = visible_text(page)
    if size < STUB_MAX_SIZE and short([text]):
        scripts = " ".join(s.text or "" for s in page.root.iter("script"))
        if _JS_REDIRECT_RE.search(scripts):
            return "interstitial"
    return None


def declared_access(page: ArticlePage) -> bool | None:
    """What the publisher says of the article: True free to read, False behind a paywall
    (schema.org isAccessibleForFree, Open Graph's article:content_tier), None nothing."""
    tier = (page.meta_value("article:content_tier") or "").lower()
    if tier in ("free", "locked"):
        return tier == "free"
    for obj in page.jsonld:
        value = str(obj.get("isAccessibleForFree", "")).rsplit("/", 1)[-1].lower()
        if value in ("true", "false"):
            return value == "true"
    return None


def looks_like_listing(page: ArticlePage, body: list[str]) -> bool:
    """A section front by its shape, when nothing says what the page is: many linked teaser
    headlines, hardly any paragraph of running text on the page, and a body found there that is
    a run of short teasers. (og:type "website", a missing article type, a sidebar of headlines
    or a short body alone are common on real articles.)"""
    if page.ld_article is not None or len(body) < MIN_TEASERS:
        return False
    if any(word_count([p]) >= RUNNING_WORDS for p in body):
        return False
    teasers = _teaser_headings(page.root, page.url)
    if len(teasers) < 2 * MIN_TEASERS:
        return False
    running = [
        p for p in _FREE_PARAGRAPHS(page.root) if words_in(p.xpath("string()")) >= RUNNING_WORDS
    ]
    if len(running) >= 5:
        return False
    # The body is the teasers' own text, not short paragraphs beside a sidebar of headlines.
    teaser_text = _teaser_text(teasers)
    return sum(p in teaser_text for p in body) * 2 >= len(body)


def _teaser_text(
    headings: list[etree._Element], most_words: int = 0, posts: bool = False
) -> set[str]:
    """The headlines and blurbs of teaser cards: each heading's text, and the paragraphs of its
    card (see _card; with most_words, only a card of fewer words: a teaser is short; with posts,
    only cards that are each an <article>: a list of posts, not a story's linked subheadings)."""
    ids = set(map(id, headings))
    texts = set()
    for heading in headings:
        card = _card(heading, ids)
        if posts and (card is None or card.tag != "article"):
            continue
        texts.add(clean(heading.xpath("string()")))
        if card is None:
            continue
        paragraphs = [clean(p.xpath("string()")) for p in _PARAGRAPHS(card)]
        if not most_words or word_count(paragraphs) < most_words:
            texts.update(paragraphs)
    return texts


def with_item_headings(page: ArticlePage, body: list[str]) -> list[str]:
    """A generic body with the linked headings of a listicle's items ("3. Café Nicola", linked
    to the café or its review) and of a live blog's updates (linked to "?post=3") that
    trafilatura's precision mode drops as links: each item's heading before its first
    paragraph, where the item stands among the story's paragraphs (_in_story_flow) or links to
    the page itself (_is_own), and the body holds that paragraph but not the heading. Not the
    unlinked headings it drops: those are mostly boxes' titles ("Related Articles", "Teilen:")."""
    headings = _TEASER_HEADINGS(page.root)
    ids = set(map(id, headings))
    at: dict[str, int] = {}
    for i, p in enumerate(body):
        at.setdefault(p, i)
    before: dict[int, str] = {}
    for heading in headings:
        text = clean(node_text(heading))
        card = _card(heading, ids)
        if not text or text in at or card is None:
            continue
        if _links_away(heading, page.url, below=True) and not _in_story_flow(heading, ids):
            continue
        first = next((clean(node_text(p)) for p in _PARAGRAPHS(card)), None)
        if first in at:
            before.setdefault(at[first], text)
    if not before:
        return body
    return [q for i, p in enumerate(body) for q in ([before[i], p] if i in before else [p])]


def _in_story_flow(heading: etree._Element, ids: set[int]) -> bool:
    """Whether a linked heading's card stands among the story's own paragraphs (a sibling <p> of
    SENTENCE_WORDS words or more, outside any card): a listicle's item ("3. Café Nicola", linked
    to the café or its review), not a box of other stories, whose cards stand among cards."""
    card = _card(heading, ids)
    if card is None or (parent := card.getparent()) is None:
        return False
    return any(
        child.tag == "p" and words_in(node_text(child)) >= SENTENCE_WORDS for child in parent
    )


def _card(heading: etree._Element, ids: set[int]) -> etree._Element | None:
    """The nearest element around a teaser heading that holds paragraphs and no other teaser."""
    card = heading.getparent()
    for _ in range(3):
        if card is None or card.tag == "body":
            return None
        if _PARAGRAPHS(card):
            return card if sum(id(h) in ids for h in _HEADINGS(card)) == 1 else None
        card = card.getparent()
    return None


def article_evidence(page: ArticlePage, body: list[str], teasers_removed: bool = False) -> bool:
    """Whether a generic body is an article's on a page that declares itself a listing, or on a
    second look without its teasers: two paragraphs of RUNNING_WORDS words or more that are not
    a teaser card's headline or blurb (one, on a page declared an article), else a body mostly
    not teaser text and long (SHORT_BODY_WORDS) or on a page with too few teasers for a front."""
    headings = _teaser_headings(page.root, page.url)
    teaser_text = _teaser_text(headings, CARD_MAX_WORDS)
    own = [p for p in body if p not in teaser_text]
    # One such paragraph will do where the page's own metadata calls it an article.
    running = 1 if page.ld_article is not None or page.declares_article() else 2
    if sum(word_count([p]) >= RUNNING_WORDS for p in own) >= running:
        return True
    if 2 * len(own) <= len(body) or word_count(own) < MIN_FALLBACK_WORDS:
        return False  # teasers, or nothing
    if teasers_removed and len(own) == len(body) and _dated_post(page, own):
        return True  # a short post: the teasers were beside it (a "most read" footer)
    return not short(own) or (not teasers_removed and len(headings) < 2 * MIN_TEASERS)


def _dated_post(page: ArticlePage, body: list[str]) -> bool:
    """A short text that its page's standard metadata calls an article and dates (JSON-LD
    datePublished or an article:published_time; not an outlet's own date metas, which some
    sites put on fronts too) and that holds a sentence of SENTENCE_WORDS words or more, not
    labels and names only (what is left of a front without its teasers)."""
    declared = page.ld_article is not None or page.declares_article()
    dated = ArticlePage.published(page) is not None
    return declared and dated and any(word_count([p]) >= SENTENCE_WORDS for p in body)


def without_teaser_run(page: ArticlePage, body: list[str]) -> list[str]:
    """A generic body without the run of teaser cards it took in beside the article (a "most
    read" or "related" list): MIN_TEASERS paragraphs or more in a row that are the headlines
    and blurbs of cards whose headings link to other pages (an accordion's or a contents list's
    "#" links are the page's own), or MIN_POSTS or more of cards that are each an <article>
    (a theme's "related posts", each with its excerpt; one at the body's start or end). Kept
    whole when nothing would be left: that is the listing's business."""
    found = _teaser_headings(page.root, page.url, below=True)
    ids = set(map(id, found))
    headings = [h for h in found if not _in_story_flow(h, ids)]
    if len(headings) < MIN_POSTS:
        return body
    teasers = _teaser_text(headings, CARD_MAX_WORDS)
    posts = _teaser_text(headings, CARD_MAX_WORDS, posts=True)
    kept: list[str] = []
    run: list[str] = []
    for p in [*body, ""]:  # "" ends the last run
        if p and p in teasers:
            run.append(p)
            continue
        at_edge = not kept or not p  # at the body's start or end, one post is enough
        posts_run = bool(run) and set(run) <= posts and (len(run) >= MIN_POSTS or at_edge)
        if len(run) < MIN_TEASERS and not posts_run:
            kept.extend(run)
        run = []
        kept.append(p)
    kept.pop()
    return kept if word_count(kept) >= MIN_FALLBACK_WORDS else body


def beside_teasers(page: ArticlePage, body: list[str]) -> list[str]:
    """For a generic body that is all teaser cards (and labels: the box's "Most read") on a
    page that is no listing (it has running text: the story beside a "most read" footer the
    extractor took for the text), the body a second look finds without the cards, when it is
    an article's (article_evidence); else the body as it is."""
    headings = _teaser_headings(page.root, page.url, below=True)
    if len(headings) < MIN_TEASERS or len(body) < MIN_TEASERS:
        return body
    teasers = _teaser_text(headings, CARD_MAX_WORDS)
    if word_count([p for p in body if p not in teasers]) >= MIN_FALLBACK_WORDS:
        return body
    second = generic_body(without_teasers(page), page.url)
    return second if article_evidence(page, second, teasers_removed=True) else body


def with_header_text(page: ArticlePage, body: list[str], title: str | None) -> list[str]:
    """A generic body with the running text (paragraphs of RUNNING_WORDS words or more) a story
    puts in a <header> inside its <main> or <article>, after its headline (the <h1> that is the
    title, where there is one) and before the body's first paragraph, outside an author's box:
    the extractor leaves headers out as the page's chrome, and a story's header is no chrome."""
    found = [
        (p, text)
        for p in _STORY_HEADER_PARAGRAPHS(page.root)
        if words_in(text := clean(node_text(p))) >= RUNNING_WORDS and text not in body
    ]
    if not found or not body:
        return body
    first = next((p for p in _FREE_PARAGRAPHS(page.root) if clean(node_text(p)) == body[0]), None)
    if first is None:
        return body
    order = {el: i for i, el in enumerate(page.root.iter())}
    h1 = next((h for h in page.root.iter("h1") if title and clean(node_text(h)) == title), None)
    start = -1 if h1 is None else order[h1]
    boxes = _author_boxes(page.root)
    before = [
        text
        for p, text in found
        if start < order[p] < order[first] and not any(_holds(box, p) for box in boxes)
    ]
    return [*before, *body]


def with_standfirst(page: ArticlePage, body: list[str]) -> list[str]:
    """A generic body with the standfirst that trafilatura leaves out: the summary the page shows
    between headline and story, in an element of its own ("lead", "intro", "excerpt", "chapo"),
    and edited as often as the story. It is the element shown before the body's first paragraph
    whose text is the page's own description (og:description or description: the same opening
    words, and four fifths of its words or more from it); not a caption, a sidebar's, a
    footer's or hidden markup's."""
    described = page.meta_value("og:description", "description", "twitter:description")
    summary = _TOKEN.findall((described or "").lower())
    if len(summary) < STANDFIRST_WORDS or not body:
        return body
    opening = " ".join(summary[:6])
    if opening in " ".join(_TOKEN.findall(" ".join(body).lower())):
        return body
    shown = " ".join(_TOKEN.findall(visible_text(page).lower()))
    at, story_at = shown.find(opening), shown.find(" ".join(_TOKEN.findall(body[0].lower())[:8]))
    if at < 0 or story_at < 0 or at > story_at:
        return body  # written for search engines only, or shown after the story's start
    words, most = set(summary), 2 * len(summary) + 20
    found = None
    for el in _STANDFIRST_BLOCKS(page.root):
        if words_in(_STRING(el)) > most:  # a container of more than a summary: cheap to tell
            continue
        tokens = _TOKEN.findall(node_text(el).lower())
        if opening not in " ".join(tokens) or sum(t in words for t in tokens) < 0.8 * len(tokens):
            continue
        if found is None or len(tokens) < found[1]:
            found = el, len(tokens)  # the innermost block that holds it
    return body if found is None else [node_text(found[0]), *body]


def without_lead_in(page: ArticlePage, body: list[str], title: str | None) -> list[str]:
    """A generic body without the paragraphs it opens with that the page shows only before the
    headline (the <h1> that is the title): a story starts after its headline, and what comes
    first is the template's (a date line, a kicker, an author's box, a "JavaScript is off"
    notice). Kept whole when nothing would be left."""
    h1 = next((h for h in page.root.iter("h1") if title and node_text(h) == title), None)
    if h1 is None or not body:
        return body
    before = clean(" ".join(_PRECEDING_TEXT(h1)))
    if body[0] not in before:
        return body
    after = clean(" ".join(_OWN_AND_FOLLOWING_TEXT(h1)))
    first = next((i for i, p in enumerate(body) if p not in before or p in after), len(body))
    kept = body[first:]
    return kept if word_count(kept) >= MIN_FALLBACK_WORDS else body


def without_dialogs(page: ArticlePage, body: list[str]) -> list[str]:
    """A generic body without the text of the page's dialogs (role="dialog", aria-modal, <dialog>:
    a cookie or consent box, a sign-in modal) that the page shows nowhere else. A body that is
    all dialog gets a second look at the page without its dialogs, kept only when that finds
    more; an article shown in a dialog stays whole."""
    return _without_boxes(page, body, _DIALOGS)


def without_author_boxes(page: ArticlePage, body: list[str]) -> list[str]:
    """A generic body without the text of the author's box (class or id author-box, author-bio,
    about-the-author ...: a photo, the name, a bio the site shows on every story of theirs) that
    the page shows nowhere else: a bio rewritten is no edit of the story. A body that is all
    box gets a second look at the page without it, as for dialogs. A bare "bio" or "biography"
    is no author's box: a profile page's text may be in one."""
    return _without_boxes(page, body, _author_boxes)


def _without_boxes(
    page: ArticlePage, body: list[str], find: Callable[[etree._Element], list]
) -> list[str]:
    """A body without the text only the elements find() gives show: kept whole when nothing
    would be left, unless a second look at the page without them finds more."""
    boxes = find(page.root)
    if not boxes:
        return body
    inside = clean(" ".join(text for box in boxes for text in _TEXT(box)))
    if not any(p in inside for p in body):
        return body
    outside = clean(" ".join(_text_outside(page.root, boxes)))
    kept = [p for p in body if p not in inside or p in outside]
    if word_count(kept) >= MIN_FALLBACK_WORDS:
        return kept
    # The body is the box: trafilatura took a cookie box or a bio for the page's text. A second
    # look without them finds the article beside it; an article shown in a dialog stays.
    second = generic_body(_html_without(page, find), page.url)
    return second if word_count(second) > max(MIN_FALLBACK_WORDS, word_count(body)) else body


def _text_outside(root: etree._Element, boxes: list[etree._Element]) -> list[str]:
    """The page's visible text outside the boxes."""
    boxed = set(boxes)
    texts = []
    for text in _VISIBLE_TEXT(root):
        el = text.getparent()
        if text.is_tail:
            el = el.getparent()
        if el is not None and el not in boxed and boxed.isdisjoint(el.iterancestors()):
            texts.append(text)
    return texts


# an author's box, by a class or id token: author-box, authorbio, about-the-author, autor-info
_AUTHOR_BOX = re.compile(
    r"(?:.*[-_])?(?:author|autor|auteur)s?[-_]?(?:box|bio|biography|info|description|details"
    r"|card|profile|about)|about[-_]?(?:the[-_]?)?(?:author|autor)s?",
    re.I,
)


def _author_boxes(root: etree._Element) -> list[etree._Element]:
    """The outermost elements of the page's body whose class or id names an author's box."""
    found: list[etree._Element] = []
    for el in _CLASSED(root):
        tokens = [*(el.get("class") or "").split(), el.get("id") or ""]
        if any(_AUTHOR_BOX.fullmatch(t) for t in tokens if t) and not any(
            _holds(f, el) for f in found
        ):
            found.append(el)
    return found


def beyond_chrome(
    page: ArticlePage, body: list[str], title: str | None
) -> tuple[ArticlePage, list[str]]:
    """A short generic body, read again where the page's story stands in what looks like its
    chrome: an <aside>, <nav> or <footer> that holds a <main> or an <h1> and two
    paragraphs of RUNNING_WORDS words or more (an unclosed sidebar: the parser nests the rest of
    the page in it), which the extractor leaves out as boilerplate. Those become plain elements
    for a second look, kept when it finds twice as much: the page as read then, and its body. A
    real sidebar, beside a short story, holds no headline (its cards' <article>s do not count)."""
    if not short(body) or not any(_holds_story(el) for el in page.root.iter(*_CHROME_TAGS)):
        return page, body
    root = copy.deepcopy(page.root)
    for el in root.iter(*_CHROME_TAGS):
        if _holds_story(el):
            el.tag = "div"
    html = etree.tostring(root, encoding="unicode", method="html")
    second = [p for p in generic_body(html, page.url) if p != title]
    if word_count(second) >= max(MIN_FALLBACK_WORDS, 2 * word_count(body)):
        return type(page)(root, page.url), second
    return page, body


def _holds_story(el: etree._Element) -> bool:
    if not _STORY_PARTS(el):
        return False
    return sum(words_in(_STRING(p)) >= RUNNING_WORDS for p in _PARAGRAPHS(el)) >= 2


def without_other_stories(
    page: ArticlePage, body: list[str], title: str | None
) -> tuple[ArticlePage, list[str]]:
    """A generic body without the text of another story the page shows in full beside its own
    (the next article of an endless scroll, pre-rendered; recommended stories): the parts of
    the page other_stories finds. When there are some, the page without them (what the body's
    other rules then read) and the body a second look at it finds, or, when that finds no
    article, the body without their paragraphs; else the page and body as they are. The second
    look is taken even when the body took no text from them: which story comes next rotates
    from fetch to fetch, and trafilatura's choices on the page's own part shift with it (a
    "Links:" line kept beside one neighbour, not beside another), which would be a version."""
    others = other_stories(page.root, title)
    if not others:
        return page, body
    inside = clean(" ".join(text for el in others for text in _TEXT(el)))
    root = copy.deepcopy(page.root)
    for el in other_stories(root, title):
        _drop(el.getparent(), el)
    second = generic_body(etree.tostring(root, encoding="unicode", method="html"), page.url)
    if word_count(second) >= MIN_FALLBACK_WORDS:
        return type(page)(root, page.url), second
    kept = [p for p in body if p not in inside]
    return page, kept if word_count(kept) >= MIN_FALLBACK_WORDS else body


def other_stories(root: etree._Element, title: str | None) -> list[etree._Element]:
    """The other stories a page shows in full beside its own: the <article> elements headed by
    an <h1> of OTHER_HEADLINE_WORDS words or more that is not the title, and that neither hold
    nor sit in the <article> of the page's headline (the <h1> or <h2> the title is). Where the
    headline is in no <article>, only those after some of the page's own story (RUNNING_WORDS
    words of paragraphs in no <article> between them): a site may put its story in an <article>
    below a headline it sets apart, and head the story's sections with <h1>s. Where no heading
    shows the title, only those after RUNNING_WORDS such words whose <h1> shares no word with
    the title (the next story of an endless scroll below a story in no <article>); none without
    a title: then nothing tells the page's story from another."""
    if not title:
        return []
    headline = next((h for h in _H1_H2(root) if clean(node_text(h)) == title), None)
    own = None if headline is None else next(headline.iterancestors("article"), None)
    around = (
        set() if headline is None else set((own if own is not None else headline).iterancestors())
    )
    found = []
    for article in _ARTICLES_WITH_H1(root):
        if article is own or article in around or (own is not None and _holds(own, article)):
            continue
        if any(_holds(f, article) for f in found):
            continue
        if own is None and running_words(root, headline, article) < RUNNING_WORDS:
            continue
        for h1 in _H1_IN(article):
            text = clean(node_text(h1))
            if (
                words_in(text) >= OTHER_HEADLINE_WORDS
                and text != title
                and (headline is not None or not shares_word(text, title))
                and not _HIDDEN_OR_CHROME(h1)
            ):
                found.append(article)
                break
    return found


def _holds(outer: etree._Element, inner: etree._Element) -> bool:
    return any(el is outer for el in inner.iterancestors())


def _html_without(page: ArticlePage, elements: Callable[[etree._Element], list]) -> str:
    """The page's HTML without the elements found (the text after each stays)."""
    root = copy.deepcopy(page.root)
    for el in elements(root):
        if (parent := el.getparent()) is not None:
            _drop(parent, el)
    return etree.tostring(root, encoding="unicode", method="html")


def _teaser_headings(root: etree._Element, url: str, below: bool = False) -> list[etree._Element]:
    """The headings of teaser cards: linked headings that lead to other pages (see _is_own)."""
    return [h for h in _TEASER_HEADINGS(root) if _links_away(h, url, below)]


def _links_away(heading: etree._Element, url: str = "", below: bool = False) -> bool:
    """A heading that links to another page, not to a place on this one (nor, given its url, to
    this page or a view of it: a post's title linking to its permalink, a live blog's update
    linking to "?post=3", or with below, "/post-3")."""
    return any(
        not href.strip().startswith("#") and not _is_own(url, href, below)
        for href in _HREFS(heading)
    )


def _is_own(url: str, href: str, below: bool = False) -> bool:
    """Whether a link leads to the page at url, or to a view of it: its path with a query
    ("?post=3": a live blog's update) or, with below, a path below it ("/post-3"), when the
    page's own address has no query and is not a site's root (where "/?p=3" is a post). Only
    rules about what is beside a story take paths below it as its own: a section front's
    teasers lead below its path ("/sport" to "/sport/football/123")."""
    there = _address(url, href)
    if not url or there == url.split("#")[0].rstrip("/"):
        return bool(url)
    try:
        here, link = urlsplit(url), urlsplit(there)
    except ValueError:
        return False
    path, to = here.path.rstrip("/"), link.path.rstrip("/")
    if not path or here.query or link.netloc != here.netloc:
        return False
    return to == path or (below and to.startswith(path + "/"))


def _address(url: str, href: str) -> str:
    """Where a link leads, without its fragment; a malformed link ("http://[x]/") as written."""
    try:
        return urljoin(url, href.strip()).split("#")[0].rstrip("/")
    except ValueError:
        return href


def without_teasers(page: ArticlePage) -> str:
    """The page's HTML without its teaser cards (or their headings, where a card is long), for a
    second look at a page whose generic body was all teasers: an article may sit beside them."""
    root = copy.deepcopy(page.root)
    headings = _teaser_headings(root, page.url)
    ids = set(map(id, headings))
    cards = []
    for heading in headings:
        card = _card(heading, ids)
        long = card is not None and word_count([card.xpath("string()")]) >= CARD_MAX_WORDS
        cards.append(heading if card is None or long else card)
    for el in cards:
        if (parent := el.getparent()) is not None:
            _drop(parent, el)
    return etree.tostring(root, encoding="unicode", method="html")


def _drop(parent: etree._Element, el: etree._Element) -> None:
    """Remove el, keeping the text that follows it."""
    if el.tail:
        previous = el.getprevious()
        if previous is not None:
            previous.tail = (previous.tail or "") + el.tail
        else:
            parent.text = (parent.text or "") + el.tail
    parent.remove(el)


_CHROME_TAGS = ("aside", "nav", "footer")
_STORY_PARTS = etree.XPath(".//*[self::main or self::h1]")
_TEASER_HEADINGS = etree.XPath(
    "//body//*[self::h2 or self::h3 or self::h4][.//a[@href] or ancestor::a[@href]]"
)
_PRECEDING_TEXT = etree.XPath("preceding::text()[not(ancestor::script or ancestor::style)]")
_OWN_AND_FOLLOWING_TEXT = etree.XPath(
    "(.//text() | following::text())[not(ancestor::script or ancestor::style)]"
)
_DIALOG = "*[@role='dialog' or @aria-modal='true' or self::dialog]"
_DIALOGS = etree.XPath(f"//body//{_DIALOG}[not(ancestor::{_DIALOG})]")
_TEXT = etree.XPath(".//text()[not(ancestor::script or ancestor::style)]")
_CLASSED = etree.XPath("//body//*[@class or @id]")
_HREFS = etree.XPath(".//a/@href | ancestor::a/@href")
_FREE_PARAGRAPHS = etree.XPath("//body//p[not(ancestor::a)]")
_PARAGRAPHS = etree.XPath(".//p")
_STRING = etree.XPath("string()")
_STORY_HEADER_PARAGRAPHS = etree.XPath(
    "//body//header[ancestor::main or ancestor::article]//p[not(ancestor::a)]"
)
_STANDFIRST_BLOCKS = etree.XPath(
    "//body//*[self::p or self::div or self::h2 or self::h3]"
    "[not(ancestor-or-self::*[self::figure or self::figcaption or self::aside or self::nav"
    " or self::footer or self::script or self::style or self::noscript or self::template"
    " or @hidden or @aria-hidden='true'])]"
)
_HEADINGS = etree.XPath(".//*[self::h2 or self::h3 or self::h4]")
_ARTICLES_WITH_H1 = etree.XPath("//body//article[.//h1]")
_H1_IN = etree.XPath(".//h1")
_H1_H2 = etree.XPath("//body//*[self::h1 or self::h2]")
_HIDDEN_OR_CHROME = etree.XPath(
    "ancestor-or-self::*[self::nav or self::footer or self::aside or self::template"
    " or @hidden or @aria-hidden='true']"
)
