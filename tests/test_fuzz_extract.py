"""Fuzzing the extractors with mutated corpus pages: every outlet's extract() either returns a
valid Extraction or raises NotArticle with a reason; no other exception escapes."""

from __future__ import annotations

import random
import re
from functools import cache

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from newsdiff import pages
from newsdiff.pages import Extraction, NotArticle
from tests.conftest import CORPUS

OUTLET_OF_DIR = {"ap": "apnews"}  # corpus folder -> outlet, where they differ
REASONS = {"section-front", "paywall", "interstitial", "empty", "not-html"}
SEED = 20250601


@cache
def corpus() -> list[tuple[str, str, bytes]]:
    """(outlet, url, html) of every corpus page, read once; the files are never written."""
    import json

    out = []
    for source in sorted(CORPUS.glob("pages/*/*/source.html")):
        meta = json.loads((source.parent / "meta.json").read_text())
        outlet = OUTLET_OF_DIR.get(source.parent.parent.name, source.parent.parent.name)
        url = meta.get("url") or f"https://{pages.PAGES[outlet].domains[0]}/2020/01/01/story.html"
        out.append((outlet, url, source.read_bytes()))
    return out


# --- mutations (each takes bytes and a random.Random, returns new bytes) --------------------


def truncate(html: bytes, rnd: random.Random) -> bytes:
    return html[: rnd.randrange(len(html) + 1)]


def delete_range(html: bytes, rnd: random.Random) -> bytes:
    i = rnd.randrange(len(html) + 1)
    return html[:i] + html[i + rnd.randrange(1, 20_000) :]


def duplicate_range(html: bytes, rnd: random.Random) -> bytes:
    i = rnd.randrange(len(html) + 1)
    j = min(len(html), i + rnd.randrange(1, 20_000))
    return html[:j] + html[i:j] * rnd.randrange(1, 4) + html[j:]


def flip_bytes(html: bytes, rnd: random.Random) -> bytes:
    data = bytearray(html)
    for _ in range(rnd.randrange(1, 200)):
        if data:
            data[rnd.randrange(len(data))] = rnd.randrange(256)
    return bytes(data)


def drop_closing_tags(html: bytes, rnd: random.Random) -> bytes:
    share = rnd.random()
    return re.sub(
        rb"</[a-zA-Z][a-zA-Z0-9]*\s*>", lambda m: b"" if rnd.random() < share else m[0], html
    )


CHARSETS = [
    b"utf-8",
    b"iso-8859-1",
    b"windows-1252",
    b"utf-16",
    b"shift_jis",
    b"koi8-r",
    b"x-no-such-charset",
    b"",
    b"utf-7",
    b"\xff\xfe",
]


