"""Unchanged re-checks, made cheap: most fetches of a tracked article find it as it was.

A page whose reading (the bytes its extraction reads, pages.read_fetched) is that of the last
fetch that matched the latest version is not extracted again (raw_digest, kept on the article).
The write of an unchanged check waits in a CheckBatch and goes with others in one unordered bulk
write: a crash loses at most a batch of checks, whose articles stay due and are simply checked
again. Versions are never batched.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from newsdiff.store import ArticleState, Store, StoreError

logger = logging.getLogger(__name__)


class CheckBatch:
    """Unchanged checks waiting to be written together (thread-safe: the store pipeline writes
    from worker threads). Written once `size` wait or the oldest has waited `seconds`, and by
    flush() at the end of the crawl; size 1 writes each at once."""

    def __init__(self, store: Store, size: int = 100, seconds: float = 5.0):
        self.store = store
        self.size = max(1, size)
        self.seconds = seconds
        self.unsaved = 0  # checks whose write failed; their articles stay due
        self._pending: list[tuple[ArticleState, dict[str, Any]]] = []
        self._since = 0.0
        self._lock = threading.Lock()

    def add(self, state: ArticleState, update: dict[str, Any]) -> None:
        """Queue the check of an article (update: store.check_update(...)) and write the batch
        when it is due."""
        self.queue(state, update)
        if self.due():
            self.flush()

    def queue(self, state: ArticleState, update: dict[str, Any]) -> None:
        """Queue the check of an article without writing (the crawl's thread): the caller
        flushes when due()."""
        with self._lock:
            if not self._pending:
                self._since = time.monotonic()
            self._pending.append((state, update))

    def due(self) -> bool:
        with self._lock:
            waited = time.monotonic() - self._since
            return bool(self._pending) and (
                len(self._pending) >= self.size or waited >= self.seconds
            )

    def flush(self) -> None:
        with self._lock:
            batch, self._pending = self._pending, []
        self._write(batch)

    def _write(self, batch: list[tuple[ArticleState, dict[str, Any]]]) -> None:
        if not batch:
            return
        try:
            self.store.record_checks(batch)
        except StoreError as exc:
            with self._lock:
                self.unsaved += len(batch)
            logger.warning(
                "%d unchanged checks were not recorded (%s); their articles stay due",
                len(batch),
                exc,
            )
