"""The outlets beyond the NYT: what the upstream projects published with their corpus pages, the
AP meta-refresh page, corrections in each outlet's wording, which URLs of the outlets' real feeds
each spider takes for articles, and declarative outlets from outlets.toml, crawled end to end.
(Every corpus page is also checked against its stored fixture in tests/test_pages.py.)"""

from __future__ import annotations

import json
import os
import re
import subprocess

import feedparser
import pytest
from parsel import Selector
from scrapy.http import XmlResponse
from scrapy.settings import Settings
from scrapy.spiderloader import SpiderLoader
from scrapy.utils.test import get_crawler

import newsdiff.settings as project
from newsdiff import pages
from newsdiff.pages import NotArticle, extract, outlet_for_url
from newsdiff.pages.text import clean, split_names
from newsdiff.spiders import generic
from tests.conftest import coroutine_test, run_crawl, scrapy_command
from tests.corpus import (
    BBC_IDS,
    BBC_SITEMAP,
    CORPUS,
    DECLARED,
    GUARDIAN_FEED,
    GUARDIAN_IDS,
    OUTLET_OF,
    build_declared_site,
    expected,
    meta,
    run,
    source,
    text_of,
    upstream,
)


def loader() -> SpiderLoader:
    """A fresh loader: declarative outlets change with the outlets file a test points at."""
    return SpiderLoader.from_settings(Settings({"SPIDER_MODULES": project.SPIDER_MODULES}))


def facts(page_id: str) -> dict:
    return meta(page_id)["expected"]


def snapshot(page_id: str) -> dict[str, str]:
    """The fields of a metascraper snapshot report (`key: 'value',` lines)."""
    text = upstream(page_id, "expected_metadata_snapshot.md")
    return dict(re.findall(r"^\s+(\w+): '(.*)',$", text, re.M))


def evaldata(page_id: str) -> dict:
    return json.loads(upstream(page_id, "expected_evaldata.json"))[meta(page_id)["url"]]


def readability_blocks(page_id: str) -> set[str]:
    readable = Selector(upstream(page_id, "expected.html"))
    return {clean(t) for t in readable.xpath("//p | //h2 | //li").xpath("string()").getall()}


def newspaper_paragraphs(page_id: str) -> list[str]:
    return [p.strip() for p in upstream(page_id, "expected.txt").split("\n\n") if p.strip()]


def straight_quotes(text: str) -> str:
    return text.translate(str.maketrans("‘’“”", "''\"\""))


# --- The Washington Post ------------------------------------------------------------------------


def test_washingtonpost_postlight_facts():
    page_id = "postlight-www.washingtonpost.com"
    result, known = run(page_id), facts(page_id)
    assert result["title"] == known["title"]
    assert result["byline"] == split_names(known["author"])  # meta author is a Facebook URL
    assert result["published"] == "2018-10-29T15:15:00+00:00"  # page: 2018-10-29T10:15-500
    # Postlight's content starts with the lead photo's caption; we leave captions out.
    caption = known["content_first_13_words"]
    assert caption.encode() in source(page_id) and caption not in text_of(result)
    assert result["body"][0].startswith("President Trump’s defenders and even some")
    assert result["body"][-1].startswith("In sum, we all have a tendency")  # no "Read more" list


def test_washingtonpost_readability_facts():
    page_id = "readability-wapo-1"
    known = json.loads(upstream(page_id, "expected-metadata.json"))
    result = run(page_id)
    assert result["title"] == known["title"]
    assert result["byline"] == split_names(known["byline"])
    # Readability also kept the "[Read: …]" promos and the "Read more:" list of links.
    assert [p for p in result["body"] if p not in readability_blocks(page_id)] == []
    assert result["body"][-1] == "Heba Habib contributed to this report."
    assert not any(p.startswith(("[", "Read more")) for p in result["body"])
    # The page shows only "March 18 at 3:57 PM"; the year comes from the URL, the zone is DC's.
    assert result["published"] == "2015-03-18T19:57:00+00:00"


# --- BBC News ------------------------------------------------------------------------------------


def test_bbc_metascraper_facts():
    page_id = "metascraper-bbc"
    known, result = snapshot(page_id), run(page_id)
    assert result["title"] == known["title"]
    assert result["byline"] == [known["author"]]
    assert result["modified"] == "2017-07-14T20:28:07+00:00"  # upstream date: …20:28:07.000Z
    assert result["section"] == "Business"
    # "More The Boss features:" and its list of links are not part of the story.
    assert not any("The Boss features" in p for p in result["body"])


