"""Extraction against the saved corpus pages of every outlet, compared with the expected output
stored beside each page id in tests/fixtures/<outlet>/<id>/expected.json; the facts the upstream
projects published with the NYT pages (other outlets' facts are in tests/test_outlets.py), the
fallbacks and the not-an-article cases.

After a deliberate extraction change, regenerate the fixtures and read the diff before committing:

    python -m tests.test_pages --update
"""

from __future__ import annotations

import contextlib
import json
import re
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from parsel import Selector

from newsdiff.pages import PAGES, Extraction, NotArticle, extract, outlet_for_url, page_url
from newsdiff.pages.text import clean, split_names
from tests.corpus import (  # noqa: F401 - some are used by name in parametrize ids
    CORPUS,
    FIXTURES,
    FIXTURES_ROOT,
    KEYS,
    NYT_CORPUS,
    NYT_IDS,
    OUTLET_NAMES,
    OUTLET_OF,
    PAGE_DIRS,
    PAGE_IDS,
    REPO,
    URLS,
    expected,
    fixture_path,
    meta,
    run,
    source,
    text_of,
    upstream,
    url_of,
)

# --- every corpus page against its stored expectation --------------------------------------------


@pytest.mark.parametrize("folder", sorted({p.parent.name for p in PAGE_DIRS.values()}))
def test_every_corpus_outlet_has_a_page_class(folder):
    assert OUTLET_NAMES.get(folder, folder) in PAGES


@pytest.mark.parametrize("page_id", PAGE_IDS)
def test_every_corpus_page_has_a_fixture(page_id):
    assert fixture_path(page_id).is_file(), "python -m tests.test_pages --update"


@pytest.mark.parametrize("key", KEYS)
@pytest.mark.parametrize("page_id", PAGE_IDS)
def test_extraction_matches_fixture(page_id, key):
    assert run(page_id).get(key) == expected(page_id).get(key)


def article_ids() -> list[str]:
    """Pages whose stored expectation is an article (pages without a fixture fail above)."""
    return [p for p in PAGE_IDS if fixture_path(p).is_file() and "not_article" not in expected(p)]


@pytest.mark.parametrize("page_id", article_ids())
def test_no_junk_paragraphs(page_id):
    result = run(page_id)
    junk = re.compile(
        r"^(advertisement|supported by|continue reading|credit|image|transcript)\b"
        r"|sign up for|free articles? remaining|^\[.*\]$|^by [^.]*$|^read more\b|^share (on|via)\b",
        re.I,
    )
    assert [p for p in result["body"] if junk.search(p)] == []
    assert len(set(result["body"])) == len(result["body"])
    suffixes = [s.strip(" -|") for s in PAGES[OUTLET_OF[page_id]].site_suffixes]
    assert result["title"] and not any(result["title"].endswith(s) for s in suffixes)
    assert result["extractor"] == OUTLET_OF[page_id]  # the outlet's own rules found the body


# --- what the upstream projects published with the pages -----------------------------------------


def test_postlight_2016_facts():
    page_id = "postlight-nytimes-2016-rahami"
    facts, result = meta(page_id)["expected"], run(page_id)
    assert result["title"] == facts["title"]
    assert result["byline"] == split_names(facts["author"])
    assert result["published"] == "2016-09-19T11:46:01+00:00"  # upstream: 2016-09-19T11:46:01.000Z
    assert result["body"][0].startswith(facts["content_first_13_words"])
    assert result["extractor"] == "nytimes"


def test_newsdiffs_old_format_facts():
    result = run("newsdiffs-nytimes-2018-old-format")
    assert "SANTA FE, Tex." in text_of(result)
    assert result["body"][0].startswith("SANTA FE, Tex. — ")
    assert result["byline"] == ["Manny Fernandez", "Richard Fausset", "Jess Bidgood"]


def test_newsdiffs_new_format_facts():
    page_id = "newsdiffs-nytimes-2018-new-format"
    facts, result = meta(page_id)["expected"], run(page_id)
    assert facts["body_contains"] in text_of(result)
    assert not result["title"].endswith(facts["title_not_endswith"])
    # Upstream's 28 = 26 <p> in the body columns + 2 framing blanks; one of the 26 is the
    # metered-paywall notice "You have 3 free articles remaining.", which is not article text.
    assert facts["paragraph_count_split_on_blank_line"] == 28
    assert len(result["body"]) == 25
    assert result["byline"] == ["Michael S. Schmidt", "Maggie Haberman", "Charlie Savage"]


def test_newsdiffs_correction_facts():
    page_id = "newsdiffs-nytimes-2018-correction"
    facts, result = meta(page_id)["expected"], run(page_id)
    # NewsDiffs appended the correction to the body; we keep it apart.
    assert len(result["corrections"]) == 1
    assert result["corrections"][0].startswith(facts["body_contains"])
    assert "It was in Thessaloniki, Greece, not Athens." in result["corrections"][0]
    assert "Correction" not in text_of(result)
    assert "Thessaloniki, Greece, not Athens" not in text_of(result)


@pytest.mark.parametrize("page_id", ["readability-nytimes-1", "readability-nytimes-3"])
def test_readability_facts(page_id):
    facts = json.loads(upstream(page_id, "expected-metadata.json"))
    result = run(page_id)
    assert result["title"] == facts["title"]
    assert result["byline"] == [facts["byline"]]
    readable = Selector(upstream(page_id, "expected.html"))
    blocks = {clean(t) for t in readable.xpath("//p | //h2").xpath("string()").getall()}
    # Every paragraph we keep is one Readability kept; Readability also kept captions, the
    # author bio, the print citation and a newsletter promo, which we leave out.
    assert [p for p in result["body"] if p not in blocks] == []
    assert result["body"][-1] in blocks


