"""scrapy reparse OUTLET [--apply]: re-run today's extraction over an outlet's stored snapshots.

Each stored version's raw HTML goes through pages.extract_fetched (reading the part of the page
a crawl reads) and the validate, normalise and hash pipelines, as in a crawl; the versions whose
fields would differ are reported field by field.
Nothing is written without --apply. With it, each differing version gets the new fields and
hashes, and a `reparses` entry with the previous values and extractor versions; versions are
never renumbered or deleted, and labels and `changed` stay as recorded at crawl time.
"""

from __future__ import annotations

import json
from argparse import ArgumentParser, Namespace
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

from itemadapter import ItemAdapter
from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError
from scrapy.spiderloader import get_spider_loader
from scrapy.statscollectors import MemoryStatsCollector

from newsdiff import pages, text
from newsdiff.items import Article
from newsdiff.pipelines import prepare
from newsdiff.store import Store, open_store

# Fields a re-extraction may change; the hashes follow from the hashed ones.
FIELDS = (
    *("title", "summary", "byline", "body", "corrections"),
    *("published", "modified", "section"),
)
DERIVED = ("hashes", "loose_hashes", "hash", "extractor", "extractor_version", "normaliser_version")


class Reparser:
    """Extraction, then the crawl's own validate -> normalise -> hash stages, on stored HTML."""

    def __init__(self, settings):
        crawler = SimpleNamespace(settings=settings)
        crawler.stats = MemoryStatsCollector(crawler)
        self.stats = crawler.stats
        self.prepare = prepare(crawler)

    def fields(self, html: bytes, version: dict[str, Any]) -> dict[str, Any] | str:
        """The version's fields as a crawl would store them today, or why there are none."""
        try:
            extraction = pages.extract_fetched(html, None, version["url"], version["outlet"])
        except pages.NotArticle as exc:
            return f"no longer extracts: {exc}"
        item = Article(
            outlet=version["outlet"],
            url=version["url"],
            fetched_at=version["fetched_at"].isoformat(),
            extractor_version=pages.EXTRACTOR_VERSION,
            **extraction.to_dict(),
        )
        a = ItemAdapter(self.prepare(item))
        if a["status"] != "ok":
            return f"no longer extracts: {a['reason']}"
        out = {name: a.get(name) for name in FIELDS}
        out |= {
            "hashes": a["hashes"],
            "loose_hashes": a["loose_hashes"],
            "hash": text.combined_hash(a["hashes"]),
            "extractor": a.get("extractor"),
            "extractor_version": pages.EXTRACTOR_VERSION,
            "normaliser_version": text.NORMALISER_VERSION,
        }
        return out


def field_changes(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """{field: {"old": ..., "new": ...}} for each extracted field that differs; lists of
    paragraphs are summarised as the paragraphs removed and added."""
    out = {}
    for name in FIELDS:
        before, after = old.get(name), new.get(name)
        if before == after or (not before and not after):
            continue
        if isinstance(before, list) or isinstance(after, list):
            before, after = before or [], after or []
            out[name] = {
                "removed": [p for p in before if p not in after],
                "added": [p for p in after if p not in before],
                "paragraphs": [len(before), len(after)],
            }
        else:
            out[name] = {"old": before, "new": after}
    return out


def reparse(store: Store, outlet: str, settings, *, apply: bool) -> dict[str, Any]:
    parser = Reparser(settings)
    now = datetime.now(UTC)
    report: dict[str, Any] = {
        "outlet": outlet,
        "extractor_version": pages.EXTRACTOR_VERSION,
        "normaliser_version": text.NORMALISER_VERSION,
        "applied": apply,
        "articles": 0,
        "versions": 0,
        "differ": [],
        "unchanged": 0,
        "no_snapshot": [],
        "no_longer_extracts": [],
    }
    for article in store.outlet_articles(outlet):
        report["articles"] += 1
        versions = store.versions_of(article["_id"])
        previous_hash = None
        for version in versions:
            report["versions"] += 1
            where = {"url": version["url"], "number": version["number"]}
            html = store.snapshot(version["snapshot"]) if version.get("snapshot") else None
            if html is None:
                report["no_snapshot"].append(where)
                previous_hash = version.get("hash")
                continue
            new = parser.fields(html, version)
            if isinstance(new, str):
                report["no_longer_extracts"].append({**where, "reason": new})
                previous_hash = version.get("hash")
                continue
            changes = field_changes(version, new)
            if not changes and new["hashes"] == version.get("hashes"):
                report["unchanged"] += 1
                previous_hash = new["hash"]
                continue
            report["differ"].append(
                {
                    **where,
                    "stored_extractor_version": version.get("extractor_version"),
                    "changes": changes,
                    "same_as_previous_version": new["hash"] == previous_hash,
                }
            )
            previous_hash = new["hash"]
            if apply:
                record = {
                    "at": now,
                    "previous": {k: version.get(k) for k in (*changes, *DERIVED)},
                }
                latest = version["number"] == versions[-1]["number"]
                state = {"_id": article["_id"], "version_count": version["number"] + 1}
                store.reparse_version(
                    version["_id"], new, record, latest_of=state if latest else None
                )
    return report


class Command(ScrapyCommand):
    requires_project = True
    requires_crawler_process = False
    default_settings = {"LOG_ENABLED": False}

    def syntax(self) -> str:
        return "OUTLET [--apply] [--json]"

    def short_desc(self) -> str:
        return "Re-run the current extraction over an outlet's stored pages; report what differs"

    def long_desc(self) -> str:
        return __doc__

    def add_options(self, parser: ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument(
            "--apply", action="store_true", help="update the differing versions (kept, not new)"
        )
        parser.add_argument("--json", action="store_true", help="print one JSON object")

    def run(self, args: list[str], opts: Namespace) -> None:
        if len(args) != 1:
            raise UsageError("give exactly one outlet")
        get_spider_loader(self.settings)  # declares outlets.toml's page classes
        store = open_store(self.settings)
        try:
            report = reparse(store, args[0], self.settings, apply=opts.apply)
        finally:
            store.close()
        if opts.json:
            print(json.dumps(report, ensure_ascii=False, indent=1, default=str))
            return
        for d in report["differ"]:
            note = " (now identical to the version before)" if d["same_as_previous_version"] else ""
            print(f"{d['url']} v{d['number']}{note}")
            for name, change in d["changes"].items():
                if "paragraphs" in change:
                    before, after = change["paragraphs"]
                    print(
                        f"  {name}: {before} -> {after} paragraphs, "
                        f"{len(change['removed'])} removed, {len(change['added'])} added"
                    )
                    for p in change["removed"][:3]:
                        print(f"    - {_short(p)}")
                    for p in change["added"][:3]:
                        print(f"    + {_short(p)}")
                else:
                    print(f"  {name}: {change['old']!r} -> {change['new']!r}")
            if not d["changes"]:
                print("  hashes only (normaliser changed)")
        for p in report["no_longer_extracts"]:
            print(f"{p['url']} v{p['number']}: {p['reason']} (kept as stored)")
        differ = len(report["differ"])
        verb = "were updated" if opts.apply else "would differ"
        print(
            f"{report['outlet']}: {differ} of {report['versions']} stored versions "
            f"({report['articles']} articles) {verb} under extractor "
            f"{report['extractor_version']}; {len(report['no_snapshot'])} without a snapshot, "
            f"{len(report['no_longer_extracts'])} no longer extract"
            + ("" if opts.apply or not differ else "; run with --apply to update them")
        )


def _short(paragraph: str, width: int = 90) -> str:
    return paragraph if len(paragraph) <= width else paragraph[: width - 1] + "…"
