"""The outbox: what newsdiff.publish must tell the world, one entry per (version, target).

A new version names its targets in its own `outbox` field, so the entries are written in the same
insert as the version (no crash can store one without the other). `collect()` copies them into the
`outbox` collection (idempotent: the entry id is "<version id>:<target>") and then clears the field.

Entry states: pending -> sending (claimed, attempts + 1) -> sent | pending (retry at `due`) |
failed (gave up after the target's tries; `requeue_failed` puts them back). A `sending` entry whose
claim is older than the lease was left by a crashed run and is due again, with the same key.
"""

from __future__ import annotations

import contextlib
from collections import Counter
from datetime import datetime, timedelta
from typing import Any

import pymongo
from bson import ObjectId
from pymongo.errors import DuplicateKeyError

from newsdiff.store import Store

Entry = dict[str, Any]


class Outbox:
    def __init__(self, store: Store):
        self.store = store
        self.entries = store.db.get_collection("outbox", write_concern=store.versions.write_concern)

    def ensure_indexes(self) -> None:
        self.entries.create_index([("target", 1), ("state", 1), ("due", 1)])
        self.entries.create_index([("target", 1), ("sent_at", -1)])  # rate limits
        self.entries.create_index([("outlet", 1), ("state", 1)])  # scrapy health
        self.store.versions.create_index("outbox", sparse=True)  # versions not collected yet

    def collect(self, now: datetime) -> int:
        """Copy the entries new versions carry into the outbox; returns how many were new."""
        fields = {"outbox": 1, "article_id": 1, "number": 1, "outlet": 1, "url": 1}
        created = 0
        for version in self.store.versions.find({"outbox": {"$exists": True}}, fields):
            for target in version.get("outbox") or []:
                entry = {
                    "_id": f"{version['_id']}:{target}",
                    "target": target,
                    "version_id": version["_id"],
                    "article_id": version["article_id"],
                    "number": version["number"],
                    "outlet": version.get("outlet"),
                    "url": version.get("url"),
                    "state": "pending",
                    "attempts": 0,
                    "created": now,
                    "due": now,
                }
                with contextlib.suppress(DuplicateKeyError):  # collected before a crash
                    self.entries.insert_one(entry)
                    created += 1
            self.store.versions.update_one({"_id": version["_id"]}, {"$unset": {"outbox": ""}})
        return created

    def due(self, target: str, now: datetime, lease: timedelta, limit: int) -> list[Entry]:
        """The target's entries to deliver now, oldest first: pending ones whose time has come
        and ones a crashed run left claimed."""
        query = {
            "target": target,
            "$or": [
                {"state": "pending", "due": {"$lte": now}},
                {"state": "sending", "claimed": {"$lte": now - lease}},
            ],
        }
        return list(self.entries.find(query).sort("created", 1).limit(limit))

    def next_due(self, targets: list[str]) -> datetime | None:
        """When the earliest pending entry of these targets is due."""
        first = self.entries.find_one(
            {"target": {"$in": targets}, "state": "pending"}, {"due": 1}, sort=[("due", 1)]
        )
        return first["due"] if first else None

    def claim(self, entry: Entry, now: datetime, key: str) -> Entry | None:
        """Take the entry for one attempt (None: another run took it first). `key` is the
        attempt's idempotency key, kept from the first claim on."""
        return self.entries.find_one_and_update(
            {"_id": entry["_id"], "state": entry["state"], "attempts": entry["attempts"]},
            {
                "$set": {"state": "sending", "claimed": now, "key": entry.get("key") or key},
                "$inc": {"attempts": 1},
            },
            return_document=pymongo.ReturnDocument.AFTER,
        )

    def sent(self, entry_id: str, now: datetime, result: str | None) -> None:
        self.entries.update_one(
            {"_id": entry_id},
            {"$set": {"state": "sent", "sent_at": now, "result": result, "error": None}},
        )

    def retry(self, entry_id: str, due: datetime, error: str, *, give_up: bool) -> None:
        state = "failed" if give_up else "pending"
        self.entries.update_one(
            {"_id": entry_id}, {"$set": {"state": state, "due": due, "error": error}}
        )

    def skip(self, entry_id: str, reason: str) -> None:
        self.entries.update_one({"_id": entry_id}, {"$set": {"state": "skipped", "error": reason}})

    def remember(self, entry_id: str, **fields: Any) -> None:
        """Progress of an attempt worth keeping across crashes (a Save Page Now job id)."""
        self.entries.update_one({"_id": entry_id}, {"$set": fields})

    def sent_since(self, target: str, since: datetime) -> int:
        return self.entries.count_documents({"target": target, "sent_at": {"$gte": since}})

    def requeue_failed(self, now: datetime) -> int:
        found = self.entries.update_many(
            {"state": "failed"}, {"$set": {"state": "pending", "due": now, "attempts": 0}}
        )
        return found.modified_count

    def counts(self, outlet: str | None = None) -> Counter:
        """Entries still to deliver or given up, by (target, state)."""
        match: dict[str, Any] = {"state": {"$in": ["pending", "sending", "failed"]}}
        if outlet is not None:
            match["outlet"] = outlet
        return Counter(
            (e["target"], e["state"]) for e in self.entries.find(match, {"target": 1, "state": 1})
        )

    def version(self, version_id: ObjectId) -> dict[str, Any] | None:
        return self.store.versions.find_one({"_id": version_id})

    def version_by_number(self, article_id: ObjectId, number: int) -> dict[str, Any] | None:
        return self.store.versions.find_one({"article_id": article_id, "number": number})

    def article(self, article_id: ObjectId) -> dict[str, Any] | None:
        return self.store.articles.find_one({"_id": article_id})

    def set_archive_url(self, version_id: ObjectId, url: str) -> None:
        """The Wayback Machine's copy of the page this version was read from."""
        self.store.versions.update_one({"_id": version_id}, {"$set": {"archive_url": url}})
