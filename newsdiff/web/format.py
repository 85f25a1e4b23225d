"""Dates and durations in words, for templates and feeds."""

from __future__ import annotations

from datetime import UTC, datetime

from newsdiff import durations


def parse_date(value: object) -> datetime | None:
    """A datetime from a stored value (datetime or ISO string from the page), or None."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, str) and value:
        try:
            parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            return None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return None


def when(value: object) -> str:
    """2 January 2026, 14:05 UTC"""
    dt = parse_date(value)
    if dt is None:
        return "an unknown time"
    dt = dt.astimezone(UTC)
    return f"{dt.day} {dt:%B %Y}, {dt:%H:%M} UTC"


def day(value: object) -> str:
    dt = parse_date(value)
    return "an unknown day" if dt is None else f"{dt.astimezone(UTC).day} {dt:%B %Y}"


def iso(value: object) -> str:
    """RFC 3339 in UTC with a Z, for <time datetime>, Atom and JSON."""
    dt = parse_date(value)
    if dt is None:
        return ""
    return dt.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def ago(value: object, now: datetime) -> str:
    dt = parse_date(value)
    return "at an unknown time" if dt is None else durations.ago(dt, now)


def later(value: object, earlier: object) -> str:
    """ "35 minutes later" (or "earlier", if the clock went backwards)."""
    a, b = parse_date(value), parse_date(earlier)
    if a is None or b is None:
        return ""
    return f"{durations.duration(a - b)} {'later' if a >= b else 'earlier'}"
