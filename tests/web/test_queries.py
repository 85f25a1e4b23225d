"""Keyset paging in index windows, bounded search and the export stream (newsdiff.store.queries)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from newsdiff.store import queries as q
from newsdiff.store.queries import Queries, QueryError, encode_cursor, parse_cursor
from tests.web.conftest import NOW, T0


@pytest.fixture
def spread(ingest, store):
    """31 articles: ties at one instant, a day apart, and years apart; two outlets."""
    for i in range(8):  # changed at exactly the same time: ties broken by _id
        ingest(f"https://www.nytimes.com/tie-{i}.html", 100, title=f"Tie {i}")
    for day in range(20):
        outlet = "guardian" if day % 3 == 0 else "nytimes"
        ingest(
            f"https://www.{outlet}.com/day-{day}.html",
            -day * 24 * 60,
            outlet=outlet,
            title=f"Day {day}",
        )
    for years in (2, 5, 11):
        ingest(
            f"https://www.nytimes.com/old-{years}.html",
            -years * 365 * 24 * 60,
            title=f"Old {years}",
        )
    docs = list(store.articles.find({}, {"last_changed": 1, "outlet": 1}))
    docs.sort(key=lambda d: (d["last_changed"], d["_id"]), reverse=True)
    return docs


def walk(queries: Queries, **kwargs) -> list[str]:
    ids, cursor = [], None
    for _ in range(100):
        page = queries.recent_articles(now=NOW, cursor=cursor, **kwargs)
        ids += [a["id"] for a in page.items]
        cursor = page.next
        if not cursor:
            return ids
    raise AssertionError("paging did not end")


@pytest.mark.parametrize("limit", [1, 3, 4, 50])
def test_keyset_paging_visits_every_article_once_in_order(store, spread, limit):
    assert walk(Queries(store), limit=limit) == [str(d["_id"]) for d in spread]


def test_paging_by_outlet(store, spread):
    expected = [str(d["_id"]) for d in spread if d["outlet"] == "guardian"]
    assert len(expected) == 7
    assert walk(Queries(store), outlet="guardian", limit=2) == expected


def test_a_page_reads_a_window_not_the_archive(store, spread):
    page = Queries(store).recent_articles(now=NOW, limit=3)
    assert len(page.items) == 3
    assert page.examined < 12  # the 8 ties and a few days, not all 31 articles


def test_search_stops_on_its_budget_and_continues(store, spread, monkeypatch):
    monkeypatch.setattr(q, "SEARCH_BUDGET_DOCS", 10)
    queries = Queries(store)
    page = queries.recent_articles(now=NOW, q="old 11", limit=5)
    assert page.items == [] and page.searched_to is not None and page.next
    found, cursor = [], page.next
    for _ in range(20):
        page = queries.recent_articles(now=NOW, q="old 11", limit=5, cursor=cursor)
        found += [a["title"] for a in page.items]
        cursor = page.next
        if not cursor:
            break
    assert found == ["Old 11"]


def test_search_matches_headline_or_url_case_blind(store, spread):
    queries = Queries(store)
    assert [a["title"] for a in queries.recent_articles(now=NOW, q="TIE 3").items] == ["Tie 3"]
    assert [a["title"] for a in queries.recent_articles(now=NOW, q="day-19.html").items] == [
        "Day 19"
    ]


def test_cursor_round_trip_and_errors():
    when = T0 + timedelta(milliseconds=123)
    assert parse_cursor(encode_cursor(when, "0123456789abcdef01234567"))[0] == when
    for bad in (
        "",
        "1-2",
        "abc-0123456789abcdef01234567",
        "1" * 16 + "-" + "0" * 24,
        "-5-0123456789abcdef01234567",
        "9999999999999-0123456789abcdef01234567",
    ):
        with pytest.raises(QueryError):
            parse_cursor(bad)


def test_export_streams_every_article_with_its_versions(store, spread, ingest):
    ingest("https://www.nytimes.com/tie-0.html", 150, title="Tie 0, updated")
    queries = Queries(store)

    def export(**kwargs):
        return [{**a, "versions": list(v)} for a, v in queries.export(now=NOW, **kwargs)]

    exported = export(batch=3)
    assert [a["id"] for a in exported] == [
        str(d["_id"])
        for d in sorted(
            store.articles.find({}, {"last_changed": 1}),
            key=lambda d: (d["last_changed"], d["_id"]),
            reverse=True,
        )
    ]
    tie0 = exported[0]
    assert [v["number"] for v in tie0["versions"]] == [0, 1]
    assert tie0["versions"][1]["title"] == "Tie 0, updated"
    assert "seen_hashes" not in tie0 and "validators" not in tie0
    recent = export(since=T0 - timedelta(days=2), batch=2)
    assert len(recent) == 8 + 3  # the ties and days 0-2 (day 2 is exactly two days back)
    guardian = export(outlet="guardian")
    assert {a["outlet"] for a in guardian} == {"guardian"} and len(guardian) == 7
