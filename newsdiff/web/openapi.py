"""The OpenAPI 3.1 description of the JSON API, served at /openapi.json."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from newsdiff.store.queries import LABELS, MAX_VERSION
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
        "Lists are newest first and paged with the opaque `before` cursor "
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
                        "schema": {"type": "string", "maxLength": 200},
                    },
                    {
                        "name": "before",
                        "in": "query",
                        "required": False,
                        "description": "Cursor from a previous page's `next`.",
                        "schema": {"type": "string"},
                    },
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
                "summary": "One version in full: headline, byline, body paragraphs, corrections",
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
                        "description": "Set when a search stopped on its time budget: articles changed "
                        "since this time were searched; `next` continues further back.",
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
                        "properties": {
                            name: _ref("FieldDiff")
                            for name in ("title", "byline", "body", "corrections")
                        },
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
                            "Over the crawls of the last `days`: re-checks the outlet's feeds and sitemaps "
                            "asked for (`signalled`), how many found a change (`changed`), how often a "
                            "listing was not trusted because it re-stamped everything (`untrusted`)."
                        ),
                        "additionalProperties": {"type": "integer"},
                    },
                },
            },
            "OutletEnvelope": {"type": "object", "properties": {"outlet": _ref("OutletHealth")}},
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
