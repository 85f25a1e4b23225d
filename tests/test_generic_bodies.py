"""The generic body (no outlet rules): what it takes from the JSON-LD articleBody and from
trafilatura, on real devset pages and on pages built here."""

from __future__ import annotations

import json
import re

import pytest

from newsdiff.pages import extract, extract_fetched
from newsdiff.pages.base import ArticlePage
from newsdiff.pages.extract import parse
from newsdiff.pages.generic import (
    _links_away,
    split_paragraphs,
    with_standfirst,
    without_author_boxes,
    without_dialogs,
    without_lead_in,
    without_teaser_run,
)
from newsdiff.pages.text import clean, plain_text, running_words
from tests.test_robustness import devset_page, expected, with_snippets

STORY = [
    f"Paragraph {n} of the story says what the council decided on day {n} and why it matters."
    for n in range(1, 9)
]


def ld_page(article_body: str, body: list[str] = STORY) -> str:
    ld = {"@type": "NewsArticle", "headline": "Council Votes", "articleBody": article_body}
    paragraphs = "".join(f"<p>{p}</p>" for p in body)
    script = json.dumps(ld).replace("</", "<\\/")  # as pages write it: no "</script>" inside
    return (
        f"<html><head><script type='application/ld+json'>{script}</script></head>"
        f"<body><article><h1>Council Votes</h1>{paragraphs}</article></body></html>"
    )


# --- a JSON-LD articleBody holding HTML --------------------------------------------------------


def test_html_in_a_json_ld_article_body_is_read_as_html():
    markup = "".join(f"<p>{p}</p>" for p in STORY[:4])
    markup += "<script>googletag.cmd.push(function() { show('ad'); });</script>"
    markup += f"<h2>Why it matters</h2><p>{STORY[4]}<br>{STORY[5]}</p><div>{STORY[6]}</div>"
    markup += f"<p>{STORY[7]}\n</p>"
    result = extract(ld_page(markup), "https://e.org/a")
    assert result.extractor == "jsonld"
    assert result.body == [*STORY[:4], "Why it matters", *STORY[4:]]


def test_teaser_links_and_hidden_markup_in_a_json_ld_article_body_are_left_out():
    # the CMS's embeds: a "read also" box with a hidden date, a paragraph that is one link
    box = (
        "<div class='read-also'><a href='/a'><div class='img'></div></a>"
        "<a href='/b'>Another story entirely: the mayor answers her critics</a>"
        "<span style='display: none'>Monday 2 May, 2022 | 09:37</span></div>"
    )
    promo = "<p><a href='/plan'>Want more than a few tips? Try our eight-week plan:</a></p>"
    cited = f"<p>{STORY[3]} <a href='/report'>The report</a> says so.</p>"
    hidden = "<p style='display:none'>Gallery: twelve pictures of the old bridge</p>"
    markup = "".join(f"<p>{p}</p>" for p in STORY[:3]) + box + cited + promo + hidden
    markup += "".join(f"<p>{p}</p>" for p in STORY[4:])
    result = extract(ld_page(markup), "https://e.org/a")
    assert result.extractor == "jsonld"
    assert result.body == [*STORY[:3], f"{STORY[3]} The report says so.", *STORY[4:]]


def test_entities_in_a_json_ld_article_body_are_decoded_and_its_lines_kept():
    body = [
        "Uma das lideran&ccedil;as da organiza&ccedil;&atilde;o foi presa.",
        "Ele tamb&eacute;m&nbsp;era investigado.",
    ]
    assert plain_text("\n".join(body)) == (
        "Uma das lideranças da organização foi presa.\nEle também\xa0era investigado."
    )
    escaped_twice = (
        "&lt;p class=&quot;texto&quot;&gt;Em busca de uma solu&amp;ccedil;&amp;atilde;o&lt;/p&gt;"
    )
    assert plain_text(escaped_twice).strip() == "Em busca de uma solução"
    for text in ("Plain text\nwith <3 lines & no markup", "If a < b and c > d,\nthen a < d."):
        assert plain_text(text) == text


def test_a_real_json_ld_article_body_with_entities_gives_its_whole_text():
    # correio24horas.com.br: "Atl&acirc;ntico", "tamb&eacute;m&nbsp;era" in the articleBody
    html, url = devset_page("correio24horas.com.br-PMS")
    result = extract_fetched(html, None, url, None)
    assert result.extractor == "jsonld"
    assert with_snippets("correio24horas.com.br-PMS", result.body)
    assert not any("&" in p and ";" in p for p in result.body)


# --- trafilatura's precise and default texts ---------------------------------------------------


def test_the_default_text_does_not_replace_a_precise_one_it_does_not_hold():
    # seelenradio.de: the default mode reads a run of PHP warnings, twice the short post's words
    html, url = devset_page("seelenradio.de.leo")
    body = extract_fetched(html, None, url, None).body
    assert with_snippets("seelenradio.de.leo", body)
    assert not any(p.startswith("Warning: Use of undefined constant") for p in body)
    assert expected()["seelenradio.de.leo"]["with"]


# --- teaser cards taken in with the article ----------------------------------------------------


