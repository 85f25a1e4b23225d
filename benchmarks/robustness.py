"""Robustness of "not an article" on untuned pages: common template markup injected into the
devset's real articles, one kind at a time, and what the extraction loses for it.

    python benchmarks/robustness.py [DIR] [--only NAME ...] [--limit N] [--show N]

DIR is the devset (../shared/corpus/devset by default: html/<id>.html.gz and expected.json, every
page a real article). For each injection (realistic markup of the kind CMSs emit: JSON-LD listing
types, a CMS that stamps CollectionPage on every page, microdata, og:type website, teaser sidebars,
cookie, newsletter and paywall boxes, comments, location scripts, self refreshes, a next
story shown in full, ad slots between paragraphs, a column's author box) every page is
extracted with the markup added and compared with its extraction without it. Per injection it
prints how many pages become "not an article" (lost), by reason, how many lose a `with` snippet
the uninjected body had (snip), how many bodies take in text of the injected markup (leak), and
how many pages' byline or publication date differ from the uninjected page's (cred; "-" where
the injection removes or replaces the page's metadata, and so its byline and date).
The markup is ASCII, so it goes into the page's bytes as they are, whatever their encoding;
every run is the same (no randomness).

Last line: lost_total=<n> over <injections> injections and <pages> pages.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from extraction import Page, load  # noqa: E402

from newsdiff import pages  # noqa: E402

DEVSET = REPO.parent / "shared" / "corpus" / "devset"

# --- where markup goes -------------------------------------------------------------------------

_HEAD_OPEN = re.compile(rb"<head\b[^>]*>", re.I)
_BODY_OPEN = re.compile(rb"<body\b[^>]*>", re.I)
_BODY_CLOSE = re.compile(rb"</body\s*>", re.I)
_ARTICLE_CLOSE = re.compile(rb"</article\s*>", re.I)
_P_CLOSE = re.compile(rb"</p\s*>", re.I)
_H1_OPEN = re.compile(rb"<h1\b[^>]*>", re.I)
_LD_SCRIPT = re.compile(
    rb"<script\b[^>]*type\s*=\s*[\"']?application/ld\+json[\"']?[^>]*>.*?</script\s*>", re.I | re.S
)
# Open Graph's article declarations: og:type and the article:* properties.
_OG_ARTICLE = re.compile(
    rb"<meta\b[^>]*(?:property|name)\s*=\s*[\"']?(?:og:type|article:[\w:]+)[\"']?[^>]*>", re.I
)
_OG_TYPE = re.compile(rb"<meta\b[^>]*(?:property|name)\s*=\s*[\"']?og:type[\"']?[^>]*>", re.I)


def in_head(html: bytes, markup: str) -> bytes:
    match = _HEAD_OPEN.search(html)
    at = match.end() if match else 0
    return html[:at] + markup.encode() + html[at:]


def at_body_start(html: bytes, markup: str) -> bytes:
    match = _BODY_OPEN.search(html)
    at = match.end() if match else 0
    return html[:at] + markup.encode() + html[at:]


def at_body_end(html: bytes, markup: str) -> bytes:
    ends = list(_BODY_CLOSE.finditer(html))
    at = ends[-1].start() if ends else len(html)
    return html[:at] + markup.encode() + html[at:]


def after_article(html: bytes, markup: str) -> bytes:
    """Right after the article text: at the end of the first <article>, else after the page's
    last paragraph."""
    match = _ARTICLE_CLOSE.search(html)
    if match:
        return html[: match.start()] + markup.encode() + html[match.start() :]
    paragraphs = list(_P_CLOSE.finditer(html))
    if not paragraphs:
        return at_body_end(html, markup)
    at = paragraphs[-1].end()
    return html[:at] + markup.encode() + html[at:]


def before_headline(html: bytes, markup: str) -> bytes:
    match = _H1_OPEN.search(html)
    if not match:
        return after_article(html, markup)  # no heading: the box sits with the text
    return html[: match.start()] + markup.encode() + html[match.start() :]


def undeclared(html: bytes) -> bytes:
    """The page without its own declarations: no JSON-LD, no og:type or article:* metas."""
    return _OG_ARTICLE.sub(b"", _LD_SCRIPT.sub(b"", html))


def ld(obj: dict) -> str:
    return f'<script type="application/ld+json">{json.dumps(obj)}</script>'


# --- the markup ----------------------------------------------------------------------------------

SITE = "https://www.example-news.com"
PUBLISHER = {"@type": "Organization", "@id": f"{SITE}/#org", "name": "Example News"}
WEBSITE = {"@type": "WebSite", "@id": f"{SITE}/#website", "url": SITE, "name": "Example News"}
BREADCRUMBS = {
    "@type": "BreadcrumbList",
    "itemListElement": [
        {"@type": "ListItem", "position": n, "name": name, "item": f"{SITE}/{path}"}
        for n, (name, path) in enumerate([("Home", ""), ("News", "news/"), ("Local", "local/")], 1)
    ],
}
ITEM_LIST = {
    "@type": "ItemList",
    "itemListElement": [
        {"@type": "ListItem", "position": n, "url": f"{SITE}/2024/03/story-{n}.html"}
        for n in range(1, 11)
    ],
}


def collection_graph(url: str) -> str:
    page = {
        "@type": "CollectionPage",
        "@id": f"{url}#webpage",
        "url": url,
        "name": "Example News",
        "isPartOf": {"@id": f"{SITE}/#website"},
        "breadcrumb": {"@id": f"{url}#breadcrumb"},
        "inLanguage": "en-US",
    }
    return ld({"@context": "https://schema.org", "@graph": [PUBLISHER, WEBSITE, page, BREADCRUMBS]})


WORDS = [
    *("council", "budget", "river", "bridge", "school", "market", "weather", "police", "museum"),
    *("election", "harbour", "railway", "festival", "hospital", "library", "stadium", "garden"),
    *("factory", "airport", "village"),
]


def blurb(n: int, words: int, lead: str = "Reader note") -> str:
    """A teaser's or comment's sentence-like text, different for each n (ASCII, deterministic)."""
    picked = [WORDS[(n * 7 + i * 3) % len(WORDS)] for i in range(words - 6)]
    return f"{lead} {n}: the " + " ".join(picked) + " was discussed again today."


def teaser_cards(count: int, tag: str, title: str) -> str:
    cards = "".join(
        f'<div class="card"><a href="{SITE}/2024/03/{n:02d}/story-{n}.html">'
        f'<img src="/img/{n}.jpg" alt=""></a><h3 class="card-title">'
        f'<a href="{SITE}/2024/03/{n:02d}/story-{n}.html">Zorblat headline number {n} about '
        f"the {WORDS[n % len(WORDS)]}</a></h3>"
        f'<p class="card-blurb">{blurb(n, 22, "Zorblat teaser")}</p></div>'
        for n in range(1, count + 1)
    )
    return f'<{tag} class="related"><h2>{title}</h2>{cards}</{tag}>'


def dated_teasers(count: int) -> str:
    """Related stories, each with its date and author, as news sites list them."""
    cards = "".join(
        f'<li class="teaser"><a href="{SITE}/story-{n}.html">Zorblat story {n} about the '
        f'{WORDS[n % len(WORDS)]}</a><span class="author">By Zorblat Writer{n}</span>'
        f'<time datetime="2012-0{1 + n % 9}-1{n % 10}T08:00:00Z">{n} March 2012</time></li>'
        for n in range(1, count + 1)
    )
    return f'<div class="more-stories"><h2>More stories</h2><ul>{cards}</ul></div>'


def article_teasers(count: int) -> str:
    """A list of other posts as WordPress themes print them: each an <article> with its
    headline, excerpt, byline and date, in a container that does not say what it is."""
    posts = "".join(
        f'<article class="post type-post"><h2 class="entry-title"><a href="{SITE}/post-{n}/">'
        f"Zorblat post {n} about the {WORDS[n % len(WORDS)]}</a></h2>"
        f'<div class="entry-meta"><span class="byline">By Jane Zorblat</span> '
        f'<time class="entry-date" datetime="2012-0{1 + n % 9}-1{n % 10}T08:00:00Z">'
        f"{n} March 2012</time></div>"
        f'<div class="entry-summary"><p>{blurb(n, 24, "Zorblat excerpt")}</p></div></article>'
        for n in range(1, count + 1)
    )
    return f'<div class="post-list">{posts}</div>'


COOKIE_BANNER = (
    '<div id="cookie-consent" class="cookie-banner" role="dialog" aria-label="Cookie consent">'
    "<p>We use cookies and similar technologies to improve your experience, personalise content "
    "and ads, and analyse our traffic. By clicking Accept all, you consent to our use of "
    'cookies. Read our <a href="/privacy">privacy policy</a> (Zorblat consent).</p>'
    '<button class="accept">Accept all</button><button class="reject">Reject all</button>'
    '<a href="/cookie-settings">Manage settings</a></div>'
)
NEWSLETTER = (
    '<div class="newsletter-signup"><h3>Get the Zorblat Morning Briefing</h3>'
    "<p>The day's top stories delivered to your inbox every morning. Sign up for our free "
    'newsletter.</p><form action="/subscribe"><input type="email" placeholder="Email '
    'address"><button type="submit">Sign up</button></form>'
    '<p class="small">You can unsubscribe at any time. See our privacy policy.</p></div>'
)
PAYWALL_CHROME = (
    '<nav class="account"><a href="/subscribe">Subscribe to continue reading</a> '
    '<a href="/login">Already a subscriber? Log in</a></nav>',
    '<footer class="site-footer"><p>Already a subscriber? Log in. Zorblat Media Group.</p>'
    '</footer><div class="paywall-modal" hidden><h2>Subscribe to continue reading</h2>'
    "<p>You've reached your free article limit. Already a subscriber? Log in.</p></div>",
)
PAYWALL_BOX = (
    '<div class="meter-prompt"><p>Enjoying Zorblat News? Subscribe to continue reading '
    'unlimited stories.</p><p>Already a subscriber? <a href="/login">Log in</a></p></div>'
)


def comments() -> str:
    items = "".join(
        f'<li class="comment"><div class="comment-author">reader{n}</div>'
        f'<time datetime="2024-03-01T1{n % 10}:00">March 1, 2024</time>'
        f'<div class="comment-body"><p>{blurb(100 + n, 20 + 4 * n)}</p></div>'
        f'<a class="reply" href="#reply-{n}">Reply</a></li>'
        for n in range(10)
    )
    return f'<section id="comments" class="comments"><h2>10 Comments</h2><ol>{items}</ol></section>'


SCRIPTS = (
    "<script>if (top.location != self.location) { top.location = self.location; }</script>"
    "<script>window.dataLayer = window.dataLayer || []; dataLayer.push({page: "
    "window.location.pathname, referrer: document.referrer});"
    "if (window.location.hash === '#comments') { openComments(); }</script>"
)
AUTHOR_BOX = (
    '<div class="author-box"><img class="author-photo" src="/img/authors/jdoe.jpg" '
    'alt="Jane Zorblat"><div class="author-bio"><p class="author-name"><a href="/authors/jdoe">'
    "Jane Zorblat</a></p><p>Jane Zorblat writes a weekly column about city life, politics and "
    "the people who shape them. Before joining the paper she reported from three continents "
    "for wire services and magazines, and she has won several regional journalism awards for "
    "her work on housing.</p></div></div>"
)
KICKER = '<div class="kicker"><a href="/column/">Column</a></div>'


def column(html: bytes, declaration: str) -> bytes:
    return before_headline(in_head(html, declaration), KICKER + AUTHOR_BOX)


def opinion_ld(url: str) -> str:
    return ld(
        {
            "@context": "https://schema.org",
            "@type": "OpinionNewsArticle",
            "headline": "A column",
            "url": url,
            "author": {"@type": "Person", "name": "Jane Zorblat"},
        }
    )


def next_story() -> str:
    """A whole other story after the page's own, as an endless scroll pre-renders the next."""
    text = "".join(f"<p>{blurb(300 + n, 40, 'Zorblat story')}</p>" for n in range(8))
    return (
        '<article class="next-story"><h1>Zorblat council approves the new harbour plan</h1>'
        f'<p class="byline">By Jane Zorblat</p>{text}</article>'
    )


