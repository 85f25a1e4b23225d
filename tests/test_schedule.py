from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st
from scrapy.settings import Settings

from newsdiff.schedule import (
    Policy,
    describe,
    interval,
    next_check,
    parse_announced,
    restamps_everything,
    signalled,
)

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
DEFAULT = Policy()


def wait(policy: Policy, since_change: timedelta) -> timedelta | None:
    now = T0 + since_change
    at = next_check(policy, now, T0)
    return None if at is None else at - now


def test_defaults_follow_the_issue():
    assert DEFAULT.factor == 0.2
    assert DEFAULT.min_interval == timedelta(minutes=15)
    assert DEFAULT.horizon == timedelta(days=40)
    assert DEFAULT.min_interval < DEFAULT.max_interval < DEFAULT.horizon


def test_min_interval_right_after_a_change():
    assert next_check(DEFAULT, T0, T0) == T0 + timedelta(minutes=15)


def test_min_interval_holds_until_the_factor_exceeds_it():
    assert wait(DEFAULT, timedelta(minutes=60)) == timedelta(minutes=15)
    assert wait(DEFAULT, timedelta(minutes=75)) == timedelta(minutes=15)
    assert wait(DEFAULT, timedelta(minutes=100)) == timedelta(minutes=20)


def test_interval_grows_while_nothing_changes():
    assert wait(DEFAULT, timedelta(hours=10)) == timedelta(hours=2)
    assert wait(DEFAULT, timedelta(days=5)) == timedelta(days=1)


def test_interval_is_capped():
    policy = Policy(max_interval=timedelta(days=2))
    assert wait(policy, timedelta(days=10)) == timedelta(days=2)
    assert wait(policy, timedelta(days=39)) == timedelta(days=2)
    assert wait(DEFAULT, timedelta(days=39)) == DEFAULT.max_interval


def test_regular_checks_stop_past_the_horizon_then_late_checks_follow():
    assert wait(DEFAULT, timedelta(days=40)) == DEFAULT.max_interval
    assert wait(DEFAULT, timedelta(days=40, seconds=1)) == timedelta(days=50, seconds=-1)
    assert wait(DEFAULT, timedelta(days=200)) == timedelta(days=165)
    assert wait(DEFAULT, timedelta(days=365)) is None
    assert wait(DEFAULT, timedelta(days=400)) is None
    assert wait(Policy(late_checks=()), timedelta(days=40, seconds=1)) is None


def test_late_checks_are_on_by_default_at_90_180_365_days():
    assert DEFAULT.late_checks == tuple(timedelta(days=d) for d in (90, 180, 365))
    assert Policy.from_settings(Settings()).late_checks == DEFAULT.late_checks
    from newsdiff import settings as project

    assert (
        Policy.from_settings(
            Settings({"NEWSDIFF_RECHECK_LATE_DAYS": project.NEWSDIFF_RECHECK_LATE_DAYS})
        )
        == DEFAULT
    )
    # `-s NEWSDIFF_RECHECK_LATE_DAYS=` on the command line turns them off.
    assert Policy.from_settings(Settings({"NEWSDIFF_RECHECK_LATE_DAYS": ""})).late_checks == ()


def test_a_real_change_resets_the_schedule():
    quiet = T0 + timedelta(days=20)
    assert next_check(DEFAULT, quiet, T0) == quiet + DEFAULT.max_interval
    # The crawler records a change by setting last_changed to the time of the check.
    assert next_check(DEFAULT, quiet, quiet) == quiet + timedelta(minutes=15)


def test_last_change_in_the_future_counts_as_just_now():
    assert next_check(DEFAULT, T0, T0 + timedelta(minutes=5)) == T0 + timedelta(minutes=15)


def test_other_timezones_are_the_same_instant_and_the_result_is_utc():
    paris = timezone(timedelta(hours=2))
    now = (T0 + timedelta(hours=10)).astimezone(paris)
    at = next_check(DEFAULT, now, T0.astimezone(timezone(timedelta(hours=-5))))
    assert at == T0 + timedelta(hours=12)
    assert at.tzinfo is UTC


@pytest.mark.parametrize("naive", ["now", "last_changed"])
def test_naive_datetimes_are_refused(naive):
    times = {"now": T0, "last_changed": T0}
    times[naive] = times[naive].replace(tzinfo=None)
    with pytest.raises(ValueError, match=naive):
        next_check(DEFAULT, **times)


