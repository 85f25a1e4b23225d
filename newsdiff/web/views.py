"""What the pages, the API and the feeds share: the Viewer state, templates, URLs, loading an
article or a version, outlet checks and the diff view. Imports none of the route modules."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import jinja2
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from newsdiff import durations
from newsdiff.diff import FIELDS, diff_versions
from newsdiff.search import SearchIndex
from newsdiff.store.queries import VISIBLE_LABELS, Queries
from newsdiff.web import format as fmt
from newsdiff.web.params import BadRequest, article_id, version_number

HERE = Path(__file__).resolve().parent
PAGE_SIZE = 50


@dataclass
class Viewer:
    """What every handler needs: the reads, the known outlets, the clock and the templates."""

    queries: Queries
    outlets: tuple[str, ...]
    clock: Callable[[], datetime]
    env: jinja2.Environment
    index: SearchIndex | None = None  # full-text search; None: not configured
    cache: dict[str, Any] = field(default_factory=dict)  # short-lived: the charts' numbers

    def now(self) -> datetime:
        return self.clock()


def viewer(request: Request) -> Viewer:
    return request.app.state.viewer


def safe_href(value: object) -> str:
    """Only http(s) links to the outlet's page; anything else becomes an inert "#"."""
    text = str(value or "")
    return text if text.lower().startswith(("https://", "http://")) else "#"


def make_env() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=True,  # every template, HTML and Atom alike: article text is untrusted
        undefined=jinja2.ChainableUndefined,  # a missing field renders empty, never a 500
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        when=fmt.when,
        day=fmt.day,
        iso=fmt.iso,
        later=fmt.later,
        duration=durations.duration,
        href=safe_href,
        num=lambda n: f"{n:,}" if isinstance(n, int) else n,
    )
    env.globals.update(FIELDS=FIELDS, VISIBLE_LABELS=VISIBLE_LABELS)
    return env


def url(request: Request, name: str, query: dict[str, Any] | None = None, **params: Any) -> str:
    """Path of a named route, with a query string of the given non-empty values."""
    path = str(request.app.url_path_for(name, **{k: str(v) for k, v in params.items()}))
    query = {k: v for k, v in (query or {}).items() if v not in (None, "", False)}
    query = {k: 1 if v is True else v for k, v in query.items()}
    return f"{path}?{urlencode(query)}" if query else path


def render(request: Request, template: str, status_code: int = 200, **context: Any) -> Response:
    v = viewer(request)
    html = v.env.get_template(template).render(
        request=request,
        now=v.now(),
        outlets=v.outlets,
        url=lambda name, query=None, **p: url(request, name, query, **p),
        ago=lambda value: fmt.ago(value, v.now()),
        **context,
    )
    return HTMLResponse(html, status_code=status_code)


# --- shared view logic (pages, API and feeds) ----------------------------------------------------


def load_article(v: Viewer, raw_id: str) -> dict[str, Any]:
    article = v.queries.article(article_id(raw_id))
    if article is None:
        raise BadRequest(f"no article with id {raw_id}", 404)
    return article


def load_version(v: Viewer, article_id_: Any, raw_number: str) -> dict[str, Any]:
    n = version_number(raw_number)
    version = v.queries.version(article_id_, n)
    if version is None:
        raise BadRequest(f"article {article_id_} has no version {n}", 404)
    return version


def known_outlet(v: Viewer, name: str) -> bool:
    """A configured outlet, or one with articles in the archive."""
    if name in v.outlets:
        return True
    return bool(v.queries.recent_articles(now=v.now(), outlet=name, limit=1).items)


def visible(versions: list[dict], show_all: bool) -> list[dict]:
    return [x for x in versions if show_all or x["label"] in VISIBLE_LABELS]


def neighbours(numbers: list[int], a: int, b: int) -> tuple[tuple | None, tuple | None]:
    """Previous and next change around the diff a->b, as (from, to) pairs of shown versions."""
    earlier = [n for n in numbers if n < b]
    later = [n for n in numbers if n > b]
    previous = (earlier[-2], earlier[-1]) if len(earlier) >= 2 else None
    following = None
    if later:
        before = [n for n in numbers if n < later[0]]
        following = (before[-1], later[0]) if before else None
    return previous, following


def diff_view(v: Viewer, raw_id: str, raw_a: str, raw_b: str, show_all: bool) -> dict[str, Any]:
    article = load_article(v, raw_id)
    a, b = version_number(raw_a, what="from"), version_number(raw_b, what="to")
    docs = v.queries.versions_by_number(article["id"], [a, b])
    for n in (a, b):
        if n not in docs:
            count = article.get("version_count") or 0
            raise BadRequest(
                f"article {article['id']} has no version {n}; it has versions 0 to {count - 1}"
                if count
                else f"article {article['id']} has no stored versions yet",
                404,
            )
    versions = v.queries.version_list(article["id"])
    shown = visible(versions, show_all)
    previous, following = neighbours([x["number"] for x in shown], a, b)
    return {
        "article": article,
        "versions": versions,
        "shown": shown,
        "hidden": len(versions) - len(shown),
        "old": docs[a],
        "new": docs[b],
        "diff": diff_versions(docs[a], docs[b]),
        "previous": previous,
        "following": following,
        "show_all": show_all,
    }


def changed_count(versions: Iterable[dict]) -> int:
    return sum(1 for x in versions if x["label"] == "change")
