from pathlib import Path

from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError

from newsdiff.replay import ReplayServer, build_nytimes_site, default_corpus
from newsdiff.store import open_store


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
        # Re-check everything each run so edits to the replayed pages show up at once.
        self.crawler_process.crawl("nytimes", force="1")
        self.crawler_process.start()
        server.stop()
        store = open_store(self.settings)
        try:
            articles = list(store.articles.find({"outlet": "nytimes"}).sort("first_seen", 1))
        finally:
            store.close()
        print(f"\n{len(articles)} NYT articles tracked:")
        for a in articles:
            print(f"  {a.get('version_count', 0):>2} version(s)  {a.get('status'):<11} {a['url']}")
        print(
            f"\nNext: edit a page under {site}/www.nytimes.com/ (change a headline, add a"
            " paragraph),\nrun `scrapy demo` again, then `scrapy history URL` to see the new"
            " version."
        )
