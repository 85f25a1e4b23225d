"""What reading an outlet's part of a page (pages/reading.py) costs and saves, on the corpus.

    python benchmarks/reading.py [--rounds 5] [OUTLET ...]   (default: the outlets with a scope)

For each outlet, over its corpus pages: how many read their part (pages.read_fetched gives the
article from the part, not the whole page), the mean size of those parts and of their pages, and
the mean time of pages.reading_of, pages.read_fetched (which finds the part itself) and
pages.extract of the whole page: means over the pages that read their part (where the two differ)
and over all pages, each the median of the rounds' means with [min–max] after it.

Last line per outlet: <outlet> pages=<n> part_read=<k> part_kb=<p> page_kb=<b> reading_of_ms=<t>
read_fetched_ms=<r> extract_ms=<e> (the times: medians of the rounds; read_fetched and extract on
the pages that read their part).
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from newsdiff import pages  # noqa: E402
from newsdiff.replay import corpus_pages  # noqa: E402


def timed(call, *args) -> float:
    """Milliseconds of one call (NotArticle counts: a page may be no article, read either way)."""
    start = time.perf_counter()
    with contextlib.suppress(pages.NotArticle):
        call(*args)
    return (time.perf_counter() - start) * 1000


def spread(values: list[float]) -> str:
    return f"{statistics.median(values):.2f} [{min(values):.2f}–{max(values):.2f}]"


def measure(outlet: str, rounds: int) -> None:
    found = [(url, path.read_bytes()) for url, path in corpus_pages(outlet)]
    if not found:
        print(f"{outlet}: no corpus pages")
        return
    calls = {
        "reading_of": lambda url, body: pages.reading_of(body, outlet),
        "read_fetched": lambda url, body: pages.read_fetched(body, None, url, outlet),
        "extract": lambda url, body: pages.extract(body, url, outlet),
    }
    # per round, per call: ms per page; the calls alternate page by page, so load hits all alike
    times: list[dict[str, list[float]]] = [{name: [] for name in calls} for _ in range(rounds)]
    for round_times in times:
        for page in found:
            for name, call in calls.items():
                round_times[name].append(timed(call, *page))
    read_part = []  # indexes of the pages that read their part
    sizes: list[tuple[int, int]] = []  # their (part, page) bytes
    for i, (url, body) in enumerate(found):
        try:
            read = pages.read_fetched(body, None, url, outlet)[1]
        except pages.NotArticle:
            continue
        if read is not body and pages.reading_of(body, outlet).element:
            read_part.append(i)
            sizes.append((len(read), len(body)))

    if not read_part:
        print(f"{outlet}: {len(found)} pages, none reads its part")
        return

    def per_round(name: str, only: list[int] | None = None) -> list[float]:
        indexes = range(len(found)) if only is None else only
        return [statistics.mean(r[name][i] for i in indexes) for r in times]

    part_kb = statistics.mean(p for p, _ in sizes) / 1000
    page_kb = statistics.mean(b for _, b in sizes) / 1000
    print(
        f"{outlet}: {len(found)} pages, {len(read_part)} read their part, of {part_kb:.0f} kB on "
        f"average (their pages: {page_kb:.0f} kB); ms per page, median [min–max] of {rounds} "
        f"rounds: reading_of {spread(per_round('reading_of'))}; on the pages that read their part "
        f"read_fetched {spread(per_round('read_fetched', read_part))} against extract "
        f"{spread(per_round('extract', read_part))}; on all pages read_fetched "
        f"{spread(per_round('read_fetched'))} against extract {spread(per_round('extract'))}"
    )
    medians = {name: statistics.median(per_round(name, read_part)) for name in calls}
    print(
        f"{outlet} pages={len(found)} part_read={len(read_part)} part_kb={part_kb:.0f}"
        f" page_kb={page_kb:.0f} reading_of_ms={statistics.median(per_round('reading_of')):.2f}"
        f" read_fetched_ms={medians['read_fetched']:.2f} extract_ms={medians['extract']:.2f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("outlets", nargs="*")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    outlets = args.outlets or [name for name, page in pages.PAGES.items() if page.scope]
    for outlet in outlets:
        measure(outlet, args.rounds)


if __name__ == "__main__":
    main()
