"""The re-check policy: when to fetch a known article again.

Pure functions of times, no I/O. The interval starts at `min_interval` after a change, grows as a
fixed fraction of the time since the last change, is capped at `max_interval`, and regular checks
stop once an article has gone `horizon` without changing; `late_checks` (90, 180 and 365 days by
default) look again at those ages since the last change. Articles never seen to change since their
first fetch may back off faster (`quiet_factor`, by default the same as `factor`).
`benchmarks/schedule.py` measures the defaults and these options against NewsDiffs, News Sniffer
and diffengine.

Change signals: a feed or sitemap that announces an article's modification time later than our
last check of it (`signalled`) makes the article due at once; a listing that re-stamps most of its
entries on every fetch tells nothing and is not trusted (`restamps_everything`).
"""

from __future__ import annotations

import email.utils
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

from newsdiff.durations import duration


class _Settings(Protocol):
    def getfloat(self, name: str, default: float = 0.0) -> float: ...

    def getlist(self, name: str, default: list | None = None) -> list: ...


@dataclass(frozen=True)
class Policy:
    """Re-check parameters; every number is a NEWSDIFF_RECHECK_* setting."""

    factor: float = 0.2
    min_interval: timedelta = timedelta(minutes=15)
    # Late edits wait at most 4 d (8 d uncapped) for 52.3 checks/article vs 51.3 (2 d cap: 58.3).
    max_interval: timedelta = timedelta(days=4)
    horizon: timedelta = timedelta(days=40)
    quiet_factor: float | None = None  # for articles not seen to change yet; None: factor
    # Ages since the last change, past the horizon: the late edits NewsDiffs' monthly checks find.
    # (Ages within the horizon change nothing: regular checks run then anyway.)
    late_checks: tuple[timedelta, ...] = tuple(timedelta(days=d) for d in (90, 180, 365))

    def __post_init__(self) -> None:
        if self.factor <= 0:
            raise ValueError(f"factor must be positive, got {self.factor}")
        if self.quiet_factor is not None and self.quiet_factor <= 0:
            raise ValueError(f"quiet_factor must be positive, got {self.quiet_factor}")
        if any(late <= timedelta(0) for late in self.late_checks):
            raise ValueError(f"late_checks must be positive ages, got {self.late_checks}")
        if self.min_interval <= timedelta(0):
            raise ValueError(f"min_interval must be positive, got {self.min_interval}")
        if self.max_interval < self.min_interval:
            raise ValueError(
                f"max_interval ({self.max_interval}) is shorter than min_interval "
                f"({self.min_interval})"
            )
        if self.horizon <= timedelta(0):
            raise ValueError(f"horizon must be positive, got {self.horizon}")

    @classmethod
    def from_settings(cls, settings: _Settings) -> Policy:
        """Build from Scrapy settings (or anything with their `getfloat` and `getlist`)."""
        default = cls()
        return cls(
            factor=settings.getfloat("NEWSDIFF_RECHECK_FACTOR", default.factor),
            min_interval=timedelta(
                minutes=settings.getfloat(
                    "NEWSDIFF_RECHECK_MIN_MINUTES", default.min_interval / timedelta(minutes=1)
                )
            ),
            max_interval=timedelta(
                hours=settings.getfloat(
                    "NEWSDIFF_RECHECK_MAX_HOURS", default.max_interval / timedelta(hours=1)
                )
            ),
            horizon=timedelta(
                days=settings.getfloat(
                    "NEWSDIFF_RECHECK_HORIZON_DAYS", default.horizon / timedelta(days=1)
                )
            ),
            quiet_factor=settings.getfloat("NEWSDIFF_RECHECK_QUIET_FACTOR", 0) or None,
            late_checks=tuple(
                sorted(
                    timedelta(days=float(days))
                    for days in settings.getlist(
                        "NEWSDIFF_RECHECK_LATE_DAYS",
                        [late / timedelta(days=1) for late in default.late_checks],
                    )
                    if str(days).strip()  # `-s NEWSDIFF_RECHECK_LATE_DAYS=` turns them off
                )
            ),
        )


def _utc(name: str, value: datetime) -> datetime:
    # Naive datetimes (e.g. pymongo without tz_aware=True) would silently mean local time.
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got naive {value!r}")
    return value.astimezone(UTC)


def interval(policy: Policy, since_change: timedelta, changed_before: bool = True) -> timedelta:
    """The wait before the next check, `since_change` after the last change was seen."""
    # A last change slightly in the future (clock skew between workers) counts as just now.
    since_change = max(since_change, timedelta(0))
    factor = policy.factor if changed_before else (policy.quiet_factor or policy.factor)
    return min(max(since_change * factor, policy.min_interval), policy.max_interval)


def next_check(
    policy: Policy, now: datetime, last_changed: datetime, *, changed_before: bool = True
) -> datetime | None:
    """When to check again after a check at `now`; None once `now - last_changed` is past the
    horizon and the last of `late_checks`.

    Interval = clamp(factor * (now - last_changed), min_interval, max_interval), with quiet_factor
    for an article not seen to change since its first fetch (changed_before=False). A real change
    sets last_changed = now, so the schedule resets to min_interval. The result is in UTC.
    """
    now = _utc("now", now)
    last_changed = _utc("last_changed", last_changed)
    since_change = now - last_changed
    if since_change > policy.horizon:
        late = [last_changed + age for age in policy.late_checks if last_changed + age > now]
        return min(late, default=None)
    return now + interval(policy, since_change, changed_before)


def describe(next_at: datetime | None, now: datetime) -> str:
    """The check state in words for the viewer, e.g. "next check in 3 hours"."""
    if next_at is None:
        return "won't be checked again"
    wait = _utc("next_at", next_at) - _utc("now", now)
    if wait < timedelta(minutes=1):
        # Due or overdue: the crawler's per-run budget may leave it waiting a little.
        return "check due now"
    return f"next check in {duration(wait)}"


# --- change signals ------------------------------------------------------------------------


def parse_announced(value: str | None) -> datetime | None:
    """A listing's modification time in UTC: W3C datetime / ISO 8601 (sitemaps, Atom) or RFC 822
    (RSS). A date alone means its midnight, a time without a zone UTC; None if unreadable."""
    text = (value or "").strip()
    if not text:
        return None
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
    if when.tzinfo is None or when.utcoffset() is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone(UTC)


def signalled(
    announced: datetime,
    *,
    last_checked: datetime,
    modified: datetime | None = None,
    tolerance: timedelta = timedelta(minutes=2),
) -> bool:
    """Whether an announced modification time is later than what we know of the article: our
    last check of it and the `modified` time of its stored version. `tolerance` absorbs clock
    differences between the outlet and us."""
    known = max(_utc("last_checked", last_checked), _utc("modified", modified or last_checked))
    return _utc("announced", announced) > known + tolerance


def restamps_everything(
    previous: Mapping[str, datetime],
    current: Mapping[str, datetime],
    *,
    max_share: float = 0.5,
    min_entries: int = 3,
) -> str | None:
    """Why a listing's stamps tell nothing, or None when they can be trusted: more than
    `max_share` of the entries it listed in its previous fetch too moved forward since (a
    generator writing "now" everywhere; honest outlets edit a few articles between two crawls)."""
    common = [key for key in current if key in previous]
    if len(common) >= min_entries:
        moved = sum(current[key] > previous[key] for key in common)
        if moved > max_share * len(common):
            return f"{moved} of {len(common)} entries re-stamped since the previous fetch"
    return None
