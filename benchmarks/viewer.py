"""Time the viewer against a large archive: start, article and diff pages, full-text and change
searches.

Run: `python benchmarks/viewer.py` (100,000 articles, 1,000,000 versions; the fill takes about
ten minutes) or smaller with `--articles 10000 --versions 100000`; `--keep DIR` keeps the archive
for the next run, `--explain` prints the plan of each query the pages run.

It fills a fresh directory with documents shaped like the crawler's (insert_many in batches,
with the indexes of Store.ensure_indexes in place while filling, as in production) through a
SecantusDB server with a 1 GB cache, then restarts the server the way the embedded default runs
it (newsdiff.store.embedded.start_server, 256 MB cache), serves the real app with uvicorn on
127.0.0.1 in another process and requests random pages over HTTP, one at a time. No caches:
every request runs its queries. Before serving it builds the search index from scratch
(`scrapy index --rebuild`'s code, against the restarted server) and prints how long that took.
It prints p50 and p95 per page (start_deep: "older" pages anywhere in the archive; search:
/api/search with random words, phrases and outlets; changes: /api/search/changes with
removed:/added: words and phrases); the target is p95 under 100 ms.
Last line: `start_p95_ms=.. article_p95_ms=.. diff_p95_ms=.. search_p95_ms=.. changes_p95_ms=..`.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bson import ObjectId  # noqa: E402

from newsdiff import search  # noqa: E402
from newsdiff.store import Store  # noqa: E402
from newsdiff.store.embedded import secantusd, start_server  # noqa: E402

OUTLETS = {"nytimes": 0.4, "guardian": 0.25, "bbc": 0.2, "washingtonpost": 0.15}
NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)
VOCABULARY = (
    "the council mayor budget vote said would city state police officials report year new "
    "government election minister court week health school people percent million plan public "
    "tax hospital president according statement after before during federal local residents "
    "workers company market prices energy climate water housing ruling judge law protest "
    "agency investigation data former national official announced expected"
)
WORDS = VOCABULARY.split()


def _h(*parts: object) -> str:
    return hashlib.blake2b(repr(parts).encode(), digest_size=16).hexdigest()


class Faker:
    """Cheap realistic text: paragraphs of 40-90 words from a pool, edited between versions."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.pool = [self.sentence(40, 90) for _ in range(4000)]

    def sentence(self, lo: int, hi: int) -> str:
        words = self.rng.choices(WORDS, k=self.rng.randint(lo, hi))
        return " ".join(words).capitalize() + "."

    def paragraph(self) -> str:
        return self.rng.choice(self.pool)

    def edit(self, body: list[str]) -> list[str]:
        body = list(body)
        roll = self.rng.random()
        if roll < 0.5 or len(body) < 2:  # reword part of a paragraph
            i = self.rng.randrange(len(body))
            words = body[i].split()
            k = self.rng.randrange(len(words))
            words[k : k + 3] = self.rng.choices(WORDS, k=self.rng.randint(1, 4))
            body[i] = " ".join(words)
        elif roll < 0.85:  # add a paragraph
            body.insert(self.rng.randrange(len(body) + 1), self.paragraph())
        else:  # drop one
            del body[self.rng.randrange(len(body))]
        return body


def version_counts(rng: random.Random, articles: int, versions: int) -> list[int]:
    """At least one version each; the rest heavy-tailed (a few long-running stories), capped."""
    cap = 400
    extra = versions - articles
    weights = [rng.paretovariate(1.3) for _ in range(articles)]
    total = sum(weights)
    counts = [1 + min(cap - 1, int(w / total * extra)) for w in weights]
    missing = versions - sum(counts)
    while missing > 0:
        i = rng.randrange(articles)
        if counts[i] < cap:
            counts[i] += 1
            missing -= 1
    return counts