def cards(count: int, href: str) -> str:
    return "".join(
        f"<div class='card'><a href='{href.format(n=n)}'><img src='/img/{n}.jpg' alt=''></a>"
        f"<h3 class='card-title'><a href='{href.format(n=n)}'>Headline {n} of another story</a>"
        f"</h3><p>Blurb {n}: what the other story says about the harbour, the new railway and"
        f" the council's plans for the old market hall, told again in one sentence.</p></div>"
        for n in range(1, count + 1)
    )


def blurbs(count: int) -> list[str]:
    page = ArticlePage(parse(cards(count, "/x")), "https://e.org/a")
    return [clean(p.xpath("string()")) for p in page.root.iter("p")]


def test_a_most_read_list_after_a_real_article_is_not_part_of_its_body():
    html, url = devset_page("Lebensmittelpraxis.de-Stadtzentrum")
    plain = extract_fetched(html, None, url, None).body
    footer = f"<div class='most-read'><h2>Most read</h2>{cards(20, '/2024/03/{n}.html')}</div>"
    page = ArticlePage(parse(html.replace(b"</body>", footer.encode() + b"</body>")), url)
    assert without_teaser_run(page, plain + blurbs(20)) == plain
    assert without_teaser_run(page, plain) == plain
    # a short list (fewer than MIN_TEASERS cards) is left to trafilatura's judgement
    page = ArticlePage(parse(html.replace(b"</body>", cards(9, "/{n}.html").encode())), url)
    assert without_teaser_run(page, plain + blurbs(9)) == plain + blurbs(9)


def test_a_pages_own_accordion_of_linked_questions_stays_in_the_body():
    # "#" links open a question's answer on the page itself: the answers are the article's
    html = ld_page("", body=STORY).replace("</article>", cards(12, "#answer-{n}") + "</article>")
    body = STORY + blurbs(12)
    assert without_teaser_run(ArticlePage(parse(html), "https://e.org/a"), body) == body


# --- what the page shows before the headline ---------------------------------------------------


def test_lines_a_real_page_shows_before_its_headline_do_not_open_its_body():
    # katzen-forum.net: "JavaScript ist deaktiviert…" and an old-browser notice above the <h1>
    html, url = devset_page("katzen-forum.net-Pepe")
    body = extract_fetched(html, None, url, None).body
    assert not any(p.startswith(("JavaScript ist deaktiviert", "Du verwendest")) for p in body)
    assert with_snippets("katzen-forum.net-Pepe", body)


def test_an_authors_box_above_the_headline_is_not_the_start_of_the_story():
    bio = (
        "<div class='author-box'><p>Jane Doe writes a weekly column about city life, politics"
        " and the people who shape them, after years of reporting from three continents.</p></div>"
    )
    html = ld_page("", body=STORY).replace("<article>", bio + "<article>")
    page = ArticlePage(parse(html), "https://e.org/a")
    bio_text = clean(parse(bio).xpath("string()"))
    assert without_lead_in(page, [bio_text, *STORY], "Council Votes") == STORY
    # a paragraph the page also shows after the headline is the story's (a lead repeated)
    repeated = ld_page("", body=STORY).replace("<article>", f"<p>{STORY[0]}</p><article>")
    page_with_lead = ArticlePage(parse(repeated), "https://e.org/a")
    assert without_lead_in(page_with_lead, STORY, "Council Votes") == STORY
    # no headline <h1> of that title, or nothing left: the body stays as it is
    assert without_lead_in(page, [bio_text, *STORY], "Other") == [bio_text, *STORY]
    assert without_lead_in(page, [bio_text], "Council Votes") == [bio_text]


AUTHOR_BOX = (  # benchmarks/robustness.py's column injection
    b'<div class="author-box"><img class="author-photo" src="/img/authors/jdoe.jpg" '
    b'alt="Jane Zorblat"><div class="author-bio"><p class="author-name"><a href="/authors/jdoe">'
    b"Jane Zorblat</a></p><p>Jane Zorblat writes a weekly column about city life, politics and "
    b"the people who shape them. Before joining the paper she reported from three continents "
    b"for wire services and magazines, and she has won several regional journalism awards for "
    b"her work on housing.</p></div></div>"
)


def test_a_real_pages_author_box_is_not_its_body():
    # fincompare.de: the adviser's photo, bio, phone number and "Alles von Martin Junker"
    html, url = devset_page("fincompare.de.firmenwagen")
    body = extract_fetched(html, None, url, None).body
    assert not any(p.startswith(("Unser Finanzierungsberater", "Alles von")) for p in body)
    assert with_snippets("fincompare.de.firmenwagen", body)


@pytest.mark.parametrize(
    ("page_id", "where"),
    [
        ("biobiochile.cl-gremios", b"<h1"),  # above the headline, beside the byline
        ("clarin.com-albertofernandez", b"</body>"),  # after the story
        # a headline whose words are split by soft hyphens (Er\xadin\xadne\xadrung) below it
        ("bundesrat.de-erinnerungen", b"<h1"),
        # in the story's <header>, before its headline: no running text of the story's
        ("tagesspiegel.de.abstandsregeln", b"<h1"),
    ],
)
def test_a_columnists_bio_is_not_part_of_the_story(page_id, where):
    html, url = devset_page(page_id)
    at = html.find(where)
    body = extract_fetched(html[:at] + AUTHOR_BOX + html[at:], None, url, None).body
    assert not any("weekly column" in p for p in body)
    assert with_snippets(page_id, body)


