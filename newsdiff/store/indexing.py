"""Reads the search index is built from: each version with the version before it.

Bounded reads only: versions come by article id (the unique (article_id, number) index) or by
fetch time (the fetched_at index), a batch of articles at a time, never as one sorted scan (the
embedded server materialises a whole index range before a limit).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

from bson import ObjectId

from newsdiff.store import Store

Pair = tuple[dict[str, Any], dict[str, Any] | None]
FIELDS = {
    "article_id": 1,
    "number": 1,
    "outlet": 1,
    "label": 1,
    "url": 1,
    "fetched_at": 1,
    "title": 1,
    "summary": 1,
    "byline": 1,
    "body": 1,
    "corrections": 1,
}


def _oid(value: Any) -> ObjectId:
    return value if isinstance(value, ObjectId) else ObjectId(str(value))


def pairs_for(store: Store, keys: Iterable[tuple[Any, int]]) -> Iterator[Pair]:
    """(version, previous) for these (article id, number) keys; one read per article."""
    wanted: dict[ObjectId, set[int]] = defaultdict(set)
    for aid, number in keys:
        wanted[_oid(aid)].add(int(number))
    for aid, numbers in wanted.items():
        need = sorted(numbers | {n - 1 for n in numbers if n > 0})
        docs = {
            d["number"]: d
            for d in store.versions.find({"article_id": aid, "number": {"$in": need}}, FIELDS)
        }
        for n in sorted(numbers):
            if n in docs:
                yield docs[n], docs.get(n - 1)


def versions_by_key(store: Store, keys: Iterable[tuple[Any, int]]) -> dict[tuple[str, int], dict]:
    """Versions by (article id, number), keyed with the id as a string; one read per article."""
    wanted: dict[ObjectId, set[int]] = defaultdict(set)
    for aid, number in keys:
        wanted[_oid(aid)].add(int(number))
    out = {}
    for aid, numbers in wanted.items():
        for d in store.versions.find(
            {"article_id": aid, "number": {"$in": sorted(numbers)}}, FIELDS
        ):
            out[(str(aid), d["number"])] = d
    return out


def all_pairs(store: Store, batch: int = 200) -> Iterator[Pair]:
    """Every version of every article with its previous one, a batch of articles at a time."""
    ids = [d["_id"] for d in store.articles.find({}, {"_id": 1})]
    ids.sort()
    for start in range(0, len(ids), batch):
        chunk = ids[start : start + batch]
        by_article: dict[ObjectId, list[dict]] = defaultdict(list)
        for d in store.versions.find({"article_id": {"$in": chunk}}, FIELDS):
            by_article[d["article_id"]].append(d)
        for aid in chunk:
            versions = sorted(by_article.get(aid, ()), key=lambda d: d["number"])
            previous = None
            for v in versions:
                yield v, previous if previous and previous["number"] == v["number"] - 1 else None
                previous = v


def pairs_since(store: Store, since: datetime | None) -> Iterator[Pair]:
    """Versions fetched at or after `since` (all when None), each with its previous one."""
    if since is None:
        yield from all_pairs(store)
        return
    keys = [
        (d["article_id"], d["number"])
        for d in store.versions.find(
            {"fetched_at": {"$gte": since}}, {"article_id": 1, "number": 1}
        )
    ]
    yield from pairs_for(store, keys)


def version_count(store: Store) -> int:
    return store.versions.estimated_document_count()
