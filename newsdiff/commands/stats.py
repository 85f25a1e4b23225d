"""scrapy stats [OUTLET] [--json] [--days N]: how outlets edit, the numbers behind the charts."""

from __future__ import annotations

import json
import sys
from argparse import ArgumentParser, Namespace
from datetime import UTC, datetime

from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError

from newsdiff.store import EmbeddedServerError, StoreError, open_store
from newsdiff.store.stats import edit_stats
from newsdiff.web.params import OUTLET


def _default(value):
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    raise TypeError(type(value).__name__)


def report(stats: dict) -> str:
    """The figures as a few lines of text."""
    where = stats["outlet"] or "all outlets"
    lines = [f"{where}, the last {stats['days']} days: {stats['versions']:,} versions"]
    per_day = [d["changes"] for d in stats["changes_per_day"]]
    lines.append(
        f"  changes: {sum(per_day):,} ({sum(per_day) / len(per_day):.1f} a day, "
        f"at most {max(per_day)})"
    )
    share = stats["share_changed"]
    share_text = f" ({share:.1%})" if share is not None else ""
    lines.append(
        f"  articles first seen: {stats['articles_first_seen']:,}, changed since: "
        f"{stats['articles_changed']:,}{share_text}"
    )
    delay = stats["hours_to_first_change"]
    if delay["median"] is not None:
        lines.append(
            f"  first change after: median {delay['median']:.1f} h; "
            + ", ".join(f"{b['bucket']} {b['articles']}" for b in delay["distribution"])
        )
    totals = {
        lab: sum(d[lab] for d in stats["labels_per_day"])
        for lab in ("first", "change", "trivial", "flip-flop")
    }
    lines.append("  labels: " + ", ".join(f"{k} {v:,}" for k, v in totals.items()))
    for a in stats["most_changed"]:
        lines.append(f"  {a['changes']:>4} changes  {a['outlet']}  {a['title'] or a['url']}")
    return "\n".join(lines)


class Command(ScrapyCommand):
    requires_project = True
    requires_crawler_process = False
    default_settings = {"LOG_ENABLED": False}

    def syntax(self) -> str:
        return "[OUTLET] [--json] [--days N]"

    def short_desc(self) -> str:
        return "How outlets edit: changes per day, time to first change, most-changed articles"

    def add_options(self, parser: ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument("--json", action="store_true", help="print JSON")
        parser.add_argument(
            "--until", default=None, help="end of the window, ISO 8601 (default: now, UTC)"
        )
        parser.add_argument(
            "--days",
            type=int,
            default=None,
            help="the window, in days (default NEWSDIFF_STATS_DAYS, 30)",
        )

    def run(self, args: list[str], opts: Namespace) -> None:
        if len(args) > 1:
            raise UsageError("give at most one outlet")
        outlet = args[0] if args else None
        if outlet is not None and not OUTLET.fullmatch(outlet):
            raise UsageError(f"{outlet!r} is not an outlet name")
        days = opts.days or self.settings.getint("NEWSDIFF_STATS_DAYS", 30)
        if not 1 <= days <= 3660:
            raise UsageError("--days must be from 1 to 3660")
        until = datetime.now(UTC)
        if opts.until:
            try:
                until = datetime.fromisoformat(opts.until)
            except ValueError:
                raise UsageError(
                    "--until must be an ISO 8601 time, e.g. 2026-01-31T00:00Z"
                ) from None
            until = until if until.tzinfo else until.replace(tzinfo=UTC)
        try:
            store = open_store(self.settings)
            store.ping()
            stats = edit_stats(store, now=until, days=days, outlet=outlet)
        except (EmbeddedServerError, StoreError) as exc:
            print(f"newsdiff: the store is unreachable: {exc}", file=sys.stderr)
            self.exitcode = 1
            return
        store.close()
        if opts.json:
            print(json.dumps(stats, default=_default, indent=1, ensure_ascii=False))
        else:
            print(report(stats))