_P_END = re.compile(rb"</p\s*>", re.I)
AD_SLOT = (
    '<div class="ad-slot"><span class="ad-label">Advertisement</span><div id="ad"></div></div>'
    '<p class="ad-note">Story continues below advertisement</p>'
)


def ad_slots(html: bytes) -> bytes:
    """An ad slot, with its "continues below" line, after every second paragraph."""
    count = 0

    def slot(match: re.Match) -> bytes:
        nonlocal count
        count += 1
        return match.group(0) + (AD_SLOT.encode() if count % 2 == 0 else b"")

    return _P_END.sub(slot, html)


@dataclass(frozen=True)
class Injection:
    name: str
    apply: Callable[[bytes, str], bytes]  # (page bytes, url) -> injected page
    marker: str = "Zorblat"  # a word of the injected text: in the body, it leaked
    metadata: bool = True  # the page's own metadata kept: its byline and date should be too


INJECTIONS = [
    Injection("ld-collectionpage", lambda h, u: in_head(h, ld({"@type": "CollectionPage"}))),
    Injection("ld-graph-collection", lambda h, u: in_head(h, collection_graph(u))),
    Injection(
        "ld-webpage-itemlist",
        lambda h, u: in_head(h, ld({"@graph": [{"@type": "WebPage", "url": u}, ITEM_LIST]})),
    ),
    Injection("ld-breadcrumbs", lambda h, u: in_head(h, ld(BREADCRUMBS))),
    # The main target: a CMS that stamps CollectionPage on every page, no Open Graph article
    # declaration (og:type, article:*); the page's own JSON-LD kept, or none at all.
    Injection(
        "cms-collection-no-og",
        lambda h, u: in_head(_OG_ARTICLE.sub(b"", h), collection_graph(u)),
        metadata=False,
    ),
    Injection(
        "cms-collection-only",
        lambda h, u: in_head(undeclared(h), collection_graph(u)),
        metadata=False,
    ),
    Injection(
        "cms-collection+itemlist",
        lambda h, u: in_head(undeclared(h), collection_graph(u) + ld(ITEM_LIST)),
        metadata=False,
    ),
    Injection(
        "cms-collection+microdata",
        lambda h, u: _microdata(in_head(undeclared(h), collection_graph(u))),
        metadata=False,
    ),
    Injection("microdata-article", lambda h, u: _microdata(undeclared(h)), metadata=False),
    Injection(
        "og-website",
        lambda h, u: in_head(_OG_TYPE.sub(b"", h), '<meta property="og:type" content="website">'),
    ),
    Injection(
        "related-sidebar",
        lambda h, u: at_body_start(h, teaser_cards(30, "aside", "Related stories")),
    ),
    Injection(
        "most-read-footer", lambda h, u: at_body_end(h, teaser_cards(40, "div", "Most read"))
    ),
    Injection("cookie-banner", lambda h, u: at_body_start(h, COOKIE_BANNER)),
    Injection("newsletter-box", lambda h, u: after_article(h, NEWSLETTER)),
    Injection(
        "paywall-chrome",
        lambda h, u: at_body_end(at_body_start(h, PAYWALL_CHROME[0]), PAYWALL_CHROME[1]),
    ),
    Injection("paywall-box-after", lambda h, u: after_article(h, PAYWALL_BOX)),
    Injection(  # the same on a page that says the article is free (as metered sites do)
        "paywall-box-free",
        lambda h, u: in_head(after_article(h, PAYWALL_BOX), ld({"isAccessibleForFree": True})),
    ),
    Injection("comments", lambda h, u: at_body_end(h, comments()), marker="Reader note"),
    Injection("location-scripts", lambda h, u: in_head(h, SCRIPTS)),
    Injection(
        "refresh-reload", lambda h, u: in_head(h, '<meta http-equiv="refresh" content="300">')
    ),
    Injection(
        "refresh-self",
        lambda h, u: in_head(h, f'<meta http-equiv="refresh" content="5; url={u}">'),
    ),
    Injection("next-story", lambda h, u: at_body_end(h, next_story())),
    Injection("dated-teasers", lambda h, u: after_article(h, dated_teasers(8))),
    Injection("article-teasers", lambda h, u: after_article(h, article_teasers(6))),
    Injection("ad-slots", lambda h, u: ad_slots(h), marker="continues below advertisement"),
    Injection(
        "column-opinion-ld", lambda h, u: column(undeclared(h), opinion_ld(u)), metadata=False
    ),
    Injection("column-no-ld", lambda h, u: column(undeclared(h), ""), metadata=False),
]