OPENING = "An opening paragraph outside the box, about the councillor's life and her work."


@pytest.mark.parametrize("opening", ["", f"<p>{OPENING}</p>"])
def test_a_story_in_a_box_classed_as_the_authors_stays(opening):
    # a profile's text in its "biography" element, with or without an opening beside it
    story = "".join(f"<p>{p}</p>" for p in STORY)
    html = (
        "<html><head><title>Council Votes</title></head><body><nav><a href='/'>Home</a></nav>"
        f"<h1>Council Votes</h1>{opening}<div class='biography'>{story}</div></body></html>"
    )
    page = ArticlePage(parse(html), "https://e.org/a")
    body = [OPENING] * bool(opening) + STORY
    assert without_author_boxes(page, body) == body


# --- a story the parser nests in the page's chrome ----------------------------------------------


def test_a_story_nested_in_an_unclosed_sidebar_is_read():
    # OnlineMarketing.de: the article's <article> ends up inside <aside class="sidebar">, which
    # the extractor leaves out as boilerplate: the body was the site's slogan, twice
    html, url = devset_page("OnlineMarketing.de-Instagram")
    body = extract_fetched(html, None, url, None).body
    assert with_snippets("OnlineMarketing.de-Instagram", body)
    assert "Dein wichtigster Touchpoint zur Digitalbranche." not in body


def brief_beside(aside: str) -> str:
    return (
        "<html><head><title>Lorry spills oranges on the A1</title></head><body><main><article>"
        "<h1>Lorry spills oranges on the A1</h1><p>Police closed the A1 motorway near Lisbon on "
        "Tuesday after a lorry overturned, spilling its load of oranges across three lanes. No "
        "one was injured, and the road reopened by noon, officials said.</p></article></main>"
        f"{aside}</body></html>"
    )


@pytest.mark.parametrize("cards", [False, True])
def test_a_sidebar_beside_a_short_story_stays_out_of_it(cards):
    about = " ".join(["The Example Gazette has covered the valley since 1901, with news,"] * 4)
    aside = f"<aside class='sidebar'><h2>About us</h2><p>{about}</p><p>{about}</p></aside>"
    if cards:  # other stories, each an <article> with a long excerpt
        aside = (
            "<aside class='sidebar'>"
            + "".join(
                f"<article><h2>Story {n} from the archive</h2><p>{about}</p></article>"
                for n in range(3)
            )
            + "</aside>"
        )
    body = extract(brief_beside(aside), "https://e.org/2024/03/05/oranges", None).body
    assert body == [
        "Police closed the A1 motorway near Lisbon on Tuesday after a lorry overturned, spilling "
        "its load of oranges across three lanes. No one was injured, and the road reopened by "
        "noon, officials said."
    ]


def test_a_story_the_parser_put_in_a_sidebar_is_its_body():
    story = "".join(f"<p>{p} {p} {p}</p>" for p in STORY)  # paragraphs of running text
    html = (
        "<html><head><title>Council Votes</title></head><body><div class='layout'>"
        "<aside class='sidebar'><div class='ad'>Advertisement</div><div class='content'>"
        f"<article><h1>Council Votes</h1>{story}</article></div></aside></div></body></html>"
    )
    body = extract(html, "https://e.org/2024/03/05/council-votes", None).body
    assert [p for p in body if p.startswith("Paragraph")] == [f"{p} {p} {p}" for p in STORY]


# --- running text in a story's <header> ---------------------------------------------------------


LONG_STORY = [f"{p} {p} {p}" for p in STORY]  # paragraphs of running text


@pytest.mark.parametrize("where", ["main", "article"])
def test_running_text_in_a_storys_header_opens_its_body(where):
    # the extractor leaves <header>s out as chrome: the story's first paragraphs went with it
    opening = "".join(f"<p>{p}</p>" for p in LONG_STORY[:3])
    rest = "".join(f"<p>{p}</p>" for p in LONG_STORY[3:])
    cookies = " ".join(["We use cookies to improve your experience on our website today."] * 4)
    bio = " ".join(["Jane Doe writes about the council and the people who shape the city."] * 3)
    html = (
        f"<html><head><title>Council Votes</title></head><body><header><p>{cookies}</p></header>"
        f"<{where}><header class='intro'><p>{bio}</p><h1>Council Votes</h1>{opening}</header>"
        f"{rest}</{where}></body></html>"
    )
    body = extract(html, "https://e.org/2024/03/05/council-votes", None).body
    # the page's own header (a cookie notice) and what comes before the headline stay out
    assert body == LONG_STORY


def test_a_real_pages_sections_with_their_text_in_headers_are_read():
    # munich2022.com: each section an <article> whose text is in its <header>
    html, url = devset_page("munich2022.com-topathleten")
    body = extract_fetched(html, None, url, None).body
    text = " ".join(body)
    assert "Weltjahresbestleistung von 6,02 m" in text
    assert "dass ich viel Selbstvertrauen habe," in text


# --- dialogs ------------------------------------------------------------------------------------


def test_a_real_pages_cookie_dialog_is_not_its_body():
    # arteradio.com: the consent dialog's 22 paragraphs came before the programme's 3
    html, url = devset_page("arteradio.com-nuls")
    body = extract_fetched(html, None, url, None).body
    assert not any("cookies" in p for p in body)
    assert with_snippets("arteradio.com-nuls", body)


