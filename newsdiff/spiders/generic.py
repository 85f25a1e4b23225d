"""Declarative outlets: a spider class for each valid entry of the outlets file (read and
checked by newsdiff.outlets), defined in this module so that Scrapy's spider loader finds them."""

from __future__ import annotations

import logging
import re
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import ClassVar

from newsdiff import pages
from newsdiff.outlets import (  # noqa: F401 - DEFAULT_FILE and outlets_file for callers
    DEFAULT_FILE,
    Outlet,
    OutletConfigError,
    load,
    outlets_file,
    page_class,
)
from newsdiff.spiders.base import OutletSpider

logger = logging.getLogger(__name__)


class DeclarativeSpider(OutletSpider):
    """The base of the spiders made from outlets.toml (it has no name, so it is not one)."""

    outlets_file: ClassVar[str] = ""


def spider_class(outlet: Outlet, path: Path | Traversable) -> type[DeclarativeSpider]:
    attrs = {
        "__module__": __name__,
        "__doc__": f"The {outlet.name} outlet declared in {path}.",
        "name": outlet.name,
        "allowed_domains": list(outlet.allowed_domains),
        "feeds": outlet.feeds,
        "sitemaps": outlet.sitemaps,
        "article_path": re.compile(outlet.article_path),
        "keep_query": outlet.keep_query,
        "url_rewrites": outlet.url_rewrites,
        "outlets_file": str(path),
    }
    return type(f"{outlet.name.capitalize()}Spider", (DeclarativeSpider,), attrs)


OUTLETS: list[Outlet] = []
ERRORS: list[str] = []


def declare(path: Path | Traversable | None = None) -> tuple[list[Outlet], list[str]]:
    """(Re)define this module's spiders and the page classes from the outlets file."""
    for old in OUTLETS:
        globals().pop(f"{old.name.capitalize()}Spider", None)
        pages.unregister(old.name)
    path = path or outlets_file()
    outlets, errors = load(path)
    for outlet in outlets:
        cls = spider_class(outlet, path)
        globals()[cls.__name__] = cls
        pages.register(page_class(outlet))
    for error in errors:
        logger.error("Declarative outlet left out: %s", error)
    OUTLETS[:], ERRORS[:] = outlets, errors
    return outlets, errors


declare()
