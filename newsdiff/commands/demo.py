"""scrapy demo: replay saved NYT pages on 127.0.0.1, crawl them, and tell a newcomer what happened.

Quiet by default (warnings and errors only, then a short account); `-L INFO` or `--logfile FILE`
gives Scrapy's full log.
"""

from pathlib import Path

from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError

from newsdiff.replay import ReplayServer, build_nytimes_site, default_corpus, site_path
from newsdiff.store import data_dir, open_store


class Command(ScrapyCommand):
    requires_project = True

    def syntax(self):
        return "[--site DIR]"

    def short_desc(self):
        return "Offline run: replay saved NYT pages locally, crawl them, show what changed"

    def add_options(self, parser):
        super().add_options(parser)
        parser.add_argument(
            "--site", default="demo-site", help="replay directory (default: %(default)s)"
        )

    def process_options(self, args, opts):
        super().process_options(args, opts)
        if not opts.loglevel:  # the account below says what happened; a log file gets it all
            level = "INFO" if opts.logfile else "WARNING"
            self.settings.set("LOG_LEVEL", level, priority="cmdline")

    def run(self, args, opts):
        site = Path(opts.site)
        if not site.exists() and not (default_corpus() / "pages" / "nytimes").is_dir():
            raise UsageError(
                f"the saved NYT pages are not at {default_corpus()}; set NEWSDIFF_CORPUS to the "
                "corpus directory (it holds pages/ and feeds/)"
            )
        if not site.exists():
            urls = build_nytimes_site(site, sitemap=True)
            print(f"Built {site}/ from {len(urls)} saved NYT pages, a feed and a sitemap.")
        server = ReplayServer(site).start()
        self.settings.set("NEWSDIFF_HOST_MAP", server.host_map(), priority="cmdline")
        self.settings.set("AUTOTHROTTLE_ENABLED", False, priority="cmdline")  # our own server
        spidercls = self.crawler_process.spider_loader.load("nytimes")
        # Only the feeds and sitemaps the replayed site has: the others would only fail.
        served = {
            key: tuple(u for u in getattr(spidercls, key) if site_path(site, u).exists())
            for key in ("feeds", "sitemaps")
        }
        crawler = self.crawler_process.create_crawler(type("DemoSpider", (spidercls,), served))
        # Re-check everything each run so edits to the replayed pages show up at once.
        self.crawler_process.crawl(crawler, force="1")
        self.crawler_process.start()
        server.stop()
        stats = crawler.stats.get_stats()
        if not str(stats.get("finish_reason", "")).startswith("finished"):
            print(f"\nThe crawl did not finish: {stats.get('finish_reason')}")
            self.exitcode = 1
            return
        store = open_store(self.settings)
        try:
            articles = list(store.articles.find({"outlet": "nytimes"}).sort("first_seen", 1))
        finally:
            store.close()
        self.account(site, server, stats, articles, opts)

    def account(self, site: Path, server, stats: dict, articles: list[dict], opts) -> None:
        def count(key: str) -> int:
            return stats.get(f"newsdiff/{key}", 0)

        statuses = {
            k.removeprefix("newsdiff/status/"): v
            for k, v in stats.items()
            if k.startswith("newsdiff/status/")
        }
        where = self.settings.get("NEWSDIFF_MONGO_URI") or f"the embedded store in {data_dir()}"
        print(
            f"\nCrawled {site}/, served on {server.address} as if it were www.nytimes.com: "
            f"{stats.get('downloader/response_count', 0)} responses (robots.txt, a feed, "
            f"{count('discovery/urls')} articles in it)."
        )
        print(
            f"Stored {count('versions/new')} new version(s), {count('checks/unchanged')} "
            f"check(s) found no change"
            + "".join(f", {n} {status}" for status, n in sorted(statuses.items()))
            + f"; data in {where.split('@')[-1]}."
        )
        print(f"\n{len(articles)} NYT articles tracked:")
        for a in articles:
            print(f"  {a.get('version_count', 0):>2} version(s)  {a.get('status'):<11} {a['url']}")
        print(
            f"\nNext:\n  - edit a page under {site}/www.nytimes.com/ (change a headline, add a "
            "paragraph) and run `scrapy demo` again\n"
            "  - `scrapy history URL` lists an article's versions; `scrapy serve` shows them at "
            "http://127.0.0.1:8000/"
        )
        if not (opts.loglevel or opts.logfile):
            print("  - the full log: `scrapy demo -L INFO` (or `--logfile demo.log`)")
