"""Atom feeds of changes: overall, per outlet and per article, parsed with feedparser."""

from __future__ import annotations

import feedparser


def parse(client, path: str):
    r = client.get(path)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/atom+xml; charset=utf-8"
    assert "content-security-policy" in r.headers
    feed = feedparser.parse(r.content)
    assert not feed.bozo, feed.get("bozo_exception")
    assert feed.version == "atom10"
    return feed


def test_overall_feed_has_real_changes_newest_first(client, seeded):
    feed = parse(client, "/feed.atom")
    assert feed.feed.title == "newsdiff: latest changes"
    titles = [e.title for e in feed.entries]
    # Changes only: no first versions, no trivial edits or flip-flops.
    assert titles == [
        "Body changed: Storm Warning Issued",
        "Byline and body changed: Council Narrowly Approves Budget",
        "Body and corrections changed: Council Narrowly Approves Budget",
        "Headline changed: Council Narrowly Approves Budget",
    ]
    storm = feed.entries[0]
    assert storm.link == f"http://testserver/articles/{seeded.guardian}/diff/0/1"
    assert storm.summary == "Body: 1 paragraph removed (6 words removed)."
    assert storm.updated == "2026-01-01T15:20:00Z"
    assert storm.id == f"urn:newsdiff:article:{seeded.guardian}:version:1"
    assert "<del>Residents were told to stay in.</del>" in storm.content[0].value
    headline = feed.entries[3]
    assert headline.summary == (
        "Headline changed from “Council Approves Budget” to “Council Narrowly Approves Budget”."
    )
    assert feed.feed.updated == "2026-01-01T15:20:00Z"


def test_feed_with_all_versions(client, seeded):
    feed = parse(client, "/feed.atom?all=1")
    labels = [
        t.term
        for e in feed.entries
        for t in e.tags
        if t.term in ("first", "change", "trivial", "flip-flop")
    ]
    assert {"first", "change", "trivial", "flip-flop"} <= set(labels)


def test_outlet_feed(client, seeded):
    feed = parse(client, "/outlets/guardian/feed.atom")
    assert [e.title for e in feed.entries] == ["Body changed: Storm Warning Issued"]
    assert all(t.term != "nytimes" for e in feed.entries for t in e.tags)
    feed = parse(client, "/outlets/nytimes/feed.atom")
    assert len(feed.entries) == 3


def test_article_feed_includes_the_first_version(client, seeded):
    feed = parse(client, f"/articles/{seeded.budget}/feed.atom")
    assert feed.feed.title == "newsdiff: changes to “Council Narrowly Approves Budget”"
    assert [e.id.rsplit(":", 1)[1] for e in feed.entries] == ["5", "3", "1", "0"]
    first = feed.entries[-1]
    assert first.title == "First version: Council Approves Budget"
    assert first.link.endswith(f"/articles/{seeded.budget}/versions/0")
    assert "Correction added: “Correction: An earlier" in feed.entries[1].summary
    assert feed.feed.links[0].href.endswith(f"/articles/{seeded.budget}/feed.atom")


def test_feed_of_article_without_versions_is_valid(client, seeded, viewer_db):
    failing = str(viewer_db[0].articles.find_one({"url": seeded.failing_url})["_id"])
    feed = parse(client, f"/articles/{failing}/feed.atom")
    assert feed.entries == []


def test_feed_errors(client, seeded):
    assert client.get("/outlets/nope/feed.atom").status_code == 404
    assert client.get("/articles/0123456789abcdef01234567/feed.atom").status_code == 404
    assert client.get("/feed.atom?all=maybe").status_code == 400


def test_control_characters_cannot_break_the_xml(fresh_client, ingest):
    ingest(
        "https://www.nytimes.com/2026/01/01/us/odd.html",
        0,
        title="Odd\x0b Title",
        body=["A paragraph with a form feed \x0c and a bell \x07 in it."],
    )
    ingest(
        "https://www.nytimes.com/2026/01/01/us/odd.html",
        30,
        title="Odd\x0b Title Changed",
        body=["A paragraph with a form feed \x0c and a bell \x07 in it, edited."],
    )
    feed = parse(fresh_client, "/feed.atom")
    assert len(feed.entries) == 1
