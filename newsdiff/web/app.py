"""App factory, shared view logic, security headers, error pages and the HTML pages."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import jinja2
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from newsdiff.diff import FIELDS, diff_versions
from newsdiff.store import EmbeddedServerError, Store, StoreError, describe_error
from newsdiff.store.queries import VISIBLE_LABELS, Queries, QueryError
from newsdiff.web import format as fmt
from newsdiff.web.params import BadRequest, Params, article_id, outlet_name, version_number

logger = logging.getLogger(__name__)
HERE = Path(__file__).resolve().parent

# No script runs on any page: everything works without JavaScript.
CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "base-uri 'none'; frame-ancestors 'none'"
)
SECURITY_HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
]
PAGE_SIZE = 50


class SecurityHeaders:
    """Adds the CSP and friends to every response, error pages and static files included."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                names = {k.lower() for k, _ in message.get("headers", [])}
                extra = [(k, v) for k, v in SECURITY_HEADERS if k not in names]
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, send_with_headers)


@dataclass
class Viewer:
    """What every handler needs: the reads, the known outlets, the clock and the templates."""

    queries: Queries
    outlets: tuple[str, ...]
    clock: Callable[[], datetime]
    env: jinja2.Environment

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
        duration=fmt.duration,
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


# --- pages ---------------------------------------------------------------------------------------


def start(request: Request) -> Response:
    v = viewer(request)
    p = Params(request, ("outlet", "q", "before"), strict=False)
    outlet, q, before = p.outlet(), p.text("q"), p.text("before", max_length=60)
    page = v.queries.recent_articles(
        now=v.now(), outlet=outlet, q=q, cursor=before, limit=PAGE_SIZE
    )
    return render(request, "start.html", page=page, outlet=outlet, q=q, before=before)


def article_page(request: Request) -> Response:
    v = viewer(request)
    p = Params(request, ("all",), strict=False)
    show_all = p.flag("all")
    article = load_article(v, request.path_params["article_id"])
    versions = v.queries.version_list(article["id"])
    shown = visible(versions, show_all)
    published = fmt.parse_date(article.get("published"))
    first_seen = fmt.parse_date(article.get("first_seen"))
    first = min((d for d in (published, first_seen) if d), default=None)
    return render(
        request,
        "article.html",
        article=article,
        versions=versions,
        shown=shown,
        hidden=len(versions) - len(shown),
        show_all=show_all,
        first=first,
        changes=changed_count(versions),
        next_check=fmt.parse_date(article.get("next_check")),
    )


def version_page(request: Request) -> Response:
    v = viewer(request)
    Params(request, (), strict=False)
    article = load_article(v, request.path_params["article_id"])
    version = load_version(v, article["id"], request.path_params["number"])
    versions = v.queries.version_list(article["id"])
    return render(request, "version.html", article=article, version=version, versions=versions)


def diff_page(request: Request) -> Response:
    v = viewer(request)
    show_all = Params(request, ("all",), strict=False).flag("all")
    pp = request.path_params
    context = diff_view(v, pp["article_id"], pp["a"], pp["b"], show_all)
    return render(request, "diff.html", **context)


def diff_picture(request: Request) -> Response:
    """The change as a PNG card (newsdiff.publish.card): what posts attach, for any page to link."""
    from newsdiff.publish.card import render_card

    pp = request.path_params
    context = diff_view(viewer(request), pp["article_id"], pp["a"], pp["b"], show_all=True)
    png = render_card(context["article"], context["old"], context["new"])
    return Response(png, media_type="image/png", headers={"Cache-Control": "max-age=3600"})


def compare(request: Request) -> Response:
    """The compare form on the article page (GET, so it works without JavaScript)."""
    v = viewer(request)
    p = Params(request, ("from", "to", "all"), strict=False)
    article = load_article(v, request.path_params["article_id"])
    a, b = p.version("from"), p.version("to")
    if a is None or b is None:
        raise BadRequest("choose two versions to compare (from and to)")
    if a > b:
        a, b = b, a
    query = {"all": p.flag("all")}
    return RedirectResponse(url(request, "diff", query, article_id=article["id"], a=a, b=b), 303)


def outlets_page(request: Request) -> Response:
    Params(request, (), strict=False)
    return render(request, "outlets.html")


