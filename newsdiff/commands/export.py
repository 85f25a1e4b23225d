"""scrapy export [--outlet NAME] [--since DATE] FILE.jsonl: articles with all their versions."""

from __future__ import annotations

import json
import os
import sys
from argparse import ArgumentParser, Namespace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError

from newsdiff.store import EmbeddedServerError, StoreError, open_store
from newsdiff.store.queries import Queries
from newsdiff.web.params import OUTLET


def parse_since(value: str) -> datetime:
    """2026-01-31 or an ISO 8601 time; without a zone it is UTC."""
    try:
        when = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(
            f"--since must be a date (2026-01-31) or an ISO 8601 time, not {value!r}",
            print_help=False,
        ) from None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, bytes):
        return value.hex()
    raise TypeError(f"cannot export a {type(value).__name__}")


class Command(ScrapyCommand):
    requires_project = True
    requires_crawler_process = False
    default_settings = {"LOG_ENABLED": False}

    def syntax(self) -> str:
        return "[--outlet NAME] [--since DATE] FILE.jsonl"

    def short_desc(self) -> str:
        return "Export articles with all their versions as JSON lines, for research"

    def long_desc(self) -> str:
        return (
            "Write one JSON object per line: an article (outlet, URL, aliases, dates, status) "
            "with a 'versions' list holding every stored version in full, oldest first. "
            "--since keeps the articles that changed on or after DATE; --outlet keeps one "
            "outlet. Articles are read a page at a time, so memory stays flat on any archive. "
            "FILE is written under a temporary name and renamed when complete; - writes to "
            "standard output."
        )

    def add_options(self, parser: ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument("--outlet", metavar="NAME", help="only this outlet's articles")
        parser.add_argument(
            "--since", metavar="DATE", help="only articles changed on or after DATE (UTC)"
        )

    def run(self, args: list[str], opts: Namespace) -> None:
        if len(args) != 1:
            raise UsageError("give exactly one output file (FILE.jsonl, or - for stdout)")
        if opts.outlet and not OUTLET.fullmatch(opts.outlet):
            raise UsageError(f"--outlet must be an outlet name like nytimes, not {opts.outlet!r}")
        since = parse_since(opts.since) if opts.since else None
        try:
            store = open_store(self.settings)
            store.ping()
        except (EmbeddedServerError, StoreError) as exc:
            print(f"newsdiff: the store is unreachable: {exc}", file=sys.stderr)
            self.exitcode = 1
            return
        target = args[0]
        try:
            if target == "-":
                articles, versions = self.write(store, sys.stdout, opts.outlet, since)
            else:
                path = Path(target)
                partial = path.with_name(f".{path.name}.partial")
                with open(partial, "w", encoding="utf-8") as fh:
                    articles, versions = self.write(store, fh, opts.outlet, since)
                os.replace(partial, path)
        except OSError as exc:
            print(f"newsdiff: cannot write {target}: {exc}", file=sys.stderr)
            self.exitcode = 2
            return
        finally:
            store.close()
        print(f"exported {articles} articles with {versions} versions to {target}", file=sys.stderr)

    @staticmethod
    def write(store, fh: TextIO, outlet: str | None, since: datetime | None) -> tuple[int, int]:
        articles = versions = 0

        def dumps(value: Any) -> str:
            return json.dumps(value, ensure_ascii=False, default=_json_default)

        stream = Queries(store).export(now=datetime.now(UTC), outlet=outlet, since=since)
        for article, article_versions in stream:
            # {...article fields, "versions": [...]}, one version at a time
            fh.write(dumps({**article, "versions": []})[:-2])
            for n, version in enumerate(article_versions):
                fh.write(("," if n else "") + dumps(version))
                versions += 1
            fh.write("]}\n")
            articles += 1
        return articles, versions
