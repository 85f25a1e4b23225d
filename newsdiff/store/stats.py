"""How outlets edit, over a window of days: the numbers behind the charts, the JSON API and
`scrapy stats`. One read of the window's versions (fetched_at index, a small projection) and
one of the most-changed articles' headlines."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import datetime, timedelta
from statistics import median
from typing import Any

from newsdiff.store import Store

LABELS = ("first", "change", "trivial", "flip-flop")
# Time from first seen to first change: bucket upper bounds in hours, and their names.
BUCKETS = (
    (1, "under 1 h"),
    (3, "1–3 h"),
    (6, "3–6 h"),
    (12, "6–12 h"),
    (24, "12–24 h"),
    (48, "1–2 days"),
    (168, "2–7 days"),
    (None, "over 7 days"),
)
TOP = 10


def edit_stats(store: Store, *, now: datetime, days: int, outlet: str | None = None) -> dict:
    since = (now - timedelta(days=days)).replace(hour=0, minute=0, second=0, microsecond=0)
    query: dict[str, Any] = {"fetched_at": {"$gte": since, "$lte": now}}
    if outlet:
        query["outlet"] = outlet
    fields = {"article_id": 1, "number": 1, "label": 1, "fetched_at": 1, "_id": 0}
    per_day: dict[str, Counter] = defaultdict(Counter)
    first_seen: dict[Any, datetime] = {}
    first_change: dict[Any, datetime] = {}
    changes: Counter = Counter()
    total = 0
    for v in store.versions.find(query, fields):
        total += 1
        label, when, aid = v.get("label", "change"), v["fetched_at"], v["article_id"]
        per_day[when.strftime("%Y-%m-%d")][label] += 1
        if v["number"] == 0:
            first_seen[aid] = when
        if label == "change":
            changes[aid] += 1
            if aid not in first_change or when < first_change[aid]:
                first_change[aid] = when
    day_names = [
        (since + timedelta(days=i)).strftime("%Y-%m-%d") for i in range((now - since).days + 1)
    ]
    labels_over_time = [{"day": d, **{lab: per_day[d][lab] for lab in LABELS}} for d in day_names]
    # Articles first seen in the window: all their changes fall in it too.
    delays = [
        (first_change[a] - t).total_seconds() / 3600
        for a, t in first_seen.items()
        if a in first_change
    ]
    buckets = []
    for (upper, name), lower in zip(BUCKETS, (0, *(b[0] for b in BUCKETS[:-1])), strict=True):
        count = sum(1 for h in delays if lower <= h and (upper is None or h < upper))
        buckets.append({"bucket": name, "articles": count})
    top = changes.most_common(TOP)
    titles = {
        a["_id"]: a
        for a in store.articles.find(
            {"_id": {"$in": [a for a, _ in top]}}, {"title": 1, "url": 1, "outlet": 1}
        )
    }
    most_changed = [
        {
            "id": str(aid),
            "changes": n,
            "title": titles.get(aid, {}).get("title"),
            "url": titles.get(aid, {}).get("url"),
            "outlet": titles.get(aid, {}).get("outlet"),
        }
        for aid, n in top
    ]
    seen = len(first_seen)
    changed = sum(1 for a in first_seen if a in first_change)
    return {
        "outlet": outlet,
        "days": days,
        "since": since,
        "until": now,
        "versions": total,
        "changes_per_day": [{"day": d["day"], "changes": d["change"]} for d in labels_over_time],
        "labels_per_day": labels_over_time,
        "articles_first_seen": seen,
        "articles_changed": changed,
        "share_changed": round(changed / seen, 4) if seen else None,
        "hours_to_first_change": {
            "median": round(median(delays), 2) if delays else None,
            "distribution": buckets,
        },
        "most_changed": most_changed,
    }