def outlet_page(request: Request) -> Response:
    v = viewer(request)
    p = Params(request, ("before",), strict=False)
    name = outlet_name(request.path_params["outlet"])
    before = p.text("before", max_length=60)
    if not known_outlet(v, name):
        raise BadRequest(f"no outlet named {name!r}", 404)
    page = v.queries.recent_articles(now=v.now(), outlet=name, cursor=before, limit=PAGE_SIZE)
    health = v.queries.outlet_health(name, now=v.now())
    return render(request, "outlet.html", outlet=name, page=page, health=health, before=before)


# --- errors --------------------------------------------------------------------------------------


def _wants_json(request: Request) -> bool:
    path = request.url.path
    return path.startswith("/api/") or path == "/openapi.json"


def error_response(request: Request, status: int, message: str) -> Response:
    if _wants_json(request):
        return JSONResponse({"error": {"status": status, "message": message}}, status)
    try:
        return render(request, "error.html", status_code=status, status=status, message=message)
    except Exception:  # the error page itself must never fail
        logger.exception("error page failed")
        return Response(f"{status}: {message}\n", status, media_type="text/plain")


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    message = (
        exc.detail
        if exc.status_code != 404 or isinstance(exc, BadRequest)
        else (f"nothing here: {request.url.path}")
    )
    if exc.status_code == 405:
        message = "the viewer is read-only: only GET and HEAD requests are answered"
    response = error_response(request, exc.status_code, str(message))
    for name, value in (exc.headers or {}).items():
        response.headers[name] = value
    return response


async def query_error(request: Request, exc: Exception) -> Response:
    return error_response(request, 400, str(exc))


async def store_error(request: Request, exc: Exception) -> Response:
    logger.error("the database failed serving %s: %s", request.url.path, describe_error(exc))
    response = error_response(
        request, 503, "the database is not answering right now; try again in a minute"
    )
    response.headers["Retry-After"] = "60"
    return response


async def server_error(request: Request, exc: Exception) -> Response:
    logger.error("error serving %s", request.url.path, exc_info=exc)
    return error_response(request, 500, "something went wrong on our side; it has been logged")


# --- the app -------------------------------------------------------------------------------------


class ViewerApp(Starlette):
    def build_middleware_stack(self) -> ASGIApp:
        # Outermost, so even the 500 page from ServerErrorMiddleware carries the headers.
        return SecurityHeaders(super().build_middleware_stack())


def create_app(
    store: Store,
    *,
    outlets: Iterable[str] = (),
    clock: Callable[[], datetime] | None = None,
) -> Starlette:
    """The viewer over `store`. outlets: names offered in the outlet menus (the project's
    spiders); clock: returns the current time (tests pass a fixed one)."""
    from newsdiff.web import api, feeds, openapi

    routes = [
        Route("/", start, name="start"),
        Route("/articles/{article_id}", article_page, name="article"),
        Route("/articles/{article_id}/versions/{number}", version_page, name="version"),
        # Before "diff": its {b} would take "1.png" too.
        Route("/articles/{article_id}/diff/{a}/{b}.png", diff_picture, name="diff_picture"),
        Route("/articles/{article_id}/diff/{a}/{b}", diff_page, name="diff"),
        Route("/articles/{article_id}/compare", compare, name="compare"),
        Route("/articles/{article_id}/feed.atom", feeds.article_feed, name="article_feed"),
        Route("/outlets", outlets_page, name="outlets"),
        Route("/outlets/{outlet}", outlet_page, name="outlet"),
        Route("/outlets/{outlet}/feed.atom", feeds.outlet_feed, name="outlet_feed"),
        Route("/feed.atom", feeds.all_feed, name="feed"),
        Route("/openapi.json", openapi.document, name="openapi"),
        *api.routes,
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]
    app = ViewerApp(
        routes=routes,
        exception_handlers={
            HTTPException: http_error,
            QueryError: query_error,
            StoreError: store_error,
            EmbeddedServerError: store_error,
            Exception: server_error,
        },
    )
    app.state.viewer = Viewer(
        queries=Queries(store),
        outlets=tuple(sorted(set(outlets))),
        clock=clock or (lambda: datetime.now(UTC)),
        env=make_env(),
    )
    return app