def test_bbc_readability_facts():
    page_id = "readability-bbc-1"
    known = json.loads(upstream(page_id, "expected-metadata.json"))
    result = run(page_id)
    assert result["title"] == known["title"]
    # Readability gives the site name as the byline; no person is credited, so we have none.
    assert known["byline"] == "BBC News" and result["byline"] == []
    assert result["published"] == "2015-07-24T04:36:09+00:00"  # upstream: 05:36:09+01:00
    # Readability also kept links to related stories ("Five things we learned …").
    assert [p for p in result["body"] if p not in readability_blocks(page_id)] == []
    assert "Five things we learned from Obama interview" not in result["body"]
    assert result["body"][-1].startswith("Mr Obama will become the first US president")


@pytest.mark.parametrize(
    "page_id",
    [
        "trafilatura-bbc.com.52241221",
        "trafilatura-edition.cnn.com-royal",
        "trafilatura-theguardian.com.academics",
        "trafilatura-reuters.com.parasite",
    ],
)
def test_trafilatura_eval_facts(page_id):
    known, result = evaldata(page_id), run(page_id)
    assert result["title"] == known["title"]
    assert result["byline"] == ([known["author"]] if known["author"] else [])
    dates = (result["published"] or "", result["modified"] or "")
    assert any(d.startswith(known["date"]) for d in dates)
    for snippet in known["with"]:
        assert snippet in text_of(result)
    for snippet in known["without"]:
        assert snippet not in text_of(result)


# --- every outlet: the summary is the publisher's description ----------------------------------


def published_description(page_id: str) -> str:
    """The description (or excerpt) an upstream project published for a corpus page."""
    if page_id.startswith("metascraper-"):
        report = upstream(page_id, "expected_metadata_snapshot.md")
        if "## nytimes (opinion)" in report:
            report = report.split("## nytimes (opinion)")[1]
        return dict(re.findall(r"^\s+(\w+): '(.*)',$", report, re.M))["description"]
    if page_id.startswith("readability-"):
        return json.loads(upstream(page_id, "expected-metadata.json"))["excerpt"]
    return json.loads(upstream(page_id, "expected_metadata.json"))["meta_description"]


@pytest.mark.parametrize(
    "page_id",
    [
        "metascraper-bbc",
        "metascraper-the-guardian",
        "metascraper-nytimes-2020-opinion-sway",
        "metascraper-reuters",
        "readability-bbc-1",
        "readability-nytimes-1",
        "readability-nytimes-3",
        "readability-wapo-1",
        "newspaper4k-cnn_001",
    ],
)
def test_summary_is_the_description_upstream_projects_published(page_id):
    # (newspaper's CNN description keeps the page's no-break spaces; we collapse whitespace)
    assert run(page_id)["summary"] == clean(published_description(page_id))


# --- CNN -----------------------------------------------------------------------------------------


def test_cnn_newspaper_facts():
    page_id = "newspaper4k-cnn_001"
    known = json.loads(upstream(page_id, "expected_metadata.json"))
    result = run(page_id)
    assert result["body"] == newspaper_paragraphs(page_id)
    assert result["byline"] == known["authors"]
    # newspaper reports the SEO headline ("Alito and Prelogar: …"); we keep the one shown.
    assert known["title"].endswith(": " + result["title"])
    assert result["published"].startswith(known["publish_date"][:10])


def test_cnn_postlight_facts():
    page_id = "postlight-www.cnn.com"
    known, result = facts(page_id), run(page_id)
    assert result["title"] == known["title"]
    assert result["byline"] == [known["author"]]
    assert result["published"] == "2016-11-29T10:39:35+00:00"
    assert result["body"][0].startswith(known["content_first_13_words"])
    # In-body links to other stories are not paragraphs of this one.
    assert "Sanders calls for assessment of Electoral College" not in result["body"]


# --- The Guardian --------------------------------------------------------------------------------


def test_guardian_metascraper_facts():
    page_id = "metascraper-the-guardian"
    known, result = snapshot(page_id), run(page_id)
    # metascraper curls the apostrophe of the page's straight-quoted headline
    assert straight_quotes(known["title"]) == result["title"]
    assert result["byline"] == [known["author"]]
    assert result["modified"] == "2017-07-04T08:37:34+00:00"


