"""Real devset articles with template markup that untuned sites add (a CMS's listing type on every
page, microdata, a "most read" footer, a live page's refresh) are still articles; section fronts
built the same way are still not (benchmarks/robustness.py measures this over the whole devset)."""

from __future__ import annotations

import functools
import gzip
import json
import re

import pytest

from newsdiff.pages import NotArticle, extract
from tests.corpus import CORPUS

DEVSET = CORPUS / "devset"


@functools.cache
def expected() -> dict:
    return json.loads((DEVSET / "expected.json").read_text(encoding="utf-8"))


def devset_page(page_id: str) -> tuple[bytes, str]:
    html = gzip.decompress((DEVSET / "html" / f"{page_id}.html.gz").read_bytes())
    return html, expected()[page_id]["url"]


def with_snippets(page_id: str, body: list[str]) -> bool:
    text = " ".join(" ".join(body).split())
    return all(" ".join(s.split()) in text for s in expected()[page_id]["with"])


_LD = re.compile(rb"<script[^>]*application/ld\+json[^>]*>.*?</script\s*>", re.I | re.S)
_OG = re.compile(rb"<meta[^>]*(?:property|name)=[\"'](?:og:type|article:[\w:]+)[\"'][^>]*>", re.I)
COLLECTION = (
    b'<script type="application/ld+json">{"@context": "https://schema.org", "@graph": ['
    b'{"@type": "WebSite", "name": "Example"}, {"@type": "CollectionPage", "name": "Example"},'
    b' {"@type": "BreadcrumbList", "itemListElement": []}]}</script>'
)


def stamped(html: bytes, head: bytes = b"") -> bytes:
    """The page as a CMS that calls every page a CollectionPage and declares nothing else."""
    html = _OG.sub(b"", _LD.sub(b"", html))
    return re.sub(rb"<head\b[^>]*>", lambda m: m.group(0) + COLLECTION + head, html, count=1)


def cards(count: int, attrs: str = "") -> bytes:
    return "".join(
        f'<div class="card"{attrs}><h3><a href="/2024/03/story-{n}.html">'
        f"Most read story {n}</a></h3>"
        f"<p>A blurb of story {n} that says in a sentence or two what happened there, who was "
        f"involved and why a reader of this site should read it today.</p></div>"
        for n in range(count)
    ).encode()


def at_end(html: bytes, markup: bytes) -> bytes:
    at = html.lower().rfind(b"</body")
    return html[:at] + markup + html[at:]


@pytest.mark.parametrize(
    "page_id",
    [
        "djz.de-amoklauf",  # paragraphs of running text
        "biobiochile.cl-gremios",  # ten short news paragraphs beside 45 linked headlines
        "Volksstimme.ch-loehne",  # a 39-word notice on a page without teasers
    ],
)
def test_a_listing_type_on_every_page_does_not_lose_an_article(page_id):
    html, url = devset_page(page_id)
    result = extract(stamped(html), url)
    assert result.extractor == "trafilatura" and with_snippets(page_id, result.body)


def test_a_declared_listing_of_teasers_is_still_a_section_front():
    html = stamped(b"<html><head><title>Sport</title></head><body><main></main></body></html>")
    with pytest.raises(NotArticle) as excinfo:
        extract(html.replace(b"<main>", b"<main>" + cards(30)), "https://example.org/sport/")
    assert excinfo.value.reason == "section-front"
    # The same teasers with a section's intro of running text are still a section front.
    intro = b"<p>" + b"Sport from the region: clubs, results and the people behind them. " * 8
    html = html.replace(b"<main>", b"<main>" + intro + b"</p>" + cards(30))
    with pytest.raises(NotArticle):
        extract(html, "https://example.org/sport/")


@pytest.mark.parametrize(
    "declaration",
    [
        b'<body itemscope itemtype="https://schema.org/NewsArticle"',
        b'<body><div itemprop="articleBody"',
        b'<body><meta name="parsely-type" content="post"',
        b'<body><meta property="article:modified_time" content="2019-10-01T10:00:00Z"',
    ],
    ids=["microdata", "articlebody-itemprop", "parsely", "article-modified"],
)
def test_other_article_declarations_outweigh_a_template_listing_type(declaration):
    # A short post (103 words) beside 40 linked headlines: only its declaration tells.
    html, url = devset_page("herrpfleger.de.fuelcell")
    with pytest.raises(NotArticle):
        extract(stamped(html), url)
    declared = re.sub(rb"<body\b", declaration, stamped(html), count=1)
    assert with_snippets("herrpfleger.de.fuelcell", extract(declared, url).body)


def test_microdata_article_items_of_a_listing_do_not_declare_an_article():
    items = cards(30, ' itemscope itemtype="https://schema.org/NewsArticle"')
    html = stamped(b"<html><head></head><body><main>" + items + b"</main></body></html>")
    with pytest.raises(NotArticle) as excinfo:
        extract(html, "https://example.org/sport/")
    assert excinfo.value.reason == "section-front"


