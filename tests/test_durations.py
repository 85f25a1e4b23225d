"""The one way durations are said to people (newsdiff/durations.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from newsdiff.durations import ago, duration

T0 = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    "delta, words",
    [
        (timedelta(seconds=59), "less than a minute"),
        (timedelta(seconds=60), "1 minute"),
        (timedelta(minutes=119, seconds=59), "119 minutes"),
        (timedelta(hours=2), "2 hours"),
        (timedelta(hours=2, minutes=59), "2 hours"),  # rounded down
        (timedelta(hours=47, minutes=59), "47 hours"),
        (timedelta(hours=48), "2 days"),
        (timedelta(days=59), "59 days"),
        (timedelta(days=60), "2 months"),
        (timedelta(days=730), "2 years"),
        (-timedelta(hours=3), "3 hours"),  # the sign is the caller's to say
    ],
)
def test_duration_in_words(delta, words):
    assert duration(delta) == words


def test_ago_past_and_future():
    assert ago(T0 - timedelta(minutes=35), T0) == "35 minutes ago"
    assert ago(T0 + timedelta(seconds=30), T0) == "less than a minute ago"  # clocks differ a little
    assert ago(T0 + timedelta(hours=3), T0) == "in 3 hours"
