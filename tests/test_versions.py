"""The version decision and atomic writes, through the real pipelines and a real server."""

from __future__ import annotations

import zlib
from datetime import timedelta

from tests.conftest import BODY, T0, URL


def labels(store):
    return [v["label"] for v in store.versions.find({}, sort=[("number", 1)])]


def test_first_version_then_unchanged(pipeline, store):
    pipeline()
    pipeline(minutes=30)
    assert labels(store) == ["first"]
    article = store.articles.find_one({"url": URL})
    assert article["version_count"] == 1
    assert article["checks"] == 2
    assert article["next_check"] == T0 + timedelta(minutes=30) + timedelta(minutes=15)
    assert pipeline.crawler.stats.get_value("newsdiff/checks/unchanged") == 1


def test_whitespace_only_edit_is_not_a_version(pipeline, store):
    pipeline()
    pipeline(
        minutes=20,
        body=[p.replace(" ", "  ") + "\u200b " for p in BODY],
        title="  Council Approves\u00a0Budget ",
    )
    assert labels(store) == ["first"]


def test_labels_change_trivial_flipflop(pipeline, store):
    pipeline()
    pipeline(minutes=20, title="Council Narrowly Approves Budget")  # change
    pipeline(
        minutes=40,
        body=[BODY[0], BODY[1].replace("“", '"').replace("”", '"'), BODY[2]],
        title="Council Narrowly Approves Budget",
    )  # quote style only: trivial
    pipeline(minutes=60)  # back to version 0 exactly: flip-flop
    assert labels(store) == ["first", "change", "trivial", "flip-flop"]
    numbers = [v["number"] for v in store.versions.find({}, sort=[("number", 1)])]
    assert numbers == [0, 1, 2, 3]
    changed = [v["changed"] for v in store.versions.find({}, sort=[("number", 1)])]
    assert changed[1] == ["title"]
    assert changed[2] == ["body"]


def test_timestamp_line_is_trivial(pipeline, store):
    pipeline(body=["Updated Jan. 2, 2020, 3:45 p.m. ET", *BODY])
    pipeline(minutes=20, body=["Updated Jan. 2, 2020, 5:10 p.m. ET", *BODY])
    assert labels(store) == ["first", "trivial"]


def test_a_dateline_in_another_language_is_trivial(pipeline, store):
    pipeline(body=["Stand: 28.04.2020 18:00 Uhr", *BODY])
    pipeline(minutes=20, body=["Stand: 28.04.2020 19:15 Uhr", *BODY])
    pipeline(minutes=40, body=["Mis à jour le 28 avril 2020 à 19h40", *BODY])
    assert labels(store) == ["first", "trivial", "trivial"]


def test_correction_appended_is_a_change(pipeline, store):
    pipeline()
    pipeline(minutes=20, corrections=["Correction: An earlier version misstated the vote."])
    versions = list(store.versions.find({}, sort=[("number", 1)]))
    assert [v["label"] for v in versions] == ["first", "change"]
    assert versions[1]["changed"] == ["corrections"]
    assert versions[1]["corrections"] == ["Correction: An earlier version misstated the vote."]


def test_shrunken_body_is_a_status_not_a_version(pipeline, store):
    pipeline()
    pipeline(minutes=20, body=[BODY[0]])
    assert labels(store) == ["first"]
    article = store.articles.find_one({"url": URL})
    assert article["status"] == "failing"
    assert "shrank" in article["reason"]
    assert pipeline.crawler.stats.get_value("newsdiff/status/failing") == 1


def test_empty_extraction_is_a_status(pipeline, store):
    pipeline(body=[])
    assert labels(store) == []
    article = store.articles.find_one({"url": URL})
    assert article["status"] == "failing"
    assert article["version_count"] == 0
    assert pipeline.crawler.stats.get_value("newsdiff/extract/empty/body") == 1


def test_gone_keeps_versions(pipeline, store):
    pipeline()
    pipeline(minutes=20, status="gone", reason="HTTP 410", body=[])
    assert labels(store) == ["first"]
    assert store.articles.find_one({"url": URL})["status"] == "gone"


