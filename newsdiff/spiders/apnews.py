import re

from newsdiff.spiders.base import OutletSpider


class ApnewsSpider(OutletSpider):
    name = "apnews"
    allowed_domains = ["apnews.com"]
    # AP publishes no RSS feeds of its own; its news sitemap lists the latest stories.
    sitemaps = ("https://apnews.com/news-sitemap-content.xml",)
    # /article/slug-<32 hex> (and /article/<hex>, /<hex> before 2021); not /hub/, /video/ etc.
    article_path = re.compile(r"^/(?:article/(?:[a-z0-9-]+-)?)?[0-9a-f]{32}$")
    url_rewrites = ((r"^https://(?:www\.|m\.)?apnews\.com/", "https://apnews.com/"),)
