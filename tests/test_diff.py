"""The paragraph + word diff shared by the viewer, the feeds and the API."""

from __future__ import annotations

import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from newsdiff.diff import Segment, diff_paragraphs, diff_versions, diff_words

BODY = [
    "The city council voted on Tuesday to approve the new budget after months of debate.",
    "“We finally have a plan,” the mayor said, adding that the vote was close.",
    "Critics said the plan would raise taxes on small businesses across the region.",
]


def kinds(rows):
    return [r.kind for r in rows]


def test_equal_paragraphs_are_one_equal_row_each():
    rows = diff_paragraphs(BODY, BODY)
    assert kinds(rows) == ["equal"] * 3
    assert [r.old_text for r in rows] == BODY


def test_edited_paragraph_is_paired_and_words_marked():
    new = [BODY[0], BODY[1].replace("close", "very close"), BODY[2]]
    rows = diff_paragraphs(BODY, new)
    assert kinds(rows) == ["equal", "changed", "equal"]
    changed = rows[1]
    assert [s for s in changed.new if s.op == "insert"] == [Segment("insert", "very ")]
    assert all(s.op == "equal" for s in changed.old)
    assert changed.words("insert") == 1


def test_added_and_removed_paragraphs():
    new = [BODY[0], "A new paragraph about something else entirely.", BODY[2]]
    rows = diff_paragraphs(BODY, new + ["Correction appended at the end."])
    assert kinds(rows) == ["equal", "deleted", "inserted", "equal", "inserted"]
    assert rows[1].old_index == 1 and rows[1].new_index is None
    assert rows[2].new_text == new[1]


def test_replaced_block_pairs_the_similar_paragraph_and_adds_the_new_one():
    unrelated = "Breaking: an entirely unrelated opening line."
    new = [BODY[0], unrelated, BODY[1] + " She smiled.", BODY[2]]
    rows = diff_paragraphs(BODY, new)
    assert kinds(rows) == ["equal", "inserted", "changed", "equal"]
    assert rows[2].old_index == 1 and rows[2].new_index == 2
    assert [s.text for s in rows[2].new if s.op == "insert"] == [" She smiled."]


def test_adjacent_word_changes_merge_across_spaces():
    old_segs, new_segs = diff_words("the quick brown fox", "the slow red fox")
    assert old_segs == (
        Segment("equal", "the "),
        Segment("delete", "quick brown"),
        Segment("equal", " fox"),
    )
    assert new_segs == (
        Segment("equal", "the "),
        Segment("insert", "slow red"),
        Segment("equal", " fox"),
    )


def test_version_diff_fields_and_summary():
    old = {
        "number": 0,
        "title": "Council Approves Budget",
        "byline": ["Jane Doe"],
        "body": BODY,
        "corrections": [],
    }
    new = {
        "number": 1,
        "title": "Council Narrowly Approves Budget",
        "byline": ["Jane Doe"],
        "body": [BODY[0], BODY[2]],
        "corrections": ["Correction: the vote was on Monday."],
    }
    d = diff_versions(old, new)
    assert d.changed == ["title", "body", "corrections"]
    summary = d.summary()
    assert "Headline changed from “Council Approves Budget” to “Council Narrowly" in summary
    assert "1 paragraph removed" in summary
    assert "Correction added: “Correction: the vote was on Monday.”" in summary
    data = d.as_dict()
    assert data["from"] == 0 and data["to"] == 1
    assert data["fields"]["body"]["paragraphs"] == {"changed": 0, "inserted": 0, "deleted": 1}


def test_diff_against_nothing_shows_everything_added():
    d = diff_versions(
        None, {"number": 0, "title": "T", "byline": [], "body": ["a b"], "corrections": []}
    )
    assert d.old_number is None
    assert kinds(d.fields["body"].rows) == ["inserted"]
    assert d.fields["body"].words_added == 2


def test_no_change_summary():
    v = {"number": 0, "title": "T", "body": ["x"]}
    assert diff_versions(v, v | {"number": 1}).summary() == "No visible change."


# Small alphabets make overlaps (and so every alignment case) likely.
words = st.sampled_from(["the", "mayor", "said", "vote", "budget", "", "“", "’s", "don't", "é"])
seps = st.sampled_from([" ", "  ", ", ", ".", "\n", "\t", "-", ""])
paragraph = st.lists(st.tuples(words, seps), max_size=8).map(
    lambda parts: "".join(w + s for w, s in parts)
)
paragraphs = st.lists(st.one_of(paragraph, st.text(max_size=12)), max_size=8)


@settings(max_examples=300, deadline=None)
@given(paragraphs, paragraphs)
def test_rows_rebuild_both_versions_exactly(old, new):
    rows = diff_paragraphs(old, new)
    assert [r.old_text for r in rows if r.old_index is not None] == old
    assert [r.new_text for r in rows if r.new_index is not None] == new
    assert [r.old_index for r in rows if r.old_index is not None] == list(range(len(old)))
    assert [r.new_index for r in rows if r.new_index is not None] == list(range(len(new)))
    for r in rows:
        assert all(s.op in ("equal", "delete") for s in r.old)
        assert all(s.op in ("equal", "insert") for s in r.new)
        assert all(s.text for s in (*r.old, *r.new))
        if r.kind in ("equal", "changed"):
            assert (r.old_text == r.new_text) == (r.kind == "equal")


@settings(max_examples=300, deadline=None)
@given(paragraph, paragraph)
def test_word_segments_rebuild_both_sides(old, new):
    a, b = diff_words(old, new)
    assert "".join(s.text for s in a) == old
    assert "".join(s.text for s in b) == new
    assert "".join(s.text for s in a if s.op == "equal") == "".join(
        s.text for s in b if s.op == "equal"
    )
    for side in (a, b):  # neighbours are merged: no two adjacent segments share an op
        assert all(x.op != y.op for x, y in itertools.pairwise(side))
