"""The HTML pages."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from newsdiff.web import format as fmt
from newsdiff.web import views
from newsdiff.web.params import BadRequest, Params, outlet_name
from newsdiff.web.views import (
    changed_count,
    diff_view,
    known_outlet,
    load_article,
    load_version,
    render,
    url,
    viewer,
    visible,
)


def start(request: Request) -> Response:
    v = viewer(request)
    p = Params(request, ("outlet", "q", "before"), strict=False)
    outlet, q, before = p.outlet(), p.text("q"), p.text("before", max_length=60)
    page = v.queries.recent_articles(
        now=v.now(), outlet=outlet, q=q, cursor=before, limit=views.PAGE_SIZE
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
    # a page that gives its day only ("2026-01-01") was published on that day, not at midnight
    day_only = first is not None and first is published and len(article["published"]) == 10
    return render(
        request,
        "article.html",
        article=article,
        versions=versions,
        shown=shown,
        hidden=len(versions) - len(shown),
        show_all=show_all,
        first=first,
        first_day=article["published"] if day_only else None,
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
    page = v.queries.recent_articles(now=v.now(), outlet=name, cursor=before, limit=views.PAGE_SIZE)
    health = v.queries.outlet_health(name, now=v.now())
    return render(request, "outlet.html", outlet=name, page=page, health=health, before=before)
