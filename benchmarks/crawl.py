"""Crawl throughput: newsdiff's full pipeline against a bare Scrapy spider on the same pages.

    python benchmarks/crawl.py [--copies N] [--rounds R]

Replays the corpus's NYT pages on 127.0.0.1 (each page under N distinct URLs, listed in a news
sitemap), then runs, as separate `scrapy` processes with the same download settings:
  * a bare spider that fetches the sitemap and every page and does nothing with them;
  * `scrapy crawl nytimes -a mode=discover`: extract, normalise, hash and store every page as a
    first version in a fresh database on its own SecantusDB server, configured as the embedded
    default runs.
It runs the two in turn R times (default 3) and prints the median articles per second of each
(Scrapy's elapsed_time_seconds, so start-up imports are not counted) and their ratio, the median
milliseconds per article of extract + normalise + hash + store measured in this process, the
median extraction time per NYT page, and the crawl process's peak memory (its extraction worker,
NEWSDIFF_EXTRACT_WORKERS, is a process of its own). Targets: ratio >= 0.3, extract_ms < 10.
Last line: ratio=<r> pipeline_ms=<m> extract_ms=<e> peak_mb=<p>
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from newsdiff import pages  # noqa: E402
from newsdiff.items import Article  # noqa: E402
from newsdiff.replay import ReplayServer, corpus_pages, site_path  # noqa: E402
from newsdiff.store.embedded import start_server  # noqa: E402

SITEMAP = "https://www.nytimes.com/sitemaps/new/news.xml.gz"
SETTINGS = [
    "AUTOTHROTTLE_ENABLED=0",
    "DOWNLOAD_DELAY=0",
    "CONCURRENT_REQUESTS=16",
    "CONCURRENT_REQUESTS_PER_DOMAIN=16",
    "LOG_LEVEL=INFO",
    "TELNETCONSOLE_ENABLED=0",
]

BARE_SPIDER = """
import scrapy
from scrapy.utils.sitemap import Sitemap
from scrapy.utils.gz import gunzip

class Bare(scrapy.Spider):
    name = "bare"
    async def start(self):
        yield scrapy.Request(%r, self.parse_sitemap)
    def parse_sitemap(self, response):
        for entry in Sitemap(gunzip(response.body)):
            yield scrapy.Request(entry["loc"], self.parse_page)
    def parse_page(self, response):
        pass
"""


def build_site(root: Path, copies: int) -> list[tuple[str, bytes]]:
    """Each NYT corpus article under `copies` URLs (its own URL rewritten inside the page too,
    so rel=canonical keeps the copies apart)."""
    out = []
    for url, source in corpus_pages("nytimes"):
        html = source.read_bytes()
        slug = url.rsplit("/", 1)[1].encode()
        try:
            pages.extract(html, url, "nytimes")
        except pages.NotArticle:
            continue
        for i in range(copies):
            new_slug = slug.replace(b".html", f"-{i}.html".encode())
            new_url = url.replace(slug.decode(), new_slug.decode())
            path = site_path(root, new_url)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(html.replace(slug, new_slug))
            out.append((new_url, html.replace(slug, new_slug)))
    entries = "".join(f"<url><loc>{u}</loc></url>" for u, _ in out)
    xml = (
        '<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        f"{entries}</urlset>"
    )
    sitemap = site_path(root, SITEMAP)
    sitemap.parent.mkdir(parents=True, exist_ok=True)
    sitemap.write_bytes(gzip.compress(xml.encode()))
    return out


def run_scrapy(args: list[str], env: dict) -> tuple[str, float]:
    """Run a scrapy command; returns its log and peak RSS in MB."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "scrapy", *args],
        cwd=env.get("CWD", REPO),
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    log = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        raise SystemExit(f"scrapy {' '.join(args)} failed:\n{log[-3000:]}")
    return log, usage.ru_maxrss / 1024


