"""Deliver the outbox: each due entry is claimed, sent, and recorded as sent or retried later.

Retries back off exponentially (NEWSDIFF_PUBLISH_BACKOFF_SECONDS doubling, at most six hours, never
sooner than the service's Retry-After); after a target's max_tries an entry is `failed`, which
`scrapy health` reports and `scrapy publish --retry-failed` queues again. Nothing is deleted.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from newsdiff.publish import PublishConfigError, Target
from newsdiff.publish.card import render_card
from newsdiff.publish.compose import Change
from newsdiff.publish.services import PICTURES, SENDERS, Context, DeliveryError, tid
from newsdiff.store import Store
from newsdiff.store.outbox import Entry, Outbox

logger = logging.getLogger(__name__)

MAX_BACKOFF = timedelta(hours=6)


def redact(text: str, secrets: Sequence[str]) -> str:
    """text with every secret replaced, for logs, errors and the database."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "[secret]")
    return text


class Publisher:
    def __init__(
        self,
        store: Store,
        targets: Sequence[Target],
        *,
        viewer_url: str,
        cards_dir: Path,
        lease: timedelta = timedelta(minutes=10),
        backoff: timedelta = timedelta(seconds=60),
        batch: int = 100,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.outbox = Outbox(store)
        self.targets = list(targets)
        self.viewer_url = viewer_url
        self.cards_dir = cards_dir
        self.lease = lease
        self.backoff = backoff
        self.batch = batch
        self.clock = clock
        self.sleep = sleep
        self.ctx = Context(self.outbox.remember, self.outbox.set_archive_url, sleep)

    def secrets(self) -> list[str]:
        """Every secret our targets read, so no message can carry one."""
        return [secret for t in self.targets for secret in t.secrets()]

    def run(self, *, dry_run: bool = False, out: Callable[[str], None] = print) -> Counter:
        """One pass over every target's due entries; returns outcome counts."""
        counts: Counter = Counter()
        self.outbox.collect(self.clock())
        for target in self.targets:
            try:
                target.check()
            except PublishConfigError as exc:  # its entries wait; none is spent
                logger.error("Not publishing to %s: %s", target.name, exc)
                counts["misconfigured"] += 1
                continue
            now = self.clock()
            for entry in self.outbox.due(target.name, now, self.lease, self.batch):
                if not dry_run and self.over_rate(target, now):
                    counts["rate-limited"] += 1
                    break
                counts[self.deliver(target, entry, dry_run=dry_run, out=out)] += 1
        return counts

    def over_rate(self, target: Target, now: datetime) -> bool:
        if not target.per_hour:
            return False
        return self.outbox.sent_since(target.name, now - timedelta(hours=1)) >= target.per_hour

    def run_until_idle(self, wait: float, **kwargs: Any) -> Counter:
        """Passes until nothing is due within `wait` seconds (short Retry-Afters are waited out)."""
        counts: Counter = Counter()
        deadline = self.clock() + timedelta(seconds=wait)
        while True:
            done = self.run(**kwargs)
            counts += done
            upcoming = self.outbox.next_due([t.name for t in self.targets])
            now = self.clock()
            if upcoming is None or upcoming > deadline or now > deadline:
                return counts
            # Due already, yet this pass moved nothing: rate-limited or misconfigured targets.
            if upcoming <= now and not (done["sent"] or done["retry"] or done["failed"]):
                return counts
            self.sleep(max(0.0, (upcoming - now).total_seconds()))

    def change(self, entry: Entry) -> Change | None:
        new = self.outbox.version(entry["version_id"])
        article = self.outbox.article(entry["article_id"])
        if new is None or article is None:
            return None
        old = {}
        if new["number"] > 0:
            old = self.outbox.version_by_number(entry["article_id"], new["number"] - 1) or {}
        return Change.of(article, old, new, self.viewer_url)

    def picture(self, entry: Entry, change: Change) -> Path:
        """The version's card on disk, shared by its targets (derived: rebuilt when missing)."""
        path = self.cards_dir / f"{entry['version_id']}.png"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".tmp")
            tmp.write_bytes(render_card(change.article, change.old, change.new))
            tmp.replace(path)
        return path

    def deliver(
        self,
        target: Target,
        entry: Entry,
        *,
        dry_run: bool = False,
        out: Callable[[str], None] = print,
    ) -> str:
        change = self.change(entry)
        if change is None:
            self.outbox.skip(entry["_id"], "the version or its article is no longer stored")
            return "skipped"
        if not target.wants(change.new):
            self.outbox.skip(entry["_id"], "no longer matches the target's filters")
            return "skipped"
        picture = self.picture(entry, change) if target.kind in PICTURES else None
        if dry_run:
            out(self.describe(target, entry, change, picture))
            return "dry-run"
        now = self.clock()
        claimed = self.outbox.claim(entry, now, key=tid(now))
        if claimed is None:
            return "taken"  # another run claimed it first
        try:
            result = SENDERS[target.kind](target, claimed, change, picture, self.ctx)
        except Exception as exc:  # a bug in one entry's delivery must not stop the others
            error = redact(str(exc) or type(exc).__name__, self.secrets())
            if not isinstance(exc, DeliveryError):
                error = f"{type(exc).__name__}: {error}"
            wait = self.backoff * 2 ** (claimed["attempts"] - 1)
            wait = min(wait, MAX_BACKOFF)
            asked = getattr(exc, "retry_after", None)
            if asked is not None:
                wait = max(wait, timedelta(seconds=asked))
            give_up = claimed["attempts"] >= target.max_tries
            self.outbox.retry(entry["_id"], now + wait, error, give_up=give_up)
            if give_up:
                logger.error(
                    "Gave up publishing %s to %s after %d tries: %s",
                    entry["_id"],
                    target.name,
                    claimed["attempts"],
                    error,
                )
                return "failed"
            logger.warning(
                "Publishing %s to %s failed (try %d of %d, next in %s): %s",
                entry["_id"],
                target.name,
                claimed["attempts"],
                target.max_tries,
                wait,
                error,
            )
            return "retry"
        self.outbox.sent(entry["_id"], self.clock(), result)
        logger.info("Published %s to %s: %s", entry["_id"], target.name, result or "ok")
        return "sent"

    def describe(self, target: Target, entry: Entry, change: Change, picture: Path | None) -> str:
        numbers = f"v{change.new['number']}"
        if change.old:
            numbers = f"v{change.old['number']}->{numbers}"
        lines = [
            f"[{target.name}] {entry['_id']} {change.article_url} {numbers} "
            f"({change.new.get('label')})"
        ]
        if target.kind == "mastodon":
            lines.append("  status: " + change.mastodon_status().replace("\n", "\n          "))
        elif target.kind == "bluesky":
            text, links = change.bluesky_text()
            lines.append(f"  post: {text} " + " · ".join(f"[{t}]({u})" for t, u in links))
        elif target.kind == "webhook":
            where = target.options.get("url") or f"${target.options.get('url_env')}"
            lines.append(f"  POST {where}: {change.diff.summary()}")
        else:
            lines.append(f"  archive: {change.article_url}")
        if picture is not None:
            lines.append(f"  picture: {picture}")
            lines.append(f"  alt: {change.alt_text()}")
        return "\n".join(lines)
