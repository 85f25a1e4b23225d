"""The only place that speaks pymongo: connection, indexes, atomic writes and the crawler's queries.

Collections (see DESIGN.md, "Data model"): `articles` (one per canonical URL), `versions`
(unique on article + number, numbered from 0, the source of truth for the latest content) and
`snapshots` (zstd-compressed raw HTML, keyed by its SHA-256; older ones zlib).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import zlib
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pymongo
import zstandard
from bson import ObjectId
from bson.errors import InvalidDocument
from pymongo.errors import ConnectionFailure, DuplicateKeyError, OperationFailure, PyMongoError
from pymongo.write_concern import WriteConcern

from newsdiff.store.embedded import EmbeddedServerError, ensure_server

__all__ = [
    "ArticleState",
    "ConnectionFailure",
    "DocumentError",
    "EmbeddedServerError",
    "Store",
    "StoreError",
    "VersionConflict",
    "data_dir",
    "describe_error",
    "open_store",
]

StoreError = PyMongoError
DocumentError = InvalidDocument  # a document pymongo cannot send (e.g. DocumentTooLarge)

# What a re-check needs to decide on a new version without another read (the due query carries it).
STATE_FIELDS = {
    "url": 1,
    "outlet": 1,
    "version_count": 1,
    "hashes": 1,
    "loose_hashes": 1,
    "seen_hashes": 1,
    "last_changed": 1,
    "latest_fetch": 1,
    "first_seen": 1,
    "body_chars": 1,
    "validators": 1,
    "status": 1,
    "aliases": 1,
    "extractor": 1,
    "extractor_version": 1,
    "raw_digest": 1,
}
ArticleState = dict[str, Any]
# What a check's repair brings up to date: the latest version's hashes as read now.
REPAIRED = ("hashes", "loose_hashes", "body_chars", "extractor", "extractor_version")


class VersionConflict(Exception):
    """Another writer stored this version number first; `latest` is the article state now."""

    def __init__(self, latest: ArticleState):
        super().__init__("version number taken by a concurrent writer")
        self.latest = latest


def describe_error(exc: BaseException) -> str:
    """A store error in words: the server's own message, not the whole reply it came in."""
    message = str(exc)
    if isinstance(exc, OperationFailure) and isinstance(exc.details, Mapping):
        message = exc.details.get("errmsg") or message
    kind = "unreachable" if isinstance(exc, ConnectionFailure) else "error"
    return f"{kind}: {message[:300]}"


def data_dir(settings: Mapping[str, Any] | None = None) -> Path:
    """Absolute directory for local state (embedded database, deltafetch); never cwd-relative,
    so Scrapyd jobs find it too."""
    configured = (settings or {}).get("NEWSDIFF_DATA_DIR") or os.environ.get("NEWSDIFF_DATA_DIR")
    if configured:
        return Path(configured).expanduser().absolute()
    from platformdirs import user_data_dir

    return Path(user_data_dir("newsdiff", appauthor=False))


def open_store(settings: Mapping[str, Any] | None = None, *, timeout_ms: int = 5000) -> Store:
    """Connect to NEWSDIFF_MONGO_URI, or to the embedded default when it is unset."""
    settings = settings or {}
    uri = settings.get("NEWSDIFF_MONGO_URI") or os.environ.get("NEWSDIFF_MONGO_URI")
    if not uri:
        uri = ensure_server(data_dir(settings))
    db = settings.get("NEWSDIFF_MONGO_DB") or os.environ.get("NEWSDIFF_MONGO_DB") or "newsdiff"
    return Store(uri, db, timeout_ms=int(settings.get("NEWSDIFF_MONGO_TIMEOUT_MS") or timeout_ms))


def _now() -> datetime:
    return datetime.now(UTC)


def _days(days: float) -> timedelta:
    return timedelta(days=days)


