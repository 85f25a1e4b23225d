"""Shared-queue mode: one outlet crawled by several nodes at once through Redis (scrapy-redis).

Off unless NEWSDIFF_REDIS_URL is set. Then the RedisMode add-on (ADDONS in settings.py) gives the
crawl:
- scrapy-redis's Scheduler and RFPDupeFilter over that Redis: every node crawling the outlet pops
  from and pushes to one request queue, and a filtered request is queued once per round;
- rounds: the first node to start takes the outlet's round (SET NX), clears what a dead round left
  behind and alone runs start(), i.e. enqueues discovery and the due re-checks (those bypass the
  dupefilter, so a second node enqueuing them would fetch them twice). Nodes that start while the
  round runs only consume the queue. An idle node stays open while the queue has requests or
  another node is busy (its responses may add requests), at most NEWSDIFF_REDIS_MAX_IDLE_SECONDS;
  the last node to go idle ends the round;
- discovery's seen-set in Redis instead of the node-local deltafetch file: our DeltaFetch with a
  Redis set as its store, so a URL is still marked seen only once its item passed every pipeline.

Redis keys, per outlet, under <NEWSDIFF_MONGO_DB>:<outlet>: (newsdiff:nytimes: by default):
  seen        set: canonical URLs stored by discovery; kept for ever (DEL it to fetch all again)
  requests    scrapy-redis's queue, a sorted set of pickled requests
  dupefilter  scrapy-redis's fingerprints of the requests queued this round
  round       while a round runs: its leader's node id; expires NEWSDIFF_REDIS_TTL_SECONDS after
              the last heartbeat of a busy node, so a round whose nodes all died ends by itself
  busy        sorted set: each node still working -> when its heartbeat lapses (Redis time)
"""

from __future__ import annotations

import logging
import os
import socket
import time
import warnings
import weakref

from redis.exceptions import RedisError
from scrapy import signals
from scrapy.exceptions import CloseSpider, DontCloseSpider, NotConfigured, ScrapyDeprecationWarning
from scrapy.settings import SETTINGS_PRIORITIES, BaseSettings
from scrapy.utils.defer import deferred_from_coro
from scrapy_redis import scheduler as redis_scheduler
from scrapy_redis.connection import get_redis_from_settings
from twisted.internet.task import LoopingCall

from newsdiff.middlewares import DeltaFetch

logger = logging.getLogger(__name__)

# scrapy-redis 0.9.1 passes spider= to the stats and calls Spider.log(), both deprecated in current
# Scrapy and harmless on 2.19: not worth WARNING lines in every job log.
for _message in (
    r"Passing a 'spider' argument to StatsCollector",
    r"Spider\.log\(\) is deprecated",
):
    warnings.filterwarnings("ignore", _message, ScrapyDeprecationWarning, r"scrapy_redis\.")

DELTAFETCH = "newsdiff.middlewares.DeltaFetch"


def redis_key(settings, outlet: str, name: str) -> str:
    """A Redis key of an outlet: the database name first, so two databases can share a Redis."""
    return f"{settings.get('NEWSDIFF_MONGO_DB') or 'newsdiff'}:{outlet}:{name}"


def scrapy_redis_key(settings, name: str) -> str:
    """The same, as scrapy-redis's SCHEDULER_*_KEY template (it %-formats in the spider)."""
    return redis_key(settings, "\0", name).replace("%", "%%").replace("\0", "%(spider)s")


class RedisMode:
    """ADDONS entry: switches a crawl to the shared queue when NEWSDIFF_REDIS_URL is set."""

    @classmethod
    def from_crawler(cls, crawler):
        if not crawler.settings.get("NEWSDIFF_REDIS_URL"):
            raise NotConfigured  # no message: normal mode is not worth a log line
        return cls()

    def update_settings(self, settings: BaseSettings) -> None:
        for name, value in {
            "REDIS_URL": settings.get("NEWSDIFF_REDIS_URL"),
            "SCHEDULER": "newsdiff.redis_mode.Scheduler",
            "DUPEFILTER_CLASS": "scrapy_redis.dupefilter.RFPDupeFilter",
            "SCHEDULER_QUEUE_CLASS": "scrapy_redis.queue.PriorityQueue",
            "SCHEDULER_QUEUE_KEY": scrapy_redis_key(settings, "requests"),
            "SCHEDULER_DUPEFILTER_KEY": scrapy_redis_key(settings, "dupefilter"),
            # Rounds clear the queue and the dupefilter, never a closing node: with
            # SCHEDULER_PERSIST=False the first node to finish would wipe the others' work.
            "SCHEDULER_PERSIST": True,
            "SCHEDULER_FLUSH_ON_START": False,
        }.items():
            settings.set(name, value, "addon")
        # Discovery's seen-set moves to Redis, at deltafetch's place in the chain, and only the
        # round's leader runs start().
        middlewares = settings["SPIDER_MIDDLEWARES"]
        order = middlewares.get(DELTAFETCH)
        if order is not None:
            priority = max(middlewares.getpriority(DELTAFETCH) or 0, SETTINGS_PRIORITIES["addon"])
            middlewares.set(DELTAFETCH, None, priority)
            middlewares.set("newsdiff.redis_mode.RedisDeltaFetch", order, priority)
        middlewares.set("newsdiff.redis_mode.LeaderStart", 50, "addon")


