"""The part of a page an outlet's rules read (pages/reading.py) and what read_fetched reads."""

from __future__ import annotations

import re

import pytest

from newsdiff import pages
from newsdiff.pages.base import ArticlePage
from newsdiff.pages.extract import parse
from newsdiff.pages.reading import reading, start_tag
from newsdiff.replay import corpus_pages

SCOPE = re.compile(rb'<(article)\b[^>]*\bid="story"')
ARTICLE = (
    b'<article id="story" class="x"><h1>Headline</h1>'
    b'<script nonce="n1">var t = "</article>";</script>'
    b'<p>First paragraph.</p><article class="embed"><p>Embedded.</p></article>'
    b"<!-- rendered in 12 ms --><p>Last paragraph.</p></article>"
)


def part(body: bytes, scope) -> bytes | None:
    """The reading when it is the scope's element of the page, else None."""
    found = reading(body, scope)
    return found.data if found.element else None


def page(article: bytes = ARTICLE, *, top: bytes = b"", bottom: bytes = b"", nonce=b"n1") -> bytes:
    return (
        b'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Headline</title>'
        b'<script nonce="' + nonce + b'">window.config = {"ts": 1}</script>'
        b"<style>.a{color:red}</style>"
        b'<script type="application/ld+json" nonce="' + nonce + b'">{"@type": "NewsArticle"}'
        b'</script></head><body class="story">' + top + article + bottom + b"</body></html>"
    )


def test_the_part_is_the_head_and_the_element_without_what_changes_between_fetches():
    found = part(page(), SCOPE)
    assert found == (
        b'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Headline</title>'
        b'<script type="application/ld+json">{"@type": "NewsArticle"}</script></head>'
        b'<body class="story"><article id="story" class="x"><h1>Headline</h1>'
        b'<p>First paragraph.</p><article class="embed"><p>Embedded.</p></article>'
        b"<p>Last paragraph.</p></article></body></html>"
    )
    noisy = page(
        top=b'<div class="date">Last updated 10:41:07</div><!-- cache HIT -->',
        bottom=b'<div class="ad"><a href="/offer/3">Offer 3</a></div><script>x()</script>',
        nonce=b"n2",
    )
    assert part(noisy, SCOPE) == found


def test_a_change_in_the_element_or_its_json_ld_changes_the_part():
    found = part(page(), SCOPE)
    assert part(page(ARTICLE.replace(b"Last paragraph", b"Final paragraph")), SCOPE) != found
    assert part(page(ARTICLE.replace(b"Embedded", b"Embed")), SCOPE) != found
    ld = b'<script type="application/ld+json" nonce="n9">{"dateModified": "2026-11-30"}</script>'
    with_ld = part(page(bottom=ld), SCOPE)
    assert b'<script type="application/ld+json">{"dateModified": "2026-11-30"}</script>' in with_ld
    assert part(page(bottom=ld.replace(b"11-30", b"12-01")), SCOPE) != with_ld


def test_no_element_no_part():
    assert part(page(ARTICLE.replace(b'id="story"', b'id="other"')), SCOPE) is None
    assert part(page(), None) is None
    assert part(b'<article id="story"><p>No head</p></article>', SCOPE) is None


def test_without_an_element_the_reading_is_the_page_without_what_no_extractor_reads():
    found = reading(page(), None)
    assert not found.element
    assert found.data == (
        b'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Headline</title>'
        b'<script type="application/ld+json">{"@type": "NewsArticle"}</script></head>'
        b'<body class="story"><article id="story" class="x"><h1>Headline</h1>'
        b'<p>First paragraph.</p><article class="embed"><p>Embedded.</p></article>'
        b"<p>Last paragraph.</p></article></body></html>"
    )
    bottom = b"<script>track(1732)</script><!-- served in 12 ms -->"
    assert reading(page(bottom=bottom, nonce=b"n2"), None) == found
    assert reading(page(top=b"<p>Updated 10:41</p>"), None) != found  # visible: read