def test_a_dialogs_text_is_left_out_unless_the_page_shows_it_elsewhere():
    consent = (
        "<div role='dialog' aria-label='Consent'><p>We use cookies to improve your experience."
        " By clicking Accept all, you consent to our use of cookies.</p>"
        f"<p>{STORY[2]}</p></div>"
    )
    html = ld_page("", body=STORY).replace("</article>", "</article>" + consent)
    page = ArticlePage(parse(html), "https://e.org/a")
    cookies = "We use cookies to improve your experience. By clicking Accept all, you consent to"
    cookies += " our use of cookies."
    assert without_dialogs(page, [*STORY[:4], cookies, *STORY[4:]]) == STORY
    # A body that is the dialog alone: a second look without the dialog finds the story (and
    # its headline, which extract() drops from a body).
    assert [p for p in without_dialogs(page, [cookies]) if p != "Council Votes"] == STORY


COOKIE_DIALOG = (  # benchmarks/robustness.py's cookie-banner injection
    b'<div id="cookie-consent" class="cookie-banner" role="dialog" aria-label="Cookie consent">'
    b"<p>We use cookies and similar technologies to improve your experience, personalise content "
    b"and ads, and analyse our traffic. By clicking Accept all, you consent to our use of "
    b'cookies. Read our <a href="/privacy">privacy policy</a> (Zorblat consent).</p>'
    b'<button class="accept">Accept all</button><button class="reject">Reject all</button>'
    b'<a href="/cookie-settings">Manage settings</a></div>'
)


def test_a_cookie_dialog_trafilatura_takes_for_the_text_gets_a_second_look():
    # security.googleblog.com: with a consent dialog first in <body>, the precise text was the
    # post's date and the dialog; the post is beside it
    html, url = devset_page("security.googleblog.com.protection")
    at = re.search(rb"<body\b[^>]*>", html, re.I).end()
    body = extract_fetched(html[:at] + COOKIE_DIALOG + html[at:], None, url, None).body
    assert not any("cookies" in p for p in body)
    assert with_snippets("security.googleblog.com.protection", body)


def test_an_article_shown_in_a_dialog_stays():
    story = "".join(f"<p>{p}</p>" for p in STORY)
    html = (
        "<html><head><title>Council Votes</title></head><body><nav><a href='/'>Home</a>"
        "<a href='/news'>News</a></nav><div role='dialog' aria-modal='true'>"
        f"<h1>Council Votes</h1>{story}</div><div class='about'><p>Example News is an "
        "independent newsroom covering the city council, the schools and the courts of the "
        "county since 1998.</p></div></body></html>"
    )
    page = ArticlePage(parse(html), "https://e.org/a")
    assert without_dialogs(page, STORY) == STORY


# --- sign-up prompts ---------------------------------------------------------------------------


def test_a_sign_up_prompt_goes_with_its_boxs_title():
    text = "\n".join(
        [
            STORY[0],
            "Get the Morning Briefing",
            "The day's top stories delivered to your inbox every morning. Sign up for our free"
            " newsletter.",
            STORY[1],
            STORY[2],
            "https://example.org/sources/report.pdf",  # a source's address is no box title
            "Zum Newsletter anmelden",
        ]
    )
    assert split_paragraphs(text) == [*STORY[:3], "https://example.org/sources/report.pdf"]


def test_a_sentence_or_heading_before_a_prompt_stays():
    prompt = "You've reached your free article limit. Already a subscriber? Log in."
    cjk = "河北农大果树班毕业生群体学习的热潮正在全省各地深入开展，廊坊以巡演为契机推动学习"
    lines = ["The vote.", "Sign up for our newsletter", "Thanks for the tip of 2%…", prompt]
    lines += ["Results", cjk, prompt]  # a CJK sentence has no spaces, yet is no box title
    kept = [line for line in lines if "ign up" not in line and line != prompt]
    assert split_paragraphs("\n".join([STORY[0], *lines, STORY[1]])) == [STORY[0], *kept, STORY[1]]


def test_a_meter_prompt_in_a_generic_body_is_left_out_but_a_story_quoting_one_is_not():
    prompt = [
        "You've reached your free article limit. Subscribe to continue reading.",
        "Already a subscriber? Log in",
    ]
    quoted = "The new archive, the publisher said, is for subscribers only."
    story = [*STORY[:4], *prompt, quoted, *STORY[4:]]
    paragraphs = "".join(f"<p>{p}</p>" for p in story)
    html = (
        "<html><head><title>Council Votes</title></head><body><article><h1>Council Votes</h1>"
        f"{paragraphs}</article></body></html>"
    )
    assert extract(html, "https://e.org/2024/03/01/council-votes", None).body == [
        *STORY[:4],
        quoted,
        *STORY[4:],
    ]