def fill(
    store: Store, articles: int, versions: int, seed: int = 1, batch: int = 1000
) -> list[tuple[str, int]]:
    """Insert the archive; returns a random sample of (article id, version count)."""
    rng = random.Random(seed)
    picker = random.Random(seed + 1)
    sample: list[tuple[str, int]] = []
    fake = Faker(rng)
    counts = version_counts(rng, articles, versions)
    names, weights = zip(*OUTLETS.items(), strict=True)
    article_batch: list[dict] = []
    version_batch: list[dict] = []
    versions_coll = store.versions.with_options(write_concern=store.db.write_concern)
    for n, count in enumerate(counts):
        outlet = rng.choices(names, weights)[0]
        first_seen = NOW - timedelta(days=rng.uniform(0, 365))
        aid = ObjectId.from_datetime(first_seen)
        aid = ObjectId(aid.binary[:4] + n.to_bytes(8, "big"))  # unique, ordered by first_seen
        url = f"https://www.{outlet}.com/{first_seen:%Y/%m/%d}/news/story-{n}.html"
        title = fake.sentence(6, 12)[:-1]
        byline = [f"By {rng.choice(WORDS).title()} {rng.choice(WORDS).title()}"]
        body = [fake.paragraph() for _ in range(rng.randint(3, 6))]
        corrections: list[str] = []
        # Gaps between versions: minutes to days, squeezed so the last one is not in the future.
        gaps = [15 + rng.expovariate(1 / 600) for _ in range(count - 1)]
        room = (NOW - first_seen).total_seconds() / 60
        if sum(gaps) > room:
            squeeze = room / sum(gaps) * rng.uniform(0.5, 1)
            gaps = [g * squeeze for g in gaps]
        at = first_seen
        seen = []
        for number in range(count):
            changed = ["title", "byline", "body", "corrections"]
            label = "first"
            if number:
                at += timedelta(minutes=gaps[number - 1])
                roll = rng.random()
                label = "change" if roll < 0.85 else "trivial" if roll < 0.95 else "flip-flop"
                changed = ["body"]
                body = fake.edit(body)
                if rng.random() < 0.15:
                    title, changed = fake.sentence(6, 12)[:-1], ["title", "body"]
                if rng.random() < 0.02:
                    corrections = [*corrections, "Correction: " + fake.sentence(10, 20)]
                    changed.append("corrections")
            hashes = {f: _h(n, number, f) for f in ("title", "byline", "body", "corrections")}
            seen.append(_h(n, number))
            version_batch.append(
                {
                    "article_id": aid,
                    "number": number,
                    "outlet": outlet,
                    "url": url,
                    "fetched_at": at,
                    "label": label,
                    "changed": changed,
                    "title": title,
                    "byline": byline,
                    "published": first_seen.isoformat(),
                    "modified": at.isoformat(),
                    "section": "world",
                    "body": body,
                    "corrections": corrections,
                    "hashes": hashes,
                    "loose_hashes": hashes,
                    "hash": seen[-1],
                    "extractor": outlet,
                    "extractor_version": "1",
                    "normaliser_version": "1",
                    "snapshot": _h("s", n, number),
                }
            )
        checked = min(NOW, at + timedelta(hours=rng.uniform(0, 48)))
        status = rng.choices(["live", "gone", "failing", "paywalled"], [95, 2, 2, 1])[0]
        doc = {
            "_id": aid,
            "outlet": outlet,
            "url": url,
            "aliases": [url + "?smid=url-share"],
            "first_seen": first_seen,
            "published": first_seen.isoformat(),
            "modified": at.isoformat(),
            "title": title,
            "section": "world",
            "last_checked": checked,
            "last_changed": at,
            "version_count": count,
            "status": status,
            "reason": "extraction found no body" if status == "failing" else None,
            "checks": count + rng.randint(0, 30),
            "hashes": hashes,
            "loose_hashes": hashes,
            "seen_hashes": seen,
            "body_chars": sum(map(len, body)),
            "validators": {},
        }
        if NOW - at < timedelta(days=40) and status != "gone":
            doc["next_check"] = NOW + timedelta(minutes=rng.uniform(1, 600))
        article_batch.append(doc)
        if len(sample) < 2000:  # reservoir sample of the articles to request
            sample.append((str(aid), count))
        elif (k := picker.randrange(n + 1)) < len(sample):
            sample[k] = (str(aid), count)
        if len(article_batch) >= batch // 4:
            store.articles.insert_many(article_batch, ordered=False)
            article_batch = []
        if len(version_batch) >= batch:
            versions_coll.insert_many(version_batch, ordered=False)
            version_batch = []
    if article_batch:
        store.articles.insert_many(article_batch, ordered=False)
    if version_batch:
        versions_coll.insert_many(version_batch, ordered=False)
    return sample