def test_from_settings_defaults():
    assert Policy.from_settings(Settings()) == DEFAULT


def test_from_settings_reads_every_number():
    settings = Settings(
        {
            "NEWSDIFF_RECHECK_FACTOR": "0.25",  # from `-s` on the command line, so a string
            "NEWSDIFF_RECHECK_MIN_MINUTES": 10,
            "NEWSDIFF_RECHECK_MAX_HOURS": 36,
            "NEWSDIFF_RECHECK_HORIZON_DAYS": 30.5,
        }
    )
    assert Policy.from_settings(settings) == Policy(
        factor=0.25,
        min_interval=timedelta(minutes=10),
        max_interval=timedelta(hours=36),
        horizon=timedelta(days=30, hours=12),
    )


def test_from_settings_accepts_any_object_with_getfloat_and_getlist():
    class Plain(dict):
        def getfloat(self, name, default=0.0):
            return float(self.get(name, default))

        def getlist(self, name, default=None):
            return list(self.get(name, default or []))

    assert Policy.from_settings(Plain(NEWSDIFF_RECHECK_MAX_HOURS=48)) == Policy(
        max_interval=timedelta(days=2)
    )


@pytest.mark.parametrize(
    "kwargs",
    [
        {"factor": 0},
        {"min_interval": timedelta(0)},
        {"min_interval": timedelta(hours=2), "max_interval": timedelta(hours=1)},
        {"horizon": timedelta(0)},
        {"late_checks": (timedelta(days=-1),)},
    ],
)
def test_nonsense_policies_are_refused(kwargs):
    with pytest.raises(ValueError):
        Policy(**kwargs)


@pytest.mark.parametrize(
    ("next_at", "text"),
    [
        (None, "won't be checked again"),
        (T0 - timedelta(hours=3), "check due now"),
        (T0 + timedelta(seconds=20), "check due now"),
        (T0 + timedelta(minutes=1), "next check in 1 minute"),
        (T0 + timedelta(minutes=35), "next check in 35 minutes"),
        (T0 + timedelta(hours=3, minutes=10), "next check in 3 hours"),
        (T0 + timedelta(days=4), "next check in 4 days"),
    ],
)
def test_describe(next_at, text):
    assert describe(next_at, T0) == text


# Property tests over arbitrary sensible policies and times.

policies = st.builds(
    lambda factor, low, extra, horizon: Policy(
        factor=factor,
        min_interval=timedelta(minutes=low),
        max_interval=timedelta(minutes=low + extra),
        horizon=timedelta(days=horizon),
        late_checks=(),
    ),
    st.floats(min_value=0.01, max_value=2.0),
    st.integers(min_value=1, max_value=24 * 60),
    st.integers(min_value=0, max_value=30 * 24 * 60),
    st.integers(min_value=1, max_value=365),
)
moments = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
)
spans = st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=400))


@given(policies, spans)
def test_interval_is_within_bounds(policy, since_change):
    assert policy.min_interval <= interval(policy, since_change) <= policy.max_interval


@given(policies, moments, spans)
def test_next_check_is_within_bounds_until_the_horizon(policy, now, since_change):
    at = next_check(policy, now, now - since_change)
    if since_change > policy.horizon:
        assert at is None
    else:
        assert at is not None
        assert policy.min_interval <= at - now <= policy.max_interval


@given(policies, moments, spans, spans)
def test_waits_longer_the_longer_nothing_changed(policy, now, a, b):
    shorter, longer = sorted((a, b))
    sooner = next_check(policy, now, now - shorter)
    later = next_check(policy, now, now - longer)
    if later is not None:
        assert sooner is not None
        assert sooner <= later


@given(policies, moments, spans, spans)
def test_a_later_check_never_schedules_an_earlier_one(policy, last_changed, a, b):
    first, second = sorted((a, b))
    sooner = next_check(policy, last_changed + first, last_changed)
    later = next_check(policy, last_changed + second, last_changed)
    if later is not None:
        assert sooner is not None
        assert sooner <= later


