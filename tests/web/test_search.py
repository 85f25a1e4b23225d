"""Full-text search of every version and of the changes (newsdiff.search, /search, /api/search)."""

from __future__ import annotations

import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from newsdiff import search
from newsdiff.search import SearchIndex
from tests.web.conftest import BODY, BUDGET_URL, XSS_URL, make_ingest


def hits(client, path: str, **params) -> list[tuple[str, int]]:
    r = client.get(path, params=params)
    assert r.status_code == 200, r.text
    return [(h["article_id"], h["number"]) for h in r.json()["hits"]]


def test_search_finds_text_only_present_in_an_old_version(client, seeded, viewer_db):
    store = viewer_db[0]
    latest = store.versions.find_one({"url": BUDGET_URL, "number": 5})
    assert not any("finally have a plan" in p for p in latest["body"])  # only versions 0-4 had it
    found = client.get("/api/search", params={"q": '"finally have a plan"'}).json()
    assert [h["article_id"] for h in found["hits"]] == [seeded.budget]
    assert found["hits"][0]["number"] < 5
    assert found["hits"][0]["matching_versions"] >= 2  # grouped: one hit per article
    highlights = found["hits"][0]["snippets"]["body"]["highlights"]
    assert highlights[:4] == ["finally", "have", "a", "plan"]
    # The headline and URL search of the start page cannot find it; full text can.
    assert client.get("/api/articles", params={"q": "finally have a plan"}).json()["articles"] == []
    page = client.get("/search", params={"q": '"finally have a plan"'})
    assert f'href="/articles/{seeded.budget}"' in page.text
    assert "<mark>finally</mark>" in page.text


def test_search_filters_by_outlet_date_and_excluded_words(client, seeded):
    both = {seeded.budget, seeded.guardian}
    assert {a for a, _ in hits(client, "/api/search", q="the")} >= both
    assert {a for a, _ in hits(client, "/api/search", q="the", outlet="guardian")} == {
        seeded.guardian
    }
    assert hits(client, "/api/search", q="storm", since="2026-01-02") == []
    assert hits(client, "/api/search", q="storm", until="2025-12-31") == []
    assert [
        a for a, _ in hits(client, "/api/search", q="storm", since="2026-01-01", until="2026-01-01")
    ] == [seeded.guardian]
    assert hits(client, "/api/search", q="storm -coast") == []
    assert [a for a, _ in hits(client, "/api/search", q="title:storm")] == [seeded.guardian]


def test_a_removed_phrase_is_found_by_removed_and_not_by_added(client, seeded):
    # Version 1 of the storm story dropped "Residents were told to stay in."
    removed = client.get("/api/search/changes", params={"q": 'removed:"told to stay in"'}).json()
    assert [(h["article_id"], h["number"]) for h in removed["hits"]] == [(seeded.guardian, 1)]
    assert removed["hits"][0]["snippets"]["removed"]["highlights"] == ["told", "to", "stay", "in"]
    assert removed["hits"][0]["links"]["diff"] == f"/articles/{seeded.guardian}/diff/0/1"
    assert hits(client, "/api/search/changes", q='added:"told to stay in"') == []
    # The same through the form fields, and from the plain search page.
    assert hits(client, "/api/search/changes", removed='"told to stay in"') == [
        (seeded.guardian, 1)
    ]
    assert hits(client, "/api/search/changes", added='"told to stay in"') == []
    assert hits(client, "/api/search", q='removed:"told to stay in"') == [(seeded.guardian, 1)]
    # An insertion: version 3 of the budget story added a paragraph; version 4 took it out again.
    assert hits(client, "/api/search/changes", q='added:"takes effect in July"') == [
        (seeded.budget, 3)
    ]
    assert hits(client, "/api/search/changes", q='removed:"takes effect in July"') == [
        (seeded.budget, 4)
    ]
    # Each hit links to its diff, where the change is marked.
    page = client.get("/search/changes", params={"removed": "stay"})
    link = f"/articles/{seeded.guardian}/diff/0/1"
    assert f'href="{link}"' in page.text
    assert "<del><mark>stay</mark></del>" in page.text
    diff = client.get(link)
    assert re.search(r"<del>[^<]*Residents were told to stay in\.", diff.text)