def test_guardian_postlight_facts():
    page_id = "postlight-www.theguardian.com"
    known, result = facts(page_id), run(page_id)
    assert result["title"] == known["title"]
    assert result["byline"] == split_names(known["author"]) == ["Julia Carrie Wong", "Sam Levin"]
    assert result["published"] == "2016-11-29T20:26:06+00:00"
    assert result["body"][0].startswith(known["content_first_13_words"])
    assert known["dek"] not in text_of(result)  # the standfirst is not body text


# --- Reuters -------------------------------------------------------------------------------------


def test_reuters_metascraper_facts():
    page_id = "metascraper-reuters"
    known, result = snapshot(page_id), run(page_id)
    assert result["title"] == known["title"]
    assert result["byline"] == [known["author"]]
    assert result["published"] == "2016-05-13T16:43:53+00:00"
    assert result["body"][-1].startswith("(Reporting by Heather Somerville")


def test_reuters_newspaper_facts():
    page_id = "newspaper3k-reuters.com1"
    paragraphs = newspaper_paragraphs(page_id)
    # newspaper also took the lead photo's caption and a "best of Bollywood" promo.
    assert paragraphs[0].startswith("People walk past the Bombay Stock Exchange")
    assert paragraphs[1] == "The best and worst of Bollywood in 2014."
    result = run(page_id)
    assert result["body"] == paragraphs[2:]
    # "Tue Dec 30, 2014 4:33pm IST" on the page; revision_date "Tue Dec 30 11:03:00 UTC 2014"
    assert result["published"] == result["modified"] == "2014-12-30T11:03:00+00:00"


# --- AP: the meta-refresh page -------------------------------------------------------------------

AP_PAGE = "newspaper4k-ap_meta_refresh"


def test_ap_meta_refresh_page_is_an_article():
    # newspaper4k keeps this page as the "meta refresh without a URL" case: its
    # <meta http-equiv="refresh" content="600"> reloads the page every ten minutes and sends the
    # reader nowhere else. The page is a complete hosted.ap.org story, so it is an article.
    html = source(AP_PAGE)
    assert b'<meta http-equiv="refresh" content="600" />' in html
    result = run(AP_PAGE)
    assert result["extractor"] == "apnews"
    # newspaper's title is the site's <title>; the story's headline is the hNews entry-title.
    assert b"<title>News from The Associated Press</title>" in html
    assert result["title"] == "Father of Orlando gunman known for rambling political videos"
    assert result["byline"] == ["Lynne O'Donnell"]  # "LYNNE O'DONNELL" on the page
    assert result["published"] == "2016-06-13T16:03:00+00:00"  # title="2016-06-13T1603Z"
    assert result["body"][0].startswith("KABUL, Afghanistan (AP) -- The father of the Orlando")
    assert result["body"][-1].startswith("Associated Press writers Rahim Faiez")
    assert "---" not in result["body"] and not any("©" in p for p in result["body"])


def test_ap_page_without_outlet_rules_still_finds_the_story():
    # The generic path checks short pages for redirects first: a refresh with no URL is none.
    result = extract(source(AP_PAGE), "https://hosted.ap.org/dynamic/stories/A/X", None)
    assert result.extractor == "trafilatura"
    assert set(result.body) >= set(expected(AP_PAGE)["body"][1:-1])


def test_ap_page_refreshing_at_once_to_another_url_is_an_interstitial():
    html = source(AP_PAGE).replace(
        b'content="600"', b'content="0; url=https://apnews.com/article/orlando-0123456789abcdef"'
    )
    with pytest.raises(NotArticle) as excinfo:
        extract(html, "https://hosted.ap.org/dynamic/stories/A/X", None)
    assert excinfo.value.reason == "interstitial"


# --- corrections, in each outlet's wording, added to real pages ----------------------------------

