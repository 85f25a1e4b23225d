"""JSON-LD: the objects a page declares (flattened), their types and author names."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

from newsdiff.pages.text import split_names

# schema.org's Article and every type under it
ARTICLE_TYPES = frozenset(
    {
        "Article",
        "NewsArticle",
        "ReportageNewsArticle",
        "AnalysisNewsArticle",
        "OpinionNewsArticle",
        "BackgroundNewsArticle",
        "ReviewNewsArticle",
        "AskPublicNewsArticle",
        "SocialMediaPosting",
        "BlogPosting",
        "LiveBlogPosting",
        "DiscussionForumPosting",
        "Report",
        "SatiricalArticle",
        "AdvertiserContentArticle",
        "ScholarlyArticle",
        "MedicalScholarlyArticle",
        "TechArticle",
        "APIReference",
    }
)
LISTING_TYPES = frozenset({"CollectionPage", "SearchResultsPage", "ProfilePage"})
_CDATA_RE = re.compile(r"^\s*(?://\s*)?<!\[CDATA\[|(?://\s*)?\]\]>\s*$|^\s*<!--|-->\s*$")


def ld_types(obj: dict) -> set[str]:
    types = obj.get("@type")
    types = types if isinstance(types, list) else [types]
    return {t.rsplit("/", 1)[-1] for t in types if isinstance(t, str)}


def parse_jsonld(texts: Iterable[str]) -> list[dict]:
    """All JSON-LD objects in the script texts, flattening lists, @graph and a wrapper's
    mainEntity; bad JSON skipped."""
    objects: list[dict] = []
    for raw in texts:
        raw = _CDATA_RE.sub("", raw)
        try:
            data = json.loads(raw, strict=False)
        except ValueError:
            continue
        stack = data if isinstance(data, list) else [data]
        for obj in stack:
            if isinstance(obj, dict):
                objects.append(obj)
                graph = obj.get("@graph")
                graph = graph if isinstance(graph, list) else []
                members = [o for o in graph if isinstance(o, dict)]
                objects.extend(members)
                # A WebPage (or any wrapper) around the article: {"mainEntity": {"@type": ...}}
                for holder in (obj, *members):
                    if isinstance(entity := holder.get("mainEntity"), dict):
                        objects.append(entity)
    return objects


def ld_names(value: Any) -> list[str]:
    if isinstance(value, str):
        return split_names(value)
    if isinstance(value, dict):
        return ld_names(value.get("name"))
    if isinstance(value, list):
        return [name for item in value for name in ld_names(item)]
    return []