def test_readability_5_is_the_section_front():
    # Readability scores the /es/ front "readerable"; its og:type even says article.
    assert meta("readability-nytimes-5")["url"] == "https://www.nytimes.com/es/"
    assert run("readability-nytimes-5") == {"not_article": "section-front"}
    with pytest.raises(NotArticle) as excinfo:
        extract(source("readability-nytimes-5"), "https://www.nytimes.com/es/")  # no outlet
    assert excinfo.value.reason == "section-front"


def test_trafilatura_eval_facts():
    page_id = "trafilatura-nytimes-2020-blackouts"
    facts = json.loads(upstream(page_id, "expected_evaldata.json"))[meta(page_id)["url"]]
    result = run(page_id)
    assert result["title"] == facts["title"]
    assert result["byline"] == [facts["author"]]
    assert result["published"].startswith(facts["date"])
    assert result["section"] == facts["categories"][0]
    for snippet in facts["with"]:
        assert snippet in text_of(result)
    for snippet in facts["without"]:
        assert snippet not in text_of(result)


def test_metascraper_opinion_facts():
    page_id = "metascraper-nytimes-2020-opinion-sway"
    snapshot = upstream(page_id, "expected_metadata_snapshot.md").split("## nytimes (opinion)")[1]
    facts = dict(re.findall(r"^\s+(\w+): '(.*)',$", snapshot, re.M))
    result = run(page_id)
    # metascraper reports the JSON-LD headline ("Opinion | …"); we keep the headline as shown.
    assert facts["title"] == f"Opinion | {result['title']}"
    assert result["byline"] == [facts["author"]]
    assert result["modified"] == "2021-06-08T16:13:03+00:00"  # upstream date: …16:13:03.209Z
    assert result["published"] == "2020-11-19T10:00:09+00:00"
    assert result["body"][0].startswith("President-Elect Joe Biden has a daunting task")


# --- fallbacks: the same real page with its NYT layout markers renamed ---------------------------

BLACKOUTS = "trafilatura-nytimes-2020-blackouts"
BLACKOUTS_URL = "https://www.nytimes.com/2020/08/16/business/california-blackouts.html"


def relayout(html: bytes) -> bytes:
    """A copy of a page after an imaginary redesign: none of the NYT body rules match."""
    for old, new in (
        (b"StoryBodyCompanionColumn", b"StoryColumn"),
        (b'name="articleBody"', b'name="storyBody"'),
        (b'itemProp="articleBody"', b'itemProp="storyBody"'),
        (b'itemprop="articleBody"', b'itemprop="storyBody"'),
    ):
        html = html.replace(old, new)
    return html


@pytest.mark.parametrize("page_id", [p for p in NYT_IDS if meta(p)["has_section_name_articleBody"]])
def test_articlebody_section_alone_gives_the_same_body(page_id):
    # If NYT drops the StoryBodyCompanionColumn class, the section-level rule must take over.
    html = source(page_id).replace(b"StoryBodyCompanionColumn", b"StoryColumn")
    result = extract(html, meta(page_id)["url"], "nytimes")
    assert result.extractor == "nytimes"
    assert result.body == expected(page_id)["body"]


def test_jsonld_fallback_when_outlet_rules_find_nothing():
    paragraphs = expected(BLACKOUTS)["body"]
    article_body = json.dumps("\n\n".join(paragraphs)).encode()
    html = relayout(source(BLACKOUTS)).replace(
        b'"@type":"NewsArticle",', b'"@type":"NewsArticle","articleBody":' + article_body + b",", 1
    )
    result = extract(html, BLACKOUTS_URL, "nytimes")
    assert result.extractor == "jsonld"
    # the articleBody, after the standfirst the page shows above it (its summary, which the
    # NYT's rules leave out and an articleBody mostly lacks)
    summary = result.body[0]
    assert summary.startswith("Managers of the electric system argue")
    assert summary not in paragraphs and result.body[1:] == paragraphs
    assert result.title == expected(BLACKOUTS)["title"]
    assert result.byline == ["Ivan Penn"]


def test_trafilatura_fallback_when_outlet_rules_and_jsonld_find_nothing():
    result = extract(relayout(source(BLACKOUTS)), BLACKOUTS_URL, "nytimes")
    assert result.extractor == "trafilatura"
    facts = json.loads(upstream(BLACKOUTS, "expected_evaldata.json"))[BLACKOUTS_URL]
    body = "\n".join(result.body)
    assert all(snippet in body for snippet in facts["with"])
    assert not any(snippet in body for snippet in facts["without"])
    found = set(result.body) & set(expected(BLACKOUTS)["body"])
    assert len(found) >= 0.8 * len(expected(BLACKOUTS)["body"])
    assert result.published == expected(BLACKOUTS)["published"]  # metadata still from the page


def test_jsonld_only_page_without_outlet():
    ld = {
        "@context": "https://schema.org",
        "@graph": [
            {
                "@type": "NewsArticle",
                "headline": "Council Approves Budget",
                "author": [{"@type": "Person", "name": "Ana Ruiz"}, {"name": "Bo Li"}],
                "datePublished": "2024-03-01T09:30:00-05:00",
                "articleSection": ["Metro"],
                "description": "Seven to two, after <em>three</em> hours &amp; a recess.",
                "articleBody": "The council voted 7-2.\n\nThe mayor said she would sign it.",
            }
        ],
    }
    html = (
        "<html><head><script type='application/ld+json'><![CDATA["
        f"{json.dumps(ld)}]]></script></head><body><div>Menu</div></body></html>"
    )
    result = extract(html, "https://example.com/budget", None)
    assert result.to_dict() == {
        "title": "Council Approves Budget",
        "byline": ["Ana Ruiz", "Bo Li"],
        "published": "2024-03-01T14:30:00+00:00",
        "modified": None,
        "section": "Metro",
        "body": ["The council voted 7-2.", "The mayor said she would sign it."],
        "corrections": [],
        "extractor": "jsonld",
        "summary": "Seven to two, after three hours & a recess.",
    }


