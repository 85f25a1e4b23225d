"""URL identity, normalisation, hashes and labels (pure functions)."""

from __future__ import annotations

import subprocess
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from newsdiff import text
from newsdiff.spiders.nytimes import NytimesSpider

NYT = NytimesSpider()


@pytest.mark.parametrize(
    ("url", "canonical"),
    [
        (
            "http://WWW.NYTimes.com/2018/06/05/world/europe/greece-macedonia.html?partner=rss&emc=rss",
            "https://www.nytimes.com/2018/06/05/world/europe/greece-macedonia.html",
        ),
        (
            "https://www.nytimes.com/2018/06/05/world/europe/greece-macedonia.html#commentsContainer",
            "https://www.nytimes.com/2018/06/05/world/europe/greece-macedonia.html",
        ),
        (
            "https://mobile.nytimes.com/2018/06/05/world/europe/greece-macedonia.amp.html",
            "https://www.nytimes.com/2018/06/05/world/europe/greece-macedonia.html",
        ),
        (
            "https://nytimes.com/2018/06/05/world/europe/greece-macedonia.html?smid=tw-share",
            "https://www.nytimes.com/2018/06/05/world/europe/greece-macedonia.html",
        ),
    ],
)
def test_nytimes_canonical(url, canonical):
    assert NYT.canonical(url) == canonical


def test_generic_canonical_keeps_real_parameters_and_drops_tracking():
    url = "http://Example.com:443//news/story?id=42&utm_source=x&b=2&fbclid=abc#top"
    assert text.canonical_url(url) == "https://example.com/news/story?b=2&id=42"
    assert text.canonical_url(url, keep_query=False) == "https://example.com/news/story"


@pytest.mark.parametrize(
    ("url", "is_article"),
    [
        ("https://www.nytimes.com/2018/06/05/world/europe/greece-macedonia.html", True),
        ("https://www.nytimes.com/2031/12/31/us/politics/a-story-from-the-future.html", True),
        ("https://www.nytimes.com/live/2024/11/05/us/election-results.html", True),
        ("https://www.nytimes.com/section/world", False),
        ("https://www.nytimes.com/es/", False),
        ("https://www.nytimes.com/2020/01/01/video/some-clip.html", False),
        ("https://www.nytimes.com/interactive/2020/us/elections/results.html", False),
        ("https://www.example.com/2018/06/05/world/story.html", False),
        ("https://cooking.nytimes.com/2018/06/05/recipes/soup.html", True),
    ],
)
def test_nytimes_article_urls(url, is_article):
    assert NYT.is_article_url(url) is is_article


def test_normalise_whitespace_and_invisible_characters():
    assert text.normalise("  A\u00a0b\u200b  c \r\n\r\n d\u00ad ") == "A b c\nd"
    assert text.normalise("ﬁne") == "fine"  # NFKC


def test_fingerprint_ignores_punctuation_quotes_case_and_timestamps():
    assert text.fingerprint("“Hello,” she said.") == text.fingerprint('"hello" she said')
    assert text.fingerprint("Updated 5:43 p.m. ET\nBody") == text.fingerprint("Body")
    assert text.fingerprint("Body one") != text.fingerprint("Body two")


@pytest.mark.parametrize(
    "line",
    [
        "Updated 5:43 p.m. ET",
        "Published Jan. 2, 2020",
        "Posted 3 hours ago",
        "Stand: 28.04.2020 18:00 Uhr",
        "Zuletzt aktualisiert am 12. März 2021 um 14:05 Uhr",
        "Aktualisiert vor 5 Minuten",
        "Mis à jour le 3 mars 2021 à 14h05",
        "Publié il y a 2 heures",
        "Actualizado el 4 de mayo de 2021, 10:31",
        "Aggiornato il 5 maggio 2021 alle 9.30",
        "Laatst bijgewerkt: 6 mei 2021, 12:00",
        # a time relative to now, alone on its line (a live blog entry's, a comment's)
        "5 minutes ago",
        "12m ago",
        "about 2 hours ago",
        "Just now",
        "vor 5 Minuten",
        "vor einer Stunde",
        "il y a 3 h",
        "hace 2 horas",
        "há 5 minutos",
        "5 minuti fa",
        "10 minuten geleden",
    ],
)
def test_datelines_are_out_of_the_fingerprint(line):
    assert text.fingerprint(f"{line}\nBody") == text.fingerprint("Body")