CORRECTIONS = [
    (
        "trafilatura-theguardian.com.academics",
        "The findings come in the middle",
        "<em>This article was amended on 21 January 2020 to correct the number of research "
        "staff on fixed-term contracts.</em>",
    ),
    (
        "trafilatura-bbc.com.52241221",
        "structural racism",
        "Correction 11 April 2020: An earlier version of this story gave the wrong number of "
        "burials each day.",
    ),
    (
        "trafilatura-reuters.com.parasite",
        "Additional reporting by",
        "(Corrects spelling of Waller-Bridge in paragraph 19)",
    ),
    (
        "newspaper4k-cnn_001",
        "won that vote, too",
        "Correction: An earlier version of this story misstated Prelogar’s age.",
    ),
    (
        "readability-wapo-1",
        "Heba Habib contributed",
        "Correction: An earlier version of this article misstated the number of foreigners killed.",
    ),
    (
        AP_PAGE,
        "Associated Press writers Rahim Faiez",
        "This story has been corrected to show that Mateen is about 70, not 75.",
    ),
]


def add_paragraph_after(html: bytes, snippet: str, text: str) -> bytes:
    """A copy of the page with a paragraph (same tag and class) after the one holding snippet."""
    at = next(  # the occurrence in a paragraph, not in a script's copy of the text
        m.start()
        for m in re.finditer(re.escape(snippet.encode()), html)
        if html.rfind(b"<p", 0, m.start()) > html.rfind(b"<script", 0, m.start())
    )
    start = html.rindex(b"<p", 0, at)
    opening = html[start : html.index(b">", start) + 1]
    end = html.index(b"</p>", at) + 4
    return html[:end] + opening + text.encode() + b"</p>" + html[end:]


@pytest.mark.parametrize("page_id, after, note", CORRECTIONS, ids=[c[0] for c in CORRECTIONS])
def test_correction_leaves_the_body(page_id, after, note):
    html = add_paragraph_after(source(page_id), after, note)
    result = extract(html, meta(page_id)["url"] or "https://apnews.com/", OUTLET_OF[page_id])
    assert result.corrections == [clean(re.sub(r"<[^>]+>", "", note))]
    assert result.body == expected(page_id)["body"]


# --- URLs: which links of the real feeds are articles --------------------------------------------

# Links in the corpus feeds that are not articles: channel pages, video, audio, galleries, live
# blogs, advertisers. Every other link in those feeds must be taken for an article.
NOT_ARTICLES = {
    "bbc": {
        "https://www.bbc.co.uk/news/10318089",  # "BBC News Channel"
        "https://www.bbc.co.uk/sport/av/cricket/48204665",
        "https://www.bbc.co.uk/sport/av/football/48150125",
    },
    "cnn": {
        "https://www.cnn.com/videos/world/2019/12/31/ringing-in-2020-from-around-the-world-orig-jm.cnn",
        "https://ck.lendingtree.com/",
    },
    "guardian": {
        "https://www.theguardian.com/us-news/live/2019/may/08/trump-news-live-barr-contempt-hearing-mueller-report-latest-updates-today",
        "https://www.theguardian.com/sport/live/2019/may/08/england-v-pakistan-first-odi-live",
        "https://www.theguardian.com/news/audio/2019/may/08/fortress-europe-what-happens-to-the-refugees-sent-back-to-libya",
        "https://www.theguardian.com/science/audio/2019/may/07/the-new-space-race",
        "https://www.theguardian.com/news/audio/2019/may/06/fired-by-trump-former-us-attorney-preet-bharara-on-american-justice-podcast",
        "https://www.theguardian.com/football/gallery/2019/may/08/england-womens-world-cup-squad-for-france-2019-in-pictures",
        "https://www.theguardian.com/news/gallery/2019/may/08/wednesdays-best-photos-newborn-royal-36-carat-diamond",
        "https://www.theguardian.com/environment/gallery/2019/may/08/gdt-nature-photographer-of-the-year-2019-in-pictures",
        "https://www.theguardian.com/artanddesign/gallery/2019/may/08/meet-the-neighbours-portraits-of-humanity-in-pictures",
        "https://www.theguardian.com/world/gallery/2019/may/08/south-africans-go-to-the-polls-in-pictures",
        "https://www.theguardian.com/fashion/gallery/2019/may/07/met-gala-2019-stars-turn-up-the-camp-on-the-red-carpet-in-pictures",
        "https://www.theguardian.com/us-news/video/2019/apr/08/people-dont-even-look-at-me-eight-black-women-discuss-politics-of-light-and-dark-skin-video",
        "https://www.theguardian.com/environment/video/2019/apr/02/plastic-in-paradise-drowning-darwin-galapagos-islands",
        "https://www.theguardian.com/science/video/2019/mar/14/why-your-memories-cant-be-trusted-video",
        "https://www.theguardian.com/politics/video/2019/apr/15/the-highs-and-lows-of-impersonating-boris-johnson-video",
        "https://www.theguardian.com/lifeandstyle/video/2019/apr/11/why-cant-i-sleep-my-mission-to-understand-insomnia-video",
        "https://www.theguardian.com/society/video/2019/apr/10/4000-in-four-days-one-mothers-battle-to-pay-for-her-sons-funeral-poverty-video",
    },
    "washingtonpost": {
        "https://www.washingtonpost.com/video/national/what-we-know-about-the-shooting-at-fort-lauderdale-airport/2017/01/06/cdec4886-d44b-11e6-9651-54a0154cf5b3_video.html",
        "https://www.washingtonpost.com/video/national/police-officers-take-selfie-in-front-of-burning-house/2017/01/07/3491298a-d505-11e6-9651-54a0154cf5b3_video.html",
        "https://www.washingtonpost.com/video/politics/report-on-russian-hacking-released-after-trump-briefing/2017/01/06/19bb0dc6-d459-11e6-9651-54a0154cf5b3_video.html",
        "https://www.washingtonpost.com/video/politics/obama-lashes-out-at-republicans-over-obamacare-repeal/2017/01/06/4ab59a96-d430-11e6-9651-54a0154cf5b3_video.html",
        "https://www.washingtonpost.com/video/politics/electoral-college-votes-officially-counted-in-congress/2017/01/06/4cf7b934-d43e-11e6-9651-54a0154cf5b3_video.html",
    },
}
FEEDS = [
    (outlet, path)
    for outlet in sorted(NOT_ARTICLES)
    for path in sorted((CORPUS / "feeds" / outlet).glob("*.xml"))
]