@pytest.mark.parametrize(
    "stamp",
    [
        ["Updated 12 minutes ago", "Updated 47 minutes ago"],
        ["Aktualisiert am 01.03.2024, 10:04 Uhr", "Aktualisiert am 01.03.2024, 11:52 Uhr"],
        ["Mis à jour il y a 3 heures", "Mis à jour il y a 5 heures"],
        ["5 minutes ago", "2 hours ago"],  # a live blog entry's stamp
        ["vor 5 Minuten", "vor einer Stunde"],
    ],
)
def test_a_dateline_the_page_rewrites_is_not_part_of_a_generic_body(stamp):
    # Read at each check, an "Updated 12 minutes ago" line would make a version of a story that
    # did not change. A paragraph that starts so and goes on is the story's.
    story = "Published reports said the council would vote again in May, after the summer recess."
    bodies = []
    for line in stamp:
        paragraphs = "".join(f"<p>{p}</p>" for p in [line, story, *STORY])
        html = (
            "<html><head><title>Council Votes</title></head><body><article><h1>Council Votes</h1>"
            f"{paragraphs}</article></body></html>"
        )
        bodies.append(extract(html, "https://e.org/2024/03/01/council-votes", None).body)
    assert bodies[0] == bodies[1] == [story, *STORY]


def test_a_short_story_in_a_layout_table_keeps_its_paragraphs():
    # An old site's page: the story in the one cell of a layout table, paragraphs by <br>.
    # As a table it was one row "| headline story |"; a data table beside a story stays one.
    html = (
        "<html><head><title>Council Votes</title></head><body><table><tr><td>"
        f"<h1>Council Votes</h1>{'<br>'.join(STORY[:3])}</td></tr></table></body></html>"
    )
    assert extract(html, "https://e.org/2024/03/01/council-votes", None).body == STORY[:3]
    note = "The figures are provisional and may change when the last districts report. " * 4
    data = (
        "<table><tr><th>District</th><th>Homes</th></tr><tr><td>North</td><td>120</td></tr>"
        f"<tr><td colspan='2'>{note}</td></tr></table>"
    )
    paragraphs = "".join(f"<p>{p}</p>" for p in STORY[:3])
    html = (
        "<html><head><title>Council Votes</title></head><body><article><h1>Council Votes</h1>"
        f"{paragraphs}{data}</article></body></html>"
    )
    body = extract(html, "https://e.org/2024/03/01/council-votes", None).body
    assert "| North | 120 |" in body


# --- the standfirst ----------------------------------------------------------------------------

SUMMARY = (
    "The council voted on Tuesday to close the old bridge for two years while it is rebuilt, "
    "after engineers found cracks in its main span."
)


def standfirst_page(lead: str, *, description: str = SUMMARY, where: str = "before") -> str:
    story = "".join(f"<p>{p}</p>" for p in STORY)
    parts = {
        "before": f"<h1>Council Votes</h1>{lead}{story}",
        "after": f"<h1>Council Votes</h1>{story}{lead}",
    }
    return (
        f"<html><head><meta property='og:description' content='{description}'></head>"
        f"<body><article>{parts[where]}</article></body></html>"
    )


def standfirst_of(html: str) -> list[str]:
    return with_standfirst(ArticlePage(parse(html), "https://e.org/a"), STORY)


def test_the_standfirst_a_page_shows_above_its_story_opens_the_body():
    for lead in (
        f"<p class='lead'>{SUMMARY}</p>",
        f"<div class='intro'><p><strong>{SUMMARY}</strong></p></div>",
        f"<h2 class='standfirst'>{SUMMARY}</h2>",
    ):
        assert standfirst_of(standfirst_page(lead)) == [SUMMARY, *STORY], lead


def test_no_standfirst_where_the_description_is_not_one():
    lead = f"<p class='lead'>{SUMMARY}</p>"
    # written for search engines only: not on the page
    assert standfirst_of(standfirst_page("")) == STORY
    # shown after the story's start (a "read next" box, a footer)
    assert standfirst_of(standfirst_page(lead, where="after")) == STORY
    # a photo's caption that repeats it
    caption = f"<figure><img src='b.jpg'><figcaption>{SUMMARY}</figcaption></figure>"
    assert standfirst_of(standfirst_page(caption)) == STORY
    # shown, but the block that holds it word for word is hidden (a share box's text)
    hidden = f"<div hidden><p>{SUMMARY}</p></div><p>{SUMMARY} {STORY[0]}</p>"
    assert standfirst_of(standfirst_page(hidden)) == STORY
    # a block with as much again of other text: not the summary itself
    other = " ".join(STORY[:2])
    assert standfirst_of(standfirst_page(f"<p>{SUMMARY} {other}</p>")) == STORY
    # a description too short to be a summary
    short = "Bridge closed."
    assert standfirst_of(standfirst_page(f"<p>{short}</p>", description=short)) == STORY
    # already in the body
    assert with_standfirst(
        ArticlePage(parse(standfirst_page(lead)), "https://e.org/a"),
        [
            SUMMARY,
            *STORY,
        ],
    ) == [SUMMARY, *STORY]


def test_a_real_pages_standfirst_is_kept():
    # wien.orf.at: the lead (p.story-lead-text) trafilatura leaves out; the annotators kept it
    html, url = devset_page("0a6291ebbce449b3b04256b43c73e39d")
    body = extract_fetched(html, None, url, None).body
    assert body[0].startswith("Die Opernball-Grande-Dame und Burgschauspielerin Lotte Tobisch")
    assert with_snippets("0a6291ebbce449b3b04256b43c73e39d", body)
    # telebasel.ch: the description is also a gallery caption ("1/5 …"), not a standfirst
    html, url = devset_page("0afd671fc2b64f3caa83a91537e8d343")
    body = extract_fetched(html, None, url, None).body
    assert not any(p.startswith(("1/5", "Am Freitagabend krachte")) for p in body)


