import re

from newsdiff.spiders.base import OutletSpider

SECTIONS = ("uk", "world", "us-news", "uk-news", "politics", "business", "environment")


class GuardianSpider(OutletSpider):
    name = "guardian"
    allowed_domains = ["theguardian.com"]
    feeds = tuple(f"https://www.theguardian.com/{s}/rss" for s in SECTIONS)
    sitemaps = ("https://www.theguardian.com/sitemaps/news.xml",)
    # /world/2019/may/08/slug and /books/booksblog/2019/may/06/slug; not the video, audio,
    # gallery, live-blog, interactive or crossword pages that share the dated form.
    article_path = re.compile(
        r"^/(?!(?:video|audio|gallery|live|picture|ng-interactive|crosswords)/)[a-z0-9-]+"
        r"(?:/(?!(?:video|audio|gallery|live|picture|ng-interactive)/)[a-z0-9-]+)?"
        r"/\d{4}/[a-z]{3}/\d{2}/[a-z0-9-]+$"
    )
    url_rewrites = (
        (r"^https://(?:amp\.|m\.)?theguardian\.com/", "https://www.theguardian.com/"),
        (r"^https://(?:www\.|m\.)?guardian\.co\.uk/", "https://www.theguardian.com/"),
    )
