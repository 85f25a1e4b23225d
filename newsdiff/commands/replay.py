import json
from pathlib import Path

from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError

from newsdiff.replay import ReplayServer


class Command(ScrapyCommand):
    requires_project = True
    requires_crawler_process = False

    def syntax(self):
        return "DIR [--port PORT]"

    def short_desc(self):
        return "Serve saved outlet pages (DIR/<host>/<path>) on 127.0.0.1 for offline crawls"

    def add_options(self, parser):
        super().add_options(parser)
        parser.add_argument("--port", type=int, default=8800)

    def run(self, args, opts):
        if len(args) != 1 or not Path(args[0]).is_dir():
            raise UsageError("give the directory to serve")
        server = ReplayServer(Path(args[0]), port=opts.port)
        print("Serving", args[0], "on", server.address, "- crawl against it with:")
        print(f"  export NEWSDIFF_HOST_MAP='{json.dumps(server.host_map())}'")
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            server.server_close()
