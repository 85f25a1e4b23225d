"""Every read the viewer, the feeds, the API and `scrapy export` make (the only viewer module
that speaks pymongo).

Documents come back as plain dicts with `id` / `article_id` as strings, never ObjectIds, so the
web layer needs neither bson nor pymongo.

Newest-first lists use keyset paging on (time, _id) and read the index in time windows: the
first window is short and each next one four times longer, until a page is full. The server
reads only the documents in the windows it is asked for, so a page costs about the same at any
archive size (SecantusDB materialises every document an index range matches before applying a
limit, so an unbounded `sort().limit()` would read the whole collection).
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from bson import ObjectId
from bson.errors import InvalidId

from newsdiff.store import Store
from newsdiff.text import canonical_url

__all__ = ["QueryError", "Page", "Queries", "LABELS", "VISIBLE_LABELS", "MAX_VERSION"]

LABELS = ("first", "change", "trivial", "flip-flop")
VISIBLE_LABELS = ("first", "change")  # trivial and flip-flop versions are hidden by default
MAX_VERSION = 1_000_000  # more than any article will have; keeps numbers far from int64 limits
FLOOR = datetime(1990, 1, 1, tzinfo=UTC)  # nothing in the archive is older
FIRST_WINDOW = timedelta(minutes=15)
GROWTH = 4
DENSE = 1000
SEARCH_BUDGET_DOCS = 10_000  # articles a search examines before it offers to continue
SEARCH_BUDGET_SECONDS = 1.0

ARTICLE_LIST_FIELDS = {
    "outlet": 1,
    "url": 1,
    "title": 1,
    "section": 1,
    "first_seen": 1,
    "last_changed": 1,
    "last_checked": 1,
    "next_check": 1,
    "version_count": 1,
    "status": 1,
    "published": 1,
}
VERSION_LIST_FIELDS = {
    "number": 1,
    "fetched_at": 1,
    "label": 1,
    "changed": 1,
    "title": 1,
    "outlet": 1,
    "url": 1,
    "article_id": 1,
}
ARTICLE_PRIVATE = ("hashes", "loose_hashes", "seen_hashes", "validators")
VERSION_PRIVATE = ("loose_hashes", "outbox")  # outbox: publishing bookkeeping


class QueryError(ValueError):
    """A parameter the archive cannot be asked about (shown to the user as a 4xx)."""


@dataclass
class Page:
    items: list[dict[str, Any]]
    next: str | None = None  # cursor of the next (older) page
    # A search that stopped on its budget: everything changed at or after this time was examined.
    searched_to: datetime | None = None
    examined: int = 0
    extra: dict[str, Any] = field(default_factory=dict)


def parse_id(value: str) -> ObjectId:
    if not isinstance(value, str) or not re.fullmatch(r"[0-9a-f]{24}", value):
        raise QueryError("an article id is 24 lower-case hexadecimal characters")
    try:
        return ObjectId(value)
    except InvalidId:  # pragma: no cover - the pattern already rules this out
        raise QueryError("invalid article id") from None


def encode_cursor(when: datetime, oid: ObjectId | str) -> str:
    millis = (
        int(when.timestamp() * 1000)
        if when.tzinfo
        else int(when.replace(tzinfo=UTC).timestamp() * 1000)
    )
    return f"{millis}-{oid}"


# What /openapi.json says a cursor is: milliseconds from 1989 to 2191, a hyphen, an id.
CURSOR_PATTERN = "^([6-9][0-9]{11}|[1-6][0-9]{12})-[0-9a-f]{24}$"


def parse_cursor(value: str) -> tuple[datetime, ObjectId]:
    match = re.fullmatch(r"(-?\d{1,15})-([0-9a-f]{24})", value or "")
    if not match:
        raise QueryError("the paging cursor is malformed; follow the 'older' link of a page")
    if not re.fullmatch(CURSOR_PATTERN, value):
        raise QueryError("the paging cursor's time is out of range")
    millis = int(match.group(1))
    return datetime.fromtimestamp(millis / 1000, UTC), ObjectId(match.group(2))


def _public(doc: Mapping[str, Any] | None, private: Iterable[str] = ()) -> dict[str, Any] | None:
    """A copy with ObjectIds as strings and internal fields dropped."""
    if doc is None:
        return None
    out: dict[str, Any] = {}
    for key, value in doc.items():
        if key in private:
            continue
        if key == "_id":
            out["id"] = str(value)
        elif isinstance(value, ObjectId):
            out[key] = str(value)
        else:
            out[key] = value
    return out


def _looks_like_url(q: str) -> bool:
    return bool(re.match(r"(?i)^(https?://)?[a-z0-9-]+(\.[a-z0-9-]+)+/\S*$", q))


class Queries:
    def __init__(self, store: Store):
        self.store = store
        self.articles = store.articles
        self.versions = store.versions

    # --- newest-first paging --------------------------------------------------------------

    def _windows(
        self,
        coll,
        base: dict[str, Any],
        field_name: str,
        *,
        before: tuple[datetime, ObjectId] | None,
        want: int,
        now: datetime,
        projection: Mapping[str, Any] | None = None,
        floor: datetime = FLOOR,
        first_window: timedelta = FIRST_WINDOW,
        keep=None,
        budget_docs: int | None = None,
        budget_seconds: float | None = None,
    ) -> tuple[list[dict], datetime | None, int, timedelta]:
        """Up to `want` documents matching base (and keep, checked here), newest field first,
        strictly older than `before`. Returns (docs, stopped_at, examined, last window):
        stopped_at is the lower bound reached when a budget ran out first."""
        found: list[dict] = []
        examined = 0
        started = time.monotonic()
        if before is not None:
            when, oid = before
            # Equal times are few; the _id condition is applied here so the index serves it all.
            ties = coll.find({**base, field_name: when}, projection)
            ties = sorted((d for d in ties if d["_id"] < oid), key=lambda d: d["_id"], reverse=True)
            examined += len(ties)
            found += [d for d in ties if keep is None or keep(d)]
            hi: datetime | None = when
        else:
            hi = None
        width = first_window
        while len(found) < want:
            top = hi or now
            lo = top - width if top - floor > width else floor
            if lo <= floor:
                bound: dict[str, Any] = {"$gte": floor}
            else:
                bound = {"$gte": lo}
            if hi is not None:
                bound["$lt"] = hi
            docs = list(coll.find({**base, field_name: bound}, projection))
            docs.sort(key=lambda d: (d[field_name], d["_id"]), reverse=True)
            examined += len(docs)
            found += [d for d in docs if keep is None or keep(d)]
            if lo <= floor:
                return found[:want], None, examined, width
            hi = lo
            if len(docs) < DENSE:  # a dense window is not widened: probes stay small
                width *= GROWTH
            over_docs = budget_docs is not None and examined >= budget_docs
            over_time = budget_seconds is not None and time.monotonic() - started > budget_seconds
            if len(found) < want and (over_docs or over_time):
                return found, lo, examined, width
        return found[:want], None, examined, width / GROWTH

    def recent_articles(
        self,
        *,
        now: datetime,
        outlet: str | None = None,
        q: str | None = None,
        cursor: str | None = None,
        limit: int = 50,
    ) -> Page:
        """Articles by last change, newest first; q matches headline or URL (case-blind)."""
        before = parse_cursor(cursor) if cursor else None
        base: dict[str, Any] = {"outlet": outlet} if outlet else {}
        keep = None
        budget_docs = budget_seconds = None
        if q:
            if _looks_like_url(q) and not before:
                exact = self.article_by_url(q if "://" in q else "https://" + q)
                if exact and (not outlet or exact["outlet"] == outlet):
                    return Page([exact], extra={"exact": True})
            needle = re.compile(re.escape(q), re.IGNORECASE)

            def keep(d):
                return bool(needle.search(d.get("title") or "") or needle.search(d["url"]))

            budget_docs, budget_seconds = SEARCH_BUDGET_DOCS, SEARCH_BUDGET_SECONDS
        docs, stopped, examined, _ = self._windows(
            self.articles,
            base,
            "last_changed",
            before=before,
            want=limit + 1,
            now=now,
            projection=ARTICLE_LIST_FIELDS,
            keep=keep,
            budget_docs=budget_docs,
            budget_seconds=budget_seconds,
        )
        items = docs[:limit]
        page = Page([_public(d) for d in items], examined=examined)
        if len(docs) > limit:
            page.next = encode_cursor(items[-1]["last_changed"], items[-1]["_id"])
        elif stopped is not None:
            page.searched_to = stopped
            page.next = encode_cursor(stopped, ObjectId("0" * 24))
        return page

    # --- one article --------------------------------------------------------------------------

    def article(self, article_id: str) -> dict[str, Any] | None:
        return _public(self.articles.find_one({"_id": parse_id(article_id)}), ARTICLE_PRIVATE)

    def article_by_url(self, url: str) -> dict[str, Any] | None:
        """The article under this URL, as given or canonicalised (canonical URL or alias)."""
        forms = [url, canonical_url(url), canonical_url(url, keep_query=False)]
        candidates = list(dict.fromkeys(forms))
        doc = self.articles.find_one({"url": {"$in": candidates}}, ARTICLE_LIST_FIELDS)
        if doc is None:  # two queries: an $or of both fields would not use the indexes
            doc = self.articles.find_one({"aliases": {"$in": candidates}}, ARTICLE_LIST_FIELDS)
        return _public(doc)

    def version_list(self, article_id: str) -> list[dict[str, Any]]:
        """Every version's number, time, label, changed fields and title (no bodies), oldest
        first."""
        docs = self.versions.find({"article_id": parse_id(article_id)}, VERSION_LIST_FIELDS)
        return sorted((_public(d) for d in docs), key=lambda d: d["number"])

    def versions_by_number(self, article_id: str, numbers: Iterable[int]) -> dict[int, dict]:
        wanted = sorted({int(n) for n in numbers})
        if not wanted:
            return {}
        if any(n < 0 or n > MAX_VERSION for n in wanted):
            raise QueryError(f"version numbers run from 0 to at most {MAX_VERSION}")
        docs = self.versions.find({"article_id": parse_id(article_id), "number": {"$in": wanted}})
        return {d["number"]: _public(d, VERSION_PRIVATE) for d in docs}

    def version(self, article_id: str, number: int) -> dict[str, Any] | None:
        return self.versions_by_number(article_id, [number]).get(number)

    # --- feeds of changes ---------------------------------------------------------------------

    def changes(
        self,
        *,
        now: datetime,
        outlet: str | None = None,
        article_id: str | None = None,
        labels: Iterable[str] = ("change",),
        limit: int = 30,
    ) -> list[tuple[dict[str, Any], dict[str, Any] | None]]:
        """Newest versions with these labels, each with the version before it (None for a first
        version): the entries of a feed."""
        labels = set(labels)
        if article_id is not None:
            listed = [v for v in self.version_list(article_id) if v["label"] in labels]
            numbers = [v["number"] for v in listed[-limit:]]
            full = self.versions_by_number(article_id, numbers + [n - 1 for n in numbers if n > 0])
            return [(full[n], full.get(n - 1)) for n in reversed(numbers) if n in full]
        base = {"outlet": outlet} if outlet else {}
        docs, _, _, _ = self._windows(
            self.versions,
            base,
            "fetched_at",
            before=None,
            want=limit,
            now=now,
            keep=lambda d: d.get("label") in labels,
        )
        out = []
        for doc in docs:
            previous = None
            if doc["number"] > 0:
                previous = self.versions.find_one(
                    {"article_id": doc["article_id"], "number": doc["number"] - 1}
                )
            out.append((_public(doc, VERSION_PRIVATE), _public(previous, VERSION_PRIVATE)))
        return out

    # --- outlets ------------------------------------------------------------------------------

    def outlet_health(self, outlet: str, *, now: datetime) -> dict[str, Any]:
        """What a person needs to see whether an outlet's crawl is healthy.

        Bounded reads: every count comes from an index range that grows with the crawl rate
        (a day of checks, the articles still on the re-check schedule), not with the archive.
        """
        day = now - timedelta(days=1)
        tracked = self.articles.count_documents({"outlet": outlet, "next_check": {"$gte": FLOOR}})
        checked = self.articles.count_documents({"outlet": outlet, "last_checked": {"$gte": day}})
        changes: dict[str, int] = dict.fromkeys(LABELS, 0)
        for v in self.versions.find({"outlet": outlet, "fetched_at": {"$gte": day}}, {"label": 1}):
            changes[v.get("label", "change")] = changes.get(v.get("label", "change"), 0) + 1
        failing_query = {"outlet": outlet, "status": "failing"}
        failing = list(
            self.articles.find(
                failing_query, {"url": 1, "title": 1, "reason": 1, "last_checked": 1}
            ).limit(200)
        )
        failing.sort(key=lambda d: d.get("last_checked") or FLOOR, reverse=True)
        failing_count = (
            len(failing) if len(failing) < 200 else self.articles.count_documents(failing_query)
        )
        statuses = {}
        for status in ("gone", "paywalled"):
            statuses[status] = self.articles.count_documents({"outlet": outlet, "status": status})
        return {
            "signals": self.signal_figures(outlet, now=now),
            "outlet": outlet,
            "tracked": tracked,
            "checked_last_day": checked,
            "versions_last_day": changes,
            "changes_last_day": changes.get("change", 0),
            "new_articles_last_day": changes.get("first", 0),
            "failing": failing_count,
            "failing_articles": [_public(d) for d in failing[:50]],
            "statuses": statuses,
        }

    def signal_figures(self, outlet: str, *, now: datetime, days: int = 7) -> dict[str, int]:
        """Re-checks the outlet's feeds and sitemaps asked for in its crawls of the last `days`,
        how many found a change (how honest its announced modification times are), and how many
        times one of its listings was not trusted (it re-stamped everything)."""
        stats = {
            "signalled": "newsdiff/recheck/signalled",
            "changed": "newsdiff/recheck/signalled_changed",
            "untrusted": "newsdiff/signals/untrusted_listings",
        }
        query = {"outlet": outlet, "finish": {"$gte": now - timedelta(days=days)}}
        fields = {f"stats.{key}": 1 for key in stats.values()}
        figures = dict.fromkeys(stats, 0) | {"days": days}
        for crawl in self.store.crawls.find(query, fields):
            for name, key in stats.items():
                figures[name] += int((crawl.get("stats") or {}).get(key, 0))
        return figures

    # --- how outlets edit (charts) -----------------------------------------------------------

    def edit_stats(self, *, now: datetime, days: int, outlet: str | None = None) -> dict:
        from newsdiff.store.stats import edit_stats

        return edit_stats(self.store, now=now, days=days, outlet=outlet)

    # --- export -------------------------------------------------------------------------------

    def export(
        self,
        *,
        now: datetime,
        outlet: str | None = None,
        since: datetime | None = None,
        batch: int = 200,
    ) -> Iterator[tuple[dict[str, Any], Iterator[dict[str, Any]]]]:
        """Articles changed at or after `since` (newest change first), each with an iterator
        over its versions, oldest first (consume it before the next article). A page of articles
        and a batch of versions at a time, so memory stays flat however long a history is."""
        base = {"outlet": outlet} if outlet else {}
        before = None
        width = FIRST_WINDOW
        while True:
            docs, _, _, width = self._windows(
                self.articles,
                base,
                "last_changed",
                before=before,
                want=batch + 1,
                now=now,
                floor=since or FLOOR,
                first_window=max(width, FIRST_WINDOW),
            )
            for doc in docs[:batch]:
                versions = self.versions.find({"article_id": doc["_id"]}).sort("number", 1)
                yield (
                    _public(doc, ("seen_hashes", "validators")),
                    (_public(v) for v in versions.batch_size(20)),
                )
            if len(docs) <= batch:
                return
            before = (docs[batch - 1]["last_changed"], docs[batch - 1]["_id"])
