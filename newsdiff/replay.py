"""A local server that replays saved outlet pages, for offline runs, tests and benchmarks.

It serves a directory laid out by host: ROOT/<host>/<path> (a path ending in / serves
index.html; queries are ignored). ROOT/<host>/_routes.json may map a path to
{"status": 301, "location": "https://..."}, {"status": 410} or {"sitemap": true}: a sitemap of the
host's .html pages with each page's file time as its <lastmod> (so editing a page announces it, as
a CMS does; "restamp": true stamps every entry with the time of the request instead, like a
careless generator; a path ending .gz is gzipped). Responses carry an ETag and
Last-Modified and answer If-None-Match / If-Modified-Since with 304, like real outlets.
Use it with NEWSDIFF_HOST_MAP = {"www.nytimes.com": "127.0.0.1:PORT", ...}.
"""

from __future__ import annotations

import email.utils
import gzip
import hashlib
import json
import os
import re
import threading
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit
from xml.sax.saxutils import escape as xml_escape

CONTENT_TYPES = {
    ".html": "text/html",
    ".xml": "application/xml",
    ".gz": "application/x-gzip",
    ".txt": "text/plain",
    ".json": "application/json",
}


def default_corpus() -> Path:
    """The shared corpus of real pages: NEWSDIFF_CORPUS, else ../shared/corpus beside the repo."""
    configured = os.environ.get("NEWSDIFF_CORPUS")
    if configured:
        return Path(configured)
    return Path(__file__).resolve().parent.parent.parent / "shared" / "corpus"


class _Handler(BaseHTTPRequestHandler):
    server: ReplayServer

    def log_message(self, format, *args):  # noqa: A002 - silence per-request logging
        pass

    def do_HEAD(self):
        self.do_GET(head=True)

    def do_GET(self, head: bool = False):
        host = (self.headers.get("Host") or "").split(":")[0].lower()
        path = unquote(urlsplit(self.path).path)
        self.server.requests.append((host, path))
        self.server.headers.append(dict(self.headers))
        if self.server.on_request:
            self.server.on_request(host, path)
        site = self.server.root / host
        routes_file = site / "_routes.json"
        routes = json.loads(routes_file.read_text()) if routes_file.exists() else {}
        route = routes.get(path)
        if route and route.get("sitemap"):
            self._send_body(
                sitemap(site, host, restamp=route.get("restamp", False), gz=path.endswith(".gz")),
                path,
                head=head,
            )
            return
        if route:
            self.send_response(route["status"])
            if "location" in route:
                self.send_header("Location", route["location"])
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        file = (site / (path.lstrip("/") or "index.html")).resolve()
        if path.endswith("/"):
            file = file / "index.html"
        if not file.is_relative_to(site.resolve()) or not file.is_file():
            self.send_error(404)
            return
        self._send_body(file.read_bytes(), file.name, file.stat().st_mtime, head)

    def _send_body(self, body: bytes, name: str, mtime: float | None = None, head: bool = False):
        etag = '"' + hashlib.blake2b(body, digest_size=8).hexdigest() + '"'
        modified = email.utils.formatdate(mtime, usegmt=True)
        if self.headers.get("If-None-Match") == etag:
            self.send_response(304)
            self.send_header("ETag", etag)
            self.end_headers()
            return
        self.send_response(200)
        content_type = CONTENT_TYPES.get(Path(name).suffix, "application/octet-stream")
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("ETag", etag)
        self.send_header("Last-Modified", modified)
        self.end_headers()
        if not head:
            self.wfile.write(body)


def sitemap(site: Path, host: str, *, restamp: bool = False, gz: bool = False) -> bytes:
    """A sitemap of a replayed host's .html pages, each with its file time as <lastmod>."""
    now = time.time()
    entries = []
    for page in sorted(site.rglob("*.html")):
        stamp = now if restamp else page.stat().st_mtime
        lastmod = datetime.fromtimestamp(stamp, UTC).isoformat(timespec="milliseconds")
        loc = f"https://{host}/{page.relative_to(site).as_posix()}"
        entries.append(f"<url><loc>{xml_escape(loc)}</loc><lastmod>{lastmod}</lastmod></url>")
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
        + "\n".join(entries)
        + "\n</urlset>\n"
    ).encode()
    return gzip.compress(body, mtime=0) if gz else body


class ReplayServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, root: Path, host: str = "127.0.0.1", port: int = 0):
        super().__init__((host, port), _Handler)
        self.root = Path(root)
        self.requests: list[tuple[str, str]] = []
        self.headers: list[dict[str, str]] = []  # of each request, in order
        self.on_request = None  # tests: called with (host, path) before each answer
        self._thread: threading.Thread | None = None

    @property
    def address(self) -> str:
        return f"{self.server_address[0]}:{self.server_address[1]}"

    def host_map(self) -> dict[str, str]:
        """Every host under root mapped to this server."""
        return {p.name: self.address for p in self.root.iterdir() if p.is_dir()}

    def start(self, poll_interval: float = 0.5) -> ReplayServer:
        """Serve in a thread; stop() waits up to poll_interval for it to notice."""
        self._thread = threading.Thread(
            target=self.serve_forever, kwargs={"poll_interval": poll_interval}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self.shutdown()
        self.server_close()


def site_path(root: Path, url: str) -> Path:
    """Where a URL's page lives under a replay root."""
    parts = urlsplit(url)
    path = parts.path.lstrip("/") or "index.html"
    if path.endswith("/"):
        path += "index.html"
    return Path(root) / parts.hostname / path


def corpus_pages(outlet: str, corpus: Path | None = None) -> list[tuple[str, Path]]:
    """(url, source.html) for each saved page of an outlet."""
    base = (corpus or default_corpus()) / "pages" / outlet
    out = []
    for meta_file in sorted(base.glob("*/meta.json")):
        meta = json.loads(meta_file.read_text())
        out.append((meta["url"], meta_file.parent / "source.html"))
    return out


def write_feed(template: bytes, urls: list[str]) -> bytes:
    """A real RSS capture with its item links replaced by urls (one item per URL)."""
    items = re.findall(rb"<item>.*?</item>", template, flags=re.S)
    if len(items) < len(urls):
        raise ValueError(f"the feed has {len(items)} items, {len(urls)} URLs were given")
    out = template
    for item, url in zip(items, urls, strict=False):
        new = re.sub(rb"<link>.*?</link>", b"<link>" + url.encode() + b"</link>", item, flags=re.S)
        new = re.sub(
            rb"<guid([^>]*)>.*?</guid>", rb"<guid\1>" + url.encode() + b"</guid>", new, flags=re.S
        )
        out = out.replace(item, new, 1)
    for item in items[len(urls) :]:
        out = out.replace(item, b"", 1)
    return out


NYT_FEED = "feeds/nyt/HomePage_2019-01-27_steepmountain-RSS.xml"
NYT_FEED_URL = "https://rss.nytimes.com/services/xml/rss/nyt/HomePage.xml"


NYT_SITEMAP_URL = "https://www.nytimes.com/sitemaps/new/news.xml.gz"


def build_nytimes_site(
    root: Path, corpus: Path | None = None, *, sitemap: bool = False
) -> list[str]:
    """Lay out the corpus's NYT pages and a home-page feed listing them; returns article URLs.
    sitemap: the news sitemap lists them too, with each page's file time as its lastmod."""
    corpus = corpus or default_corpus()
    urls = []
    for url, source in corpus_pages("nytimes", corpus):
        target = site_path(root, url)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(source.read_bytes())
        urls.append(url)
    feed = site_path(root, NYT_FEED_URL)
    feed.parent.mkdir(parents=True, exist_ok=True)
    feed.write_bytes(write_feed((corpus / NYT_FEED).read_bytes(), urls))
    if sitemap:
        routes = {urlsplit(NYT_SITEMAP_URL).path: {"sitemap": True}}
        (site_path(root, NYT_SITEMAP_URL).parents[2] / "_routes.json").write_text(
            json.dumps(routes)
        )
    return urls
