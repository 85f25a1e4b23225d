"""App factory, security headers and error pages."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from newsdiff.search import SearchIndex
from newsdiff.store import EmbeddedServerError, Store, StoreError, describe_error
from newsdiff.store.queries import Queries, QueryError
from newsdiff.web import api, feeds, openapi, pages, research
from newsdiff.web.params import BadRequest
from newsdiff.web.views import HERE, Viewer, make_env, render

logger = logging.getLogger(__name__)

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
    index_dir: Path | str | None = None,
) -> Starlette:
    """The viewer over `store`. outlets: names offered in the outlet menus (the project's
    spiders); clock: returns the current time (tests pass a fixed one); index_dir: the
    full-text search index (newsdiff.search.index_root), None for no full-text search."""
    routes = [
        Route("/", pages.start, name="start"),
        Route("/articles/{article_id}", pages.article_page, name="article"),
        Route("/articles/{article_id}/versions/{number}", pages.version_page, name="version"),
        # Before "diff": its {b} would take "1.png" too.
        Route("/articles/{article_id}/diff/{a}/{b}.png", pages.diff_picture, name="diff_picture"),
        Route("/articles/{article_id}/diff/{a}/{b}", pages.diff_page, name="diff"),
        Route("/articles/{article_id}/compare", pages.compare, name="compare"),
        Route("/articles/{article_id}/feed.atom", feeds.article_feed, name="article_feed"),
        Route("/search", research.search_page, name="search"),
        Route("/search/changes", research.changes_page, name="search_changes"),
        Route("/stats", research.stats_page, name="stats"),
        Route("/outlets/{outlet}/stats", research.stats_page, name="outlet_stats"),
        Route("/outlets", pages.outlets_page, name="outlets"),
        Route("/outlets/{outlet}", pages.outlet_page, name="outlet"),
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
        index=SearchIndex(index_dir) if index_dir else None,
    )
    return app