def spider(name: str):
    return get_crawler(loader().load(name))._create_spider()


def feed_links(path) -> list[str]:
    """Each item's article URL; FeedBurner feeds (CNN until 2020) keep it in feedburner:origLink."""
    return [
        e.get("feedburner_origlink") or e.link for e in feedparser.parse(path.read_bytes()).entries
    ]


@pytest.mark.parametrize("outlet, path", FEEDS, ids=[p.name for _, p in FEEDS])
def test_article_path_takes_every_article_of_the_real_feeds(outlet, path):
    s = spider(outlet)
    decided = {s.canonical(link): s.is_article_url(s.canonical(link)) for link in feed_links(path)}
    assert {url for url, article in decided.items() if not article} == (
        NOT_ARTICLES[outlet] & set(decided)
    )
    assert sum(decided.values()) >= 15


@pytest.mark.parametrize("outlet, path", FEEDS, ids=[p.name for _, p in FEEDS])
@coroutine_test
async def test_spider_requests_the_articles_of_the_real_feeds(outlet, path):
    s = spider(outlet)
    response = XmlResponse(url=f"https://feeds.example/{path.name}", body=path.read_bytes())
    requested = {r.url async for r in s.parse_feed(response)}
    links = {s.canonical(link) for link in feed_links(path)}
    assert requested == links - NOT_ARTICLES[outlet]


ARTICLE_URLS = [
    (
        "apnews",
        "https://apnews.com/article/china-evergrande-hui-ka-yan-5573868904b3ced0c5c9b0b0a9b3fb7f",
    ),
    ("apnews", "https://apnews.com/5573868904b3ced0c5c9b0b0a9b3fb7f"),
    ("reuters", "https://www.reuters.com/world/europe/eu-leaders-meet-brussels-2024-01-02/"),
    ("reuters", "https://www.reuters.com/article/us-venture-fundraising-idUSKCN0Y41DQ"),
    ("washingtonpost", "https://www.washingtonpost.com/politics/2024/01/02/house-vote-budget/"),
    ("bbc", "https://www.bbc.co.uk/news/articles/c4ng0e2r5pjo"),
    ("cnn", "https://www.cnn.com/2024/05/01/politics/house-vote-budget"),
    ("cnn", "https://www.cnn.com/travel/article/budapest-winter-things-to-do/index.html"),
]
NOT_ARTICLE_URLS = [
    ("apnews", "https://apnews.com/hub/ap-top-news"),
    ("apnews", "https://apnews.com/video/orlando-shooting-0123456789abcdef0123456789abcdef"),
    ("reuters", "https://www.reuters.com/world/europe/"),
    ("reuters", "https://www.reuters.com/video/watch/idOV123456789"),
    ("reuters", "https://www.reuters.com/graphics/ELECTION-2024/abcdef-2024-01-02/"),
    ("washingtonpost", "https://www.washingtonpost.com/politics/"),
    ("bbc", "https://www.bbc.co.uk/news/live/world-europe-48198759"),
    ("bbc", "https://www.bbc.co.uk/news/world"),
    ("cnn", "https://www.cnn.com/politics/live-news/election-day-2024/index.html"),
    ("cnn", "https://www.cnn.com/world"),
    ("guardian", "https://www.theguardian.com/world/europe-news"),
]