# --- the round --------------------------------------------------------------------------------

_NOW = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
"""
# KEYS: round, busy, requests, dupefilter. ARGV: node, ttl.
_JOIN = (
    _NOW
    + """
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
redis.call('ZADD', KEYS[2], now + tonumber(ARGV[2]), ARGV[1])
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'EX', ARGV[2]) then
  redis.call('DEL', KEYS[3], KEYS[4])  -- left by a round whose nodes died
  return ARGV[1]
end
return redis.call('GET', KEYS[1])
"""
)
_BEAT = (
    _NOW
    + """
redis.call('ZADD', KEYS[2], now + tonumber(ARGV[2]), ARGV[1])
redis.call('EXPIRE', KEYS[1], ARGV[2])
"""
)
# 1 when the round is over: nothing queued and no node busy (this one just stopped being).
_REST = (
    _NOW
    + """
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
if redis.call('EXISTS', KEYS[3]) == 1 or redis.call('ZCARD', KEYS[2]) > 0 then
  return 0
end
redis.call('DEL', KEYS[1], KEYS[4])
return 1
"""
)


class SharedRound:
    """This node's part in its outlet's round (see the module docstring)."""

    def __init__(self, server, settings, outlet: str, node: str | None = None):
        self.server = server
        self.node = node or f"{socket.gethostname()}:{os.getpid()}"
        self.ttl = max(1, settings.getint("NEWSDIFF_REDIS_TTL_SECONDS"))
        self.keys = [
            redis_key(settings, outlet, "round"),
            redis_key(settings, outlet, "busy"),
            # scrapy-redis's, as RedisMode set them
            (settings.get("SCHEDULER_QUEUE_KEY") or scrapy_redis_key(settings, "requests"))
            % {"spider": outlet},
            (settings.get("SCHEDULER_DUPEFILTER_KEY") or scrapy_redis_key(settings, "dupefilter"))
            % {"spider": outlet},
        ]
        self.leader: str | None = None  # the round's leader's node id, once joined
        self.busy = False
        self._join, self._beat, self._rest = (
            server.register_script(s) for s in (_JOIN, _BEAT, _REST)
        )

    @property
    def leading(self) -> bool:
        return self.join() == self.node

    def join(self) -> str:
        """Take the round, or join the one running; returns its leader's node id."""
        if self.leader is None:
            leader = self._join(keys=self.keys, args=[self.node, self.ttl])
            self.leader = leader.decode() if isinstance(leader, bytes) else str(leader)
            self.busy = True
        return self.leader

    def working(self) -> None:
        """This node has taken a request: the others wait for what it may add."""
        if not self.busy:
            self.busy = True
            self.beat()

    def beat(self) -> None:
        if self.busy:
            self._beat(keys=self.keys, args=[self.node, self.ttl])

    def rest(self) -> bool:
        """This node has nothing to do; True when the round is over (and now ended)."""
        self.busy = False
        return bool(self._rest(keys=self.keys, args=[self.node]))


_rounds: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def shared_round(crawler) -> SharedRound:
    """The crawl's one SharedRound, used by its scheduler and by LeaderStart."""
    if crawler not in _rounds:
        settings = crawler.settings
        _rounds[crawler] = SharedRound(
            get_redis_from_settings(settings), settings, crawler.spidercls.name
        )
    return _rounds[crawler]


