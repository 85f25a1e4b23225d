"""Unchanged checks written in batches (newsdiff.checks): a lost batch only leaves its articles due,
and a check never overwrites the record of a version written after it was made."""

from __future__ import annotations

import logging
import socket
from datetime import UTC, datetime, timedelta

from newsdiff import pages
from newsdiff.checks import CheckBatch
from newsdiff.store import Store, check_update

T0 = datetime(2026, 11, 1, 12, tzinfo=UTC)


def article(store: Store, url: str) -> dict:
    return store.ensure_article("nytimes", url, [], T0)


def check_at(minutes: int) -> dict:
    now = T0 + timedelta(minutes=minutes)
    return check_update(now, "live", None, now + timedelta(hours=1), {"etag": f'"{minutes}"'})


def version(store: Store, state: dict, minutes: int) -> int:
    now = T0 + timedelta(minutes=minutes)
    hashes = {"title": str(minutes), "byline": "", "body": "", "corrections": ""}
    doc = {"fetched_at": now, "body": ["text"], "hashes": hashes, "loose_hashes": hashes}
    return store.add_version(
        state, doc | {"hash": str(minutes)}, article_fields={}, next_check=now + timedelta(1)
    )


def test_batch_writes_when_full_and_on_flush(store):
    states = [article(store, f"https://www.nytimes.com/{i}.html") for i in range(5)]
    batch = CheckBatch(store, size=2)
    for state in states[:3]:
        batch.add(state, check_at(10))
    written = [a["url"] for a in store.articles.find({"checks": 1})]
    assert len(written) == 2  # the first two, in one bulk write; the third waits
    batch.add(states[3], check_at(10))
    batch.flush()
    assert store.articles.count_documents({"checks": 1}) == 4
    assert store.articles.count_documents({"last_checked": T0 + timedelta(minutes=10)}) == 4
    assert store.articles.find_one({"_id": states[4]["_id"]})["checks"] == 0


def test_batch_waits_no_longer_than_its_seconds(store):
    states = [article(store, f"https://www.nytimes.com/{i}.html") for i in range(2)]
    batch = CheckBatch(store, size=100, seconds=0)
    batch.add(states[0], check_at(10))
    assert store.articles.find_one({"_id": states[0]["_id"]})["checks"] == 1


def test_a_check_never_overwrites_a_later_version(store):
    state = article(store, "https://www.nytimes.com/a.html")
    version(store, state, 0)
    before = store.latest_state(state["_id"])
    version(store, before, 30)  # written by another crawl after this one's check was made
    assert store.record_checks([(before, check_at(20))]) == 0
    after = store.articles.find_one({"_id": state["_id"]})
    assert after["version_count"] == 2
    assert after["last_checked"] == T0 + timedelta(minutes=30)
    assert after["next_check"] == T0 + timedelta(minutes=30, days=1)
    current = store.articles.find_one({"_id": state["_id"]})
    assert store.record_checks([(current, check_at(40))]) == 1


def test_a_batched_check_stores_its_values_as_they_are(store):
    """Validators that look like update expressions, and a check that ends the schedule."""
    state = article(store, "https://www.nytimes.com/a.html")
    now = T0 + timedelta(minutes=5)
    update = check_update(now, "live", None, None, {"etag": "$title", "last_modified": "$$NOW"})
    assert store.record_checks([(state, update)]) == 1
    after = store.articles.find_one({"_id": state["_id"]})
    assert after["validators"] == {"etag": "$title", "last_modified": "$$NOW"}
    assert after["last_checked"] == now and after["checks"] == 1
    assert "next_check" not in after
    later, due = now + timedelta(minutes=5), now + timedelta(days=1)
    update = check_update(later, "ok", None, due, {"etag": "$$ROOT", "last_modified": "$url"})
    assert store.record_checks([(after, update)]) == 1
    again = store.articles.find_one({"_id": state["_id"]})
    assert again["validators"] == {"etag": "$$ROOT", "last_modified": "$url"}
    assert (again["last_checked"], again["next_check"], again["checks"]) == (later, due, 2)
    assert {k: v for k, v in again.items() if k not in update["$set"] and k != "checks"} == {
        k: v for k, v in after.items() if k not in update["$set"] and k != "checks"
    }  # the rest of the article as it was


def test_a_lost_batch_leaves_its_articles_due(store, caplog):
    state = article(store, "https://www.nytimes.com/a.html")
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    gone = Store(f"mongodb://127.0.0.1:{port}/?directConnection=true", timeout_ms=200)
    try:
        batch = CheckBatch(gone, size=1)
        with caplog.at_level(logging.WARNING, logger="newsdiff.checks"):
            batch.add(state, check_at(10))  # no exception: the check is simply done again
    finally:
        gone.close()
    assert batch.unsaved == 1
    assert "1 unchanged checks were not recorded" in caplog.text
    assert store.due("nytimes", T0, 10)[0]["_id"] == state["_id"]


def test_raw_digest_changes_with_the_extractor(monkeypatch):
    page = b"<html><body><p>Same bytes</p></body></html>"
    before = pages.digest(page)
    assert pages.digest(page) == before
    assert pages.digest(page + b" ") != before
    assert pages.digest(page, "windows-1252") != before  # the same bytes read another way
    monkeypatch.setattr(pages, "EXTRACTOR_VERSION", pages.EXTRACTOR_VERSION + "-next")
    assert pages.digest(page) != before


def test_only_a_re_check_that_found_the_article_as_stored_skips_the_round_trip(pipeline, store):
    """Recorder.unchanged decides on the crawl's thread; anything it cannot prove unchanged from
    the spider's copy of the state goes to the full decision (which writes or re-reads)."""
    from itemadapter import ItemAdapter

    from newsdiff.pipelines import prepare
    from tests.conftest import article as fetch

    pipeline(0)  # the first version
    recorder = pipeline.stage.record
    ready = prepare(pipeline.crawler)
    known = store.find_article([fetch().url])

    def decide(minutes: float, **fields):
        item = ready(fetch(minutes, known=known, **fields))
        return recorder.unchanged(ItemAdapter(item))

    assert decide(60) == ["checks/unchanged"]  # the same fields, fetched later
    assert decide(60, status="unchanged", http_status=304) == ["checks/unchanged"]
    assert decide(60, title="Council Rejects Budget") is None  # a change: a version to write
    assert decide(60, aliases=["https://www.nytimes.com/amp/budget.html"]) is None  # new alias
    assert decide(-60) is None  # fetched before the stored version: the full path says stale
    assert decide(60, status="failing", reason="HTTP 500") is None  # recorded as what it is
    assert decide(60, body=["Too short."]) is None  # a shrunken body is refused, not a check
    # The same fields, but only the fallback extractor found them: refused like any such fetch.
    assert decide(60, extractor="trafilatura") is None
    before = store.articles.find_one({"_id": known["_id"]})["checks"]
    assert not recorder.checks.due()  # the two unchanged checks wait for the batch
    recorder.checks.flush()
    assert store.articles.find_one({"_id": known["_id"]})["checks"] == before + 2
