import re

from newsdiff.spiders.base import OutletSpider

SECTIONS = (
    "HomePage",
    "World",
    "US",
    "Politics",
    "Business",
    "Technology",
    "Science",
    "Health",
    "Climate",
    "Opinion",
    "Arts",
    "Sports",
)


class NytimesSpider(OutletSpider):
    name = "nytimes"
    allowed_domains = ["nytimes.com"]
    feeds = tuple(f"https://rss.nytimes.com/services/xml/rss/nyt/{s}.xml" for s in SECTIONS)
    sitemaps = ("https://www.nytimes.com/sitemaps/new/news.xml.gz",)
    article_path = re.compile(
        r"^/(?:live/)?\d{4}/\d{2}/\d{2}/(?!(?:video|slideshow|podcasts)/)[a-z0-9/-]+\.html$"
    )
    url_rewrites = (
        (r"^https://(?:mobile\.|m\.)?nytimes\.com/", "https://www.nytimes.com/"),
        (r"\.amp\.html$", ".html"),
    )