def explain(store: Store, sample: list[tuple[str, int]]) -> None:
    """The winning plan of each query shape the timed pages run (see newsdiff.store.queries)."""
    aid, count = next((ObjectId(a), n) for a, n in sample if n > 2)
    week = NOW - timedelta(days=7)
    shapes = {
        "start page window": (store.articles, {"last_changed": {"$gte": week, "$lt": NOW}}),
        "start page ties": (store.articles, {"last_changed": NOW}),
        "outlet window": (
            store.articles,
            {"outlet": "bbc", "last_changed": {"$gte": week, "$lt": NOW}},
        ),
        "article": (store.articles, {"_id": aid}),
        "version list": (store.versions, {"article_id": aid}),
        "two versions": (store.versions, {"article_id": aid, "number": {"$in": [0, count - 1]}}),
        "previous version": (store.versions, {"article_id": aid, "number": count - 2}),
        "article by URL": (store.articles, {"url": {"$in": ["https://www.bbc.com/x.html"]}}),
        "article by alias": (store.articles, {"aliases": {"$in": ["https://www.bbc.com/x"]}}),
        "feed window": (store.versions, {"fetched_at": {"$gte": week, "$lt": NOW}}),
        "outlet feed window": (
            store.versions,
            {"outlet": "bbc", "fetched_at": {"$gte": week, "$lt": NOW}},
        ),
        "health: tracked": (store.articles, {"outlet": "bbc", "next_check": {"$gte": week}}),
        "health: checked": (store.articles, {"outlet": "bbc", "last_checked": {"$gte": week}}),
        "health: failing": (store.articles, {"outlet": "bbc", "status": "failing"}),
    }
    for name, (collection, query) in shapes.items():
        plan = collection.find(query).explain()["queryPlanner"]["winningPlan"]
        stages = []
        while plan:
            stages.append(plan["stage"] + (f"({plan['indexName']})" if "indexName" in plan else ""))
            plan = plan.get("inputStage")
        print(f"  {name:<20} {' <- '.join(stages)}", flush=True)


