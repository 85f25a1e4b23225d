"""The version decision as pure functions (newsdiff.versions): no crawler, no database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from newsdiff import text, versions

BOUNDS = versions.Bounds(
    shrink_ratio=0.5, shrink_min_chars=800, max_body_bytes=10_000, max_paragraphs=50
)
BODY = ["A paragraph of the article, long enough to count for something. " * 4] * 6


def fetch(body=BODY, extractor="nytimes", title="Council Approves Budget") -> dict:
    fields = {"title": title, "byline": ["Jane Doe"], "body": body, "corrections": []}
    return {
        **fields,
        "extractor": extractor,
        "hashes": text.field_hashes(fields),
        "loose_hashes": text.loose_hashes(fields),
    }


def stored(f: dict, **more) -> dict:
    body_chars = sum(map(len, f["body"]))
    return {
        "hashes": f["hashes"],
        "loose_hashes": f["loose_hashes"],
        "seen_hashes": [text.combined_hash(f["hashes"])],
        "body_chars": body_chars,
        "extractor": f["extractor"],
        **more,
    }


def test_a_comparable_fetch_is_labelled_by_what_changed():
    first = fetch()
    assert versions.refusal(first, {}, BOUNDS) is None
    assert versions.label(first, {}) == "first"
    assert versions.label(first, stored(first)) is None  # no change
    assert versions.label(fetch(title="Council Rejects Budget"), stored(first)) == "change"
    assert versions.label(fetch(title="Council approves budget"), stored(first)) == "trivial"


def test_refusals_say_why_and_what_to_count():
    state = stored(fetch())
    shrunk = versions.refusal(fetch(body=BODY[:1]), state, BOUNDS)
    assert shrunk.event == "extract/shrunk" and "body shrank from" in shrunk.reason
    fallback = versions.refusal(fetch(extractor="trafilatura"), state, BOUNDS)
    assert (
        fallback.event == "extract/fell_back" and "nytimes rules found no body" in fallback.reason
    )
    assert versions.refusal(fetch(extractor="trafilatura"), {}, BOUNDS) is None  # new article
    huge = versions.refusal(fetch(body=["x"] * 60), {}, BOUNDS)
    assert huge.event == "extract/oversized" and huge.keep_snapshot
    assert "60 paragraphs" in huge.reason


def test_a_fetch_older_than_the_newest_version_is_stale():
    t = datetime(2026, 1, 1, tzinfo=UTC)
    assert not versions.stale(t, {})
    assert versions.stale(t, {"last_changed": t + timedelta(seconds=1)})
    assert not versions.stale(t, {"last_changed": t})
