"""Crawl throughput on the real mix of fetches: newsdiff against a bare Scrapy spider.

    python benchmarks/crawl.py [--copies N] [--rounds R]

Serves the corpus's NYT pages on 127.0.0.1 (each page under N distinct URLs, listed in a news
sitemap) and times three kinds of crawl, each as separate `scrapy` processes with the same
download settings, newsdiff's and a bare spider's (one that fetches the same URLs with the same
headers and does nothing with the pages) in turn, R times (default 3):
  * new: `scrapy crawl nytimes -a mode=discover` into a fresh database (on its own SecantusDB
    server, configured as the embedded default runs): every page a first version;
  * notmodified: `-a mode=recheck -a force=1`; the server honours If-None-Match and
    If-Modified-Since and answers 304;
  * recheck: the same re-checks, the server answering 200 with the same article plus the noise
    of real pages that must not make a version: a nonce on every script, a changing timestamp
    line and a rotating ad at the top of the page (outside the NYT's <article id="story">, so
    not in the page's reading: such a re-check is not extracted, see newsdiff/pages/reading.py).
It prints each crawl's median rate (Scrapy's elapsed_time_seconds, so start-up imports are not
counted) and the ratios to the bare spider, the CPU the SecantusDB process and the crawl process
spent per article or check, the median milliseconds per article of extract + normalise + hash +
store measured in this process, the median extraction time per NYT page and the crawl process's
peak memory (its extraction worker, NEWSDIFF_EXTRACT_WORKERS, is a process of its own).
Targets: ratio >= 0.35, recheck_ratio >= 0.6, notmodified_ratio >= 0.75, extract_ms < 10.
Last line: ratio=<new> recheck_ratio=<r> notmodified_ratio=<n> pipeline_ms=<m> extract_ms=<e>
peak_mb=<p>
"""

from __future__ import annotations

import argparse
import contextlib
import email.utils
import gzip
import hashlib
import json
import os
import re
import secrets
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from newsdiff import pages  # noqa: E402
from newsdiff.items import Article  # noqa: E402
from newsdiff.replay import corpus_pages, site_path  # noqa: E402
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
PHASES = ("new", "notmodified", "recheck")  # in this order: re-checks need the stored articles

BARE_SPIDER = """
import json
import scrapy
from scrapy.utils.sitemap import Sitemap
from scrapy.utils.gz import gunzip

class Bare(scrapy.Spider):
    name = "bare"
    def __init__(self, urls="", **kwargs):
        super().__init__(**kwargs)
        self.urls = urls
    async def start(self):
        if not self.urls:
            yield scrapy.Request(%r, self.parse_sitemap)
            return
        with open(self.urls) as f:  # re-checks: the URLs and headers newsdiff sends
            for url, headers in json.load(f):
                yield scrapy.Request(url, self.parse_page, headers=headers, dont_filter=True,
                                     meta={"handle_httpstatus_list": [304]})
    def parse_sitemap(self, response):
        for entry in Sitemap(gunzip(response.body)):
            yield scrapy.Request(entry["loc"], self.parse_page)
    def parse_page(self, response):
        pass
"""

ADS = [
    (f"https://ads.example.com/click?creative={n}", f"Offer {n}: the {w} you need, 30% off today")
    for n, w in enumerate(["mattress", "headphones", "travel deal", "meal kit", "credit card"])
]


class _Handler(BaseHTTPRequestHandler):
    server: BenchServer

    def log_message(self, format, *args):  # noqa: A002 - silence per-request logging
        pass

    def do_GET(self):
        server = self.server
        page = server.pages.get(urlsplit(self.path).path)
        if page is None:
            server.count("404")
            self.send_error(404)
            return
        template, slug, new_slug, etag = page
        body = template.replace(slug, new_slug) if slug else template
        headers = {"Content-Type": "text/html" if body[:1] == b"<" else "application/x-gzip"}
        if server.mode == "noisy" and slug:  # article pages; the sitemap stays as it is
            body, nonce = noisy(body, server.count("200"))
            headers["ETag"] = f'W/"{nonce}"'  # a page made per request has per-response validators
        else:
            headers |= {"ETag": etag, "Last-Modified": server.last_modified}
            if server.mode == "conditional" and self.not_modified(etag):
                server.count("304")
                self.send_response(304)
                self.send_header("ETag", etag)
                self.end_headers()
                return
            server.count("200")
        self.send_response(200)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def not_modified(self, etag: str) -> bool:
        if self.headers.get("If-None-Match"):
            return etag in self.headers["If-None-Match"]
        try:
            since = email.utils.parsedate_to_datetime(self.headers.get("If-Modified-Since"))
        except (TypeError, ValueError):
            return False
        return since >= self.server.modified


