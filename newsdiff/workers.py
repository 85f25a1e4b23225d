"""Extraction in worker processes.

A crawl process is bound by the GIL: parsing pages and walking their trees is most of its CPU.
With NEWSDIFF_EXTRACT_WORKERS > 0 (the default is 1), built-in outlets' pages are extracted in
that many processes, started from a fork server once per crawl process and shared by its crawls;
0 extracts in a thread of the crawl process. Declarative outlets (outlets.toml) always use the
thread: their page classes are built at run time and exist only in the crawl process.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from types import EllipsisType
from typing import Any

from newsdiff import pages, text
from newsdiff.processes import alive

_lock = threading.Lock()
_pools: dict[int, ProcessPoolExecutor] = {}


class WorkerDied(Exception):
    """The process extracting a page died (a crash in a parser); the page is not extracted."""


def pool(workers: int) -> ProcessPoolExecutor:
    """The process pool of this size, started on first use. A fork server, not fork: the crawl
    process has threads (pymongo, Scrapy) whose locks a forked child could inherit held."""
    with _lock:
        if workers not in _pools:
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload(["newsdiff.workers"])
            _pools[workers] = ProcessPoolExecutor(
                workers, mp_context=context, initializer=_watch, initargs=(os.getpid(),)
            )
        return _pools[workers]


def _watch(crawl_pid: int) -> None:
    """In each worker: exit once the crawl process is gone. A worker holds both ends of its task
    pipe, so a crawl killed with SIGKILL (the OOM killer, a hard Scrapyd cancel) would otherwise
    leave it, and the fork server, waiting for ever."""

    def watch() -> None:
        while alive(crawl_pid):
            time.sleep(1)
        os._exit(0)

    threading.Thread(target=watch, name="newsdiff-parent-watch", daemon=True).start()


def _discard(workers: int, broken: ProcessPoolExecutor) -> None:
    with _lock:
        if _pools.get(workers) is broken:
            del _pools[workers]
    broken.shutdown(wait=False, cancel_futures=True)


def prepared(
    body: bytes,
    charset: str | None,
    url: str,
    outlet: str,
    read: pages.Reading | EllipsisType = ...,
) -> dict[str, Any]:
    """The fields of a fetched page's article, normalised and hashed (text.prepare), the digest
    of what was read (raw_digest; read is pages.reading_of the body, found when not given) and
    which it was ("read": element, page or fetched, see read_kind): done where the page is
    extracted, so the crawl's own thread does not."""
    if read is ...:
        read = pages.reading_of(body, outlet)
    found, data = pages.read_fetched(body, charset, url, outlet, read)
    return text.prepare(found.to_dict()) | {
        "raw_digest": pages.digest(data, charset),
        "read": read_kind(read, data),
    }


def read_kind(read: pages.Reading, data: bytes) -> str:
    """What an extraction read: the outlet's element of the page, the page without scripts,
    styles and comments, or the page as fetched (a short body, or an element without the
    article: an outlet whose pages stop reading their element has changed its layout)."""
    if data is not read.data:
        return "fetched"
    return "element" if read.element else "page"


async def extract(
    crawler,
    body: bytes,
    charset: str | None,
    url: str,
    outlet: str,
    read: pages.Reading | EllipsisType = ...,
) -> dict[str, Any]:
    """prepared() off the crawl's event loop; raises NotArticle or WorkerDied."""
    workers = crawler.settings.getint("NEWSDIFF_EXTRACT_WORKERS")
    if workers <= 0 or outlet not in pages.BUILT_IN:
        return await asyncio.to_thread(prepared, body, charset, url, outlet, read)
    executor = pool(workers)
    loop = asyncio.get_running_loop()
    try:
        return await loop.run_in_executor(executor, prepared, body, charset, url, outlet, read)
    except BrokenProcessPool:
        # Every page in flight on the dead pool fails; the next page starts a new one.
        _discard(workers, executor)
        crawler.stats.inc_value("newsdiff/extract/worker_died")
        raise WorkerDied(f"the extraction worker died while parsing {url}") from None


def agreement(crawler, html: bytes, url: str, outlet: str, body: list[str]) -> float | None:
    """pages.agreement, from a thread of the crawl process (a store write): in the extraction
    worker when there is one, so the generic extractor's parse does not hold the crawl's GIL.
    None when the worker died."""
    workers = crawler.settings.getint("NEWSDIFF_EXTRACT_WORKERS")
    if workers <= 0 or outlet not in pages.BUILT_IN:
        return pages.agreement(html, url, body)
    executor = pool(workers)
    try:
        return executor.submit(pages.agreement, html, url, body).result()
    except BrokenProcessPool:
        _discard(workers, executor)
        crawler.stats.inc_value("newsdiff/extract/worker_died")
        return None


def reread(crawler, html: bytes, url: str, outlet: str) -> dict[str, Any] | None:
    """prepared() of a stored page, from a thread of the crawl process (a store write): in the
    extraction worker when there is one. None when it is no longer an article or the worker
    died."""
    workers = crawler.settings.getint("NEWSDIFF_EXTRACT_WORKERS")
    try:
        if workers <= 0 or outlet not in pages.BUILT_IN:
            return prepared(html, None, url, outlet)
        executor = pool(workers)
        try:
            return executor.submit(prepared, html, None, url, outlet).result()
        except BrokenProcessPool:
            _discard(workers, executor)
            crawler.stats.inc_value("newsdiff/extract/worker_died")
            return None
    except pages.NotArticle:
        return None
