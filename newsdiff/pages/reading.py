"""What an extraction reads of a fetched page, and the digest that tells a re-check whether it
changed.

A page class may name the element that holds its article (ArticlePage.scope, a pattern for that
element's start tag, e.g. the NYT's <article id="story">). The page's *part* is then its head and
that element, without scripts (JSON-LD excepted, wherever it is in the page), styles, comments
and CSP nonces. Those are what change from one fetch of an unchanged article to the next: ads,
"last updated" lines and menus outside the article, per-request tokens and nonces. They are also
most of the bytes of a big page, so the part parses in a fraction of the time.

Extraction reads the part when the outlet's own rules find the article in it, else the whole
page (pages.read_fetched), and the article keeps the digest of what was read (raw_digest). The
digest covers the extractor's version, so the same digest means the same extraction: a re-check
whose part has the digest the article keeps is not extracted again, however much the rest of
the page moved.
"""

from __future__ import annotations

import re

_HEAD = re.compile(rb"<head[\s>]", re.I)
_HEAD_END = b"</head>"
_BODY = re.compile(rb"<body(?:\s[^>]*)?>", re.I)
_JUNK = (b"<script", b"<style", b"<!--")
_JUNK_END = {b"<script": b"</script", b"<style": b"</style", b"<!--": b"-->"}
_JSONLD = b"application/ld+json"
_NONCE = re.compile(rb'\snonce="[^"]*"', re.I)
_BOUNDARY = frozenset(b" \t\r\n>/")


def part(body: bytes, scope: re.Pattern[bytes] | None) -> bytes | None:
    """The page's head and the element scope's pattern starts (its group 1 is the tag name),
    without scripts but JSON-LD, styles, comments and nonces; None when the page has no such
    element after its head."""
    if scope is None or (start := scope.search(body)) is None:
        return None
    head = _HEAD.search(body, 0, start.start())
    head_end = body.find(_HEAD_END, head.end() if head else 0, start.start())
    if head is None or head_end < 0:
        return None
    out: list[bytes] = []
    _copy(body, 0, head_end, out)
    element: list[bytes] = []
    end = _copy(body, start.start(), len(body), element, tag=start.group(1).lower())
    out += _jsonld_outside(body, head_end, start.start(), end)
    opening = _BODY.search(body, head_end, start.start())
    out += [_HEAD_END, opening.group(0) if opening else b"<body>", *element, b"</body></html>"]
    return b"".join(out)


def _copy(body: bytes, pos: int, end: int, out: list[bytes], tag: bytes | None = None) -> int:
    """Append body[pos:end] to out without scripts (but JSON-LD, nonce removed), styles and
    comments. With tag, stop after the element of that tag opening at pos closes. Returns where
    copying stopped."""
    seen: dict[bytes, tuple[int, int]] = {}
    depth = 0
    while pos < end:
        junk, marker = _next_junk(body, pos, end, seen)
        if tag is not None:
            depth, closed = _balance(body, pos, junk, tag, depth)
            if closed >= 0:
                out.append(body[pos:closed])
                return closed
        out.append(body[pos:junk])
        if not marker:
            return end
        stop = body.find(_JUNK_END[marker], junk + len(marker), end)
        stop = end if stop < 0 else body.find(b">", stop) + 1 or end
        if marker == b"<script" and _JSONLD in body[junk : body.find(b">", junk, stop) + 1]:
            out.append(_NONCE.sub(b"", body[junk:stop]))
        pos = stop
    return end


def _next_junk(
    body: bytes, pos: int, end: int, seen: dict[bytes, tuple[int, int]]
) -> tuple[int, bytes]:
    """The first script, style or comment at or after pos, as (index, marker); (end, b"") when
    none. seen keeps, per marker, where it was found and where the search for it stopped, so
    that no byte is searched twice for a marker, and none inside a skipped script at all (the
    scripts of a big page are most of its bytes)."""
    nearest, which = end, b""
    for marker in _JUNK:
        found, searched = seen.get(marker, (-1, pos))
        if found < pos:
            if max(pos, searched) >= nearest:
                continue
            found = body.find(marker, max(pos, searched), nearest)
            seen[marker] = (found, nearest if found < 0 else found)
            if found < 0:
                continue
        if found < nearest:
            nearest, which = found, marker
    return nearest, which


def _balance(body: bytes, pos: int, limit: int, tag: bytes, depth: int) -> tuple[int, int]:
    """Count tag's start and end tags in body[pos:limit] from depth: (the depth after them, -1),
    or (0, the index just after the end tag that closes the element)."""
    opening, closing = b"<" + tag, b"</" + tag
    while True:
        o, c = body.find(opening, pos, limit), body.find(closing, pos, limit)
        if o < 0 and c < 0:
            return depth, -1
        if o >= 0 and (c < 0 or o < c):
            pos = o + len(opening)
            depth += pos == len(body) or body[pos] in _BOUNDARY
            continue
        pos = c + len(closing)
        if pos < len(body) and body[pos] not in _BOUNDARY:
            continue
        depth -= 1
        if depth <= 0:
            return 0, (body.find(b">", pos) + 1) or len(body)


def _jsonld_outside(body: bytes, after: int, start: int, end: int) -> list[bytes]:
    """The JSON-LD scripts of the body outside the element at start:end (nonces removed)."""
    found: list[bytes] = []
    at = body.find(_JSONLD, after)
    while at >= 0:
        if start <= at < end:
            at = body.find(_JSONLD, end)
            continue
        opening = body.rfind(b"<script", after, at)
        if opening >= 0 and body.find(b">", opening, at) < 0:  # inside the start tag
            closing = body.find(b"</script", at)
            stop = len(body) if closing < 0 else (body.find(b">", closing) + 1 or len(body))
            found.append(_NONCE.sub(b"", body[opening:stop]))
            at = stop
        at = body.find(_JSONLD, at + 1)
    return found
