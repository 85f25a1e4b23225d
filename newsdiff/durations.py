"""Durations in words, the one way newsdiff says them to people (viewer, feeds, `scrapy health`,
`scrapy schedule`, crawl health warnings). Pure: knows nothing of Scrapy."""

from __future__ import annotations

from datetime import datetime, timedelta

# (unit, its length in seconds, said in this unit below this many seconds)
_UNITS = (
    ("minute", 60, 120 * 60),
    ("hour", 3600, 48 * 3600),
    ("day", 86400, 60 * 86400),
    ("month", 30 * 86400, 730 * 86400),
    ("year", 365 * 86400, None),
)


def duration(delta: timedelta) -> str:
    """A duration in words, rounded down the way people say it: "less than a minute",
    "35 minutes", "3 hours", "2 days", "5 months" (its sign is ignored)."""
    seconds = abs(delta.total_seconds())
    if seconds < 60:
        return "less than a minute"
    for unit, size, limit in _UNITS:
        if limit is None or seconds < limit:
            n = int(seconds // size)
            return f"{n} {unit}{'' if n == 1 else 's'}"
    raise AssertionError("unreachable")


def ago(when: datetime, now: datetime) -> str:
    """ "35 minutes ago", or "in 3 hours" for a time more than a minute after `now`."""
    if when > now + timedelta(seconds=60):
        return f"in {duration(when - now)}"
    return f"{duration(now - when)} ago"