@pytest.mark.parametrize(
    "page_id",
    [
        "security.googleblog.com.protection",  # a blog post of running text
        "archive.org.he.xinhuanet.com.25340717",  # a Chinese story: its paragraphs run too
        "kath.net-Menschensohn",
    ],
)
def test_a_body_that_is_all_teasers_on_a_page_with_running_text_is_read_again(page_id):
    # The pages declare no listing and have running text (no section front), yet trafilatura
    # took the 40 cards of the footer for the main text: a second look without them finds it.
    html, url = devset_page(page_id)
    footer = b'<div class="most-read"><h2>Most read</h2>' + cards(40) + b"</div>"
    result = extract(at_end(html, footer), url)
    assert with_snippets(page_id, result.body)
    assert not any("Most read story" in p for p in result.body)


def test_an_article_beside_a_most_read_footer_of_teasers_is_found():
    # trafilatura takes the 40 teaser cards for the main text; without them it finds the article.
    html, url = devset_page("djz.de-amoklauf")
    footer = b'<div class="most-read"><h2>Most read</h2>' + cards(40) + b"</div>"
    result = extract(at_end(html, footer), url)
    assert with_snippets("djz.de-amoklauf", result.body)
    assert not any("Most read story" in p for p in result.body)


@pytest.mark.parametrize("page_id", ["herrpfleger.de.fuelcell", "knowledge-on-air.de.koa039"])
def test_a_short_dated_post_beside_a_most_read_footer_is_found(page_id):
    # 103 and 33 words, no paragraph of running text: beside 40 teaser cards the page looks like
    # a front, but its metadata calls it an article published at a time, and without the cards
    # its text is none of theirs.
    html, url = devset_page(page_id)
    footer = b'<div class="most-read"><h2>Most read</h2>' + cards(40) + b"</div>"
    result = extract(at_end(html, footer), url)
    assert with_snippets(page_id, result.body)
    assert not any("Most read story" in p for p in result.body)
    # The same page without its publication time is not believed: a front can say og:type
    # article, and a short text beside its teasers is its intro.
    undated = re.sub(rb"<meta[^>]*article:published_time[^>]*>", b"", at_end(html, footer))
    with pytest.raises(NotArticle) as excinfo:
        extract(undated, url)
    assert excinfo.value.reason == "section-front"


def test_a_front_stamped_as_an_article_without_a_date_is_still_a_front():
    intro = b"<p>Sport from the region: clubs, results and the people behind them.</p>"
    html = (
        b'<html><head><title>Sport</title><meta property="og:type" content="article"></head>'
        b"<body><main>" + intro + cards(30) + b"</main></body></html>"
    )
    with pytest.raises(NotArticle) as excinfo:
        extract(html, "https://example.org/sport/")
    assert excinfo.value.reason == "section-front"


def in_head(html: bytes, markup: str) -> bytes:
    return re.sub(rb"<head\b[^>]*>", lambda m: m.group(0) + markup.encode(), html, count=1)


@pytest.mark.parametrize("target", ["{url}", "'{url}#top'", "{path}"])
def test_a_refresh_to_the_page_itself_keeps_the_article(target):
    # A live page reloads itself; only a refresh elsewhere is a redirect stub.
    html, url = devset_page("djz.de-amoklauf")
    own = target.format(url=url, path=url.removeprefix("https://djz.de"))
    result = extract(in_head(html, f'<meta http-equiv="refresh" content="5; url={own}">'), url)
    assert with_snippets("djz.de-amoklauf", result.body)
    with pytest.raises(NotArticle) as excinfo:
        extract(in_head(html, '<meta http-equiv="refresh" content="5; url=/">'), url)
    assert excinfo.value.reason == "interstitial"


@pytest.mark.parametrize(
    "free",
    [
        '<script type="application/ld+json">{"@type": "NewsArticle", "isAccessibleForFree": true}'
        "</script>",
        '<meta property="article:content_tier" content="free">',
    ],
    ids=["isAccessibleForFree", "content-tier"],
)
def test_a_subscription_prompt_beside_an_article_its_publisher_calls_free_is_no_paywall(free):
    # A 44-word note and a metered site's prompt after it: a stub looks the same, unless the
    # publisher says the article is free to read.
    html, url = devset_page("dw.com-elephants")
    prompt = (
        b'<div class="meter"><p>Subscribe to continue reading unlimited stories.</p>'
        b'<p>Already a subscriber? <a href="/login">Log in</a></p></div>'
    )
    html = at_end(html, prompt)
    with pytest.raises(NotArticle) as excinfo:
        extract(html, url)
    assert excinfo.value.reason == "paywall"
    body = extract(in_head(html, free), url).body
    assert with_snippets("dw.com-elephants", body)
    # The prompt told a stub from a story; beside the story it is the site's chrome, not text.
    assert not any("subscribe" in p.lower() for p in body)


def test_a_subscription_prompt_beside_a_short_article_is_a_paywall_only_on_evidence():
    # An 88-word article: more than a stub's lead, unless its publisher marks it paywalled.
    html, url = devset_page("ihrwebprofi.at.publikumsvoting")
    prompt = (
        b'<div class="meter"><p>Subscribe to continue reading unlimited stories.</p>'
        b'<p>Already a subscriber? <a href="/login">Log in</a></p></div>'
    )
    html = at_end(html, prompt)
    body = extract(html, url).body
    assert with_snippets("ihrwebprofi.at.publikumsvoting", body)
    assert not any("subscribe" in p.lower() for p in body)
    locked = '<script type="application/ld+json">{"isAccessibleForFree": "False"}</script>'
    with pytest.raises(NotArticle) as excinfo:
        extract(in_head(html, locked), url)
    assert excinfo.value.reason == "paywall"
