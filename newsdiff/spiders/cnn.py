import re

from newsdiff.spiders.base import OutletSpider

FEEDS = ("cnn_topstories", "cnn_world", "cnn_us", "cnn_allpolitics", "money_latest", "edition")


class CnnSpider(OutletSpider):
    name = "cnn"
    allowed_domains = ["cnn.com"]
    feeds = tuple(f"http://rss.cnn.com/rss/{f}.rss" for f in FEEDS)
    sitemaps = ("https://www.cnn.com/sitemaps/cnn/news.xml",)
    # /2024/01/02/politics/slug/index.html (index.html dropped since 2024) and
    # /travel/article/slug/index.html; not /videos/…, /interactive/… or live-news pages.
    article_path = re.compile(
        r"^/(?:\d{4}/\d{2}/\d{2}/(?!live-news/)[a-z0-9-]+/(?!live-news)[a-z0-9-]+"
        r"|(?:style|travel)/article/[a-z0-9-]+)(?:/index\.html)?$"
    )
    url_rewrites = (
        (r"^https://amp\.cnn\.com/cnn/", "https://www.cnn.com/"),
        (r"^https://(?:edition|us|m|lite)\.cnn\.com/", "https://www.cnn.com/"),
        (r"^https://cnn\.com/", "https://www.cnn.com/"),
    )
