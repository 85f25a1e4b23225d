"""Properties found by machine (hypothesis) that tests/test_text.py, test_schedule.py and
test_diff.py do not already cover: URL identity, hashes across processes, the schedule's end,
and version diffs that rebuild both versions."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

from hypothesis import given, settings
from hypothesis import strategies as st

from newsdiff import schedule, text
from newsdiff.diff import FIELDS, diff_versions

FAST = settings(max_examples=150, deadline=None)

# --- canonical URLs ------------------------------------------------------------------------

label = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=12)
hosts = st.lists(label, min_size=2, max_size=4).map(".".join)
# Feeds and sitemaps give no raw whitespace or control characters inside a URL.
path_chars = st.characters(
    codec="utf-8", exclude_characters="?#", exclude_categories=["Cs", "Cc", "Z"]
)
paths = st.lists(st.text(alphabet=path_chars, max_size=10), max_size=5).map(
    lambda parts: "/" + "/".join(parts)
)
param_names = st.text(alphabet="abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=8).filter(
    lambda k: not text.TRACKING_PARAMS.match(k)
)
params = st.lists(st.tuples(param_names, st.text(max_size=8)), max_size=4, unique_by=lambda p: p)
tracking = st.lists(
    st.tuples(
        st.sampled_from(["utm_source", "utm_medium", "UTM_Campaign", "fbclid", "smid", "gclid"]),
        st.text(max_size=8),
    ),
    max_size=3,
)
fragments = st.text(max_size=10)


def url(scheme: str, host: str, path: str, query: list, fragment: str = "") -> str:
    q = urlencode(query)
    return (
        f"{scheme}://{host}{path}" + (f"?{q}" if q else "") + (f"#{fragment}" if fragment else "")
    )


@FAST
@given(st.sampled_from(["http", "https", "HTTP"]), hosts, paths, params, tracking, fragments)
def test_canonical_url_is_idempotent(scheme, host, path, query, junk, fragment):
    for keep_query in (True, False):
        once = text.canonical_url(
            url(scheme, host.upper(), path, query + junk, fragment), keep_query=keep_query
        )
        assert text.canonical_url(once, keep_query=keep_query) == once
        assert once.startswith("https://") and "#" not in once


@FAST
@given(hosts, paths, params, tracking, st.randoms(use_true_random=False), fragments, fragments)
def test_canonical_url_ignores_tracking_parameters_order_and_fragment(
    host, path, query, junk, rnd, fragment, other_fragment
):
    plain = text.canonical_url(url("https", host, path, query))
    mixed = query + junk
    rnd.shuffle(mixed)
    assert text.canonical_url(url("http", host, path, mixed, fragment)) == plain
    assert text.canonical_url(url("https", host, path, mixed, other_fragment)) == plain


@FAST
@given(hosts, paths, params, params)
def test_different_real_parameters_stay_different(host, path, a, b):
    same = sorted(a) == sorted(b)
    one = text.canonical_url(url("https", host, path, a))
    two = text.canonical_url(url("https", host, path, b))
    assert (one == two) == same or dict(a) == dict(b)


# --- normalisation and hashes ----------------------------------------------------------------

messy = st.text(
    alphabet=st.sampled_from("ab é\u00a0\u200b\u00ad\t\r\n\u2019'\"“”fi\ufb01Å\u212b\u3000."),
    max_size=40,
)
fields = st.fixed_dictionaries(
    {
        "title": messy,
        "byline": st.lists(messy, max_size=3),
        "body": st.lists(messy, max_size=5),
        "corrections": st.lists(messy, max_size=2),
    }
)


@FAST
@given(st.lists(messy, max_size=6))
def test_normalise_list_is_idempotent_and_drops_blank_entries(items):
    once = text.normalise_list(items)
    assert text.normalise_list(once) == once
    assert all(once)


@FAST
@given(fields)
def test_hashes_depend_only_on_the_normal_form(f):
    normal = {
        k: text.normalise(v) if isinstance(v, str) else text.normalise_list(v) for k, v in f.items()
    }
    again = {
        k: text.normalise(v) if isinstance(v, str) else text.normalise_list(v)
        for k, v in normal.items()
    }
    assert text.field_hashes(normal) == text.field_hashes(again)
    assert text.loose_hashes(normal) == text.loose_hashes(again)


@settings(max_examples=1, deadline=None)
@given(st.lists(fields, min_size=25, max_size=25))
def test_hashes_are_stable_across_processes_for_generated_fields(sample):
    """Another interpreter (another hash seed) computes the same hashes for a generated sample."""
    code = (
        "import json, sys\n"
        "from newsdiff.text import field_hashes, loose_hashes, combined_hash\n"
        "out = []\n"
        "for f in json.load(sys.stdin):\n"
        "    h = field_hashes(f)\n"
        "    out.append([h, loose_hashes(f), combined_hash(h)])\n"
        "print(json.dumps(out))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        input=json.dumps(sample),
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONHASHSEED": "12345"},
    )
    here = [
        [text.field_hashes(f), text.loose_hashes(f), text.combined_hash(text.field_hashes(f))]
        for f in sample
    ]
    assert json.loads(done.stdout) == here


# --- the re-check schedule ---------------------------------------------------------------------

policies = st.builds(
    lambda factor, lo, extra, horizon, late: schedule.Policy(
        factor=factor,
        min_interval=timedelta(minutes=lo),
        max_interval=timedelta(minutes=lo + extra),
        horizon=timedelta(days=horizon),
        late_checks=tuple(sorted(timedelta(days=d) for d in late)),
    ),
    st.floats(0.05, 1.0),
    st.integers(5, 120),
    st.integers(0, 7 * 24 * 60),
    st.integers(1, 40),
    st.sets(st.integers(1, 400), max_size=4),
)
T0 = datetime(2025, 1, 1, tzinfo=UTC)


@FAST
@given(policies, st.integers(0, 400 * 24 * 60))
def test_a_change_always_resets_to_the_shortest_interval(policy, minutes):
    now = T0 + timedelta(minutes=minutes)
    assert schedule.next_check(policy, now, now) == now + policy.min_interval


@FAST
@given(policies)
def test_checks_of_an_unchanging_article_end_after_the_horizon(policy):
    """Following the schedule without a change stops past the horizon and its late checks,
    after a bounded number of checks: a re-check backlog cannot grow for ever."""
    now, checks = T0, 0
    while (at := schedule.next_check(policy, now, T0)) is not None:
        assert at > now
        now, checks = at, checks + 1
        assert checks <= policy.horizon / policy.min_interval + 1 + len(policy.late_checks)
    # The last check is the first past the horizon, or the last late check.
    assert now - T0 <= max([policy.horizon + policy.max_interval, *policy.late_checks])


# --- version diffs -------------------------------------------------------------------------------

words = st.sampled_from(["the", "mayor", "said", "vote", "“budget”", "don't", "é", ""])
paragraph = st.lists(words, max_size=8).map(" ".join)
version = st.fixed_dictionaries(
    {
        "title": paragraph,
        "summary": st.none() | paragraph,
        "byline": st.lists(paragraph, max_size=2),
        "body": st.lists(paragraph, max_size=6),
        "corrections": st.lists(paragraph, max_size=2),
    }
)


@settings(max_examples=60, deadline=None)
@given(version, version)
def test_version_diff_rebuilds_both_versions_field_by_field(old, new):
    d = diff_versions({**old, "number": 0}, {**new, "number": 1})

    def as_list(v):  # an empty title or no summary is no paragraph at all
        return ([v] if v else []) if isinstance(v, str) else list(v or [])

    for name in FIELDS:
        assert d.fields[name].side("old") == as_list(old[name])
        assert d.fields[name].side("new") == as_list(new[name])
        assert d.fields[name].changed == (as_list(old[name]) != as_list(new[name]))
    assert set(d.changed) == {n for n in FIELDS if d.fields[n].changed}


@FAST
@given(version)
def test_a_version_diffed_with_itself_shows_no_change(v):
    d = diff_versions({**v, "number": 0}, {**v, "number": 1})
    assert d.changed == []
    assert d.summary() == "No visible change."
