"""Dates and durations in words, for templates and feeds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


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


def duration(delta: timedelta) -> str:
    """A duration in words, rounded the way people say it: "35 minutes", "3 hours", "2 days"."""
    seconds = abs(delta.total_seconds())
    if seconds < 60:
        return "less than a minute"
    for unit, size, limit in (
        ("minute", 60, 120 * 60),
        ("hour", 3600, 48 * 3600),
        ("day", 86400, 60 * 86400),
        ("month", 30 * 86400, 730 * 86400),
        ("year", 365 * 86400, None),
    ):
        if limit is None or seconds < limit:
            n = int(seconds // size)
            return f"{n} {unit}{'' if n == 1 else 's'}"
    raise AssertionError("unreachable")


def ago(value: object, now: datetime) -> str:
    dt = parse_date(value)
    if dt is None:
        return "at an unknown time"
    if dt > now + timedelta(seconds=60):
        return f"in {duration(dt - now)}"
    return f"{duration(now - dt)} ago"


def later(value: object, earlier: object) -> str:
    """ "35 minutes later" (or "earlier", if the clock went backwards)."""
    a, b = parse_date(value), parse_date(earlier)
    if a is None or b is None:
        return ""
    return f"{duration(a - b)} {'later' if a >= b else 'earlier'}"
