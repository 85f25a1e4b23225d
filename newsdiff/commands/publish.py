"""scrapy publish [--dry-run] [--retry-failed] [--wait SECONDS]: deliver the outbox.

Sends each pending change to its NEWSDIFF_PUBLISH targets (webhook, Mastodon, Bluesky, Wayback
Machine), with retries and back-off. --dry-run prints what would go out, picture paths included,
and sends nothing. Exit code 1 when an entry gave up during this run.
"""

from __future__ import annotations

import logging
import sys
from argparse import ArgumentParser, Namespace
from datetime import timedelta
from urllib.parse import urlsplit

from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError
from scrapy.utils.log import configure_logging

from newsdiff.publish import PublishConfigError, targets_from_settings
from newsdiff.publish.deliver import Publisher
from newsdiff.store import data_dir, open_store
from newsdiff.store.outbox import Outbox

logger = logging.getLogger(__name__)


def make_publisher(settings, store, **kwargs) -> Publisher:
    """The publisher the settings describe (raises PublishConfigError on a bad target list)."""
    viewer = settings.get("NEWSDIFF_VIEWER_URL") or "http://127.0.0.1:8000"
    return Publisher(
        store,
        targets_from_settings(settings),
        viewer_url=viewer,
        cards_dir=data_dir(settings) / "cards",
        lease=timedelta(seconds=settings.getfloat("NEWSDIFF_PUBLISH_LEASE_SECONDS")),
        backoff=timedelta(seconds=settings.getfloat("NEWSDIFF_PUBLISH_BACKOFF_SECONDS")),
        **kwargs,
    )


class Command(ScrapyCommand):
    requires_project = True
    requires_crawler_process = False

    def syntax(self) -> str:
        return "[--dry-run] [--retry-failed] [--wait SECONDS]"

    def short_desc(self) -> str:
        return "Deliver pending changes to the NEWSDIFF_PUBLISH targets"

    def long_desc(self) -> str:
        return __doc__

    def add_options(self, parser: ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument("--dry-run", action="store_true", help="print, send nothing")
        parser.add_argument(
            "--retry-failed", action="store_true", help="queue entries that gave up again"
        )
        parser.add_argument(
            "--wait",
            type=float,
            default=0,
            metavar="SECONDS",
            help="keep going while a retry is due within this many seconds",
        )

    def run(self, args: list[str], opts: Namespace) -> None:
        if args:
            raise UsageError("publish takes no arguments")
        configure_logging(self.settings)
        store = open_store(self.settings)
        try:
            store.ensure_indexes()
            outbox = Outbox(store)
            outbox.ensure_indexes()
            try:
                publisher = make_publisher(self.settings, store)
            except PublishConfigError as exc:
                print(f"newsdiff: {exc}", file=sys.stderr)
                self.exitcode = 2
                return
            if not publisher.targets:
                print("newsdiff: NEWSDIFF_PUBLISH names no targets", file=sys.stderr)
            if urlsplit(publisher.viewer_url).hostname in ("127.0.0.1", "localhost"):
                logger.warning(
                    "NEWSDIFF_VIEWER_URL is %s: diff links only work on this machine",
                    publisher.viewer_url,
                )
            if opts.retry_failed:
                print(f"{outbox.requeue_failed(publisher.clock())} failed entries queued again")
            if opts.dry_run:
                counts = publisher.run(dry_run=True)
            else:
                counts = publisher.run_until_idle(opts.wait)
        finally:
            store.close()
        summary = ", ".join(f"{n} {what}" for what, n in sorted(counts.items())) or "nothing due"
        print(f"publish: {summary}")
        self.exitcode = 1 if counts.get("failed") or counts.get("misconfigured") else 0
