"""For researchers: full-text search of every version, search of the changes themselves, and
charts of how outlets edit (pages and JSON)."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

from starlette.requests import Request

from newsdiff.search import IndexUnavailable, Results, wants_changes
from newsdiff.store.queries import LABELS, VISIBLE_LABELS
from newsdiff.web import charts as charts_mod
from newsdiff.web.params import BadRequest, Params, outlet_name
from newsdiff.web.views import known_outlet, render, url, viewer

SEARCH_PARAMS = ("q", "added", "removed", "outlet", "since", "until", "sort", "page", "limit")
DEFAULT_DAYS = 30
MAX_PAGE = 50  # deeper than this, narrow the search (dates, outlet) instead
SEARCH_PAGE_SIZE = 20


def search_request(request: Request, *, changes: bool, strict: bool) -> dict[str, Any]:
    """The checked parameters of a search (page or API) and its results (None: no query)."""
    p = Params(request, SEARCH_PARAMS, strict=strict)
    form = {
        "q": p.text("q"),
        "added": p.text("added"),
        "removed": p.text("removed"),
        "outlet": p.outlet(),
        "since": p.date("since"),
        "until": p.date("until"),
        "sort": p.choice("sort", ("relevance", "newest")),
        "page": p.integer("page", default=1, low=1, high=MAX_PAGE),
        "limit": p.integer("limit", default=SEARCH_PAGE_SIZE, low=1, high=100),
    }
    if form["added"] or form["removed"] or wants_changes(form["q"] or ""):
        changes = True  # added/removed (fields or prefixes) make it a search of the changes
    form["changes"] = changes
    v = viewer(request)
    results: Results | None = None
    if form["q"] or form["added"] or form["removed"]:
        if v.index is None:
            raise BadRequest("full-text search is not configured for this viewer", 503)
        until = form["until"] + timedelta(days=1) if form["until"] else None
        try:
            results = v.index.search(
                form["q"] or "",
                changes=changes,
                added=form["added"],
                removed=form["removed"],
                outlet=form["outlet"],
                since=form["since"],
                until=until,
                newest=form["sort"] == "newest",
                limit=form["limit"],
                offset=(form["page"] - 1) * form["limit"],
            )
        except IndexUnavailable as exc:
            raise BadRequest(f"{exc}", 503) from None
    return {"form": form, "results": results}


def hit_links(request: Request, hit) -> dict[str, str]:
    links = {
        "article": url(request, "article", article_id=hit.article_id),
        "version": url(request, "version", article_id=hit.article_id, number=hit.number),
    }
    if hit.number > 0:
        links["diff"] = url(
            request,
            "diff",
            {"all": hit.label not in VISIBLE_LABELS},
            article_id=hit.article_id,
            a=hit.number - 1,
            b=hit.number,
        )
    return links


def page_query(form: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """The query string of this search, for paging links."""
    query = {k: form[k] for k in ("q", "added", "removed", "outlet", "sort")}
    query["sort"] = None if query["sort"] == "relevance" else query["sort"]
    for k in ("since", "until"):
        query[k] = form[k].strftime("%Y-%m-%d") if form[k] else None
    query["limit"] = form["limit"] if form["limit"] != SEARCH_PAGE_SIZE else None
    return {**query, **changes}


def _search_page(request: Request, *, changes: bool):
    context = search_request(request, changes=changes, strict=False)
    form = context["form"]
    name = "search_changes" if form["changes"] else "search"
    return render(
        request,
        "search.html",
        **context,
        links=lambda hit: hit_links(request, hit),
        page_url=lambda **kw: url(request, name, page_query(form, **kw)),
    )


def search_page(request: Request):
    return _search_page(request, changes=False)


def changes_page(request: Request):
    return _search_page(request, changes=True)


STATS_CACHE_SECONDS = 60.0  # the charts read a window of versions: recomputed once a minute
MAX_DAYS = 366


def edit_stats(request: Request, outlet: str | None, days: int) -> dict[str, Any]:
    v = viewer(request)
    cache = v.cache.setdefault("stats", {})
    key = (outlet, days)
    hit = cache.get(key)
    if hit and time.monotonic() - hit[0] < STATS_CACHE_SECONDS:
        return hit[1]
    stats = v.queries.edit_stats(now=v.now(), days=days, outlet=outlet)
    if len(cache) > 200:
        cache.clear()
    cache[key] = (time.monotonic(), stats)
    return stats


def stats_request(request: Request, *, strict: bool) -> dict[str, Any]:
    v = viewer(request)
    p = Params(request, ("days",), strict=strict)
    days = p.integer("days", default=DEFAULT_DAYS, low=1, high=MAX_DAYS)
    outlet = None
    if "outlet" in request.path_params:
        outlet = outlet_name(request.path_params["outlet"])
        if not known_outlet(v, outlet):
            raise BadRequest(f"no outlet named {outlet!r}", 404)
    return edit_stats(request, outlet, days)


def stats_page(request: Request):
    stats = stats_request(request, strict=False)
    days = [d["day"] for d in stats["labels_per_day"]]
    short = [d[5:] for d in days]
    where = f"{stats['outlet']} articles" if stats["outlet"] else "all outlets"
    per_day = [d["changes"] for d in stats["changes_per_day"]]
    charts = {
        "changes": charts_mod.bars(
            "changes-per-day",
            f"Changes per day, {where}",
            short,
            {"change": per_day},
            description=f"{sum(per_day)} changes in {len(days)} days, at most "
            f"{max(per_day, default=0)} in a day.",
        ),
        "labels": charts_mod.bars(
            "labels-per-day",
            f"Versions per day by label, {where}",
            short,
            {lab: [d[lab] for d in stats["labels_per_day"]] for lab in LABELS},
            description="Stacked: "
            + ", ".join(f"{lab} {sum(d[lab] for d in stats['labels_per_day'])}" for lab in LABELS),
        ),
        "delay": charts_mod.bars(
            "first-change",
            f"Time from first seen to first change, {where}",
            [b["bucket"] for b in stats["hours_to_first_change"]["distribution"]],
            {"change": [b["articles"] for b in stats["hours_to_first_change"]["distribution"]]},
            description="Articles by how long after they were first seen they first changed: "
            + ", ".join(
                f"{b['bucket']}: {b['articles']}"
                for b in stats["hours_to_first_change"]["distribution"]
            ),
            every=1,
        ),
    }
    return render(request, "stats.html", stats=stats, charts=charts, where=where)
