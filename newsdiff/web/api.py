"""The read-only JSON API (described by /openapi.json)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from newsdiff.diff import diff_versions
from newsdiff.search import Results
from newsdiff.store.queries import LABELS, VISIBLE_LABELS
from newsdiff.web import format as fmt
from newsdiff.web import research
from newsdiff.web.params import BadRequest, Params, outlet_name
from newsdiff.web.views import (
    PAGE_SIZE,
    diff_view,
    known_outlet,
    load_article,
    load_version,
    url,
    viewer,
)


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return fmt.iso(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


class JSON(JSONResponse):
    def render(self, content: Any) -> bytes:
        return json.dumps(content, ensure_ascii=False, default=_default, indent=1).encode()


def _article_links(request: Request, article_id: str) -> dict[str, str]:
    return {
        "self": url(request, "api_article", article_id=article_id),
        "html": url(request, "article", article_id=article_id),
        "feed": url(request, "article_feed", article_id=article_id),
        "versions": url(request, "api_versions", article_id=article_id),
    }


def articles(request: Request) -> Response:
    v = viewer(request)
    p = Params(request, ("outlet", "q", "before", "limit"), strict=True)
    outlet, q = p.outlet(), p.text("q")
    limit = p.integer("limit", default=PAGE_SIZE, low=1, high=200)
    page = v.queries.recent_articles(
        now=v.now(), outlet=outlet, q=q, cursor=p.cursor(), limit=limit
    )
    for item in page.items:
        item["links"] = _article_links(request, item["id"])
    query = {"outlet": outlet, "q": q, "limit": limit if limit != PAGE_SIZE else None}
    return JSON(
        {
            "articles": page.items,
            "next": url(request, "api_articles", {**query, "before": page.next})
            if page.next
            else None,
            "searched_to": page.searched_to,
        }
    )


def article(request: Request) -> Response:
    v = viewer(request)
    Params(request, (), strict=True)
    doc = load_article(v, request.path_params["article_id"])
    versions = v.queries.version_list(doc["id"])
    doc["links"] = _article_links(request, doc["id"])
    return JSON({"article": doc, "versions": [_version_summary(request, x) for x in versions]})


def _version_summary(request: Request, x: dict) -> dict:
    out = {k: x.get(k) for k in ("number", "fetched_at", "label", "changed", "title")}
    out["hidden_by_default"] = x["label"] not in VISIBLE_LABELS
    out["links"] = {
        "self": url(request, "api_version", article_id=x["article_id"], number=x["number"]),
        "html": url(request, "version", article_id=x["article_id"], number=x["number"]),
    }
    if x["number"] > 0:
        out["links"]["diff_previous"] = url(
            request, "api_diff", article_id=x["article_id"], a=x["number"] - 1, b=x["number"]
        )
    return out


def versions(request: Request) -> Response:
    v = viewer(request)
    Params(request, (), strict=True)
    doc = load_article(v, request.path_params["article_id"])
    listed = v.queries.version_list(doc["id"])
    return JSON({"versions": [_version_summary(request, x) for x in listed]})


def version(request: Request) -> Response:
    v = viewer(request)
    Params(request, (), strict=True)
    doc = load_article(v, request.path_params["article_id"])
    return JSON({"version": load_version(v, doc["id"], request.path_params["number"])})


def diff(request: Request) -> Response:
    v = viewer(request)
    Params(request, (), strict=True)
    pp = request.path_params
    view = diff_view(v, pp["article_id"], pp["a"], pp["b"], show_all=True)
    return JSON(
        {
            "article_id": view["article"]["id"],
            "from": _version_summary(request, view["old"]),
            "to": _version_summary(request, view["new"]),
            "diff": view["diff"].as_dict(),
            "links": {
                "html": url(
                    request,
                    "diff",
                    article_id=view["article"]["id"],
                    a=view["old"]["number"],
                    b=view["new"]["number"],
                )
            },
        }
    )


def outlets(request: Request) -> Response:
    Params(request, (), strict=True)
    return JSON(
        {
            "outlets": [
                {
                    "name": name,
                    "links": {
                        "self": url(request, "api_outlet", outlet=name),
                        "html": url(request, "outlet", outlet=name),
                        "feed": url(request, "outlet_feed", outlet=name),
                    },
                }
                for name in viewer(request).outlets
            ]
        }
    )


def outlet(request: Request) -> Response:
    v = viewer(request)
    Params(request, (), strict=True)
    name = outlet_name(request.path_params["outlet"])
    if not known_outlet(v, name):
        raise BadRequest(f"no outlet named {name!r}", 404)
    health = v.queries.outlet_health(name, now=v.now())
    for item in health["failing_articles"]:
        item["links"] = _article_links(request, item["id"])
    return JSON({"outlet": health})


def changes(request: Request) -> Response:
    v = viewer(request)
    p = Params(request, ("outlet", "all", "limit"), strict=True)
    labels = LABELS if p.flag("all") else ("change",)
    limit = p.integer("limit", default=30, low=1, high=100)
    entries = v.queries.changes(now=v.now(), outlet=p.outlet(), labels=labels, limit=limit)
    out = []
    for new, old in entries:
        d = diff_versions(old, new)
        item = _version_summary(request, new)
        item.update(
            article_id=new["article_id"],
            outlet=new["outlet"],
            url=new["url"],
            summary=d.summary(),
            changed=d.changed if old else new.get("changed"),
        )
        out.append(item)
    return JSON({"changes": out})


def _search(request: Request, *, changes: bool) -> Response:
    found = research.search_request(request, changes=changes, strict=True)
    form, results = found["form"], found["results"]
    if results is None:  # nothing to look for: nothing found (the schema lets every field go)
        results = Results([], 0)
    hits = []
    for hit in results.hits:
        item = hit.as_dict()
        links = research.hit_links(request, hit)
        links["api_version"] = url(
            request, "api_version", article_id=hit.article_id, number=hit.number
        )
        if hit.number > 0:
            links["api_diff"] = url(
                request, "api_diff", article_id=hit.article_id, a=hit.number - 1, b=hit.number
            )
        item["links"] = links
        hits.append(item)
    name = "api_search_changes" if changes else "api_search"
    return JSON(
        {
            "total": results.total,
            "page": form["page"],
            "hits": hits,
            "indexed_to": results.indexed_to,
            "next": url(request, name, research.page_query(form, page=form["page"] + 1))
            if results.more and form["page"] < research.MAX_PAGE
            else None,
        }
    )


def search(request: Request) -> Response:
    return _search(request, changes=False)


def search_changes(request: Request) -> Response:
    return _search(request, changes=True)


def stats(request: Request) -> Response:
    return JSON({"stats": research.stats_request(request, strict=True)})


routes = [
    Route("/api/articles", articles, name="api_articles"),
    Route("/api/articles/{article_id}", article, name="api_article"),
    Route("/api/articles/{article_id}/versions", versions, name="api_versions"),
    Route("/api/articles/{article_id}/versions/{number}", version, name="api_version"),
    Route("/api/articles/{article_id}/diff/{a}/{b}", diff, name="api_diff"),
    Route("/api/outlets", outlets, name="api_outlets"),
    Route("/api/outlets/{outlet}", outlet, name="api_outlet"),
    Route("/api/changes", changes, name="api_changes"),
    Route("/api/search", search, name="api_search"),
    Route("/api/search/changes", search_changes, name="api_search_changes"),
    Route("/api/stats", stats, name="api_stats"),
    Route("/api/outlets/{outlet}/stats", stats, name="api_outlet_stats"),
]
