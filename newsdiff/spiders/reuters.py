import re

from newsdiff.spiders.base import OutletSpider


class ReutersSpider(OutletSpider):
    name = "reuters"
    allowed_domains = ["reuters.com"]
    # Reuters closed its public RSS feeds in 2020; the news sitemap lists the last two days.
    sitemaps = ("https://www.reuters.com/arc/outboundfeeds/news-sitemap-index/?outputType=xml",)
    # /world/europe/slug-2024-01-02/, /business/slug-idUSKBN2A12B3 and, until 2020,
    # /article/[2014/12/30/][us-topic/]slug-idUSKCN0Y41DQ; not /video/ or /graphics/ pages.
    article_path = re.compile(
        r"^/(?:article/(?:\d{4}/\d{2}/\d{2}/)?(?:[a-z0-9-]+/)?[a-z0-9-]*id[A-Z0-9]{8,}"
        r"|(?!(?:article|video|pictures|graphics|markets/quote)/)[a-z-]+(?:/[a-z0-9-]+)*"
        r"/[a-z0-9-]+-(?:\d{4}-\d{2}-\d{2}|id[A-Z0-9]{8,}))/?$"
    )
    # Editions (uk., in., mobile.) serve the same story under the same path.
    url_rewrites = ((r"^https://(?:(?!www\.)[a-z]+\.)?reuters\.com/", "https://www.reuters.com/"),)
