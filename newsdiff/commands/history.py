import json
import sys

from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError

from newsdiff.store import open_store
from newsdiff.text import canonical_url


def lookup_urls(url: str) -> list[str]:
    """The forms under which an article may be stored: as given, canonical, without query."""
    return list(dict.fromkeys([url, canonical_url(url), canonical_url(url, keep_query=False)]))


class Command(ScrapyCommand):
    requires_project = True
    requires_crawler_process = False
    default_settings = {"LOG_ENABLED": False}

    def syntax(self):
        return "URL [--json]"

    def short_desc(self):
        return "Print the stored versions of an article"

    def add_options(self, parser):
        super().add_options(parser)
        parser.add_argument("--json", action="store_true", help="print one JSON object")

    def run(self, args, opts):
        if len(args) != 1:
            raise UsageError("give exactly one article URL")
        store = open_store(self.settings)
        try:
            article = None
            for url in lookup_urls(args[0]):
                article = store.article(url)
                if article:
                    break
            if article is None:
                print(f"newsdiff: no article is stored under {args[0]}", file=sys.stderr)
                self.exitcode = 1
                return
            fields = {"number": 1, "fetched_at": 1, "label": 1, "changed": 1, "title": 1}
            versions = store.versions_of(article["_id"], fields)
        finally:
            store.close()
        if opts.json:
            print(
                json.dumps(
                    {
                        "url": article["url"],
                        "status": article.get("status"),
                        "versions": [
                            {
                                "number": v["number"],
                                "fetched_at": v["fetched_at"].isoformat(),
                                "label": v["label"],
                                "changed": v["changed"],
                            }
                            for v in versions
                        ],
                    },
                    ensure_ascii=False,
                )
            )
            return
        print(f"{article['url']}  ({article.get('outlet')}, status {article.get('status')})")
        if article.get("reason"):
            print(f"  last problem: {article['reason']}")
        nxt = article.get("next_check")
        print(f"  next check: {nxt:%Y-%m-%d %H:%M} UTC" if nxt else "  not checked again")
        for v in versions:
            changed = ", ".join(v["changed"])
            print(
                f"  v{v['number']:<3} {v['fetched_at']:%Y-%m-%d %H:%M:%S}  {v['label']:<9} "
                f"{changed:<28} {v.get('title') or ''}"
            )