def test_a_json_ld_article_body_gets_the_standfirst_too():
    html = ld_page("\n".join(STORY)).replace(
        "<h1>Council Votes</h1>", f"<h1>Council Votes</h1><p class='dek'>{SUMMARY}</p>"
    )
    html = html.replace("<head>", f"<head><meta name='description' content='{SUMMARY}'>")
    found = extract(html, "https://e.org/a", None)
    assert found.extractor == "jsonld"
    assert found.body == [SUMMARY, *STORY]


LIVE_URL = "https://news.example.com/world/live/2024/mar/05/storm-updates"

# --- another story shown in full beside the page's own ------------------------------------------

NEXT_STORY = [
    f"Next story, part {n}: the harbour authority said the new ferry timetable would start on "
    f"day {n} of the spring season, after months of talks with the unions and the city."
    for n in range(1, 11)
]


def next_article(headline: str, paragraphs: list[str]) -> bytes:
    """A story pre-rendered below the page's own, as an endless scroll shows the next one."""
    text = "".join(f"<p>{p}</p>" for p in paragraphs)
    return f"<article class='next-story'><h1>{headline}</h1>{text}</article>".encode()


def test_a_next_story_shown_below_a_real_article_is_not_part_of_its_body():
    # WordPress: the page's headline is the <h1> of its own <article>
    html, url = devset_page("abenteuer-astronomie.de.plejaden")
    plain = extract_fetched(html, None, url, None)
    bodies = []
    for headline, story in [
        ("Harbour authority sets the new ferry timetable", NEXT_STORY),
        ("Council approves the budget for the new library", STORY),  # the next one, rotated
    ]:
        injected = html.replace(b"</body>", next_article(headline, story) + b"</body>")
        found = extract_fetched(injected, None, url, None)
        assert found.title == plain.title
        bodies.append(found.body)
    assert bodies[0] == bodies[1] == plain.body  # no version for a rotating neighbour
    assert with_snippets("abenteuer-astronomie.de.plejaden", bodies[0])


def test_a_real_pages_recommended_stories_under_their_own_h1_are_not_its_body():
    # hoy.com.py shows three recommended stories in full, each an <article> under its own
    # <h1>; trafilatura took them into the body. With a "most read" footer added, the second
    # look without them is cleaned of its teasers as the first would be.
    html, url = devset_page("hoy.com-daran")
    body = extract_fetched(html, None, url, None).body
    assert with_snippets("hoy.com-daran", body)
    assert not any("El hecho ocurrió ese jueves" in p for p in body)  # a recommended story
    footer = f"<div class='most-read'><h2>Most read</h2>{cards(40, '/2024/03/{n}.html')}</div>"
    injected = html.replace(b"</body>", footer.encode() + b"</body>")
    assert extract_fetched(injected, None, url, None).body == body


@pytest.mark.parametrize(
    "page_id",
    [
        "ahlen.de.reparaturcafe",  # no <h1>, no <article>: the next story's would head the page
        "ekiba.de-trauer",  # the headline an <h1>, the story in <div>s of text, no <article>
        "piratenpartei.at.grundeinkommen",  # the story in an <article> headed outside it
        "weselpower.wordpress.com.monstergesprche",  # WordPress: short <p>s in no <article>
    ],
)
def test_a_next_story_below_a_story_in_no_article_of_its_own_takes_neither_title_nor_body(
    page_id,
):
    # The next story is the page's only <article> with an <h1>, or its only one headed there:
    # its headline shares no word with the page's metadata title, and it comes after the
    # page's own running text.
    html, url = devset_page(page_id)
    plain = extract_fetched(html, None, url, None)
    for headline, story in [
        ("Harbour authority sets the new ferry timetable", NEXT_STORY),
        ("Council approves the budget for the new library", STORY),  # the next one, rotated
    ]:
        injected = html.replace(b"</body>", next_article(headline, story) + b"</body>")
        found = extract_fetched(injected, None, url, None)
        assert (found.title, found.body, found.byline) == (plain.title, plain.body, plain.byline)
    assert with_snippets(page_id, plain.body)


@pytest.mark.parametrize(
    ("markup", "words"),
    [
        ("<p>one two three</p><div>four five<br>six</div>", 6),  # any markup of running text
        ("<article><p>one two</p></article><p>three</p>", 3),  # another article's text too
        ("<nav><p>Home World Sport</p></nav><a href='/x'>a linked teaser</a>", 0),
        ("<script>var one = 2;</script><figure><figcaption>A caption</figcaption></figure>", 0),
        ("<h1 id='start'>The headline itself</h1>after it", 2),  # only what follows start
    ],
)
def test_running_words_count_the_text_a_story_shows_before_an_element(markup, words):
    root = parse(f"<html><head><title>Title words</title></head><body>{markup}<i id='end'>x</i>")
    start = next(iter(root.xpath("//*[@id='start']")), None)
    assert running_words(root, start, root.xpath("//*[@id='end']")[0]) == words


