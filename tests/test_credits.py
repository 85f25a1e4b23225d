"""Bylines and publication dates where a page's metadata says nothing: what its markup shows
(newsdiff.pages.credits), on real devset pages and on pages built here."""

from __future__ import annotations

import pytest

from newsdiff.pages import extract, extract_fetched
from newsdiff.pages.credits import byline_names
from tests.test_robustness import devset_page, expected

STORY = "".join(
    f"<p>Paragraph {n} of the story says what the council decided on day {n} and why.</p>"
    for n in range(1, 9)
)


def page(head: str = "", header: str = "", after: str = "") -> str:
    return (
        f"<html><head><title>Council Votes</title>{head}</head><body>"
        f"<article><h1>Council Votes</h1>{header}{STORY}</article>{after}</body></html>"
    )


URL = "https://news.example.org/council-votes"


# --- real pages: what the annotators recorded, where the metadata names no one -----------------


@pytest.mark.parametrize(
    "page_id",
    [
        "heiko-adams.de.laufen",  # a WordPress byline's hCard name; commenters' names below
        "exxpress.at-zaehne",  # <span class="author">Redaktion</span>; "… sagt:" in comments
        "antary.de.wireshark",  # a rel="author" link in the post's byline
        "erneuerbareenergien.de.seeboden",  # in an <article> whose view class says "teaser"
        "nationalgeographic.co.uk.goats",  # the metadata's author is the site itself
    ],
)
def test_real_pages_get_the_byline_they_show(page_id):
    html, url = devset_page(page_id)
    assert extract_fetched(html, None, url, None).byline == [expected()[page_id]["author"]]


@pytest.mark.parametrize(
    "page_id",
    [
        "arbeitsagentur.de-arbeitsmarkt",
        "bfs.de-radon",
        "football.ua.podolski",
        "wordsmith.org.maudlin",
    ],
)
def test_real_pages_without_a_metadata_date_get_the_date_they_show(page_id):
    html, url = devset_page(page_id)
    assert extract_fetched(html, None, url, None).published == expected()[page_id]["date"]


# --- bylines -----------------------------------------------------------------------------------


def test_the_metadata_author_comes_first():
    html = page('<meta name="author" content="Jo Smith">', '<span class="author">Ann Lee</span>')
    assert extract(html, URL).byline == ["Jo Smith"]


def test_a_byline_in_the_markup_where_the_metadata_names_no_one():
    html = page(header='<p class="byline">Posted on 3 May 2024 by Ann Lee | 5 min read</p>')
    assert extract(html, URL).byline == ["Ann Lee"]


def test_a_person_shown_replaces_the_sites_name_as_author():
    head = '<meta property="og:site_name" content="Example News">'
    head += '<meta name="author" content="Example News">'
    assert extract(page(head), URL).byline == ["Example News"]  # nothing else to go by
    shown = '<div class="article-meta"><span class="author">Clara Müller</span></div>'
    assert extract(page(head, shown), URL).byline == ["Clara Müller"]


def test_a_blog_named_by_its_site_keeps_that_name():
    html = page(
        '<meta property="og:site_name" content="Creeny">',
        '<span class="byline">by <a rel="author" href="/author/creeny/">Creeny</a></span>',
    )
    assert extract(html, URL).byline == ["Creeny"]


def test_commenters_and_sidebars_are_no_byline():
    after = (
        '<div id="comments"><ol class="commentlist"><li><span class="comment-author">'
        "Ann Reader</span> sagt: Great piece!</li></ol></div>"
        '<aside><a rel="author" href="/author/bob">Bob Columnist</a></aside>'
        '<div class="related-posts"><span class="author">Carla Other</span></div>'
    )
    assert extract(page(after=after), URL).byline == []
    mine = '<a rel="author" href="/author/dana">Dana Writer</a>'
    assert extract(page(header=mine, after=after), URL).byline == ["Dana Writer"]


def test_schema_org_author_items_give_their_names():
    header = (
        '<div itemprop="author" itemscope itemtype="https://schema.org/Person">'
        '<img alt=""><span itemprop="name">Eva Novak</span> writes about cities</div>'
    )
    assert extract(page(header=header), URL).byline == ["Eva Novak"]


@pytest.mark.parametrize(
    ("shown", "names"),
    [
        ('<div class="author-box">Redaktion</div>', []),  # a box about authors: 2 words needed
        ('<span class="author">Redaktion</span>', ["Redaktion"]),  # the author's own element
        ('<div class="post-author">Name *</div>', []),
        ('<a rel="author" href="/archiv">Archiv anzeigen →</a>', []),
        ('<span class="author">von</span>', []),
        ('<span class="author-name">Kristen FalcKristen Falc</span>', ["Kristen Falc"]),
    ],
)
def test_what_is_no_name(shown, names):
    assert extract(page(header=shown), URL).byline == names


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("By Ann Lee and Bo Chen", ["Ann Lee", "Bo Chen"]),
        ("Von Fiona Bornhöft und Mariam Hofbeck", ["Fiona Bornhöft und Mariam Hofbeck"]),
        ("Autorin: Jana Kraus (Redakteurin Politik)", ["Jana Kraus"]),
        ("Posted on September 21, 2020 by Adi Tzlil", ["Adi Tzlil"]),
        ("Interview: Julia Lauter", ["Julia Lauter"]),
        ("erstellt von Dominique — veröffentlicht 28.01.2022 06:00", ["Dominique"]),
        ("publié par Jean Dupont le 3 mai", ["Jean Dupont"]),
        ("Clara von Müller", ["Clara von Müller"]),
        ("Ann Lee • 12.03.2021", ["Ann Lee"]),
        ("Follow us on social media for more stories every day", []),
        ("Team 42", []),
    ],
)
def test_byline_names(text, names):
    assert byline_names(text) == names


