"""What an extraction reads of a fetched page, and the digest that tells a re-check whether it
changed.

A page's *reading* leaves out what no extractor reads: scripts (JSON-LD excepted, kept in its
place and order), styles, comments and CSP nonces. Those are what most often changes from one
fetch of an unchanged article to the next (per-request tokens, nonces, timestamps and ad
configuration in scripts), and most of the bytes of a big page. A page class may also name the
element that holds its article (ArticlePage.scope, a pattern for that element's start tag, e.g.
the NYT's <article id="story">): the reading is then only the page's head and that element, so
the ads, menus and "last updated" lines around the article are left out too.

Extraction reads the reading when it finds an article of more than a few lines there (from the
outlet's own rules, for an element), else the page as fetched (pages.read_fetched), and the
article keeps the digest of what was read (raw_digest). The digest covers the extractor's
version, so the same digest means the same extraction: a re-check whose reading has the digest
the article keeps is not extracted again, however much the rest of the page moved.
"""

from __future__ import annotations

import re
from typing import NamedTuple

_HEAD = re.compile(rb"<head[\s>]", re.I)
_BODY = re.compile(rb"<body(?:\s[^>]*)?>", re.I)
_JSONLD = b"application/ld+json"
_NONCE = re.compile(rb'\snonce="[^"]*"', re.I)
# Scans stop only at "<": inside a big script's data, where "<" is rare, they run at about
# 3 GB/s, much faster than bytes.find of a word (a 1.4 MB NYT page's element in 0.6 ms).
_RAW_END = {
    b"script": re.compile(rb"</(?i:script)(?=[\s>/])"),
    b"style": re.compile(rb"</(?i:style)(?=[\s>/])"),
}


_SIMPLE_SELECTOR = re.compile(
    r"(?P<tag>[a-zA-Z][\w-]*)?"
    r"(?:#(?P<id>[\w-]+)|\.(?P<cls>[\w-]+)|\[(?P<attr>[\w-]+)=([\"']?)(?P<value>[^\"'\]]+)\5\])?"
)


def start_tag(selector: str) -> re.Pattern[bytes]:
    """A scope (ArticlePage.scope) from a simple CSS selector: a tag, an #id, a .class or an
    [attribute=value], or a tag with one of them (`main#content`, `article.story`,
    `div[role=main]`); ValueError for anything else."""
    found = _SIMPLE_SELECTOR.fullmatch(selector.strip())
    if not found or not any(found.group("tag", "id", "cls", "attr")):
        kinds = "a tag, #id, .class or [attribute=value], or a tag with one"
        raise ValueError(f"scope must be {kinds}: {selector!r}")
    tag = re.escape(found["tag"]) if found["tag"] else r"[a-zA-Z][\w-]*"
    pattern = rf"<((?i:{tag}))(?=[\s>/])"
    value_end = r"""(?=["'\s>/])"""
    if found["id"]:
        pattern += rf"""[^>]*?\s(?i:id)\s*=\s*["']?{re.escape(found["id"])}{value_end}"""
    elif found["cls"]:
        words = r"""(?:[^"'>]*\s)?"""  # the class attribute's words before this one
        pattern += rf"""[^>]*?\s(?i:class)\s*=\s*["']?{words}{re.escape(found["cls"])}{value_end}"""
    elif found["attr"]:
        name, value = re.escape(found["attr"]), re.escape(found["value"])
        pattern += rf"""[^>]*?\s(?i:{name})\s*=\s*["']?{value}{value_end}"""
    return re.compile(pattern.encode())


class Reading(NamedTuple):
    """What an extraction reads of a page first (see the module's docstring)."""

    data: bytes
    element: bool  # the head and the scope's element only, not the whole page


def reading(body: bytes, scope: re.Pattern[bytes] | None) -> Reading:
    """The page's head and the element scope's pattern starts (its group 1 is the tag name) when
    it has one after its head, else the whole page; without scripts but JSON-LD, styles,
    comments and nonces. The body's JSON-LD outside the element goes with the head when it
    comes before the element, after the element when it comes after."""
    found = _element(body, scope) if scope is not None else None
    if found is not None:
        return Reading(found, True)
    out: list[bytes] = []
    _copy(body, 0, len(body), out)
    return Reading(b"".join(out), False)


def _element(body: bytes, scope: re.Pattern[bytes]) -> bytes | None:
    if (head := _HEAD.search(body)) is None:
        return None
    out: list[bytes] = []
    _copy(body, 0, head.start(), out)
    head_end = _copy(body, head.start(), len(body), out, b"head")
    if (start := scope.search(body, head_end)) is None:
        return None
    element: list[bytes] = []
    end = _copy(body, start.start(), len(body), element, start.group(1).lower())
    out += _jsonld(body, head_end, start.start())
    opening = _BODY.search(body, head_end, start.start())
    out += [b"</head>", opening.group(0) if opening else b"<body>", *element]
    out.append(body[end : body.find(b">", end) + 1 or len(body)])
    # after the element, as in the page: the first article object must stay the first
    out += _jsonld(body, end, len(body))
    out.append(b"</body></html>")
    return b"".join(out)


def _tokens(tag: bytes | None) -> re.Pattern[bytes]:
    names = b"script|style" + (b"|" + re.escape(tag) if tag else b"")
    return re.compile(rb"<(?:(/?)(?i:(" + names + rb"))(?=[\s>/])|!--)")


_TOKENS: dict[bytes | None, re.Pattern[bytes]] = {}


def _copy(body: bytes, pos: int, end: int, out: list[bytes], tag: bytes | None = None) -> int:
    """Append body[pos:end] to out without scripts (but JSON-LD, nonce removed), styles and
    comments. With tag, stop at the end tag of the element of that tag opening at pos; returns
    where copying stopped (that end tag's start, or end)."""
    tokens = _TOKENS.get(tag) or _TOKENS.setdefault(tag, _tokens(tag))
    depth, scan = 0, pos
    while found := tokens.search(body, scan, end):
        at, name = found.start(), (found.group(2) or b"").lower()
        if name == tag:
            depth += -1 if found.group(1) else 1
            if depth <= 0:
                out.append(body[pos:at])
                return at
            scan = found.end()
        elif found.group(1):  # a stray </script> or </style>
            scan = found.end()
        else:
            out.append(body[pos:at])
            if name:
                closer = _RAW_END[name].search(body, found.end(), end)
                stop = end if closer is None else body.find(b">", closer.end()) + 1 or end
                opening = body[at : body.find(b">", at, stop) + 1]
                if name == b"script" and _JSONLD in opening:
                    out.append(_NONCE.sub(b"", body[at:stop]))
            else:  # a comment
                stop = body.find(b"-->", found.end(), end)
                stop = end if stop < 0 else stop + 3
            pos = scan = stop
    out.append(body[pos:end])
    return end


def _jsonld(body: bytes, pos: int, end: int) -> list[bytes]:
    """The JSON-LD scripts of body[pos:end] (nonces removed)."""
    found: list[bytes] = []
    at = body.find(_JSONLD, pos, end)
    while at >= 0:
        # a start tag is short: a page that names JSON-LD in its text cannot make this quadratic
        opening = body.rfind(b"<script", max(pos, at - 2000), at)
        if opening >= 0 and body.find(b">", opening, at) < 0:  # inside the start tag
            closing = body.find(b"</script", at)
            stop = len(body) if closing < 0 else (body.find(b">", closing) + 1 or len(body))
            found.append(_NONCE.sub(b"", body[opening:stop]))
            at = stop
        at = body.find(_JSONLD, at + 1, end)
    return found