def bulk_load(directory: Path, articles: int, versions: int) -> list[tuple[str, int]]:
    """Fill the archive through a server with a larger cache than the embedded default's:
    with 256 MB, SecantusDB stalled for minutes on batches of large versions."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "secantusd.toml").touch()
    with open(directory / "bulk-load.log", "wb") as log:
        server = subprocess.Popen(
            [secantusd(), "--host", "127.0.0.1", "--port", "0",
             "--storage-path", str(directory / "db"), "--config", str(directory / "secantusd.toml"),
             "--cache-size", "1G", "--oplog-max-entries", "1000", "--log-level", "INFO"],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        listening = re.compile(rb"listening on 127\.0\.0\.1:(\d+)")
        while not (found := listening.search((directory / "bulk-load.log").read_bytes())):
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"secantusd-py did not start; see {directory}/bulk-load.log")
            time.sleep(0.05)
        port = int(found.group(1))
        store = Store(
            f"mongodb://127.0.0.1:{port}/?retryWrites=false&directConnection=true", "bench"
        )
        store.ensure_indexes()
        sample = fill(store, articles, versions)
        store.close()
        return sample
    finally:
        server.terminate()
        server.wait(300)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def serve(uri: str, port: int, index_dir: str) -> None:
    """The app under test, in its own process (as `scrapy serve` runs it)."""
    import uvicorn

    from newsdiff.web import create_app

    app = create_app(Store(uri, "bench"), outlets=OUTLETS, clock=lambda: NOW, index_dir=index_dir)
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


def timed_get(base: str, path: str) -> float:
    started = time.perf_counter()
    with urllib.request.urlopen(base + path, timeout=60) as response:
        response.read()
        if response.status != 200:
            raise RuntimeError(f"{path}: HTTP {response.status}")
    return (time.perf_counter() - started) * 1000


def percentiles(times: list[float]) -> tuple[float, float]:
    cuts = statistics.quantiles(times, n=100, method="inclusive")
    return cuts[49], cuts[94]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--versions", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=200, help="timed requests per page")
    parser.add_argument(
        "--keep",
        metavar="DIR",
        help="keep the archive in DIR (reused by the next run with --keep DIR)",
    )
    parser.add_argument(
        "--explain",
        action="store_true",
        help="print the query plan of each query the timed pages run",
    )
    parser.add_argument("--serve", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve[0], int(args.serve[1]), args.serve[2])
        return
    if args.versions < args.articles:
        parser.error("--versions must be at least --articles (every article has a version)")
    directory = Path(args.keep or tempfile.mkdtemp(prefix="newsdiff-bench-"))
    sample_file = directory / "sample.json"
    server = app = None
    try:
        if not sample_file.exists():
            print(
                f"filling {args.articles:,} articles and {args.versions:,} versions ...", flush=True
            )
            started = time.monotonic()
            sample = bulk_load(directory, args.articles, args.versions)
            fill_s = time.monotonic() - started
            print(
                f"filled in {fill_s:.0f} s ({args.versions / fill_s:,.0f} versions/s)", flush=True
            )
            sample_file.write_text(json.dumps(sample))
        else:
            sample = [tuple(x) for x in json.loads(sample_file.read_text())]
            print(f"reusing the archive in {directory}", flush=True)
        server, port = start_server(directory)  # timed as the embedded default runs it
        uri = f"mongodb://127.0.0.1:{port}/?retryWrites=false&directConnection=true"
        store = Store(uri, "bench")
        if args.explain:
            explain(store, sample)
        index = search.SearchIndex(directory / "index" / "bench")
        if not index.available():
            started = time.monotonic()
            indexed = search.rebuild(store, index)
            index_s = time.monotonic() - started
            print(
                f"search index built from scratch in {index_s:.0f} s "
                f"({indexed:,} versions, {indexed / index_s:,.0f} versions/s)",
                flush=True,
            )
        else:
            print(f"reusing the search index in {index.root}", flush=True)

        app_port = free_port()
        app = subprocess.Popen(
            [sys.executable, __file__, "--serve", uri, str(app_port), str(index.root)],
            stdin=subprocess.DEVNULL,
        )
        base = f"http://127.0.0.1:{app_port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                timed_get(base, "/static/style.css")
                break
            except OSError:
                if time.monotonic() > deadline or app.poll() is not None:
                    raise RuntimeError("the app did not start") from None
                time.sleep(0.1)

        rng = random.Random(7)
        changed = [(aid, n) for aid, n in sample if n > 1]
        first, last = NOW - timedelta(days=365), NOW

        def deep_start() -> str:  # a page anywhere in the archive, as a deep "older" link
            when = first + (last - first) * rng.random()
            return f"/?before={int(when.timestamp() * 1000)}-{'f' * 24}"

        def diff_path() -> str:
            aid, count = rng.choice(changed)
            b = rng.randrange(1, count)
            return f"/articles/{aid}/diff/{b - 1}/{b}"

        def words(k: int) -> str:
            return " ".join(rng.sample(WORDS, k))

        def phrase() -> str:  # two neighbouring words of a pool paragraph, as a researcher might
            text = Faker(random.Random(rng.randrange(1 << 30))).sentence(40, 90).lower().split()
            i = rng.randrange(len(text) - 1)
            return f'"{text[i]} {text[i + 1].strip(".")}"'

        def search_path() -> str:
            q = rng.choice([words(1), words(2), phrase()])
            outlet = rng.choice([None, None, *OUTLETS])
            query = {"q": q, **({"outlet": outlet} if outlet else {})}
            return "/api/search?" + urllib.parse.urlencode(query)

        def changes_path() -> str:
            kind = rng.choice(["removed", "added"])
            q = f"{kind}:{rng.choice([words(1), phrase()])}"
            return "/api/search/changes?" + urllib.parse.urlencode({"q": q})

        pages = {
            "start": lambda: "/",
            "start_deep": deep_start,
            "article": lambda: f"/articles/{rng.choice(sample)[0]}",
            "diff": diff_path,
            "search": search_path,
            "changes": changes_path,
        }
        results = {}
        for name, make in pages.items():
            for _ in range(10):  # warm up connections and templates
                timed_get(base, make())
            times = [timed_get(base, make()) for _ in range(args.requests)]
            results[name] = percentiles(times)
            p50, p95 = results[name]
            print(
                f"{name:<11} p50 {p50:6.1f} ms   p95 {p95:6.1f} ms   ({len(times)} requests)",
                flush=True,
            )
        print(
            f"start_p95_ms={results['start'][1]:.1f} article_p95_ms={results['article'][1]:.1f} "
            f"diff_p95_ms={results['diff'][1]:.1f} search_p95_ms={results['search'][1]:.1f} "
            f"changes_p95_ms={results['changes'][1]:.1f}"
        )
    finally:
        if app is not None:
            app.terminate()
            app.wait(30)
        if server is not None:
            server.terminate()
            server.wait(60)
        if not args.keep:
            shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    main()
