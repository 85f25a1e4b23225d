"""What a change says: the alt text, the post text and the webhook document (pure functions)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from newsdiff.diff import BELOW_HEADLINE, FieldDiff, VersionDiff, diff_versions

ALT_LIMIT = 1400  # Mastodon takes 1500 characters of alt text
MASTODON_LIMIT = 500
BLUESKY_LIMIT = 300  # graphemes; our text is short and mostly ASCII


def _quote(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return f"“{text if len(text) <= limit else text[: limit - 1] + '…'}”"


def _words(field: FieldDiff, op: str) -> list[str]:
    side = "old" if op == "delete" else "new"
    return [
        s.text.strip()
        for r in field.rows
        for s in getattr(r, side)
        if s.op == op and s.text.strip()
    ]


@dataclass(frozen=True)
class Change:
    """One version's change, ready to be told: the diff and the links."""

    article: Mapping[str, Any]
    old: Mapping[str, Any]
    new: Mapping[str, Any]
    diff: VersionDiff
    article_url: str
    diff_url: str
    picture_url: str

    @classmethod
    def of(
        cls, article: Mapping[str, Any], old: Mapping[str, Any], new: Mapping[str, Any], viewer: str
    ) -> Change:
        """old: the previous version, empty for an article's first."""
        page = f"{viewer.rstrip('/')}/articles/{article['_id']}"
        base = f"{page}/diff/{old.get('number')}/{new['number']}"
        return cls(
            article=article,
            old=old,
            new=new,
            diff=diff_versions(old or None, new),
            article_url=str(article.get("url") or new.get("url")),
            diff_url=base if old else f"{page}/versions/{new['number']}",
            picture_url=base + ".png" if old else "",
        )

    @property
    def outlet(self) -> str:
        return str(self.article.get("outlet") or self.new.get("outlet"))

    def headline_line(self, limit: int = 90) -> str:
        title = self.diff.fields["title"]
        if title.changed:
            old, new = " ".join(title.side("old")), " ".join(title.side("new"))
            before, after = _quote(old, limit), _quote(new, limit)
            return f"{self.outlet} changed a headline: {before} is now {after}"
        title = _quote(str(self.new.get("title") or ""), limit)
        if self.diff.changed == ["summary"]:  # the dek alone: say so, the picture shows it
            return f"{self.outlet} changed the summary of {title}"
        return f"{self.outlet} edited {title}"

    def alt_text(self) -> str:
        """The picture in words: what was removed and added, field by field."""
        parts = [
            f"What changed in the {self.outlet} article from version {self.old.get('number')} "
            f"to version {self.new['number']}."
        ]
        parts.append(self.diff.summary())
        for name in BELOW_HEADLINE:
            field = self.diff.fields[name]
            if not field.changed:
                continue
            removed, added = _words(field, "delete"), _words(field, "insert")
            if removed:
                parts.append(
                    f"{field.label} removed: " + "; ".join(_quote(w, 160) for w in removed)
                )
            if added:
                parts.append(f"{field.label} added: " + "; ".join(_quote(w, 160) for w in added))
        text = " ".join(p if p.endswith(".") else p + "." for p in parts)
        return text if len(text) <= ALT_LIMIT else text[: ALT_LIMIT - 1] + "…"

    def mastodon_status(self) -> str:
        links = f"\n\nArticle: {self.article_url}\nDiff: {self.diff_url}"
        room = MASTODON_LIMIT - len(links) - 2
        head = self.headline_line()
        if len(head) > room:
            head = self.headline_line(limit=max(10, (room - 60) // 2))
        return head[:room] + links

    def bluesky_text(self) -> tuple[str, list[tuple[str, str]]]:
        """The post's text and its links, as (text, [(link text, URL)]) appended in order."""
        links = [("article", self.article_url), ("diff", self.diff_url)]
        room = BLUESKY_LIMIT - len(" · ".join(t for t, _ in links)) - 3
        head = self.headline_line()
        if len(head) > room:
            head = self.headline_line(limit=max(10, (room - 60) // 2))
        return head[:room], links

    def webhook_document(self, entry_id: str) -> dict[str, Any]:
        title = self.diff.fields["title"]
        return {
            "event": "version",
            "delivery": entry_id,
            "article": {
                "id": str(self.article["_id"]),
                "url": self.article_url,
                "outlet": self.outlet,
            },
            "from": self.old["number"],
            "to": self.new["number"],
            "fetched_at": _iso(self.new.get("fetched_at")),
            "label": self.new.get("label"),
            "changed": self.diff.changed,
            "headline": {
                "old": " ".join(title.side("old")) or None,
                "new": " ".join(title.side("new")) or None,
            },
            "summary": self.diff.summary(),
            "diff_url": self.diff_url,
            "picture_url": self.picture_url,
        }


def _iso(value: Any) -> str | None:
    return value.isoformat() if hasattr(value, "isoformat") else value