def test_hostile_text_in_snippets_stays_escaped(fresh_client, hostile, store, crawl_settings):
    search.catch_up(store, SearchIndex(search.index_root(crawl_settings())))
    for path in ("/search", "/search/changes"):
        page = fresh_client.get(path, params={"q": "pwned"})
        assert page.status_code == 200
        main = page.text[page.text.index("<main>") :]
        assert "<mark>pwned</mark>" in main
        assert "&lt;script&gt;" in main or "&lt;img" in main
        for tag in ("<script", "<img", "<iframe", "<svg", "<style", '<a href="javascript'):
            assert tag not in main, tag
    api = fresh_client.get("/api/search", params={"q": "pwned"}).json()
    assert api["hits"][0]["url"] == XSS_URL
    assert "<script>" in api["hits"][0]["snippets"]["body"]["text"]  # JSON: text, as it was


def test_a_rebuilt_index_answers_as_the_incremental_one(store, crawl_settings, tmp_path):
    settings = crawl_settings()
    url = "https://www.nytimes.com/2026/01/01/us/rebuilt.html"
    other = "https://www.theguardian.com/world/2026/jan/01/rebuilt"
    sessions = [
        [(url, 0, {}), (other, 5, {"outlet": "guardian", "title": "Flood Defences Hold"})],
        [(url, 30, {"body": [BODY[0], "The vote was alleged to be rigged.", BODY[2]]})],
        [
            (
                url,
                60,
                {
                    "body": [BODY[0], "The vote was not rigged, officials said.", BODY[2]],
                    "corrections": ["Correction: the vote was not rigged."],
                },
            ),
            (other, 65, {"outlet": "guardian", "title": "Flood Defences Fail"}),
        ],
    ]
    for fetches in sessions:  # three crawls, each indexing what it stored as it closes
        run, close = make_ingest(settings)
        for u, minutes, fields in fetches:
            run(u, minutes, **fields)
        close()
    incremental = SearchIndex(search.index_root(settings))
    rebuilt = SearchIndex(tmp_path / "rebuilt")
    assert search.rebuild(store, rebuilt) == store.versions.count_documents({})
    queries = [
        {"q": "vote"},
        {"q": '"alleged to be rigged"'},
        {"q": "flood -fail"},
        {"q": "rigged", "changes": True},
        {"q": 'removed:"alleged"'},
        {"q": "added:correction"},
        {"q": "title:fail", "changes": True},
        {"q": "council", "outlet": "nytimes"},
    ]
    for query in queries:
        a, b = incremental.search(**query), rebuilt.search(**query)
        assert a.total == b.total, query
        assert [(h.article_id, h.number, h.snippets) for h in a.hits] == [
            (h.article_id, h.number, h.snippets) for h in b.hits
        ], query
        assert a.total > 0 or query == {"q": "flood -fail"}, query
    assert [h.number for h in incremental.search('removed:"alleged"').hits] == [2]
    assert incremental.search('added:"alleged"').hits[0].number == 1


def test_charts_are_svg_with_text_alternatives(client, seeded):
    page = client.get("/stats", params={"days": 3})
    assert page.status_code == 200
    svgs = re.findall(r"<svg[^>]*>.*?</svg>", page.text, re.S)
    assert len(svgs) == 3
    for svg in svgs:
        assert 'role="img"' in svg and "<title" in svg and "<desc" in svg
    assert '<desc id="changes-per-day-d">4 changes in 4 days, at most 4 in a day.</desc>' in (
        page.text
    )
    assert '<tr><td>2026-01-01</td><td class="num">4</td></tr>' in page.text  # the table
    assert "Of the 3 articles first seen in this time, 2" in page.text
    assert f'href="/articles/{seeded.budget}">Council Narrowly Approves Budget</a>' in page.text
    outlet = client.get("/outlets/guardian/stats")
    assert outlet.status_code == 200 and "Changes per day, guardian articles" in outlet.text
    assert client.get("/outlets/nope/stats").status_code == 404
    api = client.get("/api/outlets/guardian/stats").json()["stats"]
    assert api["outlet"] == "guardian" and api["articles_changed"] == 1
    assert api["hours_to_first_change"]["distribution"][1] == {"bucket": "1–3 h", "articles": 0}
    assert api["hours_to_first_change"]["median"] == 3.0


@given(st.text(max_size=80))
@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
def test_any_query_text_is_answered(viewer_db, q):
    index = SearchIndex(viewer_db[2])
    for changes in (False, True):
        found = index.search(q, changes=changes)
        assert found.total >= len(found.hits)
