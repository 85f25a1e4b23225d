"""newsdiff settings. Deployment values come from the environment (NEWSDIFF_*), never the repo."""

import json
import os
import sys


def _json_env(name: str, default: dict) -> dict:
    """A JSON object from the environment; anything else stops the command: one line, status 2."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = json.loads(raw)
    except ValueError as exc:
        problem = f"is not valid JSON ({exc}); in a shell or env file, single-quote the value"
    else:
        if isinstance(value, dict):
            return value
        problem = f"must be a JSON object ({{...}}), not {type(value).__name__}"
    print(f"newsdiff: the setting {name} {problem}", file=sys.stderr)
    raise SystemExit(2)


BOT_NAME = "newsdiff"
SPIDER_MODULES = ["newsdiff.spiders"]
NEWSPIDER_MODULE = "newsdiff.spiders"
COMMANDS_MODULE = "newsdiff.commands"

# --- storage -----------------------------------------------------------------------------
# Unset URI: the embedded default server under NEWSDIFF_DATA_DIR (default ~/.local/share/newsdiff).
NEWSDIFF_MONGO_URI = os.environ.get("NEWSDIFF_MONGO_URI", "")
NEWSDIFF_MONGO_DB = os.environ.get("NEWSDIFF_MONGO_DB", "newsdiff")
NEWSDIFF_DATA_DIR = os.environ.get("NEWSDIFF_DATA_DIR", "")
# How long each store operation looks for the server before MongoDB counts as unreachable.
NEWSDIFF_MONGO_TIMEOUT_MS = int(os.environ.get("NEWSDIFF_MONGO_TIMEOUT_MS", "5000"))
# Read from the environment only, where no Scrapy settings exist: NEWSDIFF_EMBEDDED_IDLE_SECONDS
# (600: the embedded server stops after this long without clients), NEWSDIFF_EMBEDDED_POLL_SECONDS
# (how often its supervisor probes a write and looks for clients; default 5, or half the idle time
# if that is shorter), NEWSDIFF_OUTLETS_FILE (the declarative outlets; default outlets.toml in the
# checkout) and NEWSDIFF_CORPUS (the saved pages `scrapy demo` and the tests replay; default
# ../shared/corpus).

# --- re-check schedule (newsdiff.schedule.Policy) -------------------------------------------
NEWSDIFF_RECHECK_FACTOR = 0.2  # next check after ~a fifth of the time since the last change
NEWSDIFF_RECHECK_MIN_MINUTES = 15
NEWSDIFF_RECHECK_MAX_HOURS = 96  # a late edit waits at most 4 days (see benchmarks/schedule.py)
NEWSDIFF_RECHECK_HORIZON_DAYS = 40  # stop after this long without a change
NEWSDIFF_RECHECK_QUIET_FACTOR = 0.2  # the factor until an article is first seen to change
NEWSDIFF_RECHECK_LATE_DAYS = [90, 180, 365]  # checks past the horizon, days since the last change
NEWSDIFF_RECHECK_BUDGET = 500  # due articles per outlet per run, most overdue first
# Change signals: a feed's `updated` or a sitemap's `lastmod` newer than our last check of a
# tracked article makes it due now (newsdiff/spiders/signals.py).
NEWSDIFF_SIGNALS_ENABLED = True
NEWSDIFF_SIGNAL_TOLERANCE_MINUTES = 2  # clock differences between an outlet and us
NEWSDIFF_SIGNAL_BUDGET = 500  # signalled re-checks per crawl
# A listing that re-stamps more than this share of its entries between two fetches is ignored
# for NEWSDIFF_SIGNAL_DISTRUST_HOURS.
NEWSDIFF_SIGNAL_MAX_RESTAMPED_SHARE = 0.5
NEWSDIFF_SIGNAL_DISTRUST_HOURS = 24
# A body shorter than this share of the previous version's is a broken page, not an edit.
NEWSDIFF_SHRINK_RATIO = 0.5
NEWSDIFF_SHRINK_MIN_CHARS = 800
NEWSDIFF_STORE_RETRY_SECONDS = 30.0  # after a failed write, spool without trying MongoDB this long
# Extracted text above either bound is a failing page, not a version: a version is one MongoDB
# document (16 MB at most); a long feature is ~100 KB in a few hundred paragraphs.
NEWSDIFF_MAX_BODY_BYTES = 4_000_000  # UTF-8 bytes of title, summary, byline, body, corrections
NEWSDIFF_MAX_PARAGRAPHS = 20_000  # body and correction paragraphs
# Unchanged checks written together in one bulk write (a crash loses at most these, re-checked
# on the next run; versions are never batched); 1 writes each at once.
NEWSDIFF_CHECK_BATCH = 25  # the last batch is written after the last page: 100 cost 0.1 s
# Processes that extract pages beside the crawl process (newsdiff/workers.py); 0: a thread. One
# per core, up to 4: on 2 cores a second worker took noisy re-checks from 80 to 92 pages/s.
NEWSDIFF_EXTRACT_WORKERS = int(
    os.environ.get("NEWSDIFF_EXTRACT_WORKERS") or min(4, os.cpu_count() or 1)
)

# Offline runs: {"www.nytimes.com": "127.0.0.1:8800"} sends a host's requests to a local server
# while URLs and stored data stay the outlet's own.
NEWSDIFF_HOST_MAP = _json_env("NEWSDIFF_HOST_MAP", {})

# --- one outlet on several nodes (scrapy-redis; newsdiff/redis_mode.py) ------------------------
# A Redis URL puts every crawl in shared-queue mode: the nodes crawling an outlet share its request
# queue and discovery's seen-set there. Empty: each crawl is on its own, with deltafetch.
NEWSDIFF_REDIS_URL = os.environ.get("NEWSDIFF_REDIS_URL", "")
NEWSDIFF_REDIS_TTL_SECONDS = 60  # a node silent this long stops counting as busy
NEWSDIFF_REDIS_MAX_IDLE_SECONDS = 300  # how long an idle node waits for busy ones
ADDONS = {"newsdiff.redis_mode.RedisMode": 0}  # does nothing without NEWSDIFF_REDIS_URL

# --- scheduled crawls: `scrapy schedule` (newsdiff/nodes.py; deploy/ runs it from cron or systemd)
# Scrapyd nodes, name -> URL (JSON in the environment on a server). Credentials from the
# environment: NEWSDIFF_NODE_<NAME>_USERNAME/_PASSWORD, else SCRAPYD_USERNAME/SCRAPYD_PASSWORD.
NEWSDIFF_NODES = _json_env("NEWSDIFF_NODES", {"default": "http://127.0.0.1:6800/"})
# Outlet -> {"every": "20m" (s/m/h/d), "node": "default", "args": {spider arguments}, "settings":
# {job settings}}. An outlet starts when its last job began `every` ago, never while a job of it
# is pending or running. JSON in NEWSDIFF_SCHEDULE replaces this default.
NEWSDIFF_SCHEDULE = _json_env("NEWSDIFF_SCHEDULE", {}) or {
    "nytimes": {"every": "20m"},
    "washingtonpost": {"every": "30m"},
    "guardian": {"every": "30m"},
    "bbc": {"every": "30m"},
    "cnn": {"every": "30m"},
    "reuters": {"every": "30m"},
    "apnews": {"every": "30m"},
}

# --- publishing changes (newsdiff/publish/, `scrapy publish`; README "Publishing") -----------
# A JSON list of targets: {"type": "webhook"|"mastodon"|"bluesky"|"wayback", ...}. Secrets are
# named by *_env keys and read from the environment at delivery, never written here.
NEWSDIFF_PUBLISH = json.loads(os.environ.get("NEWSDIFF_PUBLISH") or "[]")
NEWSDIFF_VIEWER_URL = os.environ.get("NEWSDIFF_VIEWER_URL", "http://127.0.0.1:8000")  # diff links
NEWSDIFF_PUBLISH_MAX_TRIES = 12  # then an entry is "failed" (scrapy health); ~20 h of back-off
NEWSDIFF_PUBLISH_BACKOFF_SECONDS = 60  # first retry; doubles per try, at most 6 hours
NEWSDIFF_PUBLISH_LEASE_SECONDS = 600  # a claimed entry older than this was left by a crash
NEWSDIFF_PUBLISH_AFTER_CRAWL = False  # also deliver at the end of each crawl

# --- politeness and safety ---------------------------------------------------------------
USER_AGENT = "newsdiff/0.1 (+https://github.com/newsdiff/newsdiff; tracks changes to news articles)"
ROBOTSTXT_OBEY = True
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1.0  # default 5
AUTOTHROTTLE_TARGET_CONCURRENCY = 2.0  # default 1
CONCURRENT_REQUESTS_PER_DOMAIN = 4  # default 8
# Each article page yields one item: Scrapy's default 100 starts 100 tasks for every response.
CONCURRENT_ITEMS = 1
DOWNLOAD_TIMEOUT = 30  # default 180
DOWNLOAD_MAXSIZE = 16 * 1024 * 1024  # default 1 GiB; the largest NYT page we know is ~2 MB
DOWNLOAD_WARNSIZE = 4 * 1024 * 1024
RETRY_TIMES = 2
TELNETCONSOLE_ENABLED = False
REMOTE_CONTROL_ENABLED = False  # 2.19 turns on an HTTP console that runs Python in the crawl
HTTPCACHE_ENABLED = False  # a cache would hide the very changes we track
COOKIES_ENABLED = False  # metered paywalls count visits by cookie
FEED_EXPORT_ENCODING = "utf-8"
LOG_LEVEL = "INFO"
LOG_FORMATTER = "newsdiff.logformat.LogFormatter"  # no per-page DEBUG records below DEBUG
CLOSESPIDER_TIMEOUT = 3 * 3600  # a stuck scheduled run must not block the next one

# --- components ----------------------------------------------------------------------------
DOWNLOADER_MIDDLEWARES = {
    # Re-checks bypass the dupefilter, which also lets their redirects go to any domain.
    "scrapy.downloadermiddlewares.offsite.OffsiteMiddleware": None,
    "newsdiff.middlewares.OffsiteRedirects": 50,
    # Scrapy 2.19 lets through requests that waited for robots.txt alongside the first one.
    "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
    "newsdiff.middlewares.RobotsTxt": 100,
    # Scrapy's decodes every page to look for a refresh tag; ours first checks the bytes.
    "scrapy.downloadermiddlewares.redirect.MetaRefreshMiddleware": None,
    "newsdiff.middlewares.MetaRefresh": 580,
}
DOWNLOAD_HANDLERS = {  # HTTP/1.1 as usual, plus NEWSDIFF_HOST_MAP for offline replays
    "http": "newsdiff.middlewares.HostMapDownloadHandler",
    "https": "newsdiff.middlewares.HostMapDownloadHandler",
}
SPIDER_MIDDLEWARES = {
    "newsdiff.middlewares.DeltaFetch": 100,
}
DELTAFETCH_ENABLED = True
DELTAFETCH_DIR = ""  # empty: NEWSDIFF_DATA_DIR/deltafetch (absolute, so Scrapyd jobs keep it)

EXTENSIONS = {
    "newsdiff.storage.CrawlStore": 100,  # the crawl's one database connection
    "newsdiff.extensions.CrawlSummary": 500,
    "newsdiff.health.CrawlHealth": 510,
    "newsdiff.publish.extension.PublishAfterCrawl": 520,  # NEWSDIFF_PUBLISH_AFTER_CRAWL
}
NEWSDIFF_HEALTH_ENABLED = True  # per-crawl self-checks, warnings and the `crawls` record
NEWSDIFF_HEALTH_MAX_EMPTY_SHARE = 0.5  # warn when a larger share of pages lacks body/title/byline
NEWSDIFF_HEALTH_MIN_PAGES = 3  # the share checks need at least this many article pages
NEWSDIFF_HEALTH_MAX_SHRUNK = 0  # sharply shrunken bodies a crawl may meet without a warning
NEWSDIFF_HEALTH_MAX_REJECTED_SHARE = 0.2  # warn when more article URLs than this were not articles
# Each new version's body is cross-checked against the generic extractor (shingle F1, stored as
# the version's `agreement`); below this it counts as low, and a crawl warns when more than
# NEWSDIFF_HEALTH_MAX_LOW_AGREEMENT_SHARE of its new versions were low.
NEWSDIFF_HEALTH_MIN_AGREEMENT = 0.5
NEWSDIFF_HEALTH_MAX_LOW_AGREEMENT_SHARE = 0.3
# Every edit is cross-checked; of first versions (a discovery crawl's bulk), this many per crawl.
NEWSDIFF_AGREEMENT_FIRST_VERSIONS = 20
NEWSDIFF_HEALTH_STALE_HOURS = 48  # warn when an outlet stored no version for longer than this,
NEWSDIFF_HEALTH_STALE_FACTOR = 10  # or this many times its typical gap between versions if longer
NEWSDIFF_HEALTH_MAX_CRAWL_AGE_HOURS = 26  # scrapy health: broken without a finished crawl since
NEWSDIFF_HEALTH_MAX_FAILURE_RATE = 0.2  # scrapy health: broken above this extraction failure rate
NEWSDIFF_HEALTH_RECENT_CRAWLS = 10  # scrapy health: crawls the failure rate is computed over
# Full-text search (newsdiff.search): each crawl indexes the versions it stores, this many at a
# time on a thread of its own (the rest as it closes), into NEWSDIFF_DATA_DIR/index/<db>;
# `scrapy index` catches up from this many hours before the index's newest version (crawls that
# stored older fetches late, or were killed), `--rebuild` starts afresh.
NEWSDIFF_INDEX_ENABLED = os.environ.get("NEWSDIFF_INDEX_ENABLED", "1") != "0"
NEWSDIFF_INDEX_BATCH = 1000
NEWSDIFF_INDEX_CATCHUP_HOURS = 24
# `scrapy stats` and the viewer's charts cover this many days.
NEWSDIFF_STATS_DAYS = 30

ITEM_PIPELINES = {
    "newsdiff.pipelines.ValidatePipeline": 100,
    "newsdiff.pipelines.PreparePipeline": 200,  # normal form and hashes, if not made in the worker
    "newsdiff.pipelines.StorePipeline": 800,
}