def check_update(
    now: datetime,
    status: str,
    reason: str | None,
    next_check: datetime | None,
    validators: Mapping[str, str] | None = None,
    repair: ArticleState | None = None,
    raw_digest: str | None = None,
) -> dict[str, Any]:
    """The update of an article that a check without a new version makes."""
    fields: dict[str, Any] = {"last_checked": now, "status": status, "reason": reason}
    if validators is not None:
        fields["validators"] = dict(validators)
    if raw_digest is not None:  # the page bytes the latest version was found in, this time
        fields["raw_digest"] = raw_digest
    if repair:  # the article document lagged behind its versions (a crash), or was re-read
        fields.update({k: repair[k] for k in REPAIRED if k in repair})
    update: dict[str, Any] = {"$set": fields, "$inc": {"checks": 1}}
    if next_check is None:
        update["$unset"] = {"next_check": ""}
    else:
        fields["next_check"] = next_check
    if repair:
        update["$max"] = {"version_count": repair["version_count"]}
    return update


def guarded(update: dict[str, Any], version_count: int | None) -> list[dict[str, Any]]:
    """check_update's $set/$inc/$unset as an update pipeline that changes the article only while
    its version_count is still `version_count`: the guard of a {version_count: n} term in the
    filter, which makes SecantusDB plan a compound query. One $cond around the whole document
    costs it a sixth less than one per field (1.18 against 1.42 ms a check); the rare check that
    ends the schedule ($unset) guards each field. Values go in as $literal: a validator such
    as an ETag may start with "$"."""
    if set(update) - {"$set", "$inc", "$unset"}:
        raise ValueError(f"not a plain check update: {sorted(update)}")
    same = {"$eq": [{"$ifNull": ["$version_count", None]}, version_count]}
    fields: dict[str, Any] = {k: {"$literal": v} for k, v in update.get("$set", {}).items()}
    for field, step in update.get("$inc", {}).items():
        fields[field] = {"$add": [{"$ifNull": [f"${field}", 0]}, step]}
    if "$unset" not in update:
        changed = {"$mergeObjects": ["$$ROOT", fields]}
        return [{"$replaceWith": {"$cond": [same, changed, "$$ROOT"]}}]
    fields |= dict.fromkeys(update["$unset"], "$$REMOVE")
    return [{"$set": {k: {"$cond": [same, v, f"${k}"]} for k, v in fields.items()}}]


