"""What a spider hands to the pipelines."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Article:
    """One fetch of one article page.

    status "ok" carries extracted fields; any other status ("unchanged" for a 304, "gone",
    "not-article", "paywall", "error", ...) only updates the article's check record.
    """

    outlet: str
    url: str  # canonical URL: the article's identity
    fetched_at: str  # ISO 8601 UTC
    status: str = "ok"
    reason: str | None = None  # why a non-ok status, in words a person can act on
    aliases: list[str] = field(default_factory=list)  # other URLs that led here
    http_status: int | None = None
    validators: dict[str, str] = field(default_factory=dict)  # ETag / Last-Modified
    html: bytes | None = None  # raw page, kept as a compressed snapshot with each version
    raw_digest: str | None = None  # of what its extraction read (newsdiff.pages.digest)
    title: str | None = None
    summary: str | None = None  # the publisher's description: a dek, a standfirst
    byline: list[str] = field(default_factory=list)
    published: str | None = None
    modified: str | None = None
    section: str | None = None
    body: list[str] = field(default_factory=list)
    corrections: list[str] = field(default_factory=list)
    extractor: str | None = None
    extractor_version: str | None = None
    known: dict[str, Any] | None = None  # the stored article state a re-check started from
    # A re-check a feed or sitemap asked for: the modification time it announced (ISO 8601).
    announced: str | None = None
    hashes: dict[str, str] = field(default_factory=dict)
    loose_hashes: dict[str, str] = field(default_factory=dict)