def test_an_articles_heading_is_the_title_when_no_running_text_comes_before_it():
    # A generic og:title names no story ("News from The Associated Press"): the <article>'s
    # own heading is the headline when the page shows nothing of another story before it.
    html = (
        "<html><head><meta property='og:title' content='News from the Gazette'></head><body>"
        "<nav><a href='/'>Home</a> <a href='/world'>World news from everywhere</a></nav>"
        "<article><h1>Council votes to rebuild the bridge</h1>"
        + "".join(f"<p>{p}</p>" for p in STORY)
        + "</article></body></html>"
    )
    assert extract(html, "https://e.org/a", None).title == "Council votes to rebuild the bridge"


@pytest.mark.parametrize(
    "layout",
    [
        "<article><h1>Council Votes</h1>{sections}</article>",
        # the headline set apart above the story's <article>
        "<header class='hero'><h1>Council Votes</h1></header><article>{sections}</article>",
    ],
)
def test_h1_sections_of_the_pages_own_story_stay_in_its_body(layout):
    # Sites head their story's sections with <h1>s: they are the story's, not other stories.
    sections = "".join(
        f"<h1>Part {n} of the council's long budget debate</h1><p>{STORY[n]}</p>" for n in range(8)
    )
    html = (
        "<html><head><title>Council Votes</title></head><body>"
        f"{layout.format(sections=sections)}<div class='about'><p>The Example Gazette has served "
        "the valley since 1901 with local news, sport and weather.</p></div></body></html>"
    )
    body = extract(html, "https://e.org/2024/03/01/council-votes", None).body
    assert [p for p in body if p.startswith("Paragraph")] == STORY


# --- ad slots between paragraphs ----------------------------------------------------------------


@pytest.mark.parametrize(
    "line",
    [
        "Advertisement",
        "Story continues below advertisement",
        "Article continues below this ad",
        "Article content continues below",
        "ADVERTISEMENT - SCROLL TO CONTINUE",
        "Anzeige",
        "Weiterlesen nach der Anzeige",
        "Der Artikel wird unter der Anzeige fortgesetzt",
        "La suite après cette publicité",
        "El artículo continúa después de la publicidad",
        "La noticia continúa tras el anuncio",
        "L'articolo continua dopo la pubblicità",
        "Continua após a publicidade",
        "Lees verder na de advertentie",
    ],
)
def test_an_ad_slots_label_between_paragraphs_is_not_part_of_a_generic_body(line):
    # on every ad slot of the page: read into the body, each move of a slot would be an edit
    story = [p for p in STORY for p in (p, line)]
    paragraphs = "".join(f"<p>{p}</p>" for p in story)
    html = (
        "<html><head><title>Council Votes</title></head><body><article><h1>Council Votes</h1>"
        f"{paragraphs}</article></body></html>"
    )
    assert extract(html, "https://e.org/2024/03/01/council-votes", None).body == STORY


def test_a_sentence_about_an_advertisement_stays():
    kept = [
        "The story continues below the fold, the editor said, where the advertisement was.",
        "Anzeige gegen den Bürgermeister",  # a complaint against the mayor
        "The story continues after the break.",
        "Continua após a reunião.",  # it goes on after the meeting
        "La suite après les élections",
    ]
    assert split_paragraphs("\n".join([STORY[0], *kept])) == [STORY[0], *kept]


# --- a theme's related posts, each an <article> with its excerpt --------------------------------

POSTS = "".join(
    f'<article class="post type-post"><h2 class="entry-title"><a href="/post-{n}/">Another post '
    f'number {n}</a></h2><div class="entry-meta"><span class="byline">By Jane Other</span></div>'
    f'<div class="entry-summary"><p>Excerpt {n} of another post, about the {n}th market day in '
    "town and who came to sell there.</p></div></article>"
    for n in range(1, 4)
)
OWN_STORY = "".join(
    f"<p>Paragraph {n} of the harbour story tells what the council decided about the old docks on "
    f"day {n}, who spoke for the plan, who spoke against it and what it will cost the town.</p>"
    for n in range(1, 9)
)


@pytest.mark.parametrize("where", ["after", "before"])
def test_related_posts_each_an_article_leave_the_body(where):
    posts = f'<div class="post-list">{POSTS}</div>'
    story = f"<div class='entry-content'>{OWN_STORY}</div>"
    inside = story + posts if where == "after" else posts + story
    html = (
        "<html><head><title>Harbour plan approved</title></head><body><article class='post'>"
        f"<h1>Harbour plan approved</h1>{inside}</article></body></html>"
    )
    body = extract(html, "https://blog.example.org/harbour-plan/").body
    assert body[0].startswith("Paragraph 1 of the harbour story") and len(body) == 8
    assert not any("Excerpt" in p for p in body)


@pytest.mark.parametrize(
    ("href", "away"),
    [
        ("/post-2/", True),
        ("https://blog.example.org/short-note/", False),  # the post's title, to its permalink
        ("/short-note/#comments", False),
        ("#section-2", False),
    ],
)
def test_a_heading_links_away_only_to_another_page(href, away):
    heading = parse(f"<html><body><h2><a href='{href}'>A title</a></h2></body></html>")
    found = heading.xpath("//h2")[0]
    assert _links_away(found, "https://blog.example.org/short-note/") is away


