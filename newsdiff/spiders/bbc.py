import re

from newsdiff.spiders.base import OutletSpider

SECTIONS = ("", "world/", "uk/", "business/", "politics/", "health/", "technology/")


class BbcSpider(OutletSpider):
    name = "bbc"
    allowed_domains = ["bbc.co.uk", "bbc.com", "bbci.co.uk"]
    feeds = tuple(f"https://feeds.bbci.co.uk/news/{s}rss.xml" for s in SECTIONS)
    sitemaps = ("https://www.bbc.co.uk/sitemaps/https-index-uk-news.xml",)
    # /news/uk-politics-48199725, /news/articles/c4ng0e2r5pjo, /sport/football/48198403; not the
    # /av/ video pages, live pages or bare /news/<number> pages (channels, help pages).
    article_path = re.compile(
        r"^/(?:news/(?!av/|live/)[a-z0-9_]+(?:-[a-z0-9_]+)*-\d{6,}"
        r"|(?:news|sport)/articles/c[0-9a-z]{10,}"
        r"|sport/(?!av/|live/)[a-z0-9-]+(?:/[a-z0-9-]+)?/\d{6,})$"
    )
    # The same story is served on bbc.co.uk and bbc.com; AMP under /amp/ or with .amp.
    url_rewrites = (
        (r"^https://(?:www\.|m\.)?bbc\.com/", "https://www.bbc.co.uk/"),
        (r"^https://m\.bbc\.co\.uk/", "https://www.bbc.co.uk/"),
        (r"^(https://www\.bbc\.co\.uk/(?:news|sport))/amp/", r"\1/"),
        (r"\.amp$", ""),
    )
