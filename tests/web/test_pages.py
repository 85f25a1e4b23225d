"""The HTML pages, over HTTP against the real app and a real server."""

from __future__ import annotations

import re
from html import unescape

import pytest

from tests.web.conftest import BUDGET_URL


def text(html: str) -> str:
    """The page's visible text, tags dropped and whitespace collapsed."""
    html = re.sub(r"(?s)<(head|style)\b.*?</\1>", " ", html)
    html = re.sub(r"</?(a|ins|del|time|span)\b[^>]*>", "", html)  # inline: no space
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def test_start_page_lists_articles_newest_change_first(client, seeded):
    r = client.get("/")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    page = text(r.text)
    storm, budget, old = (
        page.index(t)
        for t in ("Storm Warning Issued", "Council Narrowly Approves Budget", "An Old Review")
    )
    assert storm < budget < old  # changed at 200, 150 and 60 days before
    assert "Broken Page" not in page  # no version stored: nothing to show
    assert f'href="/articles/{seeded.budget}"' in r.text
    assert "5 minutes ago" in page  # the guardian change at minute 200, now is minute 205
    assert 'type="application/atom+xml"' in r.text


def test_start_page_outlet_filter_and_search(client, seeded):
    page = text(client.get("/?outlet=guardian").text)
    assert "Storm Warning Issued" in page and "Council" not in page
    page = text(client.get("/?q=narrowly").text)
    assert "Council Narrowly Approves Budget" in page and "Storm" not in page
    page = text(client.get("/?q=theguardian.com/world").text)  # part of a URL
    assert "Storm Warning Issued" in page and "Council" not in page
    page = text(client.get("/?q=nothing+matches+this").text)
    assert "No article has “nothing matches this” in its headline or URL." in page


def test_start_page_finds_an_article_by_its_full_url(client, seeded):
    r = client.get("/", params={"q": BUDGET_URL + "?smid=url-share"})
    page = text(r.text)
    assert "The article at this URL" in page
    assert "Council Narrowly Approves Budget" in page and "Storm" not in page


def test_start_page_pages_with_a_cursor(client, seeded, monkeypatch):
    monkeypatch.setattr("newsdiff.web.views.PAGE_SIZE", 2)
    first = client.get("/").text
    assert "Older changes" in first
    older = re.search(r'<a rel="next" href="([^"]+)"', first).group(1)
    assert older.startswith("/?before=")
    second = client.get(unescape(older)).text
    assert "Storm Warning" not in text(second)
    assert "Newest changes" in text(second)
    seen = []
    url = "/"
    while url:
        html = client.get(unescape(url)).text
        seen += re.findall(r'<td class="headline"><a href="/articles/(\w+)"', html)
        found = re.search(r'<a rel="next" href="([^"]+)"', html)
        url = found.group(1) if found else None
    assert len(seen) == len(set(seen)) == 4


def test_article_page_tells_the_story(client, seeded):
    r = client.get(f"/articles/{seeded.budget}")
    assert r.status_code == 200
    page = text(r.text)
    assert "This article is from the source ‘nytimes’" in page
    assert "first published or seen on 1 January 2026, 12:00 UTC" in page
    assert (
        "It last changed 55 minutes ago and is due to be checked again now. "  # at 165
        "The article has changed 3 times. It also had 2 trivial edits or flip-flops"
    ) in page
    assert f'href="/articles/{seeded.budget}/feed.atom"' in r.text
    assert "Atom feed of changes" in page
    # Versions 2 (trivial) and 4 (flip-flop) are hidden by default; relative times are to the
    # version shown above.
    assert re.findall(r"Version (\d+)", page) == ["0", "1", "3", "5"]
    assert "Version 1 (35 minutes later)" in page
    assert "Version 3 (55 minutes later)" in page
    assert f'href="/articles/{seeded.budget}/diff/3/5"' in r.text
    assert "Show 2 hidden versions" in page


def test_article_page_shows_hidden_versions_on_request(client, seeded):
    r = client.get(f"/articles/{seeded.budget}?all=1")
    page = text(r.text)
    assert re.findall(r"Version (\d+) ", page)[:6] == ["0", "1", "2", "3", "4", "5"]
    assert "Version 2 (25 minutes later)" in page
    assert "trivial" in page and "flip-flop" in page
    assert "Hide trivial edits and flip-flops" in page
    assert f'href="/articles/{seeded.budget}/diff/1/2?all=1"' in r.text


def test_article_page_future_check_and_never_again(client, seeded):
    page = text(client.get(f"/articles/{seeded.guardian}").text)
    assert "will be checked again in 10 minutes. The article has changed 1 time. There" in page
    page = text(client.get(f"/articles/{seeded.stopped}").text)
    assert (
        "It last changed 2 months ago and won’t be checked again for changes. "
        "The article has not changed since it was first seen. There is an Atom feed"
    ) in page