def stat(log: str, name: str) -> float:
    match = re.search(rf"'{re.escape(name)}': ([\d.]+)", log)
    if not match:
        raise SystemExit(f"no {name} in the crawl log:\n{log[-3000:]}")
    return float(match.group(1))


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def pipeline_times(articles: list[tuple[str, bytes]], uri: str, runs: int = 3) -> list[float]:
    """extract + normalise + hash + store for each page, through the real pipelines."""
    from scrapy import Spider
    from scrapy.utils.test import get_crawler

    from newsdiff.pipelines import HashPipeline, NormalisePipeline, StorePipeline, ValidatePipeline

    settings = {"NEWSDIFF_MONGO_URI": uri, "NEWSDIFF_MONGO_DB": "bench_pipeline"}
    crawler = get_crawler(Spider, settings)
    stages = [ValidatePipeline(crawler), NormalisePipeline(crawler), HashPipeline(crawler)]
    store = StorePipeline(crawler)
    store.open_spider()
    times = []
    for run in range(runs):
        for url, html in articles:
            start = time.perf_counter()
            extraction = pages.extract(html, url, "nytimes")
            item = Article(
                outlet="nytimes",
                url=f"{url}?run={run}",
                fetched_at=datetime.now(UTC).isoformat(),
                html=html,
                **extraction.to_dict(),
            )
            for stage in stages:
                item = stage.process_item(item)
            store.store_item(item)
            times.append(time.perf_counter() - start)
    store.close_spider()
    return times


def extract_times(rounds: int = 5) -> list[float]:
    """Warm extraction time of each NYT corpus page (rounds passes, the median per page)."""
    per_page = []
    for url, source in corpus_pages("nytimes"):
        html = source.read_bytes()
        samples = []
        for _ in range(rounds):
            start = time.perf_counter()
            with contextlib.suppress(pages.NotArticle):
                pages.extract(html, url, "nytimes")
            samples.append(time.perf_counter() - start)
        per_page.append(statistics.median(samples))
    return per_page


def _rates(rates: list[float]) -> str:
    return ", ".join(f"{r:.1f}" for r in rates)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--copies", type=int, default=40, help="URLs per corpus page")
    parser.add_argument("--rounds", type=int, default=3, help="runs of each crawl (medians)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        articles = build_site(tmp / "site", args.copies)
        server = ReplayServer(tmp / "site").start()
        mongo, port = start_server(tmp / "secantus")
        uri = f"mongodb://127.0.0.1:{port}/?retryWrites=false&directConnection=true"
        n = len(articles)
        bare_rates, full_rates, peaks = [], [], []
        try:
            bare_py = tmp / "bare.py"
            bare_py.write_text(BARE_SPIDER % SITEMAP)
            sets = [x for s in SETTINGS for x in ("-s", s)]
            # Alternate the two so that load from elsewhere on the machine hits both alike.
            for run in range(args.rounds):
                env = {
                    **os.environ,
                    "NEWSDIFF_MONGO_URI": uri,
                    "NEWSDIFF_MONGO_DB": f"bench{run}",  # each full crawl starts empty
                    "NEWSDIFF_DATA_DIR": str(tmp / f"data{run}"),
                    "NEWSDIFF_HOST_MAP": json.dumps(server.host_map()),
                }
                log, _ = run_scrapy(["runspider", str(bare_py), *sets], env)
                fetched = stat(log, "response_received_count")
                bare_rates.append(fetched / stat(log, "elapsed_time_seconds"))
                log, peak_mb = run_scrapy(["crawl", "nytimes", "-a", "mode=discover", *sets], env)
                stored = stat(log, "newsdiff/versions/new")
                if stored != n:
                    raise SystemExit(f"the full crawl stored {stored:.0f} versions, expected {n}")
                full_rates.append(stored / stat(log, "elapsed_time_seconds"))
                peaks.append(peak_mb)
            pipeline = pipeline_times(articles[: len(articles) // args.copies * 3], uri)
        finally:
            server.stop()
            mongo.terminate()
            mongo.wait(30)
    bare_rate, full_rate = statistics.median(bare_rates), statistics.median(full_rates)
    peak_mb = max(peaks)
    extract = extract_times()
    ratio = full_rate / bare_rate
    print(f"pages: {n} ({args.copies} URLs for each NYT corpus article), {args.rounds} rounds")
    print(f"bare spider:   {bare_rate:8.1f} pages/s     (median; runs: {_rates(bare_rates)})")
    print(f"full pipeline: {full_rate:8.1f} articles/s  (median; runs: {_rates(full_rates)})")
    print(f"ratio {ratio:.2f} (target >= 0.3)")
    print(f"extract+normalise+hash+store: median {median_ms(pipeline):.1f} ms per article")
    print(f"extraction alone: median {median_ms(extract):.1f} ms per NYT page (target < 10)")
    print(f"peak memory of the crawl process: {peak_mb:.0f} MB")
    print(
        f"ratio={ratio:.2f} pipeline_ms={median_ms(pipeline):.1f} "
        f"extract_ms={median_ms(extract):.1f} peak_mb={peak_mb:.0f}"
    )


if __name__ == "__main__":
    main()
