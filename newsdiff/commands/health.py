"""scrapy health [OUTLET]: is each outlet's crawl working? From the stored crawls and articles.

Exit code 1 when an outlet looks broken (for cron or monitoring): no finished crawl within
NEWSDIFF_HEALTH_MAX_CRAWL_AGE_HOURS, an extraction failure rate above
NEWSDIFF_HEALTH_MAX_FAILURE_RATE over the last NEWSDIFF_HEALTH_RECENT_CRAWLS crawls, or health
problems in its last crawl; or when fetches wait in the local spool (the database did not take
them). A database that cannot be read is said in one line, exit code 1.
"""

from __future__ import annotations

import json
import sys
from argparse import ArgumentParser, Namespace
from datetime import UTC, datetime, timedelta
from typing import Any

from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError

from newsdiff.durations import ago
from newsdiff.spool import Spool
from newsdiff.store import (
    EmbeddedServerError,
    Store,
    StoreError,
    data_dir,
    describe_error,
    open_store,
)
from newsdiff.store.outbox import Outbox
from newsdiff.store.queries import Queries


def outlet_report(store: Store, outlet: str, now: datetime, settings) -> dict[str, Any]:
    """One outlet's health, with the reasons it looks broken (empty when it does not)."""
    max_age = timedelta(hours=settings.getfloat("NEWSDIFF_HEALTH_MAX_CRAWL_AGE_HOURS"))
    max_rate = settings.getfloat("NEWSDIFF_HEALTH_MAX_FAILURE_RATE")
    recent = store.recent_crawls(outlet, settings.getint("NEWSDIFF_HEALTH_RECENT_CRAWLS"))
    finished = store.last_finished_crawl(outlet)
    pages = sum(c.get("pages", 0) for c in recent)
    failures = sum(c.get("extract_failures", 0) for c in recent)
    rate = failures / pages if pages else None
    seen = Queries(store).outlet_health(outlet, now=now)
    last = recent[0] if recent else None
    broken = []
    if finished is None:
        broken.append("no finished crawl recorded")
    elif now - finished["finish"] > max_age:
        broken.append(f"last finished crawl {ago(finished['finish'], now)}")
    if rate is not None and rate > max_rate:
        broken.append(f"extraction failed on {rate:.0%} of pages (threshold {max_rate:.0%})")
    if last and last.get("problems"):
        names = ", ".join(p["problem"] for p in last["problems"])
        broken.append(f"last crawl had health problems: {names}")
    outbox = Outbox(store).counts(outlet)
    gave_up = {target: n for (target, state), n in outbox.items() if state == "failed"}
    if gave_up:
        which = ", ".join(f"{n} to {target}" for target, n in sorted(gave_up.items()))
        broken.append(f"publishing gave up on {which} (scrapy publish --retry-failed)")
    problems = [
        {"finish": c["finish"].isoformat(), **p} for c in recent for p in c.get("problems", [])
    ]
    return {
        "outlet": outlet,
        "status": "broken" if broken else "ok",
        "broken": broken,
        "last_crawl": last
        and {
            "finish": last["finish"].isoformat(),
            "finish_reason": last.get("finish_reason"),
        },
        "last_finished_crawl": finished and finished["finish"].isoformat(),
        "last_finished_ago_hours": finished
        and round((now - finished["finish"]) / timedelta(hours=1), 2),
        "recent_crawls": len(recent),
        "pages": pages,
        "extract_failures": failures,
        "failure_rate": None if rate is None else round(rate, 4),
        "articles_tracked": seen["tracked"],
        "checked_last_day": seen["checked_last_day"],
        "changes_last_day": seen["changes_last_day"],
        "new_articles_last_day": seen["new_articles_last_day"],
        "failing_articles": seen["failing"],
        "signals": seen["signals"],
        "recent_problems": problems,
        "publish_pending": sum(n for (_, state), n in outbox.items() if state != "failed"),
        "publish_failed": sum(gave_up.values()),
    }


def _signals(figures: dict[str, int]) -> str:
    """e.g. "12 (3 changed, 25%)"; "untrusted" marks a listing that re-stamped everything."""
    signalled, changed = figures["signalled"], figures["changed"]
    text = f"{signalled:,} ({changed:,} changed, {changed / signalled:.0%})" if signalled else "0"
    return text + (f", untrusted x{figures['untrusted']}" if figures["untrusted"] else "")


class Command(ScrapyCommand):
    requires_project = True
    requires_crawler_process = False
    default_settings = {"LOG_ENABLED": False}

    def syntax(self) -> str:
        return "[OUTLET] [--json]"

    def short_desc(self) -> str:
        return "Summarise each outlet's crawl health; exit code 1 when one looks broken"

    def long_desc(self) -> str:
        return __doc__

    def add_options(self, parser: ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument("--json", action="store_true", help="print a JSON list")

    def run(self, args: list[str], opts: Namespace) -> None:
        if len(args) > 1:
            raise UsageError("give at most one outlet")
        now = datetime.now(UTC)
        spool = Spool(data_dir(self.settings) / "spool")
        reports: list[dict[str, Any]] | None = None
        try:
            store = open_store(self.settings)
            try:
                outlets = args or store.crawled_outlets()
                reports = [outlet_report(store, o, now, self.settings) for o in outlets]
            finally:
                store.close()
        except (StoreError, EmbeddedServerError) as exc:
            print(f"newsdiff: the database cannot be read ({describe_error(exc)})", file=sys.stderr)
        waiting = spool.waiting()
        if waiting:
            # Fetches the database did not take: versions not yet in the history.
            print(
                f"newsdiff: {waiting} fetches wait on local disk in {spool.directory}: the "
                "database did not take them; the next crawl writes them",
                file=sys.stderr,
            )
        if reports == []:
            print("newsdiff: no crawl is recorded yet", file=sys.stderr)
        ok = reports and not waiting and all(r["status"] == "ok" for r in reports)
        self.exitcode = 0 if ok else 1
        if reports is None:
            return
        if opts.json:
            print(json.dumps(reports, ensure_ascii=False, indent=1))
            return
        self.print_table(reports, now)

    def print_table(self, reports: list[dict[str, Any]], now: datetime) -> None:
        rows = [
            ("outlet", "status", "last finished crawl", "extraction failures", "tracked")
            + ("checked/day", "changes/day", "signalled checks/7 d (changed)")
        ]
        for r in reports:
            finished = r["last_finished_crawl"]
            rate = r["failure_rate"]
            rows.append(
                (
                    r["outlet"],
                    r["status"].upper() if r["status"] != "ok" else "ok",
                    ago(datetime.fromisoformat(finished), now) if finished else "never",
                    "-" if rate is None else f"{rate:.0%} of {r['pages']}",
                    f"{r['articles_tracked']:,}",
                    f"{r['checked_last_day']:,}",
                    f"{r['changes_last_day']:,}",
                    _signals(r["signals"]),
                )
            )
        widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
        for row in rows:
            print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
        for r in reports:
            for reason in r["broken"]:
                print(f"{r['outlet']}: {reason}")
            last = r["last_crawl"]
            if last and last["finish_reason"] != "finished":
                print(f"{r['outlet']}: last crawl ended with {last['finish_reason']}")
            for p in r["recent_problems"][:5]:
                print(f"{r['outlet']}: {p['finish'][:16]} {p['problem']}: {p['message']}")
