"""scrapy index [--rebuild]: bring the full-text search index up to date with the store."""

from __future__ import annotations

import sys
import time
from argparse import ArgumentParser, Namespace

from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError

from newsdiff import search
from newsdiff.store import EmbeddedServerError, StoreError, open_store


class Command(ScrapyCommand):
    requires_project = True
    requires_crawler_process = False
    default_settings = {"LOG_ENABLED": False}

    def syntax(self) -> str:
        return "[--rebuild]"

    def short_desc(self) -> str:
        return "Update (or --rebuild) the search index of every version and change"

    def long_desc(self) -> str:
        return (
            "Crawls index the versions they store when they close. This adds any version the "
            "index lacks (a crawl that was killed, or whose index directory was not writable), "
            "from NEWSDIFF_INDEX_CATCHUP_HOURS before the index's newest version; --rebuild "
            "builds a new index from every version in MongoDB and switches to it when done."
        )

    def add_options(self, parser: ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument(
            "--rebuild", action="store_true", help="build the whole index again from the store"
        )

    def run(self, args: list[str], opts: Namespace) -> None:
        if args:
            raise UsageError(f"index takes no arguments, got {' '.join(args)}")
        try:
            store = open_store(self.settings)
            store.ping()
        except (EmbeddedServerError, StoreError) as exc:
            print(f"newsdiff: the store is unreachable: {exc}", file=sys.stderr)
            self.exitcode = 1
            return
        root = search.index_root(self.settings)
        index = search.SearchIndex(root)
        started = time.monotonic()
        if not opts.rebuild and index.state() and not index.current_format():
            print("the search index was built by an older release: rebuilding it")
        try:
            if opts.rebuild:
                n = search.rebuild(store, index)
            else:
                hours = self.settings.getfloat("NEWSDIFF_INDEX_CATCHUP_HOURS", 24)
                n = search.catch_up(store, index, hours)
        except (OSError, ValueError, TimeoutError) as exc:
            print(f"newsdiff: could not write the search index at {root}: {exc}", file=sys.stderr)
            self.exitcode = 1
            return
        finally:
            store.close()
        print(f"indexed {n:,} versions in {time.monotonic() - started:.1f} s ({root})")