@pytest.mark.parametrize(
    ("url", "href", "below", "own"),
    [
        (LIVE_URL, "?post=3", False, True),  # a live blog's update (BBC, Guardian, Al Jazeera)
        (LIVE_URL, f"{LIVE_URL}/post-3", True, True),
        (LIVE_URL, f"{LIVE_URL}/post-3", False, False),  # a front's teasers lead below it
        (LIVE_URL, "https://other.example.com/world/live/storm-updates?post=3", False, False),
        ("https://blog.example.org/", "/?p=3", False, False),  # a site's root: "?p=3" is a post
        ("https://e.org/index.php?id=5", "/index.php?id=6", False, False),  # another page
    ],
)
def test_a_link_to_a_view_of_the_page_is_its_own(url, href, below, own):
    heading = parse(f"<html><body><h2><a href='{href}'>A title</a></h2></body></html>")
    assert _links_away(heading.xpath("//h2")[0], url, below) is not own


# --- live blogs: each update a post of its own --------------------------------------------------


def live_blog(link: str, declared: str, updates: int = 12, words: int = 24) -> str:
    """A live blog: a headline, a standfirst and updates, newest first, each an <article> with
    its time and its heading (linked, as many sites link it, to the update's own address)."""
    posts = []
    for n in range(updates, 0, -1):
        title = f"Update {n}: crews restore power to {n * 100} homes in the valley"
        href = {"none": None, "anchor": f"#post-{n}", "query": f"?post={n}"}.get(link)
        href = href or (f"{LIVE_URL}/post-{n}" if link == "path" else None)
        heading = f"<h2><a href='{href}'>{title}</a></h2>" if href else f"<h2>{title}</h2>"
        text = " ".join(
            f"Crews in district {n} said part {i} of the repairs was done."
            for i in range(words // 12)
        )
        posts.append(
            f"<article class='live-post' id='post-{n}'><time>{n}:00</time>{heading}<p>{text}</p>"
            f"<p>Officials in district {n} asked residents to stay indoors tonight.</p></article>"
        )
    head = {
        "ld": '<script type="application/ld+json">{"@type": "LiveBlogPosting", "headline": '
        '"Storm live: power cuts across the valley", "datePublished": "2024-03-05T09:00:00Z"}'
        "</script>",
        "og": '<meta property="og:type" content="article">'
        '<meta property="article:published_time" content="2024-03-05T09:00:00Z">',
    }[declared]
    return (
        f"<html><head><title>Storm live: power cuts across the valley</title>{head}</head><body>"
        "<nav><a href='/'>Home</a> <a href='/world'>World</a></nav><main><header>"
        "<h1>Storm live: power cuts across the valley</h1><p class='standfirst'>Thousands of "
        "homes without power as the storm moves north; follow the latest.</p></header>"
        f"<div class='live-feed'>{''.join(posts)}</div></main></body></html>"
    )


@pytest.mark.parametrize("declared", ["ld", "og"])
@pytest.mark.parametrize(("link", "updates", "words"), [
    ("none", 12, 24),
    ("anchor", 30, 12),  # many one-line updates: no section front's teasers
    ("query", 12, 24),
    ("query", 30, 12),
    ("path", 12, 24),
])  # fmt: skip
def test_every_update_of_a_live_blog_is_its_body(link, declared, updates, words):
    # Updates whose headings link to their own address on the page ("?post=3") were taken for
    # teaser cards: the whole blog was left out for its standfirst.
    body = extract(live_blog(link, declared, updates, words), LIVE_URL).body
    for n in range(1, updates + 1):
        assert any(f"district {n} said part 0" in p for p in body), n
        if link != "none":  # linked headings trafilatura drops are put back
            assert f"Update {n}: crews restore power to {n * 100} homes in the valley" in body


def listicle(href: str, wrapper: str, words: int) -> str:
    """A "best of" article: an intro, ten items each under a linked heading, a closing note."""
    items = []
    for n in range(1, 11):
        text = " ".join(f"The pastries at café {n} are sentence {k} of this review." for k in
                        range(words // 10))  # fmt: skip
        link = href.format(n=n)
        items.append(
            f"<{wrapper} class='item'><h2><a href='{link}'>{n}. Café number {n} in Alfama</a>"
            f"</h2><p>{text}</p></{wrapper}>"
        )
    return (
        "<html><head><title>The best cafés in Lisbon</title><meta property='og:type' "
        "content='article'></head><body><nav><a href='/'>Home</a></nav><article><h1>The best "
        "cafés in Lisbon</h1><p>Lisbon's café culture is older than its trams, and our critic "
        f"spent a month tasting pastéis de nata to find the places worth a morning.</p>"
        f"{''.join(items)}<p>Prices were checked in March and may have changed since.</p>"
        "</article></body></html>"
    )


@pytest.mark.parametrize("href", ["https://cafe{n}.example.pt/", "/travel/reviews/cafe-{n}"])
@pytest.mark.parametrize("wrapper", ["div", "article"])
@pytest.mark.parametrize("words", [24, 60])
def test_a_listicles_items_under_linked_headings_are_its_body(href, wrapper, words):
    # Ten linked headings with short texts were a "run of teaser cards": the items stand among
    # the story's own paragraphs, a box of other stories among cards only.
    url = "https://www.example-mag.com/travel/2024/03/best-cafes-in-lisbon"
    body = extract(listicle(href, wrapper, words), url).body
    for n in range(1, 11):
        assert f"{n}. Café number {n} in Alfama" in body
        assert any(p.startswith(f"The pastries at café {n} are") for p in body), n
