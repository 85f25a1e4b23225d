"""Atom feeds of changes: overall, per outlet and per article."""

from __future__ import annotations

import re
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from newsdiff.diff import diff_versions
from newsdiff.store.queries import LABELS
from newsdiff.web.params import BadRequest, Params, outlet_name
from newsdiff.web.views import known_outlet, load_article, viewer

FEED_SIZE = 30
# Characters XML 1.0 cannot carry, even escaped; article text may contain them.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
MEDIA_TYPE = "application/atom+xml; charset=utf-8"


def _entries(request: Request, pairs: list[tuple[dict, dict | None]]) -> list[dict[str, Any]]:
    env = viewer(request).env
    entries = []
    for new, old in pairs:
        d = diff_versions(old, new)
        aid, n = new["article_id"], new["number"]
        if old is None:
            link = request.url_for("version", article_id=aid, number=n)
            what = "First version"
        else:
            link = request.url_for("diff", article_id=aid, a=old["number"], b=n)
            what = " and ".join(d.fields[f].label.lower() for f in d.changed) or "no visible"
            what = f"{what[0].upper()}{what[1:]} changed"
        summary = d.summary() if old is not None else f"First version of {new['url']}"
        entries.append(
            {
                "id": f"urn:newsdiff:article:{aid}:version:{n}",
                "title": f"{what}: {new.get('title') or new['url']}",
                "link": str(link),
                "updated": new["fetched_at"],
                "outlet": new.get("outlet") or "",
                "label": new.get("label") or "",
                "summary": summary,
                "html": env.get_template("feed_entry.html").render(
                    diff=d, new=new, old=old, summary=summary, link=str(link)
                ),
            }
        )
    return entries


def _feed(request: Request, *, feed_id: str, title: str, html_url: str, pairs) -> Response:
    v = viewer(request)
    entries = _entries(request, pairs)
    updated = max((e["updated"] for e in entries), default=v.now())
    xml = v.env.get_template("feed.xml").render(
        feed_id=feed_id,
        title=title,
        self_url=str(request.url),
        html_url=html_url,
        updated=updated,
        entries=entries,
    )
    return Response(_NOT_XML.sub("", xml), media_type=MEDIA_TYPE)


def _labels(request: Request, *, first: bool) -> tuple[str, ...]:
    show_all = Params(request, ("all",), strict=False).flag("all")
    if show_all:
        return LABELS
    return ("first", "change") if first else ("change",)


def all_feed(request: Request) -> Response:
    v = viewer(request)
    labels = _labels(request, first=False)
    pairs = v.queries.changes(now=v.now(), labels=labels, limit=FEED_SIZE)
    return _feed(
        request,
        feed_id="urn:newsdiff:feed:changes",
        title="newsdiff: latest changes",
        html_url=str(request.url_for("start")),
        pairs=pairs,
    )


def outlet_feed(request: Request) -> Response:
    v = viewer(request)
    name = outlet_name(request.path_params["outlet"])
    if not known_outlet(v, name):
        raise BadRequest(f"no outlet named {name!r}", 404)
    labels = _labels(request, first=False)
    pairs = v.queries.changes(now=v.now(), outlet=name, labels=labels, limit=FEED_SIZE)
    return _feed(
        request,
        feed_id=f"urn:newsdiff:feed:outlet:{name}",
        title=f"newsdiff: changes to {name} articles",
        html_url=str(request.url_for("outlet", outlet=name)),
        pairs=pairs,
    )


def article_feed(request: Request) -> Response:
    v = viewer(request)
    labels = _labels(request, first=True)
    article = load_article(v, request.path_params["article_id"])
    pairs = v.queries.changes(now=v.now(), article_id=article["id"], labels=labels, limit=FEED_SIZE)
    return _feed(
        request,
        feed_id=f"urn:newsdiff:feed:article:{article['id']}",
        title=f"newsdiff: changes to “{article.get('title') or article['url']}”",
        html_url=str(request.url_for("article", article_id=article["id"])),
        pairs=pairs,
    )
