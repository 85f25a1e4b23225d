"""scrapy outlets: the outlets this project can crawl, Python and declarative, with their feeds."""

from __future__ import annotations

import json
import sys
from argparse import ArgumentParser, Namespace

from scrapy.commands import ScrapyCommand
from scrapy.spiderloader import get_spider_loader

from newsdiff.spiders import generic
from newsdiff.spiders.base import OutletSpider


class Command(ScrapyCommand):
    requires_project = True
    requires_crawler_process = False
    default_settings = {"LOG_ENABLED": False}

    def syntax(self) -> str:
        return "[--json]"

    def short_desc(self) -> str:
        return "List the configured outlets (Python and outlets.toml) with their feeds"

    def long_desc(self) -> str:
        return (
            "List every outlet spider with its domains, feeds and sitemaps: the Python ones in "
            "newsdiff/spiders/ and the declarative ones in outlets.toml (or "
            "$NEWSDIFF_OUTLETS_FILE). Errors in that file are printed and give exit code 1."
        )

    def add_options(self, parser: ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument("--json", action="store_true", help="print a JSON list")

    def run(self, args: list[str], opts: Namespace) -> None:
        assert self.settings is not None
        loader = get_spider_loader(self.settings)
        outlets = []
        for name in sorted(loader.list()):
            cls = loader.load(name)
            if not issubclass(cls, OutletSpider):
                continue
            declarative = issubclass(cls, generic.DeclarativeSpider)
            outlets.append(
                {
                    "name": name,
                    "kind": "declarative" if declarative else "python",
                    "defined_in": cls.outlets_file if declarative else cls.__module__,
                    "allowed_domains": list(cls.allowed_domains),
                    "feeds": list(cls.feeds),
                    "sitemaps": list(cls.sitemaps),
                    "article_path": cls.article_path.pattern,
                }
            )
        if opts.json:
            print(json.dumps(outlets, indent=2))
        else:
            for outlet in outlets:
                print(f"{outlet['name']}  ({outlet['kind']}: {outlet['defined_in']})")
                print(f"  domains  {' '.join(outlet['allowed_domains'])}")
                for url in outlet["feeds"]:
                    print(f"  feed     {url}")
                for url in outlet["sitemaps"]:
                    print(f"  sitemap  {url}")
        for error in generic.ERRORS:
            print(f"newsdiff: declarative outlet left out: {error}", file=sys.stderr)
        if generic.ERRORS:
            self.exitcode = 1
