"""The OpenAPI 3.1 description of the JSON API, served at /openapi.json."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from newsdiff.diff import FIELDS
from newsdiff.store.queries import CURSOR_PATTERN, LABELS, MAX_VERSION
from newsdiff.web.params import Params


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _ok(schema: str, description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _ref(schema)}}}


ERRORS = {
    "400": {
        "description": "A bad parameter; the message says what a good one looks like.",
        "content": {"application/json": {"schema": _ref("Error")}},
    },
    "404": {
        "description": "No such article, version or outlet.",
        "content": {"application/json": {"schema": _ref("Error")}},
    },
}
ARTICLE_ID = {
    "name": "article_id",
    "in": "path",
    "required": True,
    "schema": {"type": "string", "pattern": "^[0-9a-f]{24}$"},
}


def _version_param(name: str, description: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "description": description,
        "schema": {"type": "integer", "minimum": 0, "maximum": MAX_VERSION},
    }


OUTLET_QUERY = {
    "name": "outlet",
    "in": "query",
    "required": False,
    "schema": {"type": "string", "pattern": "^[a-z0-9_][a-z0-9_-]{0,63}$"},
}
# Free text: anything but control characters (tabs and newlines included).
TEXT = {"type": "string", "maxLength": 200, "pattern": "^[^\\x00-\\x1f\\x7f]*$"}
CURSOR = {
    "name": "before",
    "in": "query",
    "required": False,
    "description": "Cursor from a previous page's `next`: the time of the last article shown, "
    "in milliseconds since 1970 (years 1989 to 2191), a hyphen, and its id.",
    "schema": {"type": "string", "pattern": CURSOR_PATTERN},
}
DAY = {"type": "string", "format": "date", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"}


def _search_params(changes: bool) -> list[dict[str, Any]]:
    what = (
        'Words or "phrases" that an edit inserted or deleted'
        if changes
        else 'Words or "phrases" of the headline or text of any version'
    )
    return [
        {
            "name": "q",
            "in": "query",
            "required": False,
            "schema": TEXT,
            "description": f"{what}; -word excludes; added:, removed: and title: limit a word "
            "or phrase to what an edit added, what it removed, or headlines.",
        },
        {
            "name": "added",
            "in": "query",
            "required": False,
            "schema": TEXT,
            "description": "Words or phrases an edit inserted (a search of the changes).",
        },
        {
            "name": "removed",
            "in": "query",
            "required": False,
            "schema": TEXT,
            "description": "Words or phrases an edit deleted (a search of the changes).",
        },
        OUTLET_QUERY,
        {
            "name": "since",
            "in": "query",
            "required": False,
            "schema": DAY,
            "description": "Versions fetched on or after this day (UTC).",
        },
        {
            "name": "until",
            "in": "query",
            "required": False,
            "schema": DAY,
            "description": "Versions fetched on or before this day (UTC).",
        },
        {
            "name": "sort",
            "in": "query",
            "required": False,
            "schema": {"type": "string", "enum": ["relevance", "newest"], "default": "relevance"},
        },
        {
            "name": "page",
            "in": "query",
            "required": False,
            "schema": {"type": "integer", "minimum": 1, "maximum": 50, "default": 1},
        },
        {
            "name": "limit",
            "in": "query",
            "required": False,
            "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 20},
        },
    ]


SEARCH_ERRORS = {
    **ERRORS,
    "503": {
        "description": "The search index has not been built (`scrapy index`).",
        "content": {"application/json": {"schema": _ref("Error")}},
    },
}
DAYS_QUERY = {
    "name": "days",
    "in": "query",
    "required": False,
    "schema": {"type": "integer", "minimum": 1, "maximum": 366, "default": 30},
}
DATE = {"type": "string", "format": "date-time"}
NULLABLE_DATE = {"type": ["string", "null"], "format": "date-time"}
SEGMENTS = {
    "type": ["array", "null"],
    "description": "[op, text] pairs; op is equal, delete (old side) or insert (new side). "
    "Joining the texts gives the paragraph exactly. null: no paragraph here.",
    "items": {
        "type": "array",
        "prefixItems": [
            {"type": "string", "enum": ["equal", "delete", "insert"]},
            {"type": "string"},
        ],
    },
}

DOCUMENT: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {
        "title": "newsdiff",
        "version": "1",
        "description": "Read-only access to the versions newsdiff has recorded of news "
        "articles and the differences between them. Times are UTC (RFC 3339). "
        "Lists are newest first and paged with the `before` cursor "
        "given in `next`. Unknown or repeated parameters are a 400.",
    },
    "paths": {
        "/api/articles": {
            "get": {
                "summary": "Recently changed articles, newest change first",
                "operationId": "listArticles",
                "parameters": [
                    OUTLET_QUERY,
                    {
                        "name": "q",
                        "in": "query",
                        "required": False,
                        "description": "Words of the headline or URL (case-blind), or a whole URL.",
                        "schema": TEXT,
                    },
                    CURSOR,
                    {
                        "name": "limit",
                        "in": "query",
                        "required": False,
                        "schema": {"type": "integer", "minimum": 1, "maximum": 200, "default": 50},
                    },
                ],
                "responses": {"200": _ok("ArticlePage", "A page of articles."), **ERRORS},
            }
        },
        "/api/articles/{article_id}": {
            "get": {
                "summary": "One article and the list of its versions",
                "operationId": "getArticle",
                "parameters": [ARTICLE_ID],
                "responses": {"200": _ok("ArticleWithVersions", "The article."), **ERRORS},
            }
        },
        "/api/articles/{article_id}/versions": {
            "get": {
                "summary": "The versions of an article, oldest first",
                "operationId": "listVersions",
                "parameters": [ARTICLE_ID],
                "responses": {"200": _ok("VersionList", "The versions."), **ERRORS},
            }
        },
        "/api/articles/{article_id}/versions/{number}": {
            "get": {
                "summary": "One version in full: headline, summary, byline, text, corrections",
                "operationId": "getVersion",
                "parameters": [ARTICLE_ID, _version_param("number", "0 is the first version.")],
                "responses": {"200": _ok("VersionEnvelope", "The version."), **ERRORS},
            }
        },
        "/api/articles/{article_id}/diff/{a}/{b}": {
            "get": {
                "summary": "The difference between two versions, paragraph by paragraph and word "
                "by word",
                "operationId": "getDiff",
                "parameters": [
                    ARTICLE_ID,
                    _version_param("a", "The older side."),
                    _version_param("b", "The newer side."),
                ],
                "responses": {"200": _ok("DiffEnvelope", "The diff."), **ERRORS},
            }
        },
        "/api/outlets": {
            "get": {
                "summary": "The outlets this installation crawls",
                "operationId": "listOutlets",
                "responses": {"200": _ok("OutletList", "The outlets.")},
            }
        },
        "/api/outlets/{outlet}": {
            "get": {
                "summary": "An outlet's crawl health over the last day",
                "operationId": "getOutlet",
                "parameters": [{**OUTLET_QUERY, "name": "outlet", "in": "path", "required": True}],
                "responses": {"200": _ok("OutletEnvelope", "The outlet's health."), **ERRORS},
            }
        },
        "/api/changes": {
            "get": {
                "summary": "The latest changes across outlets (what the Atom feeds carry)",
                "operationId": "listChanges",
                "parameters": [
                    OUTLET_QUERY,
                    {
                        "name": "all",
                        "in": "query",
                        "required": False,
                        "description": "1: also first versions, trivial edits and flip-flops.",
                        "schema": {"type": "integer", "enum": [0, 1]},
                    },
                    {
                        "name": "limit",
                        "in": "query",
                        "required": False,
                        "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 30},
                    },
                ],
                "responses": {"200": _ok("ChangeList", "Changes, newest first."), **ERRORS},
            }
        },
        "/api/search": {
            "get": {
                "summary": "Full-text search of every version: the articles that ever said this, "
                "best match first, each by its best-matching version",
                "operationId": "searchVersions",
                "parameters": _search_params(False),
                "responses": {"200": _ok("SearchResults", "Matching articles."), **SEARCH_ERRORS},
            }
        },
        "/api/search/changes": {
            "get": {
                "summary": "Search the changes: the edits that inserted or deleted these words",
                "operationId": "searchChanges",
                "parameters": _search_params(True),
                "responses": {"200": _ok("SearchResults", "Matching edits."), **SEARCH_ERRORS},
            }
        },
        "/api/stats": {
            "get": {
                "summary": "How outlets edit over the last `days` days: changes per day, "
                "labels per day, time to first change, share changed, most-changed articles",
                "operationId": "getStats",
                "parameters": [DAYS_QUERY],
                "responses": {"200": _ok("StatsEnvelope", "The figures."), **ERRORS},
            }
        },
        "/api/outlets/{outlet}/stats": {
            "get": {
                "summary": "The same figures for one outlet",
                "operationId": "getOutletStats",
                "parameters": [
                    {**OUTLET_QUERY, "name": "outlet", "in": "path", "required": True},
                    DAYS_QUERY,
                ],
                "responses": {"200": _ok("StatsEnvelope", "The figures."), **ERRORS},
            }
        },
    },
    "components": {
        "schemas": {
            "Error": {
                "type": "object",
                "required": ["error"],
                "properties": {
                    "error": {
                        "type": "object",
                        "properties": {
                            "status": {"type": "integer"},
                            "message": {"type": "string"},
                        },
                    }
                },
            },
            "Links": {"type": "object", "additionalProperties": {"type": "string"}},
            "Article": {
                "type": "object",
                "required": ["id", "outlet", "url"],
                "properties": {
                    "id": {"type": "string"},
                    "outlet": {"type": "string"},
                    "url": {"type": "string", "description": "Canonical URL."},
                    "aliases": {"type": "array", "items": {"type": "string"}},
                    "title": {"type": ["string", "null"], "description": "Latest headline."},
                    "summary": {
                        "type": ["string", "null"],
                        "description": "Latest summary (the publisher's description).",
                    },
                    "section": {"type": ["string", "null"]},
                    "first_seen": DATE,
                    "published": {
                        "type": ["string", "null"],
                        "description": "As the page states it.",
                    },
                    "modified": {"type": ["string", "null"]},
                    "last_checked": NULLABLE_DATE,
                    "last_changed": NULLABLE_DATE,
                    "next_check": {
                        **NULLABLE_DATE,
                        "description": "Absent once the article is no longer checked.",
                    },
                    "version_count": {"type": "integer"},
                    "status": {
                        "type": "string",
                        "enum": ["new", "live", "gone", "paywalled", "failing", "not-article"],
                    },
                    "reason": {"type": ["string", "null"]},
                    "links": _ref("Links"),
                },
            },
            "ArticlePage": {
                "type": "object",
                "properties": {
                    "articles": {"type": "array", "items": _ref("Article")},
                    "next": {
                        "type": ["string", "null"],
                        "description": "URL of the next, older page.",
                    },
                    "searched_to": {
                        **NULLABLE_DATE,
                        "description": "Set when a search stopped on its time budget: articles "
                        "changed since this time were searched; `next` continues further back.",
                    },
                },
            },
            "VersionSummary": {
                "type": "object",
                "properties": {
                    "number": {"type": "integer"},
                    "fetched_at": DATE,
                    "label": {"type": "string", "enum": list(LABELS)},
                    "hidden_by_default": {
                        "type": "boolean",
                        "description": "Trivial edits and flip-flops.",
                    },
                    "changed": {"type": "array", "items": {"type": "string"}},
                    "title": {"type": ["string", "null"]},
                    "links": _ref("Links"),
                },
            },
            "ArticleWithVersions": {
                "type": "object",
                "properties": {
                    "article": _ref("Article"),
                    "versions": {"type": "array", "items": _ref("VersionSummary")},
                },
            },
            "VersionList": {
                "type": "object",
                "properties": {"versions": {"type": "array", "items": _ref("VersionSummary")}},
            },
            "Version": {
                "type": "object",
                "properties": {
                    "id": {"type": "string"},
                    "article_id": {"type": "string"},
                    "number": {"type": "integer"},
                    "outlet": {"type": "string"},
                    "url": {"type": "string"},
                    "fetched_at": DATE,
                    "label": {"type": "string", "enum": list(LABELS)},
                    "changed": {"type": "array", "items": {"type": "string"}},
                    "title": {"type": ["string", "null"]},
                    "summary": {
                        "type": ["string", "null"],
                        "description": "The publisher's description (a dek, a standfirst); "
                        "absent from versions stored before summaries were recorded.",
                    },
                    "byline": {"type": "array", "items": {"type": "string"}},
                    "published": {"type": ["string", "null"]},
                    "modified": {"type": ["string", "null"]},
                    "section": {"type": ["string", "null"]},
                    "body": {
                        "type": "array",
                        "items": {"type": "string"},
                        "description": "Paragraphs.",
                    },
                    "corrections": {"type": "array", "items": {"type": "string"}},
                    "hashes": {"type": "object", "additionalProperties": {"type": "string"}},
                    "hash": {"type": "string"},
                    "extractor": {"type": ["string", "null"]},
                    "extractor_version": {"type": ["string", "null"]},
                    "normaliser_version": {"type": ["string", "null"]},
                    "snapshot": {
                        "type": ["string", "null"],
                        "description": "SHA-256 of the raw HTML kept for this version.",
                    },
                },
            },
            "VersionEnvelope": {"type": "object", "properties": {"version": _ref("Version")}},
            "Row": {
                "type": "object",
                "properties": {
                    "kind": {"type": "string", "enum": ["equal", "changed", "deleted", "inserted"]},
                    "old_index": {"type": ["integer", "null"]},
                    "new_index": {"type": ["integer", "null"]},
                    "old": SEGMENTS,
                    "new": SEGMENTS,
                },
            },
            "FieldDiff": {
                "type": "object",
                "properties": {
                    "changed": {"type": "boolean"},
                    "paragraphs": {
                        "type": "object",
                        "properties": {
                            "changed": {"type": "integer"},
                            "inserted": {"type": "integer"},
                            "deleted": {"type": "integer"},
                        },
                    },
                    "words": {
                        "type": "object",
                        "properties": {
                            "added": {"type": "integer"},
                            "removed": {"type": "integer"},
                        },
                    },
                    "rows": {"type": "array", "items": _ref("Row")},
                },
            },
            "Diff": {
                "type": "object",
                "properties": {
                    "from": {"type": ["integer", "null"]},
                    "to": {"type": "integer"},
                    "changed": {"type": "array", "items": {"type": "string"}},
                    "summary": {"type": "string"},
                    "fields": {
                        "type": "object",
                        "properties": {name: _ref("FieldDiff") for name in FIELDS},
                    },
                },
            },
            "DiffEnvelope": {
                "type": "object",
                "properties": {
                    "article_id": {"type": "string"},
                    "from": _ref("VersionSummary"),
                    "to": _ref("VersionSummary"),
                    "diff": _ref("Diff"),
                    "links": _ref("Links"),
                },
            },
            "OutletList": {
                "type": "object",
                "properties": {
                    "outlets": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "properties": {"name": {"type": "string"}, "links": _ref("Links")},
                        },
                    }
                },
            },
            "OutletHealth": {
                "type": "object",
                "properties": {
                    "outlet": {"type": "string"},
                    "tracked": {
                        "type": "integer",
                        "description": "Articles still on the re-check schedule.",
                    },
                    "checked_last_day": {
                        "type": "integer",
                        "description": "Articles checked in the last 24 hours.",
                    },
                    "changes_last_day": {"type": "integer"},
                    "new_articles_last_day": {"type": "integer"},
                    "versions_last_day": {
                        "type": "object",
                        "additionalProperties": {"type": "integer"},
                    },
                    "failing": {
                        "type": "integer",
                        "description": "Articles whose last extraction failed.",
                    },
                    "failing_articles": {"type": "array", "items": _ref("Article")},
                    "statuses": {"type": "object", "additionalProperties": {"type": "integer"}},
                    "signals": {
                        "type": "object",
                        "description": (
                            "Over the crawls of the last `days`: re-checks the outlet's feeds "
                            "and sitemaps asked for (`signalled`), how many found a change "
                            "(`changed`), how often a listing was not trusted because it "
                            "re-stamped everything (`untrusted`)."
                        ),
                        "additionalProperties": {"type": "integer"},
                    },
                },
            },
            "OutletEnvelope": {"type": "object", "properties": {"outlet": _ref("OutletHealth")}},
            "Snippet": {
                "type": "object",
                "properties": {
                    "text": {
                        "type": "string",
                        "description": "A passage of the field (plain text).",
                    },
                    "highlights": {
                        "type": "array",
                        "items": {"type": "string"},
                        "description": "The matched words in it, in order.",
                    },
                },
            },
            "SearchHit": {
                "type": "object",
                "required": ["article_id", "number"],
                "properties": {
                    "article_id": {"type": "string"},
                    "number": {"type": "integer"},
                    "outlet": {"type": "string"},
                    "label": {"type": "string", "enum": list(LABELS)},
                    "url": {"type": "string"},
                    "title": {"type": "string"},
                    "fetched_at": DATE,
                    "score": {"type": "number"},
                    "matching_versions": {
                        "type": "integer",
                        "description": "This article's versions among the hits.",
                    },
                    "snippets": {
                        "type": "object",
                        "description": "By field: title, body, added, removed.",
                        "additionalProperties": _ref("Snippet"),
                    },
                    "links": _ref("Links"),
                },
            },
            "SearchResults": {
                "type": "object",
                "properties": {
                    "total": {"type": "integer", "description": "Matching versions."},
                    "page": {"type": "integer"},
                    "hits": {"type": "array", "items": _ref("SearchHit")},
                    "indexed_to": {
                        **NULLABLE_DATE,
                        "description": "The newest version the index has seen.",
                    },
                    "next": {"type": ["string", "null"]},
                },
            },
            "Stats": {
                "type": "object",
                "properties": {
                    "outlet": {"type": ["string", "null"]},
                    "days": {"type": "integer"},
                    "since": DATE,
                    "until": DATE,
                    "versions": {"type": "integer"},
                    "changes_per_day": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "properties": {
                                "day": {"type": "string"},
                                "changes": {"type": "integer"},
                            },
                        },
                    },
                    "labels_per_day": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "properties": {
                                "day": {"type": "string"},
                                **{lab: {"type": "integer"} for lab in LABELS},
                            },
                        },
                    },
                    "articles_first_seen": {"type": "integer"},
                    "articles_changed": {
                        "type": "integer",
                        "description": "Of those first seen, how many changed.",
                    },
                    "share_changed": {"type": ["number", "null"]},
                    "hours_to_first_change": {
                        "type": "object",
                        "properties": {
                            "median": {"type": ["number", "null"]},
                            "distribution": {
                                "type": "array",
                                "items": {
                                    "type": "object",
                                    "properties": {
                                        "bucket": {"type": "string"},
                                        "articles": {"type": "integer"},
                                    },
                                },
                            },
                        },
                    },
                    "most_changed": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "properties": {
                                "id": {"type": "string"},
                                "changes": {"type": "integer"},
                                "title": {"type": ["string", "null"]},
                                "url": {"type": ["string", "null"]},
                                "outlet": {"type": ["string", "null"]},
                            },
                        },
                    },
                },
            },
            "StatsEnvelope": {"type": "object", "properties": {"stats": _ref("Stats")}},
            "ChangeList": {
                "type": "object",
                "properties": {
                    "changes": {
                        "type": "array",
                        "items": {
                            "allOf": [
                                _ref("VersionSummary"),
                                {
                                    "type": "object",
                                    "properties": {
                                        "article_id": {"type": "string"},
                                        "outlet": {"type": "string"},
                                        "url": {"type": "string"},
                                        "summary": {"type": "string"},
                                    },
                                },
                            ]
                        },
                    }
                },
            },
        }
    },
}


def document(request: Request) -> Response:
    Params(request, (), strict=True)
    return JSONResponse(DOCUMENT)