@pytest.mark.parametrize(
    "line",
    [
        "Standard procedures were followed in 2020, the agency said.",
        "Posted in Chicago, the letter was signed by 40 officers.",
        "Veröffentlicht am Rande der Konferenz wurde ein Papier der Regierung.",
        "The meeting ended 5 minutes ago.",
        "5 minutes",
        "Published in 2019, the report found that rents had risen for a decade across "
        "the region, and officials promised a plan that never came.",
    ],
)
def test_text_that_starts_like_a_dateline_stays_in_the_fingerprint(line):
    assert text.fingerprint(f"{line}\nBody") != text.fingerprint("Body")


def test_hashes_are_stable_across_processes():
    fields = {"title": "T", "byline": ["A", "B"], "body": ["p1", "p2"], "corrections": []}
    code = f"from newsdiff.text import field_hashes;print(field_hashes({fields!r}))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == str(text.field_hashes(fields))


def hashes(title="T", body=("p",)):
    fields = {"title": title, "byline": ["A"], "body": list(body), "corrections": []}
    return text.field_hashes(fields), text.loose_hashes(fields)


def test_labels():
    first, first_loose = hashes()
    changed, changed_loose = hashes(title="Another")
    trivial, trivial_loose = hashes(title="T.")

    def label(prev, new, earlier=()):
        return text.label(
            previous=prev[0],
            previous_loose=prev[1],
            new=new[0],
            new_loose=new[1],
            earlier_combined=earlier,
        )

    assert (
        text.label(previous=None, previous_loose=None, new=first, new_loose=first_loose) == "first"
    )
    assert label((first, first_loose), (first, first_loose)) is None
    assert label((first, first_loose), (changed, changed_loose)) == "change"
    assert label((first, first_loose), (trivial, trivial_loose)) == "trivial"
    back = [text.combined_hash(first)]
    assert label((changed, changed_loose), (first, first_loose), back) == "flip-flop"


def test_hashes_stored_before_the_summary_field_still_compare():
    """Versions stored before summaries were hashed have no summary hash: it counts as an empty
    summary, and their combined hash (by which flip-flops are found) is still today's."""
    fields = {"title": "T", "byline": ["A"], "body": ["p"], "corrections": []}
    today, today_loose = text.field_hashes(fields), text.loose_hashes(fields)
    stored = {k: v for k, v in today.items() if k != "summary"}
    stored_loose = {k: v for k, v in today_loose.items() if k != "summary"}
    assert "summary" in today and text.changed_fields(stored, today) == []
    old_combined = text._digest([today[k] for k in ("title", "byline", "body", "corrections")])
    assert text.combined_hash(stored) == text.combined_hash(today) == old_combined
    assert (
        text.label(previous=stored, previous_loose=stored_loose, new=today, new_loose=today_loose)
        is None
    )
    # A summary where there was none is a change of that field alone, and a new combined hash.
    described = text.field_hashes(fields | {"summary": "A dek."})
    assert text.changed_fields(stored, described) == ["summary"]
    assert text.combined_hash(described) != old_combined
    # An edit of punctuation in the summary alone is trivial, as in any other field.
    edited = fields | {"summary": "A dek!"}
    assert (
        text.label(
            previous=described,
            previous_loose=text.loose_hashes(fields | {"summary": "A dek."}),
            new=text.field_hashes(edited),
            new_loose=text.loose_hashes(edited),
        )
        == "trivial"
    )


paragraphs = st.lists(st.text(min_size=0, max_size=40), max_size=6)


@given(st.text(max_size=200))
def test_normalise_is_idempotent(s):
    assert text.normalise(text.normalise(s)) == text.normalise(s)


@given(st.text(max_size=200))
def test_fingerprint_is_idempotent_on_normal_form(s):
    assert text.fingerprint(text.normalise(s)) == text.fingerprint(s)


@given(paragraphs)
def test_whitespace_never_changes_the_hash(body):
    spaced = [f"  {p.replace(' ', '   ')}\t" for p in body]
    a = text.field_hashes({"body": text.normalise_list(body)})
    b = text.field_hashes({"body": text.normalise_list(spaced)})
    assert a == b


@given(
    st.text(alphabet=st.characters(codec="ascii", categories=["L", "N"]), min_size=1, max_size=30)
)
def test_canonical_url_is_idempotent(path):
    url = f"http://Example.com/{path}?utm_medium=x&q=1#f"
    once = text.canonical_url(url)
    assert text.canonical_url(once) == once