class Scheduler(redis_scheduler.Scheduler):
    """scrapy-redis's scheduler, taking part in the outlet's round: joins it at open, says when
    this node is busy, and keeps an idle node open while the round may still need it.

    A Redis error stops the crawl (finish reason `redis_unreachable: …`): scrapy-redis would
    raise in every engine loop for ever. Later calls skip Redis, which may take its socket
    timeout to fail each time."""

    @classmethod
    def from_crawler(cls, crawler):
        try:
            scheduler = super().from_crawler(crawler)  # pings Redis
        except RedisError as exc:
            return Unreachable(crawler, f"redis_unreachable: {exc}")
        scheduler.crawler = crawler
        scheduler.round = shared_round(crawler)
        scheduler.max_idle = crawler.settings.getfloat("NEWSDIFF_REDIS_MAX_IDLE_SECONDS")
        scheduler.idle_since = None
        scheduler.failed = None  # the finish reason, once Redis failed
        scheduler.heartbeat = LoopingCall(scheduler._redis, scheduler.round.beat)
        crawler.signals.connect(scheduler.spider_idle, signal=signals.spider_idle)
        return scheduler

    def _redis(self, call, *args, default=None):
        """call(*args), or default once Redis has failed (and the crawl is stopping)."""
        if self.failed:
            return default
        try:
            return call(*args)
        except RedisError as exc:
            self.failed = f"redis_unreachable: {exc}"
            logger.error("newsdiff %s: %s; stopping the crawl", self.spider.name, self.failed)
            deferred_from_coro(self.crawler.engine.close_spider_async(reason=self.failed))
            return default

    def open(self, spider):
        self.stats.set_value("newsdiff/redis/leader", int(self.round.leading))
        super().open(spider)
        self.heartbeat.start(self.round.ttl / 4, now=False)

    def enqueue_request(self, request):
        return self._redis(super().enqueue_request, request, default=False)

    def next_request(self):
        request = self._redis(super().next_request)
        if request is not None:
            self._redis(self.round.working)
            self.idle_since = None
        return request

    def has_pending_requests(self):
        return self._redis(super().has_pending_requests, default=False)

    def spider_idle(self, spider):
        over = self._redis(self.round.rest)
        if self.failed:
            raise CloseSpider(self.failed)
        if over:
            logger.info("newsdiff %s: round over: nothing queued, no node busy", spider.name)
            return
        now = time.monotonic()
        self.idle_since = self.idle_since or now
        if now - self.idle_since < self.max_idle:
            raise DontCloseSpider  # the engine asks again every few seconds
        logger.warning(
            "newsdiff %s: idle for %.0fs while other nodes are busy; stopping "
            "(NEWSDIFF_REDIS_MAX_IDLE_SECONDS)",
            spider.name,
            now - self.idle_since,
        )

    def close(self, reason):
        if self.heartbeat.running:
            self.heartbeat.stop()
        self._redis(self.round.rest)
        if not self.failed:
            return super().close(reason)
        return None


class Unreachable:
    """The scheduler when Redis cannot be reached at the start: the crawl stops before any
    request, with this finish reason (and `scrapy crawl` exits 1)."""

    def __init__(self, crawler, reason: str):
        self.reason = reason
        # Raised once the spider is open: the engine then closes every component cleanly.
        crawler.signals.connect(self.spider_opened, signal=signals.spider_opened)

    def spider_opened(self, spider):
        logger.error("newsdiff %s: %s", spider.name, self.reason)
        raise CloseSpider(self.reason)

    def close(self, reason):
        pass

    def has_pending_requests(self) -> bool:
        return False

    def enqueue_request(self, request) -> bool:
        return False

    def next_request(self):
        return None


class LeaderStart:
    """Spider middleware: only the round's leader runs start() (discovery and due re-checks);
    the other nodes take their work from the shared queue."""

    def __init__(self, crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    async def process_start(self, start):
        shared = shared_round(self.crawler)
        name = self.crawler.spidercls.name
        if not shared.leading:
            logger.info(
                "newsdiff %s: joined the round led by %s; taking requests from the shared queue",
                name,
                shared.leader,
            )
            return
        logger.info("newsdiff %s: leading the round from %s", name, shared.node)
        async for item_or_request in start:
            yield item_or_request


# --- discovery's seen-set -----------------------------------------------------------------------


class RedisSeen:
    """DeltaFetch's store as a Redis set shared by every node: `key in seen` (SISMEMBER),
    `seen[key] = when` (SADD; the time is not kept), close(). Without Redis a URL counts as
    unseen and is not marked: it costs a fetch later, never a version (the scheduler is what
    stops the crawl)."""

    def __init__(self, server, key: str):
        self.server, self.key = server, key

    def __contains__(self, key: bytes) -> bool:
        try:
            return bool(self.server.sismember(self.key, key))
        except RedisError:
            return False

    def __setitem__(self, key: bytes, _when: str) -> None:
        try:
            self.server.sadd(self.key, key)
        except RedisError as exc:
            logger.warning("Could not mark %s seen in Redis: %s", key.decode(), exc)

    def close(self) -> None:
        pass


class RedisDeltaFetch(DeltaFetch):
    """Our DeltaFetch, unchanged but for its store: <NEWSDIFF_MONGO_DB>:<outlet>:seen in Redis.
    DELTAFETCH_RESET=1 empties that set, for every node."""

    @classmethod
    def from_crawler(cls, crawler):
        mw = super().from_crawler(crawler)
        mw.server = get_redis_from_settings(crawler.settings)
        mw.key = redis_key(crawler.settings, crawler.spidercls.name, "seen")
        return mw

    def spider_opened(self, spider):
        if self.reset:
            self.server.delete(self.key)
            logger.info("DELTAFETCH_RESET: emptied the seen-set %s", self.key)
        self.db = RedisSeen(self.server, self.key)
