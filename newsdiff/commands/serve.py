"""scrapy serve [--host HOST] [--port PORT]: the viewer, against the configured store."""

from __future__ import annotations

import sys
from argparse import ArgumentParser, Namespace

from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError
from scrapy.spiderloader import get_spider_loader

from newsdiff.search import index_root
from newsdiff.store import EmbeddedServerError, StoreError, open_store


class Command(ScrapyCommand):
    requires_project = True
    requires_crawler_process = False
    default_settings = {"LOG_ENABLED": False}  # uvicorn logs requests and errors itself

    def syntax(self) -> str:
        return "[--host HOST] [--port PORT]"

    def short_desc(self) -> str:
        return "Serve the viewer: article histories, diffs, Atom feeds and the JSON API"

    def long_desc(self) -> str:
        return (
            "Serve the read-only viewer over HTTP against the configured store "
            "(NEWSDIFF_MONGO_URI, or the embedded default shared with running crawls). "
            "It listens on 127.0.0.1:8000 unless told otherwise; the OpenAPI description "
            "of the JSON API is at /openapi.json."
        )

    def add_options(self, parser: ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument(
            "--host",
            default="127.0.0.1",
            help="address to listen on (default: 127.0.0.1, this machine only)",
        )
        parser.add_argument("--port", default="8000", help="port to listen on (default: 8000)")

    def run(self, args: list[str], opts: Namespace) -> None:
        import uvicorn

        from newsdiff.web import create_app

        if args:
            raise UsageError(f"serve takes no arguments, got {' '.join(args)}")
        if not opts.port.isdigit() or not 0 <= int(opts.port) <= 65535:
            raise UsageError(f"--port must be a number from 0 to 65535, not {opts.port!r}")
        try:
            store = open_store(self.settings)
            store.ping()
        except (EmbeddedServerError, StoreError) as exc:
            print(f"newsdiff: the store is unreachable: {exc}", file=sys.stderr)
            self.exitcode = 1
            return
        try:
            store.ensure_indexes()  # the viewer's queries need them even before the next crawl
        except StoreError as exc:  # e.g. a read-only database user: serve anyway, maybe slowly
            print(
                f"newsdiff: could not ensure the indexes ({exc}); pages may be slow",
                file=sys.stderr,
            )
        outlets = get_spider_loader(self.settings).list()
        app = create_app(store, outlets=outlets, index_dir=index_root(self.settings))
        print(
            f"newsdiff viewer on http://{opts.host}:{opts.port}/ (Ctrl-C stops it)",
            file=sys.stderr,
            flush=True,
        )
        try:
            uvicorn.run(
                app, host=opts.host, port=int(opts.port), log_level="info", server_header=False
            )
        finally:
            store.close()