def test_quiet_articles_can_back_off_faster_until_their_first_change():
    policy = Policy(factor=0.15, quiet_factor=1.5, max_interval=timedelta(days=40))
    now = T0 + timedelta(hours=10)
    assert next_check(policy, now, T0, changed_before=False) == now + timedelta(hours=15)
    assert next_check(policy, now, T0, changed_before=True) == now + timedelta(hours=1.5)
    # Without a quiet factor both kinds of article follow `factor`.
    assert next_check(DEFAULT, now, T0, changed_before=False) == now + timedelta(hours=2)


def test_late_checks_look_again_after_the_horizon():
    late = (timedelta(days=90), timedelta(days=180))
    policy = Policy(late_checks=late)
    past_horizon = T0 + timedelta(days=41)
    assert next_check(policy, past_horizon, T0) == T0 + timedelta(days=90)
    assert next_check(policy, T0 + timedelta(days=90), T0) == T0 + timedelta(days=180)
    assert next_check(policy, T0 + timedelta(days=180), T0) is None
    assert next_check(Policy(late_checks=()), past_horizon, T0) is None
    # A late check within the horizon changes nothing: regular checks run then anyway.
    assert Policy(late_checks=(timedelta(days=10),)).late_checks == (timedelta(days=10),)
    assert next_check(Policy(late_checks=(timedelta(days=10),)), past_horizon, T0) is None


def test_quiet_factor_and_late_checks_come_from_settings():
    settings = Settings(
        {"NEWSDIFF_RECHECK_QUIET_FACTOR": 1.5, "NEWSDIFF_RECHECK_LATE_DAYS": "365,90"}
    )
    policy = Policy.from_settings(settings)
    assert policy.quiet_factor == 1.5
    assert policy.late_checks == (timedelta(days=90), timedelta(days=365))


# Change signals: announced modification times from feeds and sitemaps.


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2025-03-01T12:30:00Z", T0 + timedelta(minutes=30)),
        ("2025-03-01T14:30:00.250+02:00", T0 + timedelta(minutes=30, milliseconds=250)),
        ("2025-03-01T12:30:00", T0 + timedelta(minutes=30)),  # no zone: UTC
        ("2025-03-01", T0 - timedelta(hours=12)),  # a date alone: its midnight
        ("Sat, 01 Mar 2025 07:30:00 -0500", T0 + timedelta(minutes=30)),  # RFC 822, as in RSS
        ("  2025-03-01T12:30Z\n", T0 + timedelta(minutes=30)),
        ("yesterday", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_announced(value, expected):
    assert parse_announced(value) == expected
    if expected is not None:
        assert parse_announced(value).tzinfo is UTC


def test_signalled_only_after_what_we_know():
    checked = T0
    assert signalled(T0 + timedelta(minutes=10), last_checked=checked)
    assert not signalled(T0 - timedelta(hours=1), last_checked=checked)
    # Within the tolerance: clocks differ, the check may already have seen the edit.
    assert not signalled(T0 + timedelta(minutes=1), last_checked=checked)
    assert signalled(T0 + timedelta(minutes=1), last_checked=checked, tolerance=timedelta(0))
    # The stored version says it was modified later than the announcement: nothing new.
    later = T0 + timedelta(hours=2)
    assert not signalled(T0 + timedelta(hours=1), last_checked=checked, modified=later)
    assert signalled(T0 + timedelta(hours=3), last_checked=checked, modified=later)


def test_a_listing_that_restamps_everything_is_not_trusted():
    keys = [f"k{i}" for i in range(10)]
    before = {k: T0 - timedelta(days=1, minutes=i) for i, k in enumerate(keys)}
    honest = {**before, "k1": T0, "k7": T0, "new": T0}
    assert restamps_everything(before, honest) is None
    restamped = {k: T0 for k in keys}
    assert (
        restamps_everything(before, restamped)
        == "10 of 10 entries re-stamped since the previous fetch"
    )
    # The first fetch of a listing, or too few entries in common, cannot be judged.
    assert restamps_everything({}, restamped) is None
    assert restamps_everything({"k0": before["k0"]}, {"k0": T0}) is None
    six_moved = {**before, **{k: T0 for k in keys[:6]}}
    assert restamps_everything(before, six_moved) == (
        "6 of 10 entries re-stamped since the previous fetch"
    )
    assert restamps_everything(before, six_moved, max_share=0.7) is None