@pytest.mark.parametrize(
    "outlet, url",
    [
        (OUTLET_OF[p], meta(p)["url"])
        for p in OUTLET_OF
        if OUTLET_OF[p] != "nytimes" and meta(p)["url"]
    ]
    + ARTICLE_URLS,
)
def test_article_urls_are_recognised(outlet, url):
    s = spider(outlet)
    assert s.is_article_url(s.canonical(url))
    assert outlet_for_url(url) == outlet


@pytest.mark.parametrize("outlet, url", NOT_ARTICLE_URLS)
def test_index_and_video_urls_are_not_articles(outlet, url):
    s = spider(outlet)
    assert not s.is_article_url(s.canonical(url))


@pytest.mark.parametrize(
    "outlet, variant, canonical",
    [
        (
            "bbc",
            "http://www.bbc.com/news/world-us-canada-33646704?ocid=socialflow_twitter",
            "https://www.bbc.co.uk/news/world-us-canada-33646704",
        ),
        (
            "bbc",
            "https://www.bbc.co.uk/news/amp/uk-politics-48199725",
            "https://www.bbc.co.uk/news/uk-politics-48199725",
        ),
        (
            "bbc",
            "https://www.bbc.com/news/articles/c4ng0e2r5pjo.amp",
            "https://www.bbc.co.uk/news/articles/c4ng0e2r5pjo",
        ),
        (
            "cnn",
            "https://amp.cnn.com/cnn/2021/03/08/uk/meghan-harry-oprah-interview-recap-scli-gbr-intl/index.html",
            "https://www.cnn.com/2021/03/08/uk/meghan-harry-oprah-interview-recap-scli-gbr-intl/index.html",
        ),
        (
            "cnn",
            "https://edition.cnn.com/2021/03/08/uk/meghan-harry-oprah-interview-recap-scli-gbr-intl/index.html",
            "https://www.cnn.com/2021/03/08/uk/meghan-harry-oprah-interview-recap-scli-gbr-intl/index.html",
        ),
        (
            "guardian",
            "https://amp.theguardian.com/education/2020/jan/20/thousands-of-uk-academics-treated-as-second-class-citizens",
            "https://www.theguardian.com/education/2020/jan/20/thousands-of-uk-academics-treated-as-second-class-citizens",
        ),
        (
            "washingtonpost",
            "https://www.washingtonpost.com/amphtml/news/opinions/wp/2018/10/29/enough-platitudes-lets-name-names/?outputType=amp",
            "https://www.washingtonpost.com/news/opinions/wp/2018/10/29/enough-platitudes-lets-name-names/",
        ),
        (
            "reuters",
            "http://in.reuters.com/article/2014/12/30/india-sensex-nifty-idINKBN0K80A020141230",
            "https://www.reuters.com/article/2014/12/30/india-sensex-nifty-idINKBN0K80A020141230",
        ),
        (
            "apnews",
            "https://www.apnews.com/article/orlando-0123456789abcdef0123456789abcdef?utm_source=x",
            "https://apnews.com/article/orlando-0123456789abcdef0123456789abcdef",
        ),
    ],
)
def test_amp_mobile_and_edition_variants_fold_into_one_url(outlet, variant, canonical):
    s = spider(outlet)
    assert s.canonical(variant) == canonical
    assert s.is_article_url(canonical)


# --- declarative outlets (outlets.toml) ----------------------------------------------------------