_BODY_TAG = re.compile(rb"<body\b", re.I)
_MICRODATA = b'<body itemscope itemtype="https://schema.org/NewsArticle"'


def _microdata(html: bytes) -> bytes:
    """The page's <body> as a schema.org NewsArticle in microdata (as many themes mark it)."""
    return _BODY_TAG.sub(_MICRODATA, html, count=1)


# --- the run ------------------------------------------------------------------------------------


def extract(html: bytes, url: str) -> tuple[str | None, str, tuple]:
    """(body text, "", (byline, publication date)) or (None, the NotArticle reason, ()), read as
    a crawl reads a page."""
    try:
        found = pages.extract_fetched(html, None, url, None)
    except pages.NotArticle as exc:
        return None, exc.reason, ()
    return "\n".join(found.body), "", (found.byline, found.published)


def snippets(page: Page, body: str) -> set[str]:
    flat = " ".join(body.split())
    return {s for s in page.with_ if " ".join(s.split()) in flat}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("directory", type=Path, nargs="?", default=DEVSET)
    names = [i.name for i in INJECTIONS]
    parser.add_argument("--only", nargs="+", choices=names, metavar="NAME", help=", ".join(names))
    parser.add_argument("--limit", type=int, help="the first N pages only")
    parser.add_argument("--show", type=int, default=0, help="list up to N lost pages per injection")
    args = parser.parse_args(argv)
    corpus = load(args.directory)[: args.limit]
    injections = [i for i in INJECTIONS if not args.only or i.name in args.only]
    plain, credits = {}, {}
    for page in corpus:
        body, reason, credits[page.id] = extract(page.html, page.url)
        plain[page.id] = snippets(page, body) if body is not None else set()
    print(f"{len(corpus)} pages, {sum(not s for s in plain.values())} without a snippet uninjected")
    print(f"{'injection':26} {'lost':>5} {'snip':>5} {'leak':>5} {'cred':>5}  reasons")
    total = 0
    for injection in injections:
        reasons: Counter[str] = Counter()
        snipped = leaked = credited = 0
        lost_ids = []
        for page in corpus:
            body, reason, found = extract(injection.apply(page.html, page.url), page.url)
            if body is None:
                reasons[reason] += 1
                lost_ids.append(page.id)
                continue
            snipped += bool(plain[page.id] - snippets(page, body))
            leaked += injection.marker in body
            credited += injection.metadata and found != credits[page.id]
        lost = sum(reasons.values())
        total += lost
        why = ", ".join(f"{r} {n}" for r, n in reasons.most_common())
        cred = f"{credited:5d}" if injection.metadata else "    -"
        print(f"{injection.name:26} {lost:5d} {snipped:5d} {leaked:5d} {cred}  {why}", flush=True)
        for page_id in lost_ids[: args.show]:
            print(f"    {page_id}")
    print(f"lost_total={total} over {len(injections)} injections and {len(corpus)} pages")
    return 0


if __name__ == "__main__":
    sys.exit(main())