class BenchServer(ThreadingHTTPServer):
    """The site from memory. mode: static (200 with validators), conditional (also honours
    If-None-Match / If-Modified-Since), noisy (200 with fresh noise in each response)."""

    daemon_threads = True
    # socketserver's default backlog of 5 overflowed under 16 concurrent connections: a dropped
    # SYN is retried after 1 s, which added a tail of about a second to every crawl.
    request_queue_size = 128

    def __init__(self, copies: list[tuple[str, bytes, bytes, bytes]]):
        super().__init__(("127.0.0.1", 0), _Handler)
        # Copies are made per request from one page each, not held in memory.
        self.pages = {urlsplit(SITEMAP).path: (sitemap_of([c[0] for c in copies]), b"", b"", '"s"')}
        for url, html, slug, new_slug in copies:
            etag = '"' + hashlib.blake2b(url.encode(), digest_size=8).hexdigest() + '"'
            self.pages[urlsplit(url).path] = (html, slug, new_slug, etag)
        self.modified = datetime.now(UTC).replace(microsecond=0)
        self.last_modified = email.utils.format_datetime(self.modified, usegmt=True)
        self.mode = "static"
        self.counts: Counter = Counter()
        self._lock = threading.Lock()
        threading.Thread(target=self.serve_forever, daemon=True).start()

    def count(self, what: str) -> int:
        with self._lock:
            self.counts[what] += 1
            return self.counts[what]

    def host_map(self) -> dict[str, str]:
        return {"www.nytimes.com": f"127.0.0.1:{self.server_address[1]}"}

    def stop(self) -> None:
        self.shutdown()
        self.server_close()


def noisy(body: bytes, n: int) -> tuple[bytes, str]:
    """The page as a server that renders each response would send it: a CSP nonce on every
    script, a visible timestamp line and a rotating ad after <body>; the article is the same."""
    nonce = secrets.token_urlsafe(16)
    body = body.replace(b"<script", f'<script nonce="{nonce}"'.encode())
    link, text = ADS[n % len(ADS)]
    stamp = datetime.now(UTC).strftime("%A, %B %-d, %Y %H:%M:%S.%f UTC")
    top = (
        f'<div class="masthead-date">Last updated {stamp}</div>'
        f'<div class="ad" data-slot="top" data-impression="{nonce}">'
        f'<a href="{link}">{text}</a></div>'
    ).encode()
    start = body.find(b"<body")
    at = body.find(b">", start) + 1 if start >= 0 else 0
    return body[:at] + top + body[at:], nonce


def copies_of(copies: int) -> list[tuple[str, bytes, bytes, bytes]]:
    """(url, page, slug, new slug) for each NYT corpus article under `copies` URLs: the copy is
    the page with its slug replaced, so rel=canonical keeps the copies apart."""
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
            out.append((url.replace(slug.decode(), new_slug.decode()), html, slug, new_slug))
    return out


def sitemap_of(urls: list[str]) -> bytes:
    entries = "".join(f"<url><loc>{u}</loc></url>" for u in urls)
    xml = (
        '<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        f"{entries}</urlset>"
    )
    return gzip.compress(xml.encode())


def build_site(root: Path, copies: int) -> list[tuple[str, bytes]]:
    """The copies as files under a replay root (newsdiff.replay), with their news sitemap."""
    out = []
    for url, html, slug, new_slug in copies_of(copies):
        path = site_path(root, url)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(html.replace(slug, new_slug))
        out.append((url, html.replace(slug, new_slug)))
    sitemap = site_path(root, SITEMAP)
    sitemap.parent.mkdir(parents=True, exist_ok=True)
    sitemap.write_bytes(sitemap_of([u for u, _ in out]))
    return out