def test_compare_form_redirects_to_the_diff(client, seeded):
    r = client.get(f"/articles/{seeded.budget}/compare?from=5&to=1&all=1", follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"] == f"/articles/{seeded.budget}/diff/1/5?all=1"


def test_diff_page_side_by_side(client, seeded):
    r = client.get(f"/articles/{seeded.budget}/diff/1/3")
    assert r.status_code == 200
    html = r.text
    assert "Comparing" in text(html) and "55 minutes later" in text(html)
    assert "<ins>very </ins>" in html
    assert (
        '<tr class="row-inserted"><td class="old"></td><td class="new"><ins>The budget takes'
        in html
    )
    assert "Corrections changed" in text(html)  # shown above the body
    assert html.index("Corrections changed") < html.index("<h2>Body")
    assert "Headline, byline unchanged." in text(html)
    # Navigation between the visible changes: 0->1 before, 3->5 after.
    assert f'href="/articles/{seeded.budget}/diff/0/1"' in html
    assert f'href="/articles/{seeded.budget}/diff/3/5"' in html
    assert "Show 2 hidden versions" in text(html)


def test_diff_page_headline_and_byline_changes_above_body(client, seeded):
    html = client.get(f"/articles/{seeded.budget}/diff/0/5").text
    assert html.index("Headline changed") < html.index("Byline changed") < html.index("<h2>Body")
    assert re.search(r"<ins>\s?Narrowly\s?</ins>", html)
    assert "<ins>John Roe</ins>" in html
    assert (
        "<del>“We finally have a plan,” the mayor said, adding that the vote was close.</del>"
        in html
    )  # a paragraph replaced by an unrelated one: removed and added, not word soup
    assert "<ins>The mayor declined to comment on Wednesday.</ins>" in html


def test_diff_navigation_with_hidden_versions_shown(client, seeded):
    html = client.get(f"/articles/{seeded.budget}/diff/2/3?all=1").text
    assert f'href="/articles/{seeded.budget}/diff/1/2?all=1"' in html  # previous change
    assert f'href="/articles/{seeded.budget}/diff/3/4?all=1"' in html  # next change
    assert "Hide trivial edits and flip-flops" in text(html)


def test_version_page(client, seeded):
    r = client.get(f"/articles/{seeded.budget}/versions/3")
    page = text(r.text)
    assert r.status_code == 200
    assert "The budget takes effect in July." in page
    assert "Correction: An earlier version misstated the day of the vote." in page
    assert f'href="/articles/{seeded.budget}/diff/2/3"' in r.text


def test_outlet_page_health(client, seeded):
    r = client.get("/outlets/nytimes")
    assert r.status_code == 200
    page = text(r.text)
    assert "Articles tracked 3" in page  # budget, quiet, broken; stopped is past the horizon
    assert "Articles checked in the last day 4" in page  # last checked within 24 h of the clock
    assert "Changes in the last day 3 and 2 new articles, 2 trivial edits or flip-flops" in page
    assert "Failing extractions 1" in page
    assert seeded.failing_url in page and "extraction found no body" in page
    assert "Council Narrowly Approves Budget" in page
    assert 'href="/outlets/nytimes/feed.atom"' in r.text


def test_outlets_page(client, seeded):
    page = text(client.get("/outlets").text)
    assert "guardian" in page and "nytimes" in page


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/outlets",
        "/outlets/nytimes",
        "/articles/{budget}",
        "/articles/{budget}/diff/0/5",
        "/articles/{budget}/versions/0",
    ],
)
def test_pages_work_without_javascript_and_load_no_scripts(client, seeded, path):
    r = client.get(path.format(budget=seeded.budget))
    assert r.status_code == 200
    assert "<script" not in r.text
    assert "script-src" not in r.headers["content-security-policy"]  # default-src 'none'
    assert "default-src 'none'" in r.headers["content-security-policy"]


def test_a_publication_day_without_a_time_is_shown_as_the_day(fresh_client, ingest):
    url = "https://www.nytimes.com/2025/12/31/us/late-story.html"
    ingest(url, 0, title="Late Story", published="2025-12-31")
    found = re.search(r'href="/articles/(\w+)"', fresh_client.get("/").text)
    r = fresh_client.get(f"/articles/{found.group(1)}")
    assert "first published or seen on 31 December 2025." in text(r.text)
    assert '<time datetime="2025-12-31">' in r.text


def test_empty_archive(fresh_client):
    page = text(fresh_client.get("/").text)
    assert "No changes recorded yet." in page


def test_article_page_of_a_failing_article(client, seeded, viewer_db):
    failing = str(viewer_db[0].articles.find_one({"url": seeded.failing_url})["_id"])
    page = text(client.get(f"/articles/{failing}").text)
    assert "No version of it has been stored yet, and it is due to be checked" in page
    assert (
        "The last check, 2 hours ago, found a page newsdiff could not read "
        "(extraction found no body). Nothing from that check was stored as a version."
    ) in page
    assert "No versions stored yet." in page