def test_an_unclosed_element_runs_to_the_end_of_the_page():
    cut = page(ARTICLE.removesuffix(b"</article>"), bottom=b"<p>Footer</p>")
    assert part(cut, SCOPE).endswith(
        b"<p>Last paragraph.</p><p>Footer</p></body></html></body></html>"
    )


NYT = "https://www.nytimes.com/2018/06/05/world/europe/greece-macedonia.html"
BODY = b"".join(b"<p>Paragraph %d of the story, long enough to be text.</p>" % i for i in range(20))


def nyt_page(inside: bytes, outside: bytes = b"") -> bytes:
    return (
        b"<html><head><title>A Headline - The New York Times</title>"
        b'<meta property="og:title" content="A Headline"></head><body>'
        b'<article id="story"><h1 data-testid="headline">A Headline</h1>'
        + inside
        + b"</article>"
        + outside
        + b"</body></html>"
    )


def test_the_rules_read_the_part_when_they_find_the_article_there():
    html = nyt_page(b'<section name="articleBody">' + BODY + b"</section>", b"<nav>Menu</nav>")
    found, read = pages.read_fetched(html, None, NYT, "nytimes")
    assert read == pages.reading_of(html, "nytimes").data and b"Menu" not in read
    assert found == pages.extract(html, NYT, "nytimes")


def test_the_whole_page_is_read_when_the_rules_find_no_article_in_the_part():
    # An older layout: the story's paragraphs outside the element that names it.
    story = BODY.replace(b"<p>", b'<p class="story-body-text">')
    html = nyt_page(b"<p>Kicker</p>", b"<div>" + story + b"</div>")
    found, read = pages.read_fetched(html, None, NYT, "nytimes")
    assert read == html
    assert found == pages.extract(html, NYT, "nytimes") and found.extractor == "nytimes"
    assert len(found.body) == 20


def test_json_ld_after_the_element_stays_after_the_elements_own():
    # The first article object is the page's: a part that put the later one first would differ.
    ld = b'<script type="application/ld+json">{"@type": "NewsArticle", "datePublished": "%s"}'
    ld += b"</script>"
    inside = ld % b"2020-01-01" + b'<section name="articleBody">' + BODY + b"</section>"
    html = nyt_page(inside, ld % b"2021-02-02")
    found, read = pages.read_fetched(html, None, NYT, "nytimes")
    assert read == pages.reading_of(html, "nytimes").data
    assert found == pages.extract(html, NYT, "nytimes") and found.published == "2020-01-01"


# Corpus pages whose part each outlet with a scope reads, at least (fewer: a pattern stopped
# matching, or the rules no longer find the article in the part).
PARTS_READ = {"nytimes": 8, "guardian": 3, "bbc": 3, "cnn": 3}
_JSONLD = re.compile(rb"<script\b[^>]*application/ld\+json.*?</script\s*>", re.S | re.I)


def test_every_outlet_with_a_scope_is_checked_on_the_corpus():
    assert {name for name, page in pages.PAGES.items() if page.scope} == set(PARTS_READ)


def jsonld_after_the_body(body: bytes) -> bytes | None:
    """The page with its head's JSON-LD scripts moved to the end of its body (outside the
    element), None if its head has none."""
    head_end = body.find(b"</head>")
    scripts = _JSONLD.findall(body, 0, head_end)
    if not scripts:
        return None
    end = body.rfind(b"</body>")
    return _JSONLD.sub(b"", body[:head_end]) + body[head_end:end] + b"".join(scripts) + body[end:]


def reads_as_its_whole_page(body: bytes, url: str, outlet: str) -> bool:
    """Assert that the page reads as its whole page does; whether that reading was the part."""
    try:
        whole = pages.extract(body, url, outlet)
    except pages.NotArticle:
        with pytest.raises(pages.NotArticle):
            pages.read_fetched(body, None, url, outlet)
        return False
    found, read = pages.read_fetched(body, None, url, outlet)
    assert found == whole, url
    reading = pages.reading_of(body, outlet)
    assert read is body or read == reading.data, url
    assert jsonld(read, url) == jsonld(body, url), url  # the same objects, in the same order
    return read is not body and reading.element