SUMMARY_BODY = (
    "<article><h1>Bridge Reopens</h1>" + "<p>The bridge reopened today after repairs.</p>" * 8
)


@pytest.mark.parametrize(
    "head, summary",
    [
        # the JSON-LD article's description first, then Open Graph, Twitter, <meta name>
        (
            '<script type="application/ld+json">{"@type": "NewsArticle", "headline": "Bridge '
            'Reopens", "description": "From JSON-LD."}</script>'
            '<meta property="og:description" content="From Open Graph.">',
            "From JSON-LD.",
        ),
        (
            '<meta name="description" content="From meta.">'
            '<meta name="twitter:description" content="From Twitter.">'
            '<meta property="og:description" content="From Open Graph.">',
            "From Open Graph.",
        ),
        ('<meta name="description" content="  From   meta &amp; more. ">', "From meta & more."),
        # none, an empty one, or the headline again: no summary
        ("", None),
        ('<meta name="description" content=" ">', None),
        ('<meta property="og:description" content="Bridge Reopens">', None),
    ],
)
def test_summary_is_the_pages_own_description(head, summary):
    html = (
        f"<html><head><title>Bridge Reopens</title>{head}</head><body>{SUMMARY_BODY}</body></html>"
    )
    assert extract(html, "https://example.com/bridge", None).summary == summary


def test_trafilatura_fallback_on_a_plain_page():
    paragraphs = [
        f"Paragraph {n} tells how the river rose {n} feet overnight and what the town did next."
        for n in range(1, 7)
    ]
    html = (
        "<html><head><title>River Floods Town - Example News</title></head><body>"
        "<nav><a href='/'>Home</a> <a href='/news'>News</a></nav>"
        "<article><h1>River Floods Town</h1>"
        + "".join(f"<p>{p}</p>" for p in paragraphs)
        + "</article><footer>© Example News</footer></body></html>"
    )
    result = extract(html, "https://www.nytimes.com/2024/03/01/nyregion/flood.html", "nytimes")
    assert result.extractor == "trafilatura"
    assert result.title == "River Floods Town"
    assert result.body == paragraphs


@pytest.mark.parametrize(
    "kind", ["TechArticle", "ScholarlyArticle", "DiscussionForumPosting", "SocialMediaPosting"]
)
def test_every_kind_of_schema_org_article_is_read_as_one(kind):
    # schema.org's types under Article: a developer blog's TechArticle, a journal's
    # ScholarlyArticle, a forum thread's posting are articles, beside a CMS's CollectionPage
    ld = {
        "@context": "https://schema.org",
        "@graph": [
            {"@type": "CollectionPage", "name": "Example Journal"},
            {
                "@type": kind,
                "headline": "Council Approves Budget",
                "author": {"@type": "Person", "name": "Ana Ruiz"},
                "datePublished": "2024-03-01T09:30:00-05:00",
                "articleBody": "The council voted 7-2.\n\nThe mayor said she would sign it.",
            },
        ],
    }
    html = (
        f"<html><head><script type='application/ld+json'>{json.dumps(ld)}</script></head>"
        "<body><div>Menu</div></body></html>"
    )
    result = extract(html, "https://example.com/budget", None)
    assert (result.title, result.byline, result.published) == (
        "Council Approves Budget",
        ["Ana Ruiz"],
        "2024-03-01T14:30:00+00:00",
    )
    assert result.body == ["The council voted 7-2.", "The mayor said she would sign it."]


def test_one_paragraph_jsonld_summary_gives_way_to_trafilatura():
    paragraphs = [
        f"Paragraph {n} tells how the river rose {n} feet overnight and what the town did next."
        for n in range(1, 7)
    ]
    ld = {"@type": "NewsArticle", "headline": "River Floods Town", "articleBody": "A summary."}
    html = (
        f"<html><head><script type='application/ld+json'>{json.dumps(ld)}</script></head><body>"
        "<article><h1>River Floods Town</h1>"
        + "".join(f"<p>{p}</p>" for p in paragraphs)
        + "</article></body></html>"
    )
    result = extract(html, "https://example.com/flood", None)
    assert (result.extractor, result.body) == ("trafilatura", paragraphs)


# --- pages that are not articles -----------------------------------------------------------------

ARTICLE_URL = "https://www.nytimes.com/2024/03/01/us/story.html"


def not_article(html: str | bytes, outlet: str | None = "nytimes") -> NotArticle:
    with pytest.raises(NotArticle) as excinfo:
        extract(html, ARTICLE_URL, outlet)
    assert str(excinfo.value).endswith(".")  # a sentence a person can read
    return excinfo.value


def test_paywall_stub():
    html = """<html><head><meta property="og:type" content="article">
    <title>Big Story - The New York Times</title></head><body><article id="story">
    <h1 data-testid="headline">Big Story</h1><section name="articleBody">
    <div class="StoryBodyCompanionColumn"><p>WASHINGTON — The first sentence of the story.</p></div>
    </section><div class="gate"><h2>Subscribe to continue reading.</h2>
    <p>Already a subscriber? Log in.</p></div></article></body></html>"""
    assert not_article(html).reason == "paywall"


def test_login_gate_without_any_article_text():
    html = "<html><body><main><h2>Log in to read this article</h2><button>Log in</button></main>"
    assert not_article(html, None).reason == "paywall"


@pytest.mark.parametrize(
    "html",
    [
        '<html><head><meta http-equiv="refresh" content="0;url=https://www.nytimes.com/a.html">'
        "</head><body>Redirecting…</body></html>",
        "<html><head><script>window.location.href = '/a.html?redirect=1';</script></head>"
        "<body><p>One moment…</p></body></html>",
        "<html><head><title>nytimes.com</title></head><body>"
        "<p>Please enable JS and disable any ad blocker</p></body></html>",
    ],
    ids=["meta-refresh", "js-redirect", "bot-check"],
)
def test_interstitials(html):
    assert not_article(html).reason == "interstitial"