def swap_charset(html: bytes, rnd: random.Random) -> bytes:
    new = rnd.choice(CHARSETS)
    swapped, n = re.subn(rb"charset=[\"']?[\w-]*", b"charset=" + new, html, count=1, flags=re.I)
    if not n:  # no declaration: add one
        swapped = b'<meta charset="' + new + b'">' + html
    if rnd.random() < 0.2:  # and sometimes a byte-order mark that disagrees
        swapped = rnd.choice([b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff"]) + swapped
    return swapped


# Values real pages put where they should not: links no browser could open (Python's URL
# functions raise on a bracketed host that is no IP address), dates out of any calendar, JSON-LD
# lists, numbers, objects and nulls where strings belong.
BAD_LINKS = [b"http://[consent]/", b"//:99999/a b", b"http://", b"javascript:void(0)", b""]
BAD_DATES = [b"99999-13-45T99:99:99+99:00", b"0000-00-00", b"yesterday", b"1e309"]
BAD_LD_VALUES = [b'["x", {"y": null}, 3]', b"12345", b"null", b'{"@value": "x"}', b"[]", b"true"]


def bad_links(html: bytes, rnd: random.Random) -> bytes:
    share = rnd.random()
    return re.sub(
        rb'(href|content|src)="(https?:)?//[^"]*"',
        lambda m: m[1] + b'="' + rnd.choice(BAD_LINKS) + b'"' if rnd.random() < share else m[0],
        html,
    )


def bad_dates(html: bytes, rnd: random.Random) -> bytes:
    return re.sub(
        rb'(content|datetime)="\d{4}-\d\d-\d\d[^"]*"',
        lambda m: m[1] + b'="' + rnd.choice(BAD_DATES) + b'"',
        html,
    )


def bad_json_ld_values(html: bytes, rnd: random.Random) -> bytes:
    share = rnd.random()
    return re.sub(
        rb'("[@\w]+"\s*:\s*)"(?:[^"\\]|\\.)*"',
        lambda m: m[1] + rnd.choice(BAD_LD_VALUES) if rnd.random() < share else m[0],
        html,
    )


MUTATIONS = [
    truncate,
    delete_range,
    duplicate_range,
    flip_bytes,
    drop_closing_tags,
    swap_charset,
    bad_links,
    bad_dates,
    bad_json_ld_values,
]


def check(outlet: str, url: str, html: bytes) -> None:
    """The property: a valid Extraction, or NotArticle with a known reason and a message."""
    try:
        result = pages.extract(html, url, outlet)
    except NotArticle as exc:
        assert exc.reason in REASONS, exc.reason
        assert str(exc)
        return
    assert isinstance(result, Extraction)
    assert result.title is None or isinstance(result.title, str)
    assert isinstance(result.body, list) and result.body
    assert all(isinstance(p, str) and p for p in result.body)
    for name in ("byline", "corrections"):
        value = getattr(result, name)
        assert isinstance(value, list) and all(isinstance(v, str) and v for v in value)
    for name in ("published", "modified", "section"):
        assert getattr(result, name) is None or isinstance(getattr(result, name), str)
    assert isinstance(result.extractor, str) and result.extractor


def test_corpus_is_there():
    assert len(corpus()) >= 20
    assert {outlet for outlet, _, _ in corpus()} == set(pages.BUILT_IN)


@pytest.mark.parametrize("mutation", MUTATIONS, ids=lambda m: m.__name__)
def test_seeded_mutations_of_every_page(mutation):
    """Each mutation, applied twice (seeded) to every corpus page under its own outlet."""
    rnd = random.Random(f"{SEED}-{mutation.__name__}")
    for outlet, url, html in corpus():
        for _ in range(2):
            mutated = mutation(html, rnd)
            try:
                check(outlet, url, mutated)
            except Exception as exc:  # report the case so it can become a regression test
                raise AssertionError(f"{mutation.__name__} of {url} ({outlet}): {exc!r}") from exc


@settings(
    max_examples=60, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
@given(
    st.integers(0, 10_000),
    st.lists(st.sampled_from(MUTATIONS), min_size=1, max_size=3),
    st.integers(0, 2**32),
    st.booleans(),
)
def test_stacked_mutations_under_any_outlet(index, mutations, seed, other_outlet):
    """Several mutations in a row, sometimes extracted with another outlet's rules."""
    outlet, url, html = corpus()[index % len(corpus())]
    rnd = random.Random(seed)
    for mutation in mutations:
        html = mutation(html, rnd)
    if other_outlet:
        outlet = rnd.choice(sorted(pages.PAGES))
    check(outlet, url, html)


@pytest.mark.parametrize(
    "html",
    [
        b"",
        b"\x00" * 100,
        b"\xef\xbb\xbf",
        b"\xff\xfe",
        b"<",
        b"<html",
        b"<html><body></body>",
        b"<!doctype html>",
        b"<meta charset='utf-16'><p>x</p>",
        "<p>\ud800</p>".encode("utf-8", "surrogatepass"),
        b"<html>" + b"<div>" * 5000 + b"text",
        b"<p>" + b"\xe9" * 1000,
    ],
)
def test_degenerate_pages(html):
    for outlet in sorted(pages.PAGES):
        check(outlet, "https://www.example.com/2020/01/01/a.html", html)