def test_declared_outlets_become_spiders_and_page_rules(declare):
    outlets, errors = declare(DECLARED)
    assert errors == [] and [o.name for o in outlets] == ["guardianworld", "bbcnews"]
    assert {"guardianworld", "bbcnews", "nytimes"} <= set(loader().list())
    cls = loader().load("bbcnews")
    assert cls.__name__ == "BbcnewsSpider" and issubclass(cls, generic.DeclarativeSpider)
    assert cls.sitemaps == (BBC_SITEMAP,) and cls.feeds == ()
    s = spider("guardianworld")
    amp = "https://amp.theguardian.com/world/2019/may/08/ireland-is-changing?CMP=share"
    assert s.canonical(amp) == "https://www.theguardian.com/world/2019/may/08/ireland-is-changing"
    assert s.is_article_url(s.canonical(amp))
    assert not s.is_article_url("https://www.theguardian.com/world/europe-news")
    page = BBC_IDS[0]
    assert extract(source(page), meta(page)["url"], "bbcnews").extractor == "bbcnews"


def test_a_declared_summary_selector_reads_the_dek_the_page_shows(declare):
    outlets, errors = declare(
        '[outlets.deks]\nallowed_domains = ["deks.example"]\nfeeds = ["https://deks.example/rss"]\n'
        'article_path = "^/"\n[outlets.deks.selectors]\nsummary = "p.dek"\n'
    )
    assert errors == [] and outlets[0].selectors == {"summary": "p.dek"}
    html = (
        '<html><head><meta property="og:description" content="What search engines are told.">'
        "</head><body><article><h1>Bridge Reopens</h1><p class='dek'>What <b>readers</b> see."
        "</p>" + "<p>The bridge reopened today after two years of repairs.</p>" * 6 + "</article>"
    )
    url = "https://deks.example/bridge"
    assert extract(html, url, "deks").summary == "What readers see."
    # no dek on the page: the metadata's description, as for any outlet
    assert extract(html.replace("class='dek'", ""), url, "deks").summary == (
        "What search engines are told."
    )


def test_a_declared_scope_is_the_element_its_outlets_pages_are_read_from(declare):
    outlets, errors = declare(DECLARED + 'scope = "[role=main]"\n')  # the 2015-2020 layout's
    assert errors == [] and outlets[1].selectors["scope"] == "[role=main]"
    read_element = []
    for page in BBC_IDS:
        body, url = source(page), meta(page)["url"]
        found, read = pages.read_fetched(body, None, url, "bbcnews")
        assert found == extract(body, url, "bbcnews"), page
        reading = pages.reading_of(body, "bbcnews")
        if reading.element and read == reading.data:
            read_element.append(page)
    assert len(read_element) == 2, read_element


@pytest.mark.parametrize(
    "entry, message",
    [
        ('[outlets.x1]\nallowed_domains = ["a.org"]\narticle_path = "^/"', "feeds, sitemaps"),
        ('[outlets.x1]\nfeeds = ["https://a.org/rss"]\narticle_path = "^/"', "allowed_domains"),
        (
            '[outlets.x1]\nallowed_domains = ["a.org"]\nfeeds = ["https://a.org/rss"]',
            "article_path",
        ),
        (
            '[outlets.x1]\nallowed_domains = ["a.org"]\nfeeds = ["ftp://a.org/rss"]\n'
            'article_path = "^/"',
            "not an http(s) URL",
        ),
        (
            '[outlets.x1]\nallowed_domains = ["a.org"]\nfeeds = ["https://a.org/rss"]\n'
            'article_path = "^/(unclosed"',
            "bad regex",
        ),
        (
            '[outlets.x1]\nallowed_domains = ["a.org"]\nfeeds = ["https://a.org/rss"]\n'
            'article_path = "^/"\nfeed = "typo"',
            "unknown keys: feed",
        ),
        (
            '[outlets.x1]\nallowed_domains = ["a.org"]\nfeeds = ["https://a.org/rss"]\n'
            'article_path = "^/"\n[outlets.x1.selectors]\nbody = "div[["',
            "invalid CSS selector",
        ),
        (
            '[outlets.x1]\nallowed_domains = ["a.org"]\nfeeds = ["https://a.org/rss"]\n'
            'article_path = "^/"\n[outlets.x1.selectors]\nscope = "main > div"',
            "scope must be a tag, #id, .class or [attribute=value]",
        ),
        (
            '[outlets.x1]\nallowed_domains = ["a.org"]\nfeeds = ["https://a.org/rss"]\n'
            'article_path = "^/"\n[outlets.x1.selectors]\nsummary = "p..dek"',
            "invalid CSS selector",
        ),
        (
            '[outlets.x1]\nallowed_domains = ["a.org"]\nfeeds = ["https://a.org/rss"]\n'
            'article_path = "^/"\n[outlets.x1.selectors]\ndek = "p.dek"',
            "selectors may set only body, byline, scope, summary, title",
        ),
        (
            '[outlets.nytimes]\nallowed_domains = ["a.org"]\nfeeds = ["https://a.org/rss"]\n'
            'article_path = "^/"',
            "taken by newsdiff/spiders/nytimes.py",
        ),
        ('[outlets."Bad Name"]\nallowed_domains = ["a.org"]', "lower-case"),
        ("[outlets.x1\n", "Expected ']'"),
    ],
)
def test_bad_entries_are_left_out_with_a_clear_error(declare, entry, message):
    good = '[outlets.ok]\nallowed_domains = ["b.org"]\nsitemaps = ["https://b.org/s.xml"]\n'
    good += 'article_path = "^/news/"\n'
    outlets, errors = declare(good + entry if entry != "[outlets.x1\n" else entry)
    assert len(errors) == 1 and message in errors[0], errors
    assert [o.name for o in outlets] == ([] if entry == "[outlets.x1\n" else ["ok"])