class Store:
    def __init__(self, uri: str, db_name: str = "newsdiff", *, timeout_ms: int = 5000):
        self.uri = uri
        self.client: pymongo.MongoClient = pymongo.MongoClient(
            uri, serverSelectionTimeoutMS=timeout_ms, tz_aware=True, appname="newsdiff"
        )
        self.db = self.client[db_name]
        self.articles = self.db["articles"]
        # j=True: an acknowledged version survives a crash of the server process. Other writes
        # need not wait for the journal: the article document is repaired from the versions.
        self.versions = self.db.get_collection("versions", write_concern=WriteConcern(j=True))
        self.snapshots = self.db["snapshots"]
        self.crawls = self.db["crawls"]  # one document per finished crawl (newsdiff.health)
        self.listings = self.db["listings"]  # each feed's and sitemap's last stamps (signals)

    def ping(self) -> None:
        self.client.admin.command("ping")

    def close(self) -> None:
        self.client.close()

    def ensure_indexes(self) -> None:
        a, v = self.articles, self.versions
        a.create_index("url", unique=True)
        a.create_index("aliases")
        a.create_index([("outlet", 1), ("next_check", 1)])  # due re-checks, most overdue first
        a.create_index([("last_changed", -1)])  # recently changed, all outlets
        a.create_index([("outlet", 1), ("last_changed", -1)])
        a.create_index([("outlet", 1), ("last_checked", -1)])  # viewer: outlet health, last day
        a.create_index([("outlet", 1), ("status", 1)])  # viewer: failing extractions
        v.create_index([("article_id", 1), ("number", 1)], unique=True)
        v.create_index([("fetched_at", -1)])  # feeds of changes
        v.create_index([("outlet", 1), ("fetched_at", -1)])
        self.crawls.create_index([("outlet", 1), ("finish", -1)])  # health: recent crawls

    # --- queries the crawler runs -------------------------------------------------------

    def due(
        self, outlet: str, now: datetime, limit: int, *, force: bool = False
    ) -> list[ArticleState]:
        """Articles of an outlet to re-check now, most overdue first."""
        if force:  # every article, those judged not articles too (a fixed parser may read them)
            query = {"outlet": outlet}
            return list(self.articles.find(query, STATE_FIELDS).sort("first_seen", 1))
        query = {"outlet": outlet, "next_check": {"$lte": now}}
        return list(self.articles.find(query, STATE_FIELDS).sort("next_check", 1).limit(limit))

    def signal_candidates(self, outlet: str, urls: list[str]) -> list[ArticleState]:
        """The outlet's articles under these canonical URLs, with what a change signal is
        compared with (last check, the stored version's `modified`)."""
        fields = {**STATE_FIELDS, "last_checked": 1, "modified": 1}
        return list(self.articles.find({"outlet": outlet, "url": {"$in": urls}}, fields))

    def listing(self, url: str) -> dict[str, Any] | None:
        """A feed's or sitemap's state from its previous fetch: stamps, untrusted_until."""
        return self.listings.find_one({"_id": url})

    def save_listing(self, url: str, state: Mapping[str, Any]) -> None:
        self.listings.replace_one({"_id": url}, {"_id": url, **state}, upsert=True)

    def find_article(self, urls: list[str]) -> ArticleState | None:
        """The article known under any of these URLs (canonical or alias)."""
        return self.articles.find_one(
            {"$or": [{"url": {"$in": urls}}, {"aliases": {"$in": urls}}]}, STATE_FIELDS
        )

    def article(self, url: str) -> dict[str, Any] | None:
        return self.articles.find_one({"$or": [{"url": url}, {"aliases": url}]})

    def versions_of(self, article_id: ObjectId, fields: dict | None = None) -> list[dict]:
        return list(self.versions.find({"article_id": article_id}, fields).sort("number", 1))

    def snapshot(self, digest: str) -> bytes | None:
        doc = self.snapshots.find_one({"_id": digest})
        if not doc:
            return None
        # Snapshots written before zstd (no codec field) are zlib.
        if doc.get("codec") == "zstd":
            return zstandard.decompress(doc["data"])
        return zlib.decompress(doc["data"])

    # --- writes -------------------------------------------------------------------------

    def ensure_article(
        self, outlet: str, url: str, aliases: list[str], now: datetime
    ) -> ArticleState:
        """The article for url, created on first sight; aliases are remembered either way."""
        new = {
            "outlet": outlet,
            "first_seen": now,
            "version_count": 0,
            "status": "new",
            "checks": 0,
            # Due at once until its first check is recorded: a crash before that must not
            # leave an article that is never checked (and never repaired) again.
            "next_check": now,
        }
        # Discovery mostly meets new URLs: a plain insert costs the server a third less than
        # an upsert; an existing article (or a concurrent crawl's) takes the upsert below.
        doc = {"url": url, **new, **({"aliases": sorted(set(aliases))} if aliases else {})}
        try:
            self.articles.insert_one(doc)
            return {k: v for k, v in doc.items() if k in STATE_FIELDS or k == "_id"}
        except DuplicateKeyError:
            pass
        update: dict[str, Any] = {"$setOnInsert": new}
        if aliases:
            update["$addToSet"] = {"aliases": {"$each": aliases}}
        for _ in range(3):
            try:
                return self.articles.find_one_and_update(
                    {"url": url},
                    update,
                    projection=STATE_FIELDS,
                    upsert=True,
                    return_document=pymongo.ReturnDocument.AFTER,
                )
            except DuplicateKeyError:  # a concurrent crawl created it first: read theirs
                continue
        raise RuntimeError(f"could not create or read article {url}")

    def record_check(
        self,
        article_id: ObjectId,
        *,
        now: datetime,
        status: str,
        reason: str | None,
        next_check: datetime | None,
        validators: Mapping[str, str] | None = None,
        repair: ArticleState | None = None,
        raw_digest: str | None = None,
    ) -> None:
        """A check that stored no version: one small write."""
        update = check_update(now, status, reason, next_check, validators, repair, raw_digest)
        self.articles.update_one({"_id": article_id}, update)

    def record_checks(self, checks: list[tuple[ArticleState, dict[str, Any]]]) -> int:
        """Checks that stored no version (state, check_update(...)), in one unordered round trip.
        Each applies only while the article has no newer version than its state had (a version
        written meanwhile recorded its own check); returns how many were written."""
        if not checks:
            return 0
        result = self.articles.bulk_write(
            [
                pymongo.UpdateOne({"_id": s["_id"]}, guarded(u, s.get("version_count")))
                for s, u in checks
            ],
            ordered=False,
        )
        return result.modified_count

    def save_snapshot(self, html: bytes, now: datetime) -> str:
        digest = hashlib.sha256(html).hexdigest()
        snapshot = {
            "_id": digest,
            # zstd level 3: 4x faster than zlib level 1 on news pages, and smaller.
            "data": zstandard.compress(html, 3),
            "codec": "zstd",
            "size": len(html),
            "created": now,
        }
        # An insert, the cheapest write for the server: a duplicate key means the same bytes
        # were stored before (content-addressed).
        with contextlib.suppress(DuplicateKeyError):
            self.snapshots.insert_one(snapshot)
        return digest

    def latest_page(self, article_id: ObjectId) -> tuple[dict[str, Any], bytes] | None:
        """The newest version's extractor_version and number, with the page it was read from;
        None when it has no stored snapshot."""
        latest = self.versions.find_one(
            {"article_id": article_id},
            {"number": 1, "snapshot": 1, "extractor_version": 1},
            sort=[("number", -1)],
        )
        html = self.snapshot(latest["snapshot"]) if latest and latest.get("snapshot") else None
        return (latest, html) if html is not None else None

    def latest_state(self, article_id: ObjectId) -> ArticleState:
        """The article's decision state rebuilt from its newest stored version."""
        latest = self.versions.find_one(
            {"article_id": article_id},
            {"number": 1, "hashes": 1, "loose_hashes": 1, "hash": 1, "body": 1, "fetched_at": 1},
            sort=[("number", -1)],
        )
        state = self.articles.find_one({"_id": article_id}, STATE_FIELDS)
        if latest is None:
            return state
        seen = [d["hash"] for d in self.versions.find({"article_id": article_id}, {"hash": 1})]
        return state | {
            "version_count": latest["number"] + 1,
            "hashes": latest["hashes"],
            "loose_hashes": latest["loose_hashes"],
            "seen_hashes": seen,
            "body_chars": sum(map(len, latest["body"])),
            "last_changed": latest["fetched_at"],
            "latest_fetch": latest["fetched_at"],
        }

    def add_version(
        self,
        state: ArticleState,
        version: dict[str, Any],
        *,
        article_fields: Mapping[str, Any],
        next_check: datetime | None,
        changed_at: datetime | None = None,
    ) -> int:
        """Store version number state["version_count"] atomically; raises VersionConflict when
        a concurrent writer got that number first (the caller decides again on `latest`).
        changed_at: the article's last_changed when not the fetch time (an announced change)."""
        number = state.get("version_count", 0)
        doc = {"article_id": state["_id"], "number": number, **version}
        try:
            self.versions.insert_one(doc)
        except DuplicateKeyError:
            raise VersionConflict(self.latest_state(state["_id"])) from None
        fields = {
            **article_fields,
            "hashes": version["hashes"],
            "loose_hashes": version["loose_hashes"],
            "body_chars": sum(map(len, version["body"])),
            "last_changed": changed_at or version["fetched_at"],
            "latest_fetch": version["fetched_at"],  # versions are ordered by it (stale fetches)
            "last_checked": version["fetched_at"],
            "status": "live",
            "reason": None,
        }
        update: dict[str, Any] = {
            "$set": fields,
            "$max": {"version_count": number + 1},
            "$addToSet": {"seen_hashes": version["hash"]},
            "$inc": {"checks": 1},
        }
        if next_check is None:
            update["$unset"] = {"next_check": ""}
        else:
            fields["next_check"] = next_check
        # Only the writer of the newest version may set the latest hashes.
        self.articles.update_one({"_id": state["_id"], "version_count": {"$lte": number}}, update)
        return number

    # --- crawl health (newsdiff.health, scrapy health, scrapy reparse) ----------------------

    def record_crawl(self, crawl: dict[str, Any]) -> ObjectId:
        return self.crawls.insert_one(crawl).inserted_id

    def _newest(
        self, coll, query: dict[str, Any], field: str, limit: int, projection=None
    ) -> list[dict[str, Any]]:
        """The newest `limit` matches, read in widening time windows: the server materialises a
        whole index range before a limit, so an open-ended sort would read the outlet's history."""
        now = _now()
        for days in (1, 7, 30, 365, None):
            bounded = query if days is None else {**query, field: {"$gte": now - _days(days)}}
            found = list(coll.find(bounded, projection).sort(field, -1).limit(limit))
            if len(found) >= limit or days is None:
                return found
        return []  # unreachable: the last window is open

    def recent_crawls(self, outlet: str, limit: int) -> list[dict[str, Any]]:
        """An outlet's last crawls, newest first."""
        return self._newest(self.crawls, {"outlet": outlet}, "finish", limit)

    def last_finished_crawl(self, outlet: str) -> dict[str, Any] | None:
        """The outlet's newest crawl that ran to its end (finish reason "finished")."""
        found = self._newest(
            self.crawls, {"outlet": outlet, "finish_reason": "finished"}, "finish", 1
        )
        return found[0] if found else None

    def crawled_outlets(self) -> list[str]:
        """Every outlet with a recorded crawl or a stored article."""
        return sorted(set(self.crawls.distinct("outlet")) | set(self.articles.distinct("outlet")))

    def last_version_times(self, outlet: str, limit: int) -> list[datetime]:
        """fetched_at of the outlet's newest versions, newest first."""
        query, fields = {"outlet": outlet}, {"fetched_at": 1, "_id": 0}
        return [
            v["fetched_at"] for v in self._newest(self.versions, query, "fetched_at", limit, fields)
        ]

    def outlet_articles(self, outlet: str) -> list[dict[str, Any]]:
        """The outlet's articles (id, URL, version count), oldest first."""
        fields = {"url": 1, "version_count": 1}
        return list(self.articles.find({"outlet": outlet}, fields).sort("first_seen", 1))

    def reparse_version(
        self,
        version_id: ObjectId,
        fields: Mapping[str, Any],
        record: Mapping[str, Any],
        *,
        latest_of: ArticleState | None = None,
    ) -> None:
        """Replace a version's derived fields with a re-extraction; `record` (the previous
        values, extractor version, time) is appended to its `reparses`. latest_of: the article,
        when this is its newest version, so its cached hashes follow (only while it still is)."""
        self.versions.update_one(
            {"_id": version_id}, {"$set": dict(fields), "$push": {"reparses": dict(record)}}
        )
        if latest_of is None:
            return
        cache = {
            "hashes": fields["hashes"],
            "loose_hashes": fields["loose_hashes"],
            "body_chars": sum(map(len, fields["body"])),
            "title": fields["title"],
            "summary": fields.get("summary"),
            # What read it: the extractor-upgrade guard compares with the newest version's.
            **{k: fields[k] for k in ("extractor", "extractor_version") if k in fields},
        }
        self.articles.update_one(
            {"_id": latest_of["_id"], "version_count": latest_of["version_count"]},
            {"$set": cache, "$addToSet": {"seen_hashes": fields["hash"]}},
        )