def jsonld(html: bytes, url: str) -> list[dict]:
    return ArticlePage(parse(html), url).jsonld


@pytest.mark.parametrize("outlet", PARTS_READ)
def test_every_page_of_an_outlet_with_a_scope_reads_as_its_whole_page(outlet):
    read_part = []
    for url, path in corpus_pages(outlet):
        body = path.read_bytes()
        if reads_as_its_whole_page(body, url, outlet):
            read_part.append(path.parent.name)
        # JSON-LD outside the element (here: the head's, moved after it) is read with the part
        if moved := jsonld_after_the_body(body):
            assert reads_as_its_whole_page(moved, url, outlet) == (path.parent.name in read_part)
    assert len(read_part) >= PARTS_READ[outlet], read_part


def test_a_short_body_is_read_from_the_whole_page():
    # Whether a short text is a redirect stub depends on the page around it: here a script
    # outside the article's element sends the reader away.
    words = b" ".join(b"word%d" % i for i in range(40))
    html = nyt_page(
        b'<section name="articleBody"><p>' + words + b".</p></section>",
        b'<script>window.location.href = "https://www.nytimes.com/subscription";</script>',
    )
    with pytest.raises(pages.NotArticle) as raised:
        pages.read_fetched(html, None, NYT, "nytimes")
    assert raised.value.reason == "interstitial"
    html = html.replace(b"window.location.href = ", b"")
    found, read = pages.read_fetched(html, None, NYT, "nytimes")
    assert read is html and found.body == [words.decode() + "."]


CORPUS_OUTLETS = ["ap", "bbc", "cnn", "guardian", "nytimes", "reuters", "washingtonpost"]


@pytest.mark.parametrize("directory", CORPUS_OUTLETS)
def test_every_corpus_page_reads_without_its_scripts_as_the_generic_extractor_reads_it(directory):
    # No outlet: the reading is the whole page without scripts (but JSON-LD), styles, comments.
    articles = 0
    for url, path in corpus_pages(directory):
        body = path.read_bytes()
        try:
            whole = pages.extract(body, url, None)
        except pages.NotArticle:
            with pytest.raises(pages.NotArticle):
                pages.read_fetched(body, None, url, None)
            continue
        found, read = pages.read_fetched(body, None, url, None)
        assert found == whole, url
        assert read == pages.reading_of(body, None).data, url  # no body here is short
        articles += 1
    assert articles >= 1


@pytest.mark.parametrize(
    ("selector", "matches", "misses"),
    [
        (
            "main#content",
            [b'<main id="content" class="a">', b"<MAIN ID=content>"],
            [b'<main id="contents">', b'<div id="content">'],
        ),
        (
            "#content",
            [b'<div class="x" id="content">', b"<section id='content'>"],
            [b'<div data-id="content">'],
        ),
        (
            "article.story",
            [b'<article class="big story x">', b"<article class=story>"],
            [b'<article class="storyline">', b'<article data-class="story">'],
        ),
        (
            "div[role=main]",
            [b'<div role="main">', b"<div ROLE='main'>"],
            [b'<div data-role="main">', b"<div role='mainly'>"],
        ),
        ("main", [b"<main>", b'<main class="x">'], [b"<mainx>", b"<div>"]),
    ],
)
def test_a_declared_scope_is_a_simple_selector_matched_on_start_tags(selector, matches, misses):
    pattern = start_tag(selector)
    for tag in matches:
        found = pattern.search(tag)
        assert found and found.group(1).lower() == tag[1 : len(found.group(1)) + 1].lower(), tag
    assert not any(pattern.search(tag) for tag in misses)


@pytest.mark.parametrize("selector", ["div > p", "main#a.b", "", "div p", "[role]", "#"])
def test_a_scope_that_is_not_a_simple_selector_is_refused(selector):
    with pytest.raises(ValueError, match="scope must be"):
        start_tag(selector)