def test_strict_names_are_two_capitalised_words():
    assert byline_names("Redaktion", strict=True) == []
    assert byline_names("Clara von Müller", strict=True) == ["Clara von Müller"]
    assert byline_names("Fotos Videos", strict=False) == ["Fotos Videos"]


# --- dates -------------------------------------------------------------------------------------


def test_the_metadata_time_comes_first():
    head = '<meta property="article:published_time" content="2021-03-04T10:00:00+01:00">'
    html = page(head, '<time datetime="2020-01-01">1 January 2020</time>')
    assert extract(html, "https://news.example.org/2019/05/06/council").published == (
        "2021-03-04T09:00:00+00:00"
    )


def test_a_time_element_dates_a_page_without_metadata():
    html = page(header='<time datetime="2021-03-04T10:00:00+01:00">4 March 2021</time>')
    assert extract(html, URL).published == "2021-03-04"


def test_the_url_dates_a_page_without_metadata():
    assert extract(page(), "https://news.example.org/2019/05/06/council").published == "2019-05-06"


def test_a_date_shown_in_the_text():
    html = page(header='<div class="meta">Veröffentlicht am 4. März 2021</div>')
    assert extract(html, URL).published == "2021-03-04"


def test_no_date_anywhere_is_none():
    assert extract(page(), URL).published is None


# --- what is not the story's: comments, other stories ------------------------------------------

COMMENTS = (
    '<section id="comments" class="comments"><h2>2 Comments</h2><ol>'
    '<li class="comment"><span class="comment-author vcard"><b class="fn">Ann Reader</b></span>'
    '<time datetime="2024-03-01T10:00">March 1, 2024</time><p>Great piece!</p></li>'
    '<li class="comment"><span class="comment-author vcard"><b class="fn">Bo Reader</b></span>'
    '<time datetime="2024-03-02T10:00">March 2, 2024</time><p>Thanks.</p></li></ol></section>'
)
MORE_STORIES = (
    '<div class="more-stories"><h2>More stories</h2><ul>'
    + "".join(
        f'<li class="teaser"><a href="/story-{n}.html">Story {n}</a>'
        f'<span class="author">By Carla Other{n}</span>'
        f'<time datetime="2012-0{n}-1{n}T08:00:00Z">{n} March 2012</time></li>'
        for n in range(1, 6)
    )
    + "</ul></div>"
)


def test_comments_and_other_stories_neither_date_nor_sign_the_page():
    shown = '<p class="meta">Posted on <time datetime="2021-03-04">4 March 2021</time></p>'
    html = page(header=shown, after=COMMENTS + MORE_STORIES)
    found = extract(html, URL)
    assert found.published == "2021-03-04" and found.byline == []
    # without the page's own date, none: not a reader's nor another story's
    assert extract(page(after=COMMENTS + MORE_STORIES), URL).published is None


def test_the_next_story_shown_in_full_does_not_sign_this_one():
    own = '<div class="intro">Reporting from the council chamber.</div>'
    next_story = (
        '<article class="next"><h1>Harbour plan approved after a long night</h1>'
        '<p class="byline">By Jane Other</p>'
        '<time datetime="2011-05-05">5 May 2011</time>'
        + "".join(f"<p>The next story's paragraph {n} about the harbour.</p>" for n in range(8))
        + "</article>"
    )
    found = extract(page(header=own, after=next_story), URL)
    assert found.title == "Council Votes" and found.byline == [] and found.published is None
    # in no <article>: after another <h1> than the headline
    loose = next_story.replace("<article", "<div").replace("</article>", "</div>")
    assert extract(page(header=own, after=loose), URL).byline == []


def test_a_story_in_a_container_its_theme_calls_a_teaser_keeps_its_date():
    html = (
        "<html><head><title>Council Votes</title></head><body>"
        '<div class="teaser newsSingle"><h1>Council Votes</h1>'
        '<time datetime="2022-02-01">1 February 2022</time>'
        f"{STORY}</div></body></html>"
    )
    assert extract(html, URL).published == "2022-02-01"


POST_LIST = (
    '<div class="post-list">'
    + "".join(
        f'<article class="post"><h2><a href="/post-{n}/">Post {n}</a></h2>'
        f'<span class="byline">By Jane Other</span>'
        f'<time datetime="2012-0{n}-0{n}">{n} March 2012</time><p>Excerpt {n}.</p></article>'
        for n in range(1, 4)
    )
    + "</div>"
)


def test_a_list_of_posts_in_their_own_articles_neither_dates_nor_signs_the_story():
    # the story's first words split by markup ("Messenger<wbr>dienst") still tell its element
    story = STORY.replace("Paragraph 1 of", "Para<wbr>graph 1 of", 1)
    html = (
        "<html><head><title>Council Votes</title></head><body><article>"
        f"<h1><span class='kicker'>Politics</span> Council Votes</h1>{story}{POST_LIST}"
        "</article></body></html>"
    )
    found = extract(html, URL)
    assert found.title == "Council Votes"
    assert found.byline == [] and found.published is None
    signed = html.replace("<h1>", '<p class="byline">By Ann Lee</p><h1>')
    assert extract(signed, URL).byline == ["Ann Lee"]  # the story's own, before its headline