@coroutine_test
async def test_declared_outlets_crawl_end_to_end(declare, site, store, crawl_settings):
    declare(DECLARED)
    guardian, bbc = build_declared_site(site.root)
    settings = crawl_settings()
    for name, urls, page_ids in (
        ("guardianworld", guardian, GUARDIAN_IDS),
        ("bbcnews", bbc, BBC_IDS),
    ):
        crawler = await run_crawl(settings, name)
        assert crawler.stats.get_value("newsdiff/versions/new") == len(urls)
        articles = {a["url"]: a for a in store.articles.find({"outlet": name})}
        assert len(articles) == len(urls)
        for page_id in page_ids:
            url = meta(page_id)["url"].replace("http://", "https://")
            version = store.versions.find_one({"url": url})
            assert articles[url]["status"] == "live"
            assert version["title"] == expected(page_id)["title"]
            first = expected(page_id)["body"][0]
            if name == "bbcnews":
                assert version["body"][0] == first
                assert version["extractor"] == "bbcnews"  # its CSS selectors found the body
            else:  # the generic path also keeps the standfirst the Guardian shows above it
                assert first in version["body"][:2]
                assert version["extractor"] in ("jsonld", "trafilatura")
                assert len(set(version["body"]) & set(expected(page_id)["body"])) >= 0.8 * len(
                    expected(page_id)["body"]
                )
    # A second run finds nothing new: the declared outlets re-check like the Python ones.
    crawler = await run_crawl(settings, "bbcnews")
    assert crawler.stats.get_value("deltafetch/skipped") == len(bbc)


def scrapy(*args: str, outlets_file=None) -> subprocess.CompletedProcess:
    env = {**os.environ, "NEWSDIFF_OUTLETS_FILE": str(outlets_file)} if outlets_file else None
    return scrapy_command(*args, env=env)


def test_scrapy_list_and_outlets_show_declared_outlets(tmp_path):
    path = tmp_path / "outlets.toml"
    path.write_text(DECLARED + '[outlets.broken]\nallowed_domains = ["c.org"]\n', encoding="utf-8")
    listed = scrapy("list", outlets_file=path)
    assert {"guardianworld", "bbcnews", "nytimes", "bbc"} <= set(listed.stdout.split())
    assert "broken" not in listed.stdout.split()
    shown = scrapy("outlets", "--json", outlets_file=path)
    assert shown.returncode == 1  # the broken entry
    assert "[outlets.broken] give feeds, sitemaps or both" in shown.stderr
    outlets = {o["name"]: o for o in json.loads(shown.stdout)}
    assert outlets["bbcnews"]["kind"] == "declarative"
    assert outlets["bbcnews"]["sitemaps"] == [BBC_SITEMAP]
    assert outlets["guardianworld"]["feeds"] == [GUARDIAN_FEED]
    assert outlets["reuters"]["kind"] == "python" and outlets["reuters"]["feeds"] == []


def test_the_checkout_outlets_file_is_valid():
    outlets, errors = generic.load(generic.DEFAULT_FILE)
    assert errors == [] and outlets  # ships at least one real declarative outlet
    for outlet in outlets:
        assert outlet.feeds or outlet.sitemaps