class Run:
    """One scrapy process: its log, peak RSS (MB) and CPU time (s)."""

    def __init__(self, args: list[str], env: dict):
        proc = subprocess.Popen(
            [sys.executable, "-m", "scrapy", *args],
            cwd=REPO,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.log = proc.stdout.read()
        _, status, usage = os.wait4(proc.pid, 0)
        if os.waitstatus_to_exitcode(status):
            raise SystemExit(f"scrapy {' '.join(args)} failed:\n{self.log[-3000:]}")
        self.peak_mb = usage.ru_maxrss / 1024
        self.cpu = usage.ru_utime + usage.ru_stime

    def stat(self, name: str, default: float | None = None) -> float:
        return stat(self.log, name, default)

    @property
    def elapsed(self) -> float:
        return self.stat("elapsed_time_seconds")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a running process (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def stat(log: str, name: str, default: float | None = None) -> float:
    match = re.search(rf"'{re.escape(name)}': ([\d.]+)", log)
    if not match and default is not None:
        return default
    if not match:
        raise SystemExit(f"no {name} in the crawl log:\n{log[-3000:]}")
    return float(match.group(1))


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def pipeline_times(
    articles: list[tuple[str, bytes]], uri: str, runs: int = 5
) -> tuple[list[float], list[float]]:
    """Seconds per page of extract + normalise + hash + store through the real pipelines: for a
    new article, and for an unchanged re-check of it (a noisy copy of the page, its stored state
    known as a re-check's is)."""
    from scrapy import Spider
    from scrapy.utils.test import get_crawler

    import newsdiff.settings as project
    from newsdiff.pipelines import Chain

    settings = {k: getattr(project, k) for k in dir(project) if k.isupper()}
    settings |= {"NEWSDIFF_MONGO_URI": uri, "NEWSDIFF_MONGO_DB": "bench_pipeline"}
    crawler = get_crawler(Spider, settings)
    chain = Chain(crawler)

    def fetch(url: str, html: bytes, known: dict | None) -> float:
        start = time.perf_counter()
        extraction, read = pages.read_fetched(html, None, url, "nytimes")
        item = Article(
            outlet="nytimes",
            url=url,
            fetched_at=datetime.now(UTC).isoformat(),
            html=html,
            known=known,
            raw_digest=pages.digest(read),
            **extraction.to_dict(),
        )
        chain(item)
        return time.perf_counter() - start

    new, unchanged = [], []
    for run in range(runs):
        for url, html in articles:
            new.append(fetch(f"{url}?run={run}", html, None))
    for run in range(runs):
        for i, (url, html) in enumerate(articles):
            known = chain.stage.owner.store.find_article(
                [f"{url}?run={run}"]
            )  # as the due query does
            unchanged.append(fetch(f"{url}?run={run}", noisy(html, i)[0], known))
    if crawler.stats.get_value("newsdiff/checks/unchanged") != len(unchanged):
        raise SystemExit(f"unchanged re-checks were not all unchanged: {crawler.stats.get_stats()}")
    chain.close()
    return new, unchanged


def extract_times(rounds: int = 5) -> list[float]:
    """Warm extraction time of each NYT corpus page as a crawl extracts it (the part of the page
    the outlet's rules read, see pages/reading.py), rounds passes, the median per page."""
    per_page = []
    for url, source in corpus_pages("nytimes"):
        html = source.read_bytes()
        samples = []
        for _ in range(rounds):
            start = time.perf_counter()
            with contextlib.suppress(pages.NotArticle):
                pages.extract_fetched(html, None, url, "nytimes")
            samples.append(time.perf_counter() - start)
        per_page.append(statistics.median(samples))
    return per_page


def _rates(rates: list[float]) -> str:
    return ", ".join(f"{r:.0f}" for r in rates)


def recheck_urls(copies: list[tuple[str, bytes, bytes, bytes]], server: BenchServer) -> list:
    """The URLs and conditional headers a re-check sends, for the bare spider."""
    headers = {"If-Modified-Since": server.last_modified}
    return [
        [url, headers | {"If-None-Match": server.pages[urlsplit(url).path][3]}]
        for url, *_ in copies
    ]


def crawl_phase(phase: str, run: int, env: dict, sets: list[str], n: int, site, mongo) -> Run:
    """newsdiff's crawl of one phase; checks that it did what the phase is about."""
    mode = ["-a", "mode=discover"] if phase == "new" else ["-a", "mode=recheck", "-a", "force=1"]
    before, served = cpu_seconds(mongo.pid), site.counts.copy()
    crawl = Run(["crawl", "nytimes", *mode, *sets], env)
    crawl.db_cpu = cpu_seconds(mongo.pid) - before
    crawl.items = crawl.stat(
        "newsdiff/versions/new" if phase == "new" else "newsdiff/checks/unchanged"
    )
    new_versions = crawl.stat("newsdiff/versions/new", 0)
    not_modified = site.counts["304"] - served["304"]
    problem = None
    if crawl.items != n:
        problem = f"{crawl.items:.0f} of {n} pages were counted"
    elif phase != "new" and new_versions:
        problem = f"{new_versions:.0f} versions were stored from unchanged pages"
    elif phase == "notmodified" and not_modified != n:
        problem = f"{not_modified} of {n} re-checks were answered 304"
    if problem:
        raise SystemExit(f"{phase} crawl, round {run + 1}: {problem}\n{crawl.log[-3000:]}")
    return crawl


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--copies", type=int, default=100, help="URLs per corpus page")
    parser.add_argument("--rounds", type=int, default=3, help="runs of each crawl (medians)")
    args = parser.parse_args()

    load = os.getloadavg()
    copies = copies_of(args.copies)
    n = len(copies)
    bare: dict[str, list[Run]] = {phase: [] for phase in PHASES}
    full: dict[str, list[Run]] = {phase: [] for phase in PHASES}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        site = BenchServer(copies)
        mongo, port = start_server(tmp / "secantus")
        uri = f"mongodb://127.0.0.1:{port}/?retryWrites=false&directConnection=true"
        try:
            bare_py = tmp / "bare.py"
            bare_py.write_text(BARE_SPIDER % SITEMAP)
            urls = tmp / "urls.json"
            urls.write_text(json.dumps(recheck_urls(copies, site)))
            sets = [x for s in SETTINGS for x in ("-s", s)]
            # Alternate the two so that load from elsewhere on the machine hits both alike.
            for run in range(args.rounds):
                env = {
                    **os.environ,
                    "NEWSDIFF_MONGO_URI": uri,
                    "NEWSDIFF_MONGO_DB": f"bench{run}",  # each round's new crawl starts empty
                    "NEWSDIFF_DATA_DIR": str(tmp / f"data{run}"),
                    "NEWSDIFF_HOST_MAP": json.dumps(site.host_map()),
                }
                for phase in PHASES:
                    site.mode = {"new": "static", "notmodified": "conditional"}.get(phase, "noisy")
                    listing = [] if phase == "new" else ["-a", f"urls={urls}"]
                    bare[phase].append(Run(["runspider", str(bare_py), *listing, *sets], env))
                    full[phase].append(crawl_phase(phase, run, env, sets, n, site, mongo))
            one_each = [(u, h.replace(s, t)) for u, h, s, t in copies[:: args.copies]]
            new_ms, check_ms = pipeline_times(one_each, uri)
        finally:
            site.stop()
            mongo.terminate()
            mongo.wait(30)
    extract = extract_times()

    def rate(r: Run) -> float:
        return (r.items if hasattr(r, "items") else r.stat("response_received_count")) / r.elapsed

    ratios = {}
    print(f"pages: {n} ({args.copies} URLs for each NYT corpus article), {args.rounds} rounds")
    print(f"load average before: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} (2 cores is full)")
    print("crawl           bare pages/s (runs)     newsdiff pages/s (runs)    ratio (runs)")
    for phase in PHASES:
        b, f = [rate(r) for r in bare[phase]], [rate(r) for r in full[phase]]
        ratios[phase] = statistics.median(f) / statistics.median(b)
        each = ", ".join(f"{x / y:.2f}" for x, y in zip(f, b, strict=True))
        print(
            f"{phase:12} {statistics.median(b):7.0f} ({_rates(b)}) {statistics.median(f):12.0f}"
            f" ({_rates(f)})   {ratios[phase]:.2f} ({each})"
        )
    print("CPU per page, median ms: SecantusDB process / newsdiff crawl process / bare crawl")
    for phase in PHASES:
        db = [r.db_cpu / r.items * 1000 for r in full[phase]]
        own = [r.cpu / r.items * 1000 for r in full[phase]]
        base = [r.cpu / r.stat("response_received_count") * 1000 for r in bare[phase]]
        runs = ", ".join(f"{x:.2f}" for x in db)
        print(
            f"{phase:12} {statistics.median(db):6.2f} / {statistics.median(own):6.2f} / "
            f"{statistics.median(base):6.2f}   (SecantusDB runs: {runs})"
        )
    peak_mb = max(r.peak_mb for runs in full.values() for r in runs)
    print(
        f"extract+normalise+hash+store in this process: median {median_ms(new_ms):.1f} ms per new "
        f"article, {median_ms(check_ms):.1f} ms per unchanged re-check (noisy page)"
    )
    print(f"extraction alone: median {median_ms(extract):.1f} ms per NYT page (target < 10)")
    print(f"peak memory of the crawl process: {peak_mb:.0f} MB")
    print("targets: ratio >= 0.35, recheck_ratio >= 0.6, notmodified_ratio >= 0.75")
    print(
        f"ratio={ratios['new']:.2f} recheck_ratio={ratios['recheck']:.2f} "
        f"notmodified_ratio={ratios['notmodified']:.2f} pipeline_ms={median_ms(new_ms):.1f} "
        f"extract_ms={median_ms(extract):.1f} peak_mb={peak_mb:.0f}"
    )


if __name__ == "__main__":
    main()
