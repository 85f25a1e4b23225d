"""The version decision, pure: whether a fetch may be compared with the stored versions at all,
whether it is too old to become the latest, and what it is when compared (text.label).

StorePipeline reads the stored state, asks these functions, and writes what they decided; they
know nothing of Scrapy or MongoDB (like schedule.py), so they are tested without either.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from newsdiff import text
from newsdiff.pages import FALLBACK_EXTRACTORS


@dataclass(frozen=True)
class Bounds:
    """When a fetch is refused: NEWSDIFF_SHRINK_*, NEWSDIFF_MAX_BODY_BYTES, _MAX_PARAGRAPHS."""

    shrink_ratio: float
    shrink_min_chars: int
    max_body_bytes: int
    max_paragraphs: int

    @classmethod
    def from_settings(cls, settings) -> Bounds:
        return cls(
            shrink_ratio=settings.getfloat("NEWSDIFF_SHRINK_RATIO"),
            shrink_min_chars=settings.getint("NEWSDIFF_SHRINK_MIN_CHARS"),
            max_body_bytes=settings.getint("NEWSDIFF_MAX_BODY_BYTES"),
            max_paragraphs=settings.getint("NEWSDIFF_MAX_PARAGRAPHS"),
        )


@dataclass(frozen=True)
class Refusal:
    """An extracted fetch recorded as a failing check instead of compared with the versions."""

    event: str  # the stat under newsdiff/: extract/oversized, extract/shrunk, extract/fell_back
    reason: str
    keep_snapshot: bool = False  # the page is kept for a fixed parser


def refusal(fetch: Mapping[str, Any], state: Mapping[str, Any], bounds: Bounds) -> Refusal | None:
    """Why an extracted fetch must not be compared with the stored versions, or None: its text
    is too large for one version, its body shrank sharply, or only a fallback extractor found a
    body where the outlet's rules did before (a broken layout must not look like an edit)."""
    if too_large := oversized(fetch, bounds):
        return Refusal("extract/oversized", too_large, keep_snapshot=True)
    before, after = state.get("body_chars") or 0, sum(map(len, fetch["body"]))
    if before >= bounds.shrink_min_chars and after < bounds.shrink_ratio * before:
        return Refusal(
            "extract/shrunk",
            f"body shrank from {before} to {after} characters; not stored as a version",
        )
    rules = state.get("extractor")
    if rules not in (None, *FALLBACK_EXTRACTORS) and fetch["extractor"] in FALLBACK_EXTRACTORS:
        return Refusal(
            "extract/fell_back",
            f"the {rules} rules found no body, only the {fetch['extractor']} fallback did: not "
            "compared with versions the outlet rules extracted",
        )
    return None


def oversized(fetch: Mapping[str, Any], bounds: Bounds) -> str | None:
    """Why the extracted text is too large to be one version, or None."""
    texts: Sequence[str] = [
        fetch.get("title") or "",
        fetch.get("summary") or "",
        *fetch["body"],
        *fetch["byline"],
        *fetch["corrections"],
    ]
    size = sum(len(t.encode("utf-8", "surrogatepass")) for t in texts)
    paragraphs = len(fetch["body"]) + len(fetch["corrections"])
    if size <= bounds.max_body_bytes and paragraphs <= bounds.max_paragraphs:
        return None
    return (
        f"the extracted text is too large to store as a version ({paragraphs:,} paragraphs, "
        f"{size / 1e6:.1f} MB; limits {bounds.max_paragraphs:,} paragraphs and "
        f"{bounds.max_body_bytes / 1e6:.1f} MB)"
    )


def stale(fetched_at: datetime, state: Mapping[str, Any]) -> bool:
    """A fetch older than the newest stored version never becomes the latest: the history is
    ordered by fetch time, and the later fetch already recorded the page's state."""
    # The newest version's fetch time; last_changed may be the earlier time an outlet announced.
    newest = state.get("latest_fetch") or state.get("last_changed")
    return newest is not None and fetched_at < newest


def label(fetch: Mapping[str, Any], state: Mapping[str, Any]) -> str | None:
    """The new version's label (first, change, trivial, flip-flop), or None for no change."""
    return text.label(
        previous=state.get("hashes"),
        previous_loose=state.get("loose_hashes"),
        new=fetch["hashes"],
        new_loose=fetch["loose_hashes"],
        earlier_combined=state.get("seen_hashes") or (),
    )