def test_concurrent_writer_gets_next_number(pipeline, store):
    """A writer whose article state is stale (another crawl stored a version meanwhile)
    re-decides on the stored latest version instead of duplicating a number."""
    pipeline()
    stale = store.find_article([URL])
    pipeline(minutes=10, title="Second Title")
    item = pipeline(minutes=11, title="Third Title", known=stale)
    assert item.url == URL
    assert labels(store) == ["first", "change", "change"]
    assert [v["title"] for v in store.versions.find({}, sort=[("number", 1)])][2] == "Third Title"
    assert pipeline.crawler.stats.get_value("newsdiff/versions/conflicts") == 1


def test_stale_writer_with_same_content_stores_nothing(pipeline, store):
    pipeline()
    stale = store.find_article([URL])
    pipeline(minutes=10, title="Second Title")
    pipeline(minutes=11, title="Second Title", known=stale)
    assert labels(store) == ["first", "change"]


def test_crash_between_version_and_article_write_is_repaired(pipeline, store):
    """A version whose article update never happened (crash) is neither duplicated nor lost."""
    pipeline()
    article = store.articles.find_one({"url": URL})
    orphan = store.versions.find_one({"number": 0}, {"_id": 0})
    orphan.update(number=1, title="Crash Title", label="change")
    orphan["hashes"] = {**orphan["hashes"], "title": "x" * 32}
    orphan["hash"] = "orphan"
    store.versions.insert_one(orphan)  # as if the crawl died before updating the article
    assert store.articles.find_one({"_id": article["_id"]})["version_count"] == 1
    pipeline(minutes=30, title="Another Title")
    numbers = [v["number"] for v in store.versions.find({}, sort=[("number", 1)])]
    assert numbers == [0, 1, 2]
    assert store.articles.find_one({"_id": article["_id"]})["version_count"] == 3


def test_snapshot_is_stored_compressed_once(pipeline, store):
    pipeline()
    pipeline(minutes=20, title="Second Title")
    assert store.snapshots.count_documents({}) == 1  # same raw bytes, one snapshot
    version = store.versions.find_one({"number": 1})
    assert store.snapshot(version["snapshot"]) == b"<html>raw</html>"
    stored = store.snapshots.find_one({"_id": version["snapshot"]})
    assert stored["codec"] == "zstd" and stored["data"] != b"<html>raw</html>"


def test_snapshots_stored_before_zstd_still_read(store):
    """Databases written by earlier releases hold zlib snapshots without a codec field."""
    html = b"<html>" + b"old page " * 500 + b"</html>"
    store.snapshots.insert_one({"_id": "old", "data": zlib.compress(html, 1), "size": len(html)})
    assert store.snapshot("old") == html
    assert store.snapshot("missing") is None


def test_fallback_extraction_after_outlet_rules_is_not_an_edit(pipeline, store):
    """When the outlet's rules stop finding the body (a new layout), the fallback's text is not
    compared with versions the rules extracted: no spurious version, a status instead."""
    pipeline()
    pipeline(minutes=20, extractor="trafilatura", body=[*BODY, "Read more: related stories"])
    assert labels(store) == ["first"]
    article = store.articles.find_one({"url": URL})
    assert article["status"] == "failing"
    assert "trafilatura" in article["reason"]
    assert pipeline.crawler.stats.get_value("newsdiff/extract/fell_back") == 1
    pipeline(minutes=40, body=[*BODY, "A real new paragraph."])  # the rules work again
    assert labels(store) == ["first", "change"]


def test_articles_first_seen_through_a_fallback_keep_versioning(pipeline, store):
    pipeline(extractor="jsonld")
    pipeline(minutes=20, extractor="jsonld", title="Second Title")
    assert labels(store) == ["first", "change"]


def test_quiet_factor_applies_until_the_first_change(pipeline_with, store):
    pipeline = pipeline_with(NEWSDIFF_RECHECK_FACTOR=0.15, NEWSDIFF_RECHECK_QUIET_FACTOR=1.5)

    def next_check():
        return store.articles.find_one({"url": URL})["next_check"]

    pipeline()
    pipeline(minutes=600)  # unchanged, 10 hours after the first version: 1.5 x 10 h
    assert next_check() == T0 + timedelta(hours=10 + 15)
    pipeline(minutes=660, title="A New Title")  # changed: back to the floor
    assert next_check() == T0 + timedelta(hours=11, minutes=15)
    pipeline(minutes=1260, title="A New Title")  # unchanged, 10 h after the change: 0.15 x 10 h
    assert next_check() == T0 + timedelta(hours=21 + 1.5)
