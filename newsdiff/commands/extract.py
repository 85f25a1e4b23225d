"""scrapy extract FILE_OR_URL: run the article extractor on one saved page or live URL."""

from __future__ import annotations

import json
import sys
import urllib.request
from argparse import ArgumentParser, Namespace
from pathlib import Path

from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError

from newsdiff.pages import NotArticle, extract_fetched, outlet_for_url, page_url


class Command(ScrapyCommand):
    requires_project = True
    requires_crawler_process = False
    default_settings = {"LOG_ENABLED": False}

    def syntax(self) -> str:
        return "FILE_OR_URL [--outlet NAME] [--url URL]"

    def short_desc(self) -> str:
        return "Extract the article from a saved page or a URL and print it as JSON"

    def long_desc(self) -> str:
        return (
            "Extract the article from a saved page or a URL and print one JSON object: the "
            "extracted fields, or not_article and a message (exit code 1) for a page that is "
            "not an article. The outlet is guessed from the URL's host unless given."
        )

    def add_options(self, parser: ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument("--outlet", metavar="NAME", help="outlet rules to use, e.g. nytimes")
        parser.add_argument(
            "--url", metavar="URL", help="the article's URL (default: the page's canonical URL)"
        )

    def run(self, args: list[str], opts: Namespace) -> None:
        if len(args) != 1:
            raise UsageError("give exactly one file or http(s) URL")
        target = args[0]
        try:
            charset = None  # a saved page's bytes are read as a crawl reads a page without one
            if target.startswith(("http://", "https://")):
                html, fetched_url, charset = self.fetch(target)
                url = opts.url or fetched_url
            else:
                html = Path(target).read_bytes()
                url = opts.url or page_url(html) or Path(target).resolve().as_uri()
        except OSError as exc:
            print(f"newsdiff: cannot read {target}: {exc}", file=sys.stderr)
            self.exitcode = 2
            return
        try:
            outlet = opts.outlet or outlet_for_url(url)
            result = extract_fetched(html, charset, url, outlet).to_dict()
        except NotArticle as exc:
            result = {"not_article": exc.reason, "message": str(exc)}
            self.exitcode = 1
        sys.stdout.buffer.write(json.dumps(result, ensure_ascii=False, indent=2).encode() + b"\n")

    def fetch(self, url: str) -> tuple[bytes, str, str | None]:
        """The page bytes, the final URL after redirects and the charset its headers gave."""
        assert self.settings is not None
        request = urllib.request.Request(url, headers={"User-Agent": self.settings["USER_AGENT"]})
        timeout = self.settings.getfloat("DOWNLOAD_TIMEOUT", 30)
        limit = self.settings.getint("DOWNLOAD_MAXSIZE") or None
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            charset = response.headers.get_content_charset()
            return response.read(limit), response.geturl(), charset