@pytest.mark.parametrize(
    ("href", "url", "outlet"),
    [
        ("/2024/03/0{m}/us/s{n}.html", ARTICLE_URL, "nytimes"),
        # teasers that lead below the front's own path are still other pages' (not its views)
        ("/sport/football/{n}", "https://www.example.com/sport", None),
    ],
)
def test_section_front_without_explicit_markers(href, url, outlet):
    teasers = "".join(
        f"<article><h3><a href='{href.format(m=n % 9 + 1, n=n)}'>Headline {n}</a></h3>"
        f"<p>A one-line summary of story {n}.</p></article>"
        for n in range(30)
    )
    html = f"<html><head><title>U.S. News</title></head><body><main>{teasers}</main></body></html>"
    website = html.replace("<head>", '<head><meta property="og:type" content="website">')
    for page, rules in [(html, outlet), (website, None)]:
        with pytest.raises(NotArticle) as found:
            extract(page, url, rules)
        assert found.value.reason == "section-front"


@pytest.mark.parametrize("html", [b"", "", "   \n\t", b"\xef\xbb\xbf"])
def test_empty_input(html):
    assert not_article(html).reason == "empty"


@pytest.mark.parametrize(
    "html", [b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", b"\x89PNG\r\n\x1a\n\0\0", '{"headline": "x"}']
)
def test_not_html(html):
    assert not_article(html).reason == "not-html"


@pytest.mark.parametrize(
    "html",
    [
        "<html><body><div><p>Unclosed <b>bold <i>and",
        "<html><head><script type='application/ld+json'>{broken json</script></head><body></body>",
        "<html><body><section name='articleBody'><div class='StoryBodyCompanionColumn'></div>",
        "<html>\x00\x00<body>\x00</body></html>",
        "<<<<>>>>" * 100,
    ],
)
def test_broken_html_raises_only_not_article(html):
    not_article(html)


@pytest.mark.parametrize("fraction", [0.01, 0.2, 0.5, 0.8, 0.99])
@pytest.mark.parametrize("page_id", PAGE_IDS)
def test_truncated_pages_never_crash(page_id, fraction):
    html = source(page_id)
    try:
        result = extract(html[: int(len(html) * fraction)], url_of(page_id), OUTLET_OF[page_id])
    except NotArticle:
        return
    assert result.body


@settings(max_examples=150, deadline=None)
@given(st.one_of(st.binary(max_size=3000), st.text(max_size=3000)))
def test_arbitrary_input_raises_only_not_article(data):
    with contextlib.suppress(NotArticle):
        extract(data, ARTICLE_URL, "nytimes")


_TAGS = ["<html>", "<body>", "<p>", "</p>", "<article>", "<section name='articleBody'>", "<h1>"]
_TAGS += ["<div class='StoryBodyCompanionColumn'>", "</div>", "<script>", "</script>", "<a href=x>"]


@settings(max_examples=150, deadline=None)
@given(st.lists(st.one_of(st.sampled_from(_TAGS), st.text(max_size=40)), max_size=60))
def test_arbitrary_tag_soup_raises_only_not_article(parts):
    try:
        result = extract("".join(parts), ARTICLE_URL, "nytimes")
    except NotArticle:
        return
    assert result.body


# --- decoding, names, URLs -----------------------------------------------------------------------

_STORY = (
    "<html><head>{meta}</head><body><article><h1 itemprop='headline'>Caf\u00e9 Owner Speaks</h1>"
    "<p class='story-body-text'>The caf\u00e9 on Main Street reopened on Tuesday, its owner said."
    "</p>"
    "</article></body></html>"
)


@pytest.mark.parametrize(
    "meta_tag, encoding",
    [
        ('<meta charset="windows-1252">', "cp1252"),
        ('<meta http-equiv="Content-Type" content="text/html; charset=ISO-8859-1">', "cp1252"),
        ('<meta charset="utf-8">', "utf-8"),
        ("", "utf-8"),
    ],
)
def test_bytes_are_decoded_by_meta_charset(meta_tag, encoding):
    result = extract(_STORY.format(meta=meta_tag).encode(encoding), ARTICLE_URL, "nytimes")
    assert result.title == "Caf\u00e9 Owner Speaks"
    assert result.body == ["The caf\u00e9 on Main Street reopened on Tuesday, its owner said."]


def test_undecodable_bytes_are_replaced():
    html = _STORY.format(meta="").encode().replace(b"Main", b"M\xffain")
    assert extract(html, ARTICLE_URL, "nytimes").body[0].startswith("The caf\u00e9 on M")


def test_correction_paragraphs_leave_the_body():
    html = """<html><body><article><h1 data-testid="headline">Storm Hits Coast</h1>
    <section name="articleBody"><div class="StoryBodyCompanionColumn">
    <p>The storm hit the coast on Monday night, flooding streets in three towns.</p>
    <p><em>An earlier version of this article misstated the day the storm hit.</em></p>
    </div></section><div class="css-x"><strong>Editors’ Note:</strong>
    <p>This article has been updated to remove a quote.</p></div></article></body></html>"""
    result = extract(html, ARTICLE_URL, "nytimes")
    assert result.body == [
        "The storm hit the coast on Monday night, flooding streets in three towns."
    ]
    assert result.corrections == [
        "An earlier version of this article misstated the day the storm hit.",
        "Editors’ Note: This article has been updated to remove a quote.",
    ]


@pytest.mark.parametrize(
    "value, names",
    [
        (
            "By Marc Santora, William K. Rashbaum, Al Baker and Adam Goldman",
            ["Marc Santora", "William K. Rashbaum", "Al Baker", "Adam Goldman"],
        ),
        (
            "By MANNY FERNANDEZ, RICHARD FAUSSET and JESS BIDGOOD",
            ["Manny Fernandez", "Richard Fausset", "Jess Bidgood"],
        ),
        ("By Ivan Penn", ["Ivan Penn"]),
        ("Por Tariq Panja", ["Tariq Panja"]),
        ("A, B, and C", ["A", "B", "C"]),
        ("", []),
    ],
)
def test_split_names(value, names):
    assert split_names(value) == names


def test_outlet_for_url():
    assert outlet_for_url("https://www.nytimes.com/2024/01/01/us/x.html") == "nytimes"
    assert outlet_for_url("https://nytimes.com/x") == "nytimes"
    assert outlet_for_url("https://notnytimes.com/x") is None
    assert outlet_for_url("file:///tmp/page.html") is None


def test_page_url():
    html = '<html><head><link rel="canonical" href="https://www.nytimes.com/a.html"></head></html>'
    assert page_url(html) == "https://www.nytimes.com/a.html"
    assert page_url(b"") is None


def test_extraction_to_dict_keeps_field_order():
    result = Extraction("t", [], None, None, None, ["p"], [], "nytimes").to_dict()
    assert list(result) == KEYS[1:]
    assert json.loads(json.dumps(result)) == result


# --- fixture maintenance -------------------------------------------------------------------------


def update_fixtures() -> None:
    for page_id in PAGE_IDS:
        path = fixture_path(page_id)
        path.parent.mkdir(parents=True, exist_ok=True)
        text = json.dumps(run(page_id), ensure_ascii=False, indent=2) + "\n"
        path.write_text(text, encoding="utf-8")
        print(f"wrote {path.relative_to(REPO)}")


if __name__ == "__main__":
    if sys.argv[1:] != ["--update"]:
        sys.exit("usage: python -m tests.test_pages --update")
    update_fixtures()


# --- never lose a real article: evidence, not hints ----------------------------------------------

STORY = [
    f"Paragraph {n} of the story says what the council decided on day {n} and why it matters."
    for n in range(1, 9)
]


def article_page(head: str = "", before: str = "", after: str = "", body=STORY) -> str:
    paragraphs = "".join(f"<p>{p}</p>" for p in body)
    return (
        f"<html><head><title>Council Votes - Daily Example</title>{head}</head><body>{before}"
        f"<article><h1>Council Votes to Rebuild the Bridge</h1>{paragraphs}</article>"
        f"{after}</body></html>"
    )


def teasers(count: int) -> str:
    return "".join(
        f"<div><h3><a href='/2024/03/01/s{n}.html'>Other story {n}</a></h3></div>"
        for n in range(count)
    )


def test_a_column_or_collection_page_is_still_an_article():
    # A 2016 DealBook article: its nyt-collection metas describe the column it belongs to.
    html = source("newsdiffs-nytimes-2018-new-format").replace(
        b"<head>",
        b'<head><meta name="nyt-collection:type" content="column">'
        b'<meta name="nyt-collection:display-name" content="DealBook">',
        1,
    )
    result = extract(html, url_of("newsdiffs-nytimes-2018-new-format"), "nytimes")
    assert result.extractor == "nytimes" and len(result.body) > 5


@pytest.mark.parametrize(
    "head",
    [
        '<meta property="og:type" content="website">',  # a blog's usual og:type
        '<script type="application/ld+json">{"@type": "ItemList", "itemListElement": []}</script>',
        '<script type="application/ld+json">{"@type": "BreadcrumbList"}</script>',
    ],
    ids=["og-website", "itemlist", "breadcrumbs"],
)
def test_hints_of_a_listing_beside_a_short_article_do_not_lose_it(head):
    html = article_page(head, before=teasers(40), body=STORY[:3])  # 50 words, a big sidebar
    result = extract(html, "https://example.org/2024/03/01/council.html", None)
    assert result.body == STORY[:3]


@pytest.mark.parametrize(
    "declared",
    [
        '<meta property="og:type" content="article">',
        '<meta property="article:published_time" content="2024-03-01T09:00:00Z">',
    ],
    ids=["og-article", "published-time"],
)
def test_a_listing_type_from_the_template_does_not_lose_a_declared_article(declared):
    # The CMS marks every page a CollectionPage; Open Graph says this one is an article.
    listing = '<script type="application/ld+json">{"@type": "CollectionPage"}</script>'
    html = article_page(listing + declared)
    assert extract(html, "https://example.org/2024/03/01/council.html", None).body == STORY
    # Without the article's own declaration its body decides (tests/test_robustness.py): a story
    # on a page without teasers is an article; beside 40 headlines a short one is not.
    assert extract(article_page(listing), "https://example.org/a", None).body == STORY
    html = article_page(listing, before=teasers(40))
    assert not_article(html, None).reason == "section-front"


def test_short_paragraphs_beside_a_sidebar_of_headlines_are_an_article():
    # A post of short paragraphs (a list, notes, code) on a blog whose sidebar links 40 posts.
    short = [f"Step {n}: press the button marked {n} and wait." for n in range(1, 15)]
    html = article_page(after=f"<aside>{teasers(40)}</aside>", body=short)
    assert extract(html, "https://example.org/2024/03/01/steps.html", None).body == short


def test_a_webpage_wrapper_around_the_article_gives_its_article_body():
    ld = {
        "@type": "WebPage",
        "mainEntity": {"@type": "NewsArticle", "headline": "H", "articleBody": "\n".join(STORY)},
    }
    html = article_page(f'<script type="application/ld+json">{json.dumps(ld)}</script>')
    result = extract(html.replace("<p>", "<div>").replace("</p>", "</div>"), "https://e.org/a")
    assert (result.extractor, result.body) == ("jsonld", STORY)


def test_a_paywall_phrase_in_the_chrome_of_a_full_article_is_not_a_paywall():
    html = article_page(after="<footer>Already a subscriber? Log in.</footer>", body=STORY * 3)
    assert len(extract(html, "https://example.org/a", None).body) == 24


@pytest.mark.parametrize(
    "before, after",
    [
        ("<header><a href='/login'>Already a subscriber? Log in.</a></header>", ""),
        ("<nav>Subscribe to continue reading the best of Example News</nav>", ""),
        ("", "<footer>Already a subscriber? Log in.</footer>"),
        ("", "<div class='gate' hidden><h2>Subscribe to continue reading.</h2></div>"),
        ("", "<div aria-hidden='true'>You've reached your free article limit.</div>"),
    ],
    ids=["header", "nav", "footer", "hidden-gate", "aria-hidden-gate"],
)
def test_a_short_article_is_not_a_paywall_for_the_sites_chrome(before, after):
    # A brief of 8 short paragraphs (under SHORT_BODY_WORDS) on a site with a metered paywall.
    html = article_page(before=before, after=after)
    assert extract(html, "https://example.org/a", None).body == STORY


@pytest.mark.parametrize(
    "script",
    [
        "if (top.location != self.location) { top.location = self.location; }",
        "if (top.location !== window.location) top.location.replace(window.location);",
        "if (window.location.href == 'https://example.org/') { track('home'); }",
    ],
    ids=["frame-buster", "frame-buster-replace", "comparison"],
)
def test_a_script_that_does_not_send_the_reader_away_keeps_a_short_article(script):
    html = article_page(f"<script>{script}</script>", body=STORY[:3])
    assert extract(html, "https://example.org/a", None).body == STORY[:3]


def test_short_text_in_a_script_without_spaces_is_still_counted():
    # Chinese and Japanese put no spaces between words: 40 characters are an article's worth.
    line = "这是一篇关于城市议会决定重建大桥的新闻报道内容。" * 4
    html = article_page(body=[line, line[::-1]])
    assert extract(html, "https://example.cn/a", None).body == [line, line[::-1]]


@pytest.mark.parametrize(
    "before",
    [
        "<div class='modal'><h1>Thanks for visiting Example Money.</h1></div>",
        "<header><h1>Daily Example</h1></header>",
        "<div role='dialog'><h1>Subscribe for $1</h1></div>",
    ],
    ids=["modal", "site-header", "dialog"],
)
def test_the_title_is_the_articles_headline_not_a_modals_or_the_sites(before):
    head = '<meta property="og:title" content="Council Votes to Rebuild the Bridge | Example">'
    assert extract(article_page(head, before=before), "https://e.org/a").title == (
        "Council Votes to Rebuild the Bridge"
    )
    # With no article heading, the metadata headline, without the site's name.
    html = article_page(head, before=before).replace(
        "<h1>Council Votes to Rebuild the Bridge</h1>", ""
    )
    assert extract(html, "https://e.org/a").title == "Council Votes to Rebuild the Bridge"


def test_a_kicker_before_the_headline_is_not_part_of_the_title():
    html = article_page('<meta property="og:title" content="Council Votes to Rebuild the Bridge">')
    html = html.replace("<h1>", "<h1><span>Transport</span> ")
    assert extract(html, "https://e.org/a").title == "Council Votes to Rebuild the Bridge"


def test_agreement_of_a_body_with_the_generic_extractor():
    from newsdiff.pages import agreement

    html = article_page(body=STORY * 2).encode()
    assert agreement(html, "https://e.org/a", STORY * 2) >= 0.95
    assert agreement(html, "https://e.org/a", STORY[:2]) < 0.5  # rules that kept a fragment
    assert agreement(html, "https://e.org/a", ["Something else entirely, about a cat."]) == 0


HEADLINE = "Council Votes to Rebuild the Bridge"


def titled_page(head: str = "", heading: str = "", before: str = "", title: str = "") -> str:
    """article_page with its own <title> and <h1> (none when heading is empty)."""
    html = article_page(head).replace(f"<h1>{HEADLINE}</h1>", heading)
    html = html.replace("<body>", f"<body>{before}")
    return html.replace("<title>Council Votes - Daily Example</title>", f"<title>{title}</title>")


@pytest.mark.parametrize(
    ("head", "heading"),
    [
        (
            f'<meta property="og:title" content="Transport – {HEADLINE}">',
            f'<h1><span class="overline">Transport</span>{HEADLINE}</h1>',
        ),
        (
            f'<meta property="og:title" content="{HEADLINE} - Daily Example">',
            f'<h1><span><time datetime="2022-02-01">1. Februar 2022</time></span>'
            f"<span>{HEADLINE}</span></h1>",
        ),
        (
            f'<meta property="og:title" content="{HEADLINE}">',
            f"<h1>{HEADLINE}<br><small>02.02.2022 • Politics, Transport</small></h1>",
        ),
    ],
    ids=["kicker-element", "date-element", "date-after"],
)
def test_a_headings_kicker_or_date_piece_is_not_part_of_the_title(head, heading):
    html = titled_page(head, heading, title="Daily Example")
    assert extract(html, "https://e.org/a").title == HEADLINE


@pytest.mark.parametrize(
    ("title", "url", "before"),
    [
        (f"{HEADLINE} - examplenews", "https://www.examplenews.org/a", ""),
        (f"{HEADLINE} - MyExample Forum", "https://forum.myexample.org/a", ""),
        (f"{HEADLINE} - Example News", "https://www.example-news.org/a", ""),
        (
            f"Daily Example » Blog Archive » {HEADLINE}",
            "https://e.org/2024/03/bridge",
            "<div id='top'><h1><a href='https://e.org/'>Daily Example</a></h1></div>",
        ),
        (
            f"{HEADLINE} - Example Foundation",
            "https://e.org/a",
            "<div><a href='/'><img alt='Example Foundation: to the front page'></a></div>",
        ),
        (f"08.11.2021 | {HEADLINE}", "https://e.org/a", ""),
    ],
    ids=["host-name", "host-word", "hyphenated-host", "blog-archive", "home-link", "date"],
)
def test_the_sites_name_or_a_date_at_either_end_of_the_title_is_dropped(title, url, before):
    html = titled_page(before=before, title=title)
    assert extract(html, url).title == HEADLINE


def test_a_heading_that_only_links_to_the_front_page_is_the_sites_name_not_the_title():
    site = "Bridge Watch: Council Votes to Rebuild Bridges"
    before = f"<div><h1><a href='/?lang=en'>{site}</a></h1></div>"
    html = titled_page(before=before, title=f"{HEADLINE} » Bridge Watch")
    assert extract(html, "https://e.org/a").title == HEADLINE


def test_a_heading_linking_to_its_own_post_by_query_is_not_a_link_home():
    before = f"<div><h1><a href='/?p=3289'>{HEADLINE}</a></h1></div>"  # an old blog's permalink
    html = titled_page(before=before, title=f"{HEADLINE} - Example Gazette")
    assert extract(html, "https://e.org/?p=3289").title == HEADLINE


def test_a_one_word_section_heading_is_not_confirmed_by_a_title_it_begins():
    before = f"<div><h1>Notices</h1></div><div><h1>{HEADLINE}</h1></div>"
    html = titled_page(before=before, title=f"Notices - {HEADLINE}")
    assert extract(html, "https://e.org/a").title == HEADLINE


NAV = "<nav><a href='/forum/'>Forum</a> <a href='/forum/bridges/'>Bridges</a></nav>"
CRUMBS = (
    "<div class='Breadcrumb'><span>Forum</span> &gt; <span>Bridges</span> &gt; "
    f"<span>{HEADLINE}</span></div>"
)


@pytest.mark.parametrize("before", [NAV, CRUMBS], ids=["site-links", "breadcrumb"])
def test_the_sections_a_title_names_after_the_headline_are_dropped(before):
    site = '<meta property="og:site_name" content="Daily Example">'
    html = titled_page(site, before=before, title=f"{HEADLINE} | Bridges | Forum | Daily Example")
    assert extract(html, "https://e.org/forum/t/1").title == HEADLINE
    html = titled_page(site, before=before, title=f"Daily Example - Forum - {HEADLINE}")
    assert extract(html, "https://e.org/forum/t/1").title == HEADLINE


def test_a_title_segment_that_is_no_section_of_the_site_stays():
    # A tag inside the article, the breadcrumb's last step, a heading showing the whole title.
    tag = "<article><a href='/tag/bridges'>Bridges</a></article>"
    crumbs = "<ol class='breadcrumbs'><li><a href='/'>Home</a></li><li>Bridges</li></ol>"
    html = titled_page(before=tag + crumbs, title=f"{HEADLINE} - Bridges")
    assert extract(html, "https://e.org/a").title == f"{HEADLINE} - Bridges"
    html = titled_page(before=NAV, title=f"Bridges – {HEADLINE}")
    html = html.replace("<article>", f"<article><h1>Bridges – {HEADLINE}</h1>")
    assert extract(html, "https://e.org/a").title == f"Bridges – {HEADLINE}"


def test_a_chinese_titles_site_name_after_a_bare_hyphen_is_dropped():
    headline = "武汉的声音：有英勇的你，才有英雄的城！"
    html = titled_page(before="<div><a href='/'>新华网</a></div>", title=f"{headline}-新华网")
    assert extract(html, "http://www.xinhuanet.com/local/c_1.htm").title == headline


def test_an_og_title_cut_at_an_unescaped_quotation_mark_is_read_from_the_title():
    head = '<meta property="og:title" content="Senator calls the mayor "unfit"">'
    html = titled_page(head, title='Senator calls the mayor "unfit" | Daily Example')
    assert extract(html, "https://e.org/a").title == 'Senator calls the mayor "unfit"'


def test_without_a_headline_heading_the_metadata_title_a_subheading_shows_wins():
    ld = {"@type": "NewsArticle", "headline": "Bridge: council votes, work starts in May"}
    head = f'<script type="application/ld+json">{json.dumps(ld)}</script>'
    head += f'<meta property="og:title" content="{HEADLINE}">'
    html = titled_page(head, heading=f"<h2>{HEADLINE}</h2>", title="Daily Example")
    assert extract(html, "https://e.org/a").title == HEADLINE
    # ... also beside a kicker the metadata sets apart
    heading = f"<h2><span>Transport</span> {HEADLINE}</h2>"
    head = head.replace(f'content="{HEADLINE}"', f'content="Transport - {HEADLINE}"')
    assert extract(titled_page(head, heading=heading), "https://e.org/a").title == HEADLINE


def test_without_a_headline_heading_a_title_segment_a_subheading_shows_is_the_headline():
    title = f"Jane Doe's Corner | {HEADLINE}"
    html = titled_page(heading=f"<h2>{HEADLINE}</h2>", title=title)
    assert extract(html, "https://e.org/a").title == HEADLINE
    # the blog's name in a box of its own is not the headline
    box = "<div class='sidebar'><h2>Jane Doe's Corner</h2></div>"
    html = titled_page(before=box, heading=f"<h2>{HEADLINE}</h2>", title=title)
    assert extract(html, "https://e.org/a").title == HEADLINE


def test_the_pages_only_heading_on_the_story_comes_before_a_rewritten_og_title():
    head = '<meta property="og:title" content="What the Council Wants for the Bridge | Ex">'
    html = titled_page(head, before=f"<div><h1>{HEADLINE}</h1></div>", title="Ex")
    assert extract(html, "https://e.org/a").title == HEADLINE
    # a heading about something else is a box's or the site's, not the story's
    html = titled_page(head, before="<div><h1>Sign Up for Our Newsletter</h1></div>", title="Ex")
    assert extract(html, "https://e.org/a").title == "What the Council Wants for the Bridge"


def test_a_twitter_title_that_differs_from_the_og_title_confirms_the_headline_too():
    head = f'<meta property="og:title" content="Transport: {HEADLINE}">'
    head += f'<meta name="twitter:title" content="{HEADLINE}">'
    html = titled_page(head, heading=f"<h1><span>Transport</span> {HEADLINE}</h1>", title="Ex")
    assert extract(html, "https://e.org/a").title == HEADLINE


def test_a_short_title_segment_with_the_hosts_name_among_its_words_is_the_sites():
    url = "https://www.example-news.org/a"
    html = titled_page(title=f"Friends of Example News Regensburg - {HEADLINE}")
    assert extract(html, url).title == HEADLINE
    # the longest segment is the headline, whatever it names
    html = titled_page(title="Example News Wins an Award - Events")
    assert extract(html, url).title == "Example News Wins an Award - Events"


def test_a_heading_in_the_pages_header_is_the_title_when_the_metadata_names_it():
    # A <header> holding the headline, outside any <article>, and one inside <main>.
    html = titled_page(before=f"<header><h1>{HEADLINE}</h1></header>", title=f"{HEADLINE} | Ex")
    assert extract(html, "https://e.org/a").title == HEADLINE
    before = f"<main><header><h1>{HEADLINE}</h1></header></main>"
    html = titled_page(before=before, title=f"{HEADLINE} - Example Gazette")
    assert extract(html, "https://e.org/a").title == HEADLINE


def test_the_articles_own_heading_comes_before_metadata_that_does_not_name_it():
    head = '<meta property="og:title" content="Why the bridge matters to you | Example">'
    html = article_page(head)
    assert extract(html, "https://e.org/a").title == HEADLINE


@pytest.mark.parametrize("separator", [" › ", " « ", " ‹ ", " :: ", " ~ ", " ∙ ", " ◦ ", " ⋅ "])
@pytest.mark.parametrize("site_first", [False, True])
def test_the_sites_name_goes_whatever_the_separator(separator, site_first):
    title = (
        f"Daily Example{separator}{HEADLINE}"
        if site_first
        else f"{HEADLINE}{separator}Daily Example"
    )
    head = '<meta property="og:site_name" content="Daily Example">'
    html = titled_page(head, title=title)  # no heading: the title is the metadata's
    assert extract(html, "https://dailyexample.com/a").title == HEADLINE


def test_html_entities_in_a_json_ld_headline_are_decoded():
    ld = {"@type": "NewsArticle", "headline": "Council Votes &#8211; Rebuild the Bridge"}
    head = f'<script type="application/ld+json">{json.dumps(ld)}</script>'
    html = titled_page(head, title="Ex")
    assert extract(html, "https://e.org/a").title == "Council Votes \u2013 Rebuild the Bridge"


RELATED = {
    "@type": "NewsArticle",
    "headline": "Budget vote put off again",
    "url": "https://e.org/2020/01/01/budget.html",
    "datePublished": "2020-01-01T00:00:00Z",
    "description": "The council put off its budget vote for the third time.",
}
OWN = {
    "@type": "NewsArticle",
    "headline": HEADLINE,
    "datePublished": "2024-03-01T08:00:00Z",
    "description": "After a year of closures, the council decided to rebuild the old bridge.",
}


@pytest.mark.parametrize(
    "objects",
    [
        [RELATED, {**OWN, "mainEntityOfPage": {"@id": "https://e.org/a"}}],  # named by its @id
        [RELATED, {**OWN, "url": "https://www.e.org/a/"}],  # the same page, spelt otherwise
        [{"@graph": [{"@type": "WebPage", "@id": "https://e.org/a"}, RELATED, OWN]}],  # unnamed
        [RELATED, {**OWN, "@id": "https://e.org/a#article"}, {**RELATED, "url": "/b"}],
    ],
)
def test_the_json_ld_article_is_the_pages_own_not_a_related_story_listed_before_it(objects):
    # Pages list related stories as NewsArticle objects too: their date and description must
    # not become this article's (a rotating list would make false "summary" versions).
    head = "".join(f'<script type="application/ld+json">{json.dumps(o)}</script>' for o in objects)
    extraction = extract(article_page(head), "https://e.org/a")
    assert extraction.title == HEADLINE
    assert extraction.summary == OWN["description"]
    assert extraction.published == "2024-03-01T08:00:00+00:00"


def test_soft_hyphens_and_ruby_annotations_are_not_part_of_the_title():
    heading = "<h1>Coun\xadcil Votes to <ruby>Re<rt>ri</rt></ruby>build the Bridge</h1>"
    html = titled_page(heading=f"<article>{heading}</article>", title="Ex")
    assert extract(html, "https://e.org/a").title == HEADLINE


@pytest.mark.parametrize(
    "line",
    [
        "© Jane Doe/Example Images",
        "Photo: Jane Doe",
        "The mayor at the council meeting on Monday. © AFP / JANE DOE",
        "The mayor at the council meeting (Foto: Jane Doe/Reuters).",
        "Read more: Council approves the new budget",
        "Lesen Sie auch:",
        "Kontakt:",
        "Anzeige, enthält Affiliate Links",
        "Never miss the latest news by signing up to our newsletter today!",
        "Get our Daily Edition by email and never miss our top stories. Free Sign Up",
    ],
)
def test_credits_read_more_labels_and_sign_up_prompts_are_not_part_of_a_generic_body(line):
    body = [*STORY[:4], line, *STORY[4:]]
    found = extract(article_page(body=body), "https://e.org/a").body
    assert found == STORY


@pytest.mark.parametrize(
    "line",
    [
        "Weitere Informationen zur Tat liegen der Polizei nicht vor.",  # a sentence, not a lead-in
        "Readers who subscribe pay for the reporting, the council said in its letter to them.",
        "The photographer said the image, taken in 1972, changed how the town saw the bridge.",
    ],
)
def test_sentences_like_boilerplate_stay_in_a_generic_body(line):
    body = [*STORY[:4], line, *STORY[4:]]
    assert extract(article_page(body=body), "https://e.org/a").body == body
