import re

from newsdiff.spiders.base import OutletSpider

SECTIONS = ("politics", "national", "world", "business", "opinions", "local", "technology")


class WashingtonpostSpider(OutletSpider):
    name = "washingtonpost"
    allowed_domains = ["washingtonpost.com"]
    feeds = tuple(f"https://feeds.washingtonpost.com/rss/{s}" for s in SECTIONS)
    sitemaps = ("https://www.washingtonpost.com/news-sitemaps/index.xml",)
    # /politics/2024/01/02/slug/, /news/the-fix/wp/2017/01/07/slug/ and, until 2019,
    # /local/education/slug/2017/01/06/<uuid>_story.html; never /video/… (…_video.html).
    article_path = re.compile(
        r"^/(?!(?:video|podcasts|photography|graphics)/)[a-z0-9_/-]+?/\d{4}/\d{2}/\d{2}/"
        r"(?:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}_story\.html|[a-z0-9-]+/?)$"
    )
    url_rewrites = (
        (r"^https://(?:m\.|beta\.)?washingtonpost\.com/", "https://www.washingtonpost.com/"),
        (r"^https://www\.washingtonpost\.com/amphtml/", "https://www.washingtonpost.com/"),
    )
